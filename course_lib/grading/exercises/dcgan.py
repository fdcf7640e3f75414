"""Exercises of the chapter "DCGAN" (book/part1/07_dcgan).

- ``generator_loss(fake_logits)``: the cross-entropy of the discriminator's logits on generated
  images against the label "real" (1), averaged;
- ``discriminator_loss(real_logits, fake_logits)``: real images called real (1) plus generated
  ones called fake (0), each term averaged over its logits.

Expected answers come from ``course_lib.gan.losses`` on logits drawn from the seeded generator:
one logit per image as in DCGAN, a grid of logits per image as in pix2pix's PatchGAN, batches of
different sizes for real and generated images, and logits large enough that a loss written with
probabilities (``log(sigmoid(l))``) overflows.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.gan import losses
from course_lib.grading.cases import reference_cases
from course_lib.grading.exercise import Case, define

TOPIC = "dcgan"


def _logits(rng: np.random.Generator, shape: tuple[int, ...], mean: float, spread: float):
    return tf.constant(rng.normal(mean, spread, size=shape).astype(np.float32))


def _bce(label: float, logits: np.ndarray) -> np.ndarray:
    """Element-wise cross-entropy from logits, float64, stable for any logit."""
    return np.maximum(logits, 0.0) - logits * label + np.log1p(np.exp(-np.abs(logits)))


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _log_probability(logits: np.ndarray, label: float) -> np.ndarray:
    """``log(sigmoid(l))`` (label 1) or ``log(1 - sigmoid(l))`` (label 0) as float32 computes
    them from probabilities: ``-inf`` once the probability rounds to 0."""
    with np.errstate(all="ignore"):
        probability = (1.0 / (1.0 + np.exp(-logits.astype(np.float32)))).astype(np.float32)
        return np.log(probability if label else np.float32(1.0) - probability)


_FROM_PROBABILITIES = (
    "the loss was computed from probabilities, log(sigmoid(l)), which is log(0) = -inf once a "
    "large logit rounds the probability to 0 or 1: use the cross-entropy from logits, "
    "tf.nn.sigmoid_cross_entropy_with_logits"
)


# --- generator_loss ---------------------------------------------------------------------------

_GENERATOR_HINT = (
    "The generator wants its images called real: the cross-entropy of the fake logits against "
    "the label 1, from logits and averaged: "
    "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(l), l))."
)


def _generator_cases(rng: np.random.Generator) -> list[Case]:
    batch = int(rng.integers(4, 9))
    settings = [
        (_logits(rng, (batch, 1), -1.0, 1.5), f"DCGAN: one logit per image, [{batch}, 1]"),
        (_logits(rng, (3, 4, 4, 1), 0.5, 2.0), "PatchGAN: a 4x4 grid of logits per image"),
        (
            _logits(rng, (int(rng.integers(5, 9)), 1), -3.0, 1.0),
            "a discriminator that wins: the fakes' logits are negative",
        ),
        (
            tf.constant(np.array([[-120.0], [-2.0], [0.5], [35.0]], np.float32)),
            "large logits, where log(sigmoid(l)) is log(0) in float32",
        ),
    ]
    return reference_cases(settings, losses.generator_loss, hint=_GENERATOR_HINT, rtol=1e-4)


_GENERATOR_MISTAKES = {
    "the label is swapped: the generator's images should be called real (1), not fake (0)": (
        lambda f: _bce(0.0, f).mean()
    ),
    "this is log(1 - D(G(z))), the original minimax loss, which saturates while the "
    "discriminator wins: use the cross-entropy against the label 1": (
        lambda f: -_bce(0.0, f).mean()
    ),
    "the sigmoid was applied twice: the discriminator outputs logits, pass them as they are "
    "to the cross-entropy from logits": lambda f: _bce(1.0, _sigmoid(f)).mean(),
    "summed instead of averaged: take the mean over the logits": lambda f: _bce(1.0, f).sum(),
    "the sign is flipped: a cross-entropy is -log p, positive": lambda f: -_bce(1.0, f).mean(),
    _FROM_PROBABILITIES: lambda f: -_log_probability(f, 1.0).mean(),
}

GENERATOR_LOSS = define(
    TOPIC,
    "generator_loss",
    _generator_cases,
    mistakes=_GENERATOR_MISTAKES,
    title="The generator's loss: make the discriminator call generated images real",
    references=[losses.generator_loss, losses.binary_cross_entropy],
)


# --- discriminator_loss -----------------------------------------------------------------------

_DISCRIMINATOR_HINT = (
    "Two cross-entropies from logits, each averaged, then added: real logits against the label 1 "
    "plus fake logits against the label 0: "
    "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(r), r)) + "
    "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(f), f))."
)


def _discriminator_cases(rng: np.random.Generator) -> list[Case]:
    batch = int(rng.integers(4, 9))
    settings = [
        (
            _logits(rng, (int(rng.integers(2, 5)), 1), 0.5, 1.0),
            _logits(rng, (int(rng.integers(6, 10)), 1), 0.0, 1.0),
            "fewer real images than generated ones",
        ),
        (
            _logits(rng, (batch, 1), 1.0, 1.5),
            _logits(rng, (batch, 1), -0.5, 1.5),
            f"DCGAN: one logit per image, {batch} real and {batch} generated",
        ),
        (
            _logits(rng, (2, 4, 4, 1), 0.8, 2.0),
            _logits(rng, (2, 4, 4, 1), -0.8, 2.0),
            "PatchGAN: a 4x4 grid of logits per image",
        ),
        (
            tf.constant(np.array([[30.0], [-1.0], [45.0]], np.float32)),
            tf.constant(np.array([[-50.0], [2.0], [110.0]], np.float32)),
            "large logits, where log(1 - sigmoid(l)) is log(0) in float32",
        ),
    ]
    return reference_cases(settings, losses.discriminator_loss, hint=_DISCRIMINATOR_HINT, rtol=1e-4)


_DISCRIMINATOR_MISTAKES = {
    "the labels are swapped: real images are labelled 1 and generated ones 0": (
        lambda r, f: _bce(0.0, r).mean() + _bce(1.0, f).mean()
    ),
    "the term of the generated images is missing: add their cross-entropy against 0": (
        lambda r, f: _bce(1.0, r).mean()
    ),
    "the term of the real images is missing: add their cross-entropy against 1": (
        lambda r, f: _bce(0.0, f).mean()
    ),
    "the sigmoid was applied twice: the discriminator outputs logits, pass them as they are "
    "to the cross-entropy from logits": (
        lambda r, f: _bce(1.0, _sigmoid(r)).mean() + _bce(0.0, _sigmoid(f)).mean()
    ),
    "summed instead of averaged: take each term's mean over its logits": (
        lambda r, f: _bce(1.0, r).sum() + _bce(0.0, f).sum()
    ),
    "the two terms were averaged: add them": (
        lambda r, f: 0.5 * (_bce(1.0, r).mean() + _bce(0.0, f).mean())
    ),
    "one mean over real and generated logits together weighs the larger batch more: average "
    "each term over its own logits, then add": (
        lambda r, f: np.concatenate([_bce(1.0, r).ravel(), _bce(0.0, f).ravel()]).mean()
    ),
    _FROM_PROBABILITIES: (
        lambda r, f: -_log_probability(r, 1.0).mean() - _log_probability(f, 0.0).mean()
    ),
}

DISCRIMINATOR_LOSS = define(
    TOPIC,
    "discriminator_loss",
    _discriminator_cases,
    mistakes=_DISCRIMINATOR_MISTAKES,
    title="The discriminator's loss: real images called real, generated ones fake",
    references=[losses.discriminator_loss, losses.binary_cross_entropy],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (GENERATOR_LOSS, DISCRIMINATOR_LOSS)
