"""DCGAN exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.gan import losses

MIN_CASES = 4
REFERENCES = {
    "dcgan.generator_loss": losses.generator_loss,
    "dcgan.discriminator_loss": losses.discriminator_loss,
}


def _numpy_bce(label, logits):
    """An independent cross-entropy from logits: -label log p - (1 - label) log(1 - p), written
    with logaddexp so that it is finite for any logit."""
    logits = np.asarray(logits, dtype=np.float64)
    return label * np.logaddexp(0.0, -logits) + (1 - label) * np.logaddexp(0.0, logits)


def _numpy_generator(fake_logits):
    return float(np.mean(_numpy_bce(1.0, fake_logits)))


def _numpy_discriminator(real_logits, fake_logits):
    return float(np.mean(_numpy_bce(1.0, real_logits)) + np.mean(_numpy_bce(0.0, fake_logits)))


def _keras_generator(fake_logits):
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(fake_logits), fake_logits)


def _keras_discriminator(real_logits, fake_logits):
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(real_logits), real_logits) + bce(
        tf.zeros_like(fake_logits), fake_logits
    )


CORRECT = {
    "dcgan.generator_loss": [_numpy_generator, _keras_generator],
    "dcgan.discriminator_loss": [_numpy_discriminator, _keras_discriminator],
}


def _xent(labels, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)


def _g_swapped(fake):
    return tf.reduce_mean(_xent(tf.zeros_like(fake), fake))


def _g_minimax(fake):
    return tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(tf.cast(fake, tf.float64))))


def _g_sigmoid_twice(fake):
    probabilities = tf.sigmoid(fake)
    return tf.reduce_mean(_xent(tf.ones_like(probabilities), probabilities))


def _g_summed(fake):
    return tf.reduce_sum(_xent(tf.ones_like(fake), fake))


def _g_from_probabilities(fake):
    return -tf.reduce_mean(tf.math.log(tf.sigmoid(fake)))


def _d_swapped(real, fake):
    return tf.reduce_mean(_xent(tf.zeros_like(real), real)) + tf.reduce_mean(
        _xent(tf.ones_like(fake), fake)
    )


def _d_no_fake_term(real, fake):
    return tf.reduce_mean(_xent(tf.ones_like(real), real))


def _d_sigmoid_twice(real, fake):
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    real, fake = tf.sigmoid(real), tf.sigmoid(fake)
    return bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)


def _d_summed(real, fake):
    return tf.reduce_sum(_xent(tf.ones_like(real), real)) + tf.reduce_sum(
        _xent(tf.zeros_like(fake), fake)
    )


def _d_averaged(real, fake):
    return 0.5 * (
        tf.reduce_mean(_xent(tf.ones_like(real), real))
        + tf.reduce_mean(_xent(tf.zeros_like(fake), fake))
    )


def _d_one_mean(real, fake):
    logits = tf.concat([tf.reshape(real, [-1]), tf.reshape(fake, [-1])], axis=0)
    labels = tf.concat(
        [tf.ones_like(tf.reshape(real, [-1])), tf.zeros_like(tf.reshape(fake, [-1]))], 0
    )
    return tf.reduce_mean(_xent(labels, logits))


def _d_from_probabilities(real, fake):
    return -tf.reduce_mean(tf.math.log(tf.sigmoid(real))) - tf.reduce_mean(
        tf.math.log(1.0 - tf.sigmoid(fake))
    )


WRONG = [
    ("dcgan.generator_loss", _g_swapped, "the label is swapped"),
    ("dcgan.generator_loss", _g_minimax, "the original minimax loss"),
    ("dcgan.generator_loss", _g_sigmoid_twice, "the sigmoid was applied twice"),
    ("dcgan.generator_loss", _g_summed, "summed instead of averaged"),
    ("dcgan.generator_loss", _g_from_probabilities, "computed from probabilities"),
    ("dcgan.discriminator_loss", _d_swapped, "the labels are swapped"),
    ("dcgan.discriminator_loss", _d_no_fake_term, "the term of the generated images is missing"),
    ("dcgan.discriminator_loss", _d_sigmoid_twice, "the sigmoid was applied twice"),
    ("dcgan.discriminator_loss", _d_summed, "summed instead of averaged"),
    ("dcgan.discriminator_loss", _d_averaged, "the two terms were averaged"),
    ("dcgan.discriminator_loss", _d_one_mean, "weighs the larger batch more"),
    ("dcgan.discriminator_loss", _d_from_probabilities, "computed from probabilities"),
]


def test_the_large_logit_cases_expect_finite_losses():
    for exercise_id in REFERENCES:
        cases = grading.get_exercise(exercise_id).make_cases(np.random.default_rng(0))
        large = [case for case in cases if "large logits" in case.description]
        assert len(large) == 1 and np.isfinite(large[0].expected)
        assert float(large[0].expected) > 10.0
