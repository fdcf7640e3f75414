"""Convolution from scratch: the deep-learning cross-correlation, the flipped convolution, filters.

- :mod:`~course_lib.conv.convolution`: ``conv2d`` (as ``tf.nn.conv2d``, vectorized),
  ``conv2d_naive`` (the same with loops), ``convolve2d`` (as ``scipy.signal.convolve2d``) and
  the ``output_size`` formula;
- :mod:`~course_lib.conv.filters`: the course's edge detector, blurs, sharpen, Sobel, by name.

Pure NumPy: nothing here imports TensorFlow.
"""

from course_lib.conv.convolution import (
    MODES,
    PADDINGS,
    conv2d,
    conv2d_naive,
    convolve2d,
    output_size,
)
from course_lib.conv.filters import (
    FILTER_NAMES,
    box_blur,
    edge_detector,
    gaussian_blur,
    get_filter,
    sharpen,
    sobel_x,
    sobel_y,
)

__all__ = [
    "FILTER_NAMES",
    "MODES",
    "PADDINGS",
    "box_blur",
    "conv2d",
    "conv2d_naive",
    "convolve2d",
    "edge_detector",
    "gaussian_blur",
    "get_filter",
    "output_size",
    "sharpen",
    "sobel_x",
    "sobel_y",
]
