"""Lucid-style feature visualization and interpretability on TensorFlow 2 / Keras 3.

The layout mirrors Lucid's (which is TensorFlow 1 only):

- :mod:`course_lib.lucid.optvis`: ``objectives`` (what to maximize), ``param`` (how the image is
  represented: pixels, an FFT spectrum, decorrelated colours), ``transform`` (the random
  transformations that make the result robust) and ``render`` (``render_vis``, the loop);
- :mod:`course_lib.lucid.misc`: attribution, channel reduction (NMF), activation grids and
  semantic dictionaries.

Typical use::

    from course_lib import zoo
    from course_lib.lucid.optvis import render

    images, trace = render.render_vis(zoo.load_model_for_visualization(), "mixed1:3")
"""
