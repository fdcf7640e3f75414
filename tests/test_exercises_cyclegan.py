"""CycleGAN exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.gan import losses
from course_lib.grading.exercises.cyclegan import cycle_loss_reference

REFERENCES = {
    "cyclegan.cycle_loss": cycle_loss_reference,
    "cyclegan.identity_loss": losses.identity_loss,
}


def _numpy_cycle(real, translated, reconstructed, weight=10.0):
    """A correct answer in NumPy, float64."""
    difference = np.asarray(real, np.float64) - np.asarray(reconstructed, np.float64)
    return weight * np.mean(np.abs(difference))


def _keras_identity(real, same, weight=10.0):
    """A correct answer with Keras' mean absolute error (per image), then averaged."""
    import keras

    per_pixel = keras.losses.MeanAbsoluteError(reduction=None)(real, same)
    return 0.5 * weight * tf.reduce_mean(per_pixel)


CORRECT = {
    "cyclegan.cycle_loss": _numpy_cycle,
    "cyclegan.identity_loss": _keras_identity,
}


def _l2_cycle(real, translated, reconstructed, weight=10.0):
    return weight * tf.reduce_mean(tf.square(real - reconstructed))


def _no_lambda_cycle(real, translated, reconstructed, weight=10.0):
    return tf.reduce_mean(tf.abs(real - reconstructed))


def _translated_cycle(real, translated, reconstructed, weight=10.0):
    return weight * tf.reduce_mean(tf.abs(real - translated))


def _fixed_lambda_cycle(real, translated, reconstructed, weight=10.0):
    return 10.0 * tf.reduce_mean(tf.abs(real - reconstructed))


def _summed_cycle(real, translated, reconstructed, weight=10.0):
    return weight * tf.reduce_sum(tf.abs(real - reconstructed))


def _full_weight_identity(real, same, weight=10.0):
    return weight * tf.reduce_mean(tf.abs(real - same))


def _l2_identity(real, same, weight=10.0):
    return 0.5 * weight * tf.reduce_mean(tf.square(real - same))


def _no_weight_identity(real, same, weight=10.0):
    return tf.reduce_mean(tf.abs(real - same))


def _fixed_identity(real, same, weight=10.0):
    return 5.0 * tf.reduce_mean(tf.abs(real - same))


WRONG = [
    ("cyclegan.cycle_loss", _l2_cycle, "squared differences (L2)"),
    ("cyclegan.cycle_loss", _no_lambda_cycle, "the weight lambda is missing"),
    ("cyclegan.cycle_loss", _translated_cycle, "compared with the translated images"),
    ("cyclegan.cycle_loss", _fixed_lambda_cycle, "use the weight argument"),
    ("cyclegan.cycle_loss", _summed_cycle, "summed instead of averaged"),
    ("cyclegan.identity_loss", _full_weight_identity, "the identity loss weighs half"),
    ("cyclegan.identity_loss", _l2_identity, "squared differences (L2)"),
    ("cyclegan.identity_loss", _no_weight_identity, "the weight is missing"),
    ("cyclegan.identity_loss", _fixed_identity, "use the weight argument"),
]


def test_reconstructions_are_closer_to_the_real_images_than_translations():
    """The cases tell the translated images from the reconstructed ones by a wide margin."""
    cases = grading.get_exercise("cyclegan.cycle_loss").make_cases(np.random.default_rng(0))
    for case in cases:
        real, translated, reconstructed = (a.numpy() for a in case.args)
        assert np.abs(real - reconstructed).mean() < 0.7 * np.abs(real - translated).mean()
