"""Feature-visualization exercises: references pass, mistakes get specific feedback.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.grading.exercises import feature_visualization as fv
from course_lib.lucid.optvis import objectives, transform

REFERENCES = {
    "feature_visualization.channel_objective": fv.channel_reference,
    "feature_visualization.jitter": fv.jitter_reference,
}


def _numpy_channel(activations, n_channel):
    """A correct answer in NumPy, float64, returning a Python float."""
    return float(np.asarray(activations, dtype=np.float64)[..., n_channel].mean())


def _tf_jitter(images, d, offsets):
    """A correct answer with tf.image, returning a tensor."""
    images = tf.convert_to_tensor(images)
    dy, dx = offsets
    height, width = images.shape[1], images.shape[2]
    return tf.image.crop_to_bounding_box(images, dy, dx, height - d, width - d)


CORRECT = {
    "feature_visualization.channel_objective": _numpy_channel,
    "feature_visualization.jitter": _tf_jitter,
}


def _max(a, n):
    return tf.reduce_max(a[..., n])


def _sum(a, n):
    return tf.reduce_sum(a[..., n])


def _channels_first(a, n):
    return tf.reduce_mean(a[:, n])


def _per_image(a, n):
    return tf.reduce_mean(a[..., n], axis=(1, 2))


def _whole_layer(a, n):
    return tf.reduce_mean(a)


def _first_image(a, n):
    return tf.reduce_mean(a[0, ..., n])


def _squares(a, n):
    return tf.reduce_mean(tf.square(a[..., n]))


def _swapped(images, d, offsets):
    dy, dx = offsets
    height, width = images.shape[1], images.shape[2]
    return images[:, dx : dx + height - d, dy : dy + width - d]


def _ignored(images, d, offsets):
    return images[:, : images.shape[1] - d, : images.shape[2] - d]


def _rolled(images, d, offsets):
    return tf.roll(images, list(offsets), axis=[1, 2])


def _one_short(images, d, offsets):
    dy, dx = offsets
    height, width = images.shape[1], images.shape[2]
    return images[:, dy : dy + height - d - 1, dx : dx + width - d - 1]


def _both_sides(images, d, offsets):
    dy, dx = offsets
    height, width = images.shape[1], images.shape[2]
    return images[:, dy : dy + height - 2 * d, dx : dx + width - 2 * d]


def _batch_axis(images, d, offsets):
    dy, dx = offsets
    return images[dy : dy + images.shape[0] - d, dx : dx + images.shape[1] - d]


def _other_corner(images, d, offsets):
    dy, dx = d - offsets[0], d - offsets[1]
    height, width = images.shape[1], images.shape[2]
    return images[:, dy : dy + height - d, dx : dx + width - d]


WRONG = [
    ("feature_visualization.channel_objective", _max, "the largest value"),
    ("feature_visualization.channel_objective", _sum, "summed: take the mean"),
    ("feature_visualization.channel_objective", _channels_first, "channels-first indexing"),
    ("feature_visualization.channel_objective", _per_image, "average over the batch too"),
    ("feature_visualization.channel_objective", _whole_layer, "the whole layer"),
    ("feature_visualization.channel_objective", _first_image, "only the first image"),
    ("feature_visualization.channel_objective", _squares, "mean of squares"),
    ("feature_visualization.jitter", _swapped, "the offsets were swapped"),
    ("feature_visualization.jitter", _ignored, "the offsets were ignored"),
    ("feature_visualization.jitter", _rolled, "rolled, not cropped"),
    ("feature_visualization.jitter", _one_short, "one pixel too small"),
    ("feature_visualization.jitter", _both_sides, "cut from both sides"),
    ("feature_visualization.jitter", _batch_axis, "the first axis is the batch"),
    ("feature_visualization.jitter", _other_corner, "from the other corner"),
]


def test_float64_numpy_answers_pass():
    exercise = grading.get_exercise("feature_visualization.jitter")

    def numpy_jitter(images, d, offsets):
        x = np.asarray(images, dtype=np.float64)
        dy, dx = offsets
        return x[:, dy : dy + x.shape[1] - d, dx : dx + x.shape[2] - d]

    assert grading.grade(exercise, numpy_jitter, seed=3).passed


def test_channel_reference_is_the_library_objective():
    activations = tf.random.stateless_normal([2, 5, 6, 7], seed=[1, 2])
    value = objectives.channel("mixed1", 4)(lambda name: activations)
    expected = tf.reduce_mean(activations[..., 4])
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    np.testing.assert_allclose(fv.channel_reference(activations, 4), expected, rtol=1e-6)


def test_library_jitter_takes_one_of_the_reference_crops():
    images = tf.random.stateless_uniform([2, 12, 15, 3], seed=[3, 4])
    d = 4
    crops = {
        (dy, dx): fv.jitter_reference(images, d, (dy, dx)).numpy()
        for dy in range(d + 1)
        for dx in range(d + 1)
    }
    seen = set()
    for seed in range(12):
        tf.random.set_seed(seed)
        jittered = transform.jitter(d)(images).numpy()
        matches = [o for o, crop in crops.items() if np.array_equal(crop, jittered)]
        assert len(matches) == 1, "jitter(d) must return one (H - d) x (W - d) crop"
        seen.add(matches[0])
    assert len(seen) > 1  # the offsets are random
