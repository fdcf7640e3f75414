"""Building blocks of interpretability: attribution, neuron groups, activation grids, dictionaries.

- :mod:`.attribution`: spatial and channel attribution by gradient × activation, and its
  faithfulness test: the deletion curve (most-attributed regions removed first against random
  orders);
- :mod:`.channel_reducer`: :class:`ChannelReducer`, matrix factorizations (NMF) over channels;
- :mod:`.activation_grid`: per-cell activation vectors and their direction visualizations;
- :mod:`.semantic_dictionary`: the top channels at each position, with their icons;
- :mod:`.activation_atlas`: many images' activations laid out in 2-D, averaged on a grid, drawn
  and labelled with the class each cell pushes toward (the layout and the grid in
  :mod:`.atlas_layout`).

The activations of named layers come from :mod:`course_lib.zoo.features`.
"""

from course_lib.lucid.misc import (
    activation_atlas,
    activation_grid,
    atlas_layout,
    attribution,
    channel_reducer,
    semantic_dictionary,
)
from course_lib.lucid.misc.channel_reducer import ChannelReducer

__all__ = [
    "ChannelReducer",
    "activation_atlas",
    "activation_grid",
    "atlas_layout",
    "attribution",
    "channel_reducer",
    "semantic_dictionary",
]
