"""Convolution exercises: references pass, mistakes get specific feedback, stubs are noticed."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from course_lib import conv, grading
from course_lib.grading.testing import assert_answer_passes, assert_mistake_hinted

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


CORRECT = {
    "convolution.correlate2d_valid": _loops_with_integer_output,
    "convolution.output_size": lambda n, k, s, p: conv.output_size(n, k, s, p),
    "convolution.conv2d_multichannel": _tf_multichannel,
}


def _same_without_ceil(n, k, stride, padding):
    if padding == "same":
        return n // stride
    return conv.output_size(n, k, stride, padding)


def _padding_on_one_side(n, k, stride, padding):
    if isinstance(padding, int):
        return (n + padding - k) // stride + 1
    return conv.output_size(n, k, stride, padding)


def _channels_kept_apart(image, kernels):
    windows = np.lib.stride_tricks.sliding_window_view(image, kernels.shape[:2], axis=(0, 1))
    return np.einsum("hwcab,abco->hwco", windows, kernels)


def _channels_averaged(image, kernels):
    return conv.conv2d(image, kernels) / image.shape[-1]


def _first_channel_only(image, kernels):
    return conv.conv2d(image[..., :1], kernels[:, :, :1, :])


def _full_size(image, kernel):
    return scipy.signal.correlate2d(image, kernel, "full")


def _one_short(image, kernel):
    return conv.conv2d(image, kernel)[:-1, :-1]


WRONG = [
    (
        "convolution.correlate2d_valid",
        lambda image, kernel: scipy.signal.convolve2d(image, kernel, "valid"),
        "the kernel is flipped",
    ),
    ("convolution.correlate2d_valid", _full_size, "that is the 'full' size"),
    ("convolution.correlate2d_valid", _one_short, "one row and one column short"),
    ("convolution.output_size", lambda n, k, s, p: conv.output_size(n, k, s, p) - 1, "off by one"),
    ("convolution.output_size", lambda n, k, s, p: (n - k) / s + 1, "a size is a whole number"),
    ("convolution.output_size", _same_without_ceil, "rounded down: 'same' rounds up"),
    ("convolution.output_size", _padding_on_one_side, "the padding goes on both sides"),
    ("convolution.conv2d_multichannel", _channels_kept_apart, "the input channels were kept apart"),
    ("convolution.conv2d_multichannel", _channels_averaged, "the channels were averaged"),
    ("convolution.conv2d_multichannel", _first_channel_only, "only the first input channel"),
    (
        "convolution.conv2d_multichannel",
        lambda image, kernels: conv.conv2d(image, kernels[::-1, ::-1]),
        "the kernels are flipped",
    ),
]


def test_every_convolution_exercise_is_covered():
    ids = grading.list_exercises("convolution")
    assert sorted(ids) == sorted(REFERENCES)
    for exercise_id in ids:
        assert grading.get_exercise(exercise_id).target == exercise_id.split(".")[1]


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_reference_and_an_independent_answer_pass_every_case(exercise_id):
    for answer in (REFERENCES[exercise_id], CORRECT[exercise_id]):
        assert_answer_passes(exercise_id, answer, min_cases=3)


def test_the_first_case_is_the_course_worked_example():
    exercise = grading.get_exercise("convolution.correlate2d_valid")
    case = exercise.make_cases(np.random.default_rng(0))[0]
    np.testing.assert_array_equal(case.expected, [[3, 2], [3, 1]])


@pytest.mark.parametrize(("exercise_id", "wrong", "message"), WRONG, ids=[m for _, _, m in WRONG])
def test_typical_mistake_gets_specific_feedback(exercise_id, wrong, message):
    assert_mistake_hinted(exercise_id, wrong, message)


def test_check_prints_the_feedback(capsys):
    result = grading.check("convolution.output_size", conv.output_size)
    assert result.passed
    assert capsys.readouterr().out.startswith("✓ convolution.output_size")
