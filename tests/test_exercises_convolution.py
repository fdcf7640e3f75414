"""Convolution exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal
import tensorflow as tf

from course_lib import conv, grading

MIN_CASES = 3
REFERENCES = {
    "convolution.correlate2d_valid": conv.conv2d,
    "convolution.output_size": conv.output_size,
    "convolution.conv2d_multichannel": conv.conv2d,
}


def _loops_with_integer_output(image, kernel):
    """A correct loop whose output keeps the integer dtype of integer inputs."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    (height, width), (kh, kw) = image.shape, kernel.shape
    out = np.zeros((height - kh + 1, width - kw + 1), dtype=np.result_type(image, kernel))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def _tf_multichannel(image, kernels):
    return tf.nn.conv2d(image[tf.newaxis], kernels, strides=1, padding="VALID")[0]


def _output_size(n, k, stride, padding):
    """Written independently: the formula for each kind of padding."""
    if padding == "valid":
        return (n - k) // stride + 1
    if padding == "same":
        return math.ceil(n / stride)
    return (n + 2 * padding - k) // stride + 1


def _correlate(image, kernels):
    """Written independently: cross-correlation over windows, ``[H, W, C_in]`` (or ``[H, W]``)
    with ``[kh, kw, C_in, C_out]`` (or ``[kh, kw]``) kernels."""
    image, kernels = np.asarray(image, np.float64), np.asarray(kernels, np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(image, kernels.shape[:2], axis=(0, 1))
    if image.ndim == 2:
        return np.einsum("hwab,ab->hw", windows, kernels)
    return np.einsum("hwcab,abco->hwo", windows, kernels)


CORRECT = {
    "convolution.correlate2d_valid": _loops_with_integer_output,
    "convolution.output_size": _output_size,
    "convolution.conv2d_multichannel": _tf_multichannel,
}


def _same_without_ceil(n, k, stride, padding):
    if padding == "same":
        return n // stride
    return _output_size(n, k, stride, padding)


def _padding_on_one_side(n, k, stride, padding):
    if isinstance(padding, int):
        return (n + padding - k) // stride + 1
    return _output_size(n, k, stride, padding)


def _channels_kept_apart(image, kernels):
    windows = np.lib.stride_tricks.sliding_window_view(image, kernels.shape[:2], axis=(0, 1))
    return np.einsum("hwcab,abco->hwco", windows, kernels)


def _channels_averaged(image, kernels):
    return _correlate(image, kernels) / image.shape[-1]


def _first_channel_only(image, kernels):
    return _correlate(image[..., :1], kernels[:, :, :1, :])


def _full_size(image, kernel):
    return scipy.signal.correlate2d(image, kernel, "full")


def _one_short(image, kernel):
    return _correlate(image, kernel)[:-1, :-1]


WRONG = [
    (
        "convolution.correlate2d_valid",
        lambda image, kernel: scipy.signal.convolve2d(image, kernel, "valid"),
        "the kernel is flipped",
    ),
    ("convolution.correlate2d_valid", _full_size, "that is the 'full' size"),
    ("convolution.correlate2d_valid", _one_short, "one row and one column short"),
    ("convolution.output_size", lambda n, k, s, p: _output_size(n, k, s, p) - 1, "off by one"),
    ("convolution.output_size", lambda n, k, s, p: (n - k) / s + 1, "a size is a whole number"),
    ("convolution.output_size", _same_without_ceil, "rounded down: 'same' rounds up"),
    ("convolution.output_size", _padding_on_one_side, "the padding goes on both sides"),
    ("convolution.conv2d_multichannel", _channels_kept_apart, "the input channels were kept apart"),
    ("convolution.conv2d_multichannel", _channels_averaged, "the channels were averaged"),
    ("convolution.conv2d_multichannel", _first_channel_only, "only the first input channel"),
    (
        "convolution.conv2d_multichannel",
        lambda image, kernels: _correlate(image, kernels[::-1, ::-1]),
        "the kernels are flipped",
    ),
]


def test_the_first_case_is_the_course_worked_example():
    exercise = grading.get_exercise("convolution.correlate2d_valid")
    case = exercise.make_cases(np.random.default_rng(0))[0]
    np.testing.assert_array_equal(case.expected, [[3, 2], [3, 1]])
