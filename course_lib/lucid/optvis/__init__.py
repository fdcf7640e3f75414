"""Feature visualization by optimization: objectives, parameterizations, transforms, render_vis.

- :mod:`~course_lib.lucid.optvis.objectives`: composable objectives (``channel``, ``neuron``,
  ``direction``, ``diversity``, penalties, ...) evaluated on a layer lookup ``T``;
- :mod:`~course_lib.lucid.optvis.param`: image parameterizations (``image``, ``pixel_image``,
  ``fft_image``, ``to_valid_rgb``);
- :mod:`~course_lib.lucid.optvis.transform`: random ``pad``, ``jitter``, ``random_scale``,
  ``random_rotate`` and ``standard_transforms``;
- :mod:`~course_lib.lucid.optvis.render`: ``render_vis``, compiled with ``tf.function``.
"""

from course_lib.lucid.optvis import objectives, param, render, transform

__all__ = ["objectives", "param", "render", "transform"]
