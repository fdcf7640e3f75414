"""The adversarial, L1, cycle and identity losses of ``gan.losses`` against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.gan import losses
from course_lib.graphics.util.testing import assert_jacobian_matches


def _numpy_bce(label: float, logits: np.ndarray) -> float:
    probability = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return float(np.mean(-label * np.log(probability) - (1 - label) * np.log1p(-probability)))


def test_losses_of_a_discriminator_that_cannot_tell_are_logs_of_two():
    zeros = tf.zeros([4, 1])
    np.testing.assert_allclose(losses.generator_loss(zeros), np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(losses.discriminator_loss(zeros, zeros), 2 * np.log(2.0), rtol=1e-6)


def test_losses_match_the_cross_entropy_written_with_probabilities(rng):
    real = rng.normal(1.0, 2.0, size=(6, 3, 3, 1)).astype(np.float32)
    fake = rng.normal(-0.5, 2.0, size=(5, 3, 3, 1)).astype(np.float32)
    expected = _numpy_bce(1.0, real) + _numpy_bce(0.0, fake)
    np.testing.assert_allclose(losses.discriminator_loss(real, fake), expected, rtol=1e-5)
    np.testing.assert_allclose(losses.generator_loss(fake), _numpy_bce(1.0, fake), rtol=1e-5)
    np.testing.assert_allclose(losses.binary_cross_entropy(0.3, real), _numpy_bce(0.3, real), 1e-5)


def test_losses_stay_finite_with_finite_gradients_at_extreme_logits():
    logits = tf.constant([[-200.0], [0.0], [200.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        generator, discriminator = (
            losses.generator_loss(logits),
            losses.discriminator_loss(logits, logits),
        )
    for value in (generator, discriminator):
        assert np.isfinite(value.numpy())
        assert np.isfinite(tape.gradient(value, logits).numpy()).all()
    np.testing.assert_allclose(generator, (200.0 + np.log(2.0)) / 3, rtol=1e-5)


def test_loss_gradients_match_finite_differences(rng):
    real = rng.normal(size=(3, 2))
    fake = rng.normal(size=(4, 2))
    assert_jacobian_matches(losses.discriminator_loss, [real, fake])
    assert_jacobian_matches(losses.generator_loss, [fake])
    images = rng.uniform(size=(2, 3, 3, 1))
    moved = images + rng.uniform(0.05, 0.2, size=images.shape) * rng.choice([-1, 1], images.shape)
    assert_jacobian_matches(lambda a, b: losses.cycle_consistency_loss(a, b), [images, moved])


def test_pix2pix_loss_is_adversarial_plus_lambda_times_l1(rng):
    logits = rng.normal(size=(2, 4, 4, 1)).astype(np.float32)
    target = rng.uniform(-1, 1, size=(2, 8, 8, 3)).astype(np.float32)
    generated = rng.uniform(-1, 1, size=(2, 8, 8, 3)).astype(np.float32)
    total, adversarial, l1 = losses.pix2pix_generator_loss(logits, target, generated)
    np.testing.assert_allclose(l1, np.abs(target - generated).mean(), rtol=1e-6)
    np.testing.assert_allclose(adversarial, _numpy_bce(1.0, logits), rtol=1e-5)
    np.testing.assert_allclose(total, adversarial + 100.0 * l1, rtol=1e-6)
    assert losses.PIX2PIX_LAMBDA == 100.0
    total, _, _ = losses.pix2pix_generator_loss(logits, target, generated, l1_weight=0.0)
    np.testing.assert_allclose(total, adversarial, rtol=1e-6)


def test_cycle_and_identity_losses_weigh_l1_by_lambda_and_half_lambda(rng):
    real = rng.uniform(-1, 1, size=(3, 5, 5, 3)).astype(np.float32)
    other = rng.uniform(-1, 1, size=(3, 5, 5, 3)).astype(np.float32)
    l1 = np.abs(real - other).mean()
    np.testing.assert_allclose(losses.cycle_consistency_loss(real, other), 10 * l1, rtol=1e-5)
    np.testing.assert_allclose(losses.identity_loss(real, other), 5 * l1, rtol=1e-5)
    np.testing.assert_allclose(losses.cycle_consistency_loss(real, other, 2.0), 2 * l1, rtol=1e-5)
    assert float(losses.cycle_consistency_loss(real, real)) == 0.0


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: losses.generator_loss(tf.zeros([3], tf.int32)), "fake_logits"),
        (lambda: losses.generator_loss(tf.constant(0.0)), "fake_logits"),
        (lambda: losses.discriminator_loss(tf.zeros([2, 1], tf.int32), tf.zeros([2, 1])), "real"),
        (lambda: losses.mean_absolute_error(tf.zeros([2, 4, 4, 3]), tf.zeros([2, 4, 4, 1])), "gen"),
        (
            lambda: losses.cycle_consistency_loss(
                tf.zeros([1, 2, 2, 1]), tf.zeros([1, 2, 2, 1]), -1
            ),
            "weight",
        ),
        (
            lambda: losses.identity_loss(np.zeros((1, 2, 2, 1), np.int32), tf.zeros([1, 2, 2, 1])),
            "real",
        ),
    ],
)
def test_bad_inputs_raise_errors_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
