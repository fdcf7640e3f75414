"""Image parameterizations: pixels or a 1/f-scaled spectrum, decorrelated colour, valid RGB.

- :func:`image` (the default of ``render_vis``): ``image(w, h=None, batch=1, sd=None,
  decorrelate=True, fft=True, alpha=False)``;
- :mod:`~course_lib.lucid.optvis.param.spatial`: :func:`pixel_image`, :func:`fft_image`,
  :class:`Parameterization`;
- :mod:`~course_lib.lucid.optvis.param.color`: :data:`COLOR_CORRELATION_SVD_SQRT`,
  :func:`to_valid_rgb`;
- ``texture`` (import it explicitly): textured meshes rendered through the rasterizer.

A parameterization is a :class:`Parameterization`: ``.variables`` and ``__call__()`` ->
images. ``render_vis``'s ``param_f`` is a zero-argument callable that returns one, e.g.
``lambda: param.image(64, batch=4)``.
"""

from course_lib.lucid.optvis.param.color import (
    COLOR_CORRELATION_NORMALIZED,
    COLOR_CORRELATION_SVD_SQRT,
    linear_decorrelate_color,
    to_valid_rgb,
)
from course_lib.lucid.optvis.param.images import image
from course_lib.lucid.optvis.param.spatial import (
    Parameterization,
    fft_image,
    pixel_image,
    rfft2d_freqs,
    spectrum_scale,
)

__all__ = [
    "COLOR_CORRELATION_NORMALIZED",
    "COLOR_CORRELATION_SVD_SQRT",
    "Parameterization",
    "fft_image",
    "image",
    "linear_decorrelate_color",
    "pixel_image",
    "rfft2d_freqs",
    "spectrum_scale",
    "to_valid_rgb",
]
