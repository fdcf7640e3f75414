"""Semantic dictionaries: at each position of a layer, its strongest channels, shown as pictures.

A layer's activation vector at one position is a list of ``C`` numbers, meaningless as such. A
semantic dictionary pairs it with a vocabulary: the ``k`` channels that fire most there, each
drawn as its feature visualization (an "icon": an image optimized to excite that channel), and
sized by how strongly it fires.

- :func:`top_channels`: the ``k`` largest channels at every position, largest first;
- :func:`channel_icons`: feature visualizations of a set of channels, rendered as one batch;
- :func:`semantic_dictionary`: both, for one image and one layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from course_lib import checks
from course_lib.lucid.misc import activation_grid
from course_lib.zoo import features


def top_channels(acts: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` channels with the largest activation at each position, largest first.

    Ties keep the lower channel index first.

    Args:
        acts: ``[..., C]`` activations (e.g. ``[h, w, C]``).
        k: how many channels, ``1 <= k <= C``.

    Returns:
        ``(channels, values)``: ``[..., k]`` int64 channel indices and their ``[..., k]``
        activations, in decreasing order of activation.

    Raises:
        ValueError: if ``acts`` has no channel axis or ``k`` is not in ``[1, C]``.
        TypeError: if ``k`` is not an int.
    """
    array = np.asarray(acts)
    if array.ndim < 1 or array.shape[-1] == 0:
        raise ValueError(f"acts must be [..., channels], got shape {array.shape}")
    k = checks.integer("k", k, minimum=1, maximum=array.shape[-1])  # at most the channels
    order = np.argsort(-array, axis=-1, kind="stable")[..., :k]
    return order.astype(np.int64), np.take_along_axis(array, order, axis=-1)


def channel_icons(
    model: Any,
    layer: str,
    channels: Sequence[int],
    size: int = 48,
    steps: int = 128,
    seed: int = 0,
    transforms: Any = None,
) -> dict[int, np.ndarray]:
    """Feature visualizations of several channels of one layer, optimized together as a batch.

    Image ``i`` of the batch maximizes ``objectives.channel(layer, channels[i], batch=i)``
    (FFT, decorrelated parameterization; ``render_vis``'s default transforms unless given).

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        layer: the layer name.
        channels: channel indices (duplicates are rendered once).
        size: icon side in pixels.
        steps: optimization steps.
        seed: the random seed of ``render_vis``.
        transforms: passed to ``render_vis`` (``None``: its standard transforms).

    Returns:
        ``{channel: [size, size, 3] image in [0, 1]}``.
    """
    from course_lib.lucid.optvis import objectives

    unique = list(dict.fromkeys(int(c) for c in channels))
    if not unique:
        return {}
    wanted = [objectives.channel(layer, c, batch=i) for i, c in enumerate(unique)]
    images = activation_grid.batch_icons(model, wanted, size, steps, seed, transforms)
    return dict(zip(unique, images, strict=True))


@dataclasses.dataclass
class SemanticDictionary:
    """A layer's semantic dictionary on one image.

    Attributes:
        layer: the layer name.
        activations: ``[h, w, C]`` activations on the image.
        channels: ``[h, w, k]`` the top channels at each position, strongest first.
        values: ``[h, w, k]`` their activations.
        icons: ``{channel: [s, s, 3] image}`` for every channel that appears in ``channels`` at
            the positions asked for.
    """

    layer: str
    activations: np.ndarray
    channels: np.ndarray
    values: np.ndarray
    icons: dict[int, np.ndarray]


def semantic_dictionary(
    model: Any,
    image: Any,
    layer: str,
    k: int = 4,
    positions: Sequence[tuple[int, int]] | None = None,
    icon_size: int = 48,
    steps: int = 128,
    seed: int = 0,
    transforms: Any = None,
) -> SemanticDictionary:
    """The top-``k`` channels at every position of ``layer`` on ``image``, with their icons.

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` in [0, 1].
        layer: a convolutional layer name.
        k: channels per position.
        positions: ``(row, col)`` layer positions whose channels get icons (default: all).
        icon_size, steps, seed, transforms: as :func:`channel_icons`.

    Returns:
        A :class:`SemanticDictionary`.

    Raises:
        ValueError: if ``layer`` is unknown or not convolutional, or ``k`` is out of range.
    """
    acts = features.layer_activations(model, image, layer)
    if acts.ndim != 3:
        raise ValueError(f"layer {layer!r} has activations of shape {acts.shape}, not [h, w, C]")
    channels, values = top_channels(acts, k)
    chosen = channels if positions is None else np.stack([channels[r, c] for r, c in positions])
    icons = channel_icons(model, layer, chosen.ravel().tolist(), icon_size, steps, seed, transforms)
    return SemanticDictionary(layer, acts, channels, values, icons)
