"""Lucid-style feature visualization and interpretability on TensorFlow 2 / Keras 3.

The layout mirrors Lucid's (which is TensorFlow 1 only):

- :mod:`course_lib.lucid.optvis`: ``objectives`` (what to maximize), ``param`` (how the image is
  represented: pixels, an FFT spectrum, decorrelated colours), ``transform`` (the random
  transformations that make the result robust) and ``render`` (``render_vis``, the loop);
- :mod:`course_lib.lucid.misc`: attribution, channel reduction (NMF), activation grids and
  semantic dictionaries.

Differences from Lucid (facts to know when porting a Lucid notebook):

- Models: any functional or Sequential Keras model, layers addressed by their Keras names, or a
  ``zoo.VisualizationModel``; no TensorFlow 1 graph, session or ``modelzoo`` import.
- ``render.render_vis`` returns ``(images, trace)``: the list of image batches (one per
  threshold, as Lucid's list) and the objective at every step; it prints only when ``verbose``.
  It is seeded (``seed=0``) unless told ``seed=None``.
- Penalties (``total_variation``, ``L1``, ``L2``) are *means*, not sums, so their weights do not
  depend on the image size; weights from Lucid notebooks must be rescaled.
- ``objectives.class_logit(layer, label)`` takes an integer class; names come from
  ``vis.class_names`` (``zoo.decode_predictions`` for scores).
- ``objectives.wrap_objective(unit=...)`` derives the objective's name and layers from its
  arguments and checks the layer name and the channel index; objectives add with Python's
  ``sum()`` (no ``sum_of``) and ``deepdream`` is the whole-layer objective (no ``layer``).
- Transforms: ``transforms=None`` means Lucid's ``standard_transforms`` (the same recipe), ``[]``
  none; each draws one random value per step for the whole batch from TensorFlow's seeded ops.

Typical use::

    from course_lib import zoo
    from course_lib.lucid.optvis import render

    images, trace = render.render_vis(zoo.load_model_for_visualization(), "mixed1:3")
"""
