"""Style transfer exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.grading.exercises import style_transfer as exercises
from course_lib.lucid.misc.style import gram_matrix

REFERENCES = {
    "style_transfer.gram_matrix": gram_matrix,
    "style_transfer.total_variation": tf.image.total_variation,
}


def _numpy_gram(activations):
    """A correct answer in NumPy: positions flattened, F^T F per image."""
    f = np.asarray(activations, dtype=np.float64)
    batch, height, width, channels = f.shape
    flat = f.reshape(batch, height * width, channels)
    return np.transpose(flat, (0, 2, 1)) @ flat / (height * width)


def _numpy_variation(images):
    x = np.asarray(images, dtype=np.float64)
    down = np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3))
    return down + np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3))


CORRECT = {
    "style_transfer.gram_matrix": _numpy_gram,
    "style_transfer.total_variation": _numpy_variation,
}


def _einsum_sum(f):
    return tf.einsum("bijc,bijd->bcd", f, f)


def _by_positions_and_channels(f):
    shape = tf.shape(f)
    return tf.einsum("bijc,bijd->bcd", f, f) / tf.cast(shape[1] * shape[2] * shape[3], f.dtype)


def _positions_product(f):
    shape = tf.shape(f)
    flat = tf.reshape(f, [shape[0], -1, shape[3]])
    return tf.matmul(flat, flat, transpose_b=True) / tf.cast(shape[1] * shape[2], f.dtype)


def _reshaped_not_transposed(f):
    shape = tf.shape(f)
    flat = tf.reshape(f, [shape[0], shape[3], -1])
    return tf.matmul(flat, flat, transpose_b=True) / tf.cast(shape[1] * shape[2], f.dtype)


def _batch_mixed(f):
    flat = tf.reshape(f, [-1, tf.shape(f)[3]])
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(tf.shape(flat)[0], f.dtype)


def _vertical_only(x):
    return tf.reduce_sum(tf.abs(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3])


def _squared(x):
    down = tf.reduce_sum(tf.square(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3])
    return down + tf.reduce_sum(tf.square(x[:, :, 1:] - x[:, :, :-1]), axis=[1, 2, 3])


def _rolled(x):
    down = tf.reduce_sum(tf.abs(tf.roll(x, -1, axis=1) - x), axis=[1, 2, 3])
    return down + tf.reduce_sum(tf.abs(tf.roll(x, -1, axis=2) - x), axis=[1, 2, 3])


def _batch_summed(x):
    return tf.reduce_sum(tf.image.total_variation(x))


def _means(x):
    down = tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3])
    return down + tf.reduce_mean(tf.abs(x[:, :, 1:] - x[:, :, :-1]), axis=[1, 2, 3])


WRONG = [
    ("style_transfer.gram_matrix", _einsum_sum, "not divided by the number of positions"),
    ("style_transfer.gram_matrix", _by_positions_and_channels, "divided by H*W*C"),
    ("style_transfer.gram_matrix", _positions_product, "positions x positions"),
    ("style_transfer.gram_matrix", _reshaped_not_transposed, "without transposing"),
    ("style_transfer.gram_matrix", _batch_mixed, "the images were mixed"),
    ("style_transfer.total_variation", _vertical_only, "only the vertical differences"),
    ("style_transfer.total_variation", _squared, "squared differences"),
    ("style_transfer.total_variation", _rolled, "wrap around the border"),
    ("style_transfer.total_variation", _batch_summed, "summed over the batch"),
    ("style_transfer.total_variation", _means, "averaged differences"),
]


def test_the_einsum_reference_agrees_with_course_lib():
    cases = grading.get_exercise("style_transfer.gram_matrix").make_cases(np.random.default_rng(0))
    for case in cases:
        np.testing.assert_allclose(
            gram_matrix(case.args[0]).numpy(), case.expected, rtol=1e-5, atol=1e-6
        )
    assert {case.args[0].shape[0] for case in cases} >= {1, 2, 3}


def test_the_reference_total_variation_is_tensorflows():
    images = tf.constant(np.random.default_rng(1).uniform(size=(2, 4, 5, 3)), tf.float32)
    np.testing.assert_allclose(
        exercises.reference_total_variation(images).numpy(),
        _numpy_variation(images.numpy()),
        rtol=1e-5,
    )
