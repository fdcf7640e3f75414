"""pix2pix exercises: references pass, mistakes get specific feedback.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.grading.exercises import pix2pix as exercises
from course_lib.grading.testing import assert_mistake_hinted

MIN_CASES = 3
REFERENCES = {
    "pix2pix.pix2pix_generator_loss": exercises.reference_generator_loss,
    "pix2pix.random_jitter": exercises.reference_random_jitter,
}


def _numpy_loss(fake_logits, target, generated, l1_weight=100.0):
    """A correct answer in NumPy: the cross-entropy written with log-sigmoids."""
    logits = np.asarray(fake_logits, np.float64)
    log_sigmoid = -np.logaddexp(0.0, -logits)
    l1 = np.mean(np.abs(np.asarray(target, np.float64) - np.asarray(generated, np.float64)))
    return float(-np.mean(log_sigmoid) + l1_weight * l1)


def _keras_loss(fake_logits, target, generated, l1_weight=100.0):
    """The tutorial's way: a Keras BinaryCrossentropy(from_logits=True)."""
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    gan = bce(tf.ones_like(fake_logits), fake_logits)
    return gan + l1_weight * tf.reduce_mean(tf.abs(target - generated))


def _numpy_jitter(source, target):
    """A correct answer in NumPy: index arithmetic for the nearest-neighbour enlargement."""
    pair = np.stack([np.asarray(source), np.asarray(target)])
    size = pair.shape[1]
    big = int(round(size * 286 / 256))
    index = np.floor((np.arange(big) + 0.5) * size / big).astype(int)  # half-pixel centres
    pair = pair[:, index][:, :, index]
    top, left = np.random.randint(0, big - size + 1, size=2)
    pair = pair[:, top : top + size, left : left + size]
    if np.random.uniform() < 0.5:
        pair = pair[:, :, ::-1]
    return pair[0], pair[1]


CORRECT = {
    "pix2pix.pix2pix_generator_loss": [_numpy_loss, _keras_loss],
    "pix2pix.random_jitter": _numpy_jitter,
}


def _bce(logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits))


def _l2(fake_logits, target, generated, l1_weight=100.0):
    return _bce(fake_logits) + l1_weight * tf.reduce_mean(tf.square(target - generated))


def _lambda_forgotten(fake_logits, target, generated, l1_weight=100.0):
    return _bce(fake_logits) + tf.reduce_mean(tf.abs(target - generated))


def _lambda_on_gan(fake_logits, target, generated, l1_weight=100.0):
    return l1_weight * _bce(fake_logits) + tf.reduce_mean(tf.abs(target - generated))


def _label_zero(fake_logits, target, generated, l1_weight=100.0):
    gan = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)
    )
    return gan + l1_weight * tf.reduce_mean(tf.abs(target - generated))


def _weight_ignored(fake_logits, target, generated, l1_weight=100.0):
    return _bce(fake_logits) + 100.0 * tf.reduce_mean(tf.abs(target - generated))


def _summed(fake_logits, target, generated, l1_weight=100.0):
    return _bce(fake_logits) + l1_weight * tf.reduce_sum(tf.abs(target - generated))


def _three(fake_logits, target, generated, l1_weight=100.0):
    l1 = tf.reduce_mean(tf.abs(target - generated))
    return (_bce(fake_logits) + l1_weight * l1, _bce(fake_logits), l1)


def _sigmoid_first(fake_logits, target, generated, l1_weight=100.0):
    return _bce(tf.sigmoid(fake_logits)) + l1_weight * tf.reduce_mean(tf.abs(target - generated))


def _enlarge(image, method="nearest"):
    size = image.shape[0]
    big = int(round(size * 286 / 256))
    return tf.image.resize(image, (big, big), method=method)


def _flipped_independently(source, target):
    pair = tf.image.random_crop(tf.stack([_enlarge(source), _enlarge(target)]), (2, *source.shape))
    source, target = pair[0], pair[1]
    if tf.random.uniform([]) < 0.5:
        source = tf.reverse(source, axis=[1])
    if tf.random.uniform([]) < 0.5:
        target = tf.reverse(target, axis=[1])
    return source, target


def _cropped_independently(source, target):
    source = tf.image.random_crop(_enlarge(source), source.shape)
    target = tf.image.random_crop(_enlarge(target), target.shape)
    if tf.random.uniform([]) < 0.5:
        source, target = tf.reverse(source, axis=[1]), tf.reverse(target, axis=[1])
    return source, target


def _stacked(source, target, method="nearest", axis=2, flip=True):
    pair = tf.stack([_enlarge(source, method), _enlarge(target, method)])
    pair = tf.image.random_crop(pair, (2, *source.shape))
    if flip and tf.random.uniform([]) < 0.5:
        pair = tf.reverse(pair, axis=[axis])
    return pair[0], pair[1]


WRONG = [
    ("pix2pix.pix2pix_generator_loss", _l2, "squared differences (L2)"),
    ("pix2pix.pix2pix_generator_loss", _lambda_forgotten, "the L1 term is not weighted"),
    ("pix2pix.pix2pix_generator_loss", _lambda_on_gan, "multiplies the adversarial term"),
    ("pix2pix.pix2pix_generator_loss", _label_zero, "the label is 0"),
    ("pix2pix.pix2pix_generator_loss", _weight_ignored, "l1_weight argument was ignored"),
    ("pix2pix.pix2pix_generator_loss", _summed, "were summed"),
    ("pix2pix.pix2pix_generator_loss", _three, "return the total only"),
    ("pix2pix.pix2pix_generator_loss", _sigmoid_first, "went through a sigmoid first"),
    ("pix2pix.random_jitter", _flipped_independently, "mirrored independently"),
    ("pix2pix.random_jitter", _cropped_independently, "cropped at different places"),
    ("pix2pix.random_jitter", lambda s, t: _stacked(s, t, "bilinear"), "nearest-neighbour"),
    ("pix2pix.random_jitter", lambda s, t: _stacked(s, t, axis=1), "upside down"),
    ("pix2pix.random_jitter", lambda s, t: _stacked(s, t, flip=False), "none of the 12 calls"),
    ("pix2pix.random_jitter", lambda s, t: (s, t), "came back unchanged"),
]


def test_the_jitter_cases_enlarge_as_the_tutorial():
    exercise = grading.get_exercise("pix2pix.random_jitter")
    cases = exercise.make_cases(np.random.default_rng(0))
    assert cases[0].expected["size"] == 36  # 256 -> 286, at 32 px
    assert all(case.args[0].shape == case.args[1].shape for case in cases)


def test_a_fixed_crop_is_called_out():
    def fixed(source, target):
        pair = tf.stack([_enlarge(source), _enlarge(target)])[:, 1:, 2:]
        size = source.shape[0]
        return pair[0, :size, :size], pair[1, :size, :size]

    result = assert_mistake_hinted("pix2pix.random_jitter", fixed, "same place")
    assert result.cases_passed == 0
