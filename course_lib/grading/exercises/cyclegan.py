"""Exercises of the chapter "CycleGAN" (book/part1/09_cyclegan).

- ``cycle_loss(real, translated, reconstructed, weight=10.0)``: one direction's cycle-consistency
  loss, ``weight * mean |real - reconstructed|``, given ``x``, ``G(x)`` and ``F(G(x))``;
- ``identity_loss(real, same, weight=10.0)``: ``0.5 * weight * mean |real - same|``, given
  ``y`` and ``G(y)``.

Expected answers come from ``course_lib.gan.losses`` on images in [-1, 1] drawn from the seeded
generator: reconstructions close to the real images, translations far from them, weights other
than the default passed as an argument.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.gan import losses
from course_lib.grading.exercise import Case, define

TOPIC = "cyclegan"

#: CycleGAN's lambda, the default weight of both exercises.
CYCLE_LAMBDA = losses.CYCLE_LAMBDA


def _images(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def _near(rng: np.random.Generator, images: np.ndarray, spread: float) -> np.ndarray:
    """``images`` plus noise, clipped to [-1, 1] (a reconstruction, or G(y) for y in Y)."""
    noisy = images + rng.normal(0.0, spread, size=images.shape)
    return np.clip(noisy, -1.0, 1.0).astype(np.float32)


def _shape(rng: np.random.Generator) -> tuple[int, int, int, int]:
    side = int(rng.integers(4, 9))
    return (int(rng.integers(1, 4)), side, side, 3)


# --- cycle_loss -------------------------------------------------------------------------------

_CYCLE_HINT = (
    "Compare the real images with the reconstructed ones (there and back), not with the "
    "translated ones: weight * tf.reduce_mean(tf.abs(real - reconstructed))."
)


def cycle_loss_reference(real, translated, reconstructed, weight=CYCLE_LAMBDA):
    """The reference: :func:`course_lib.gan.losses.cycle_consistency_loss`; ``translated``
    is not used (the loss compares ``x`` with ``F(G(x))``)."""
    del translated
    return losses.cycle_consistency_loss(real, reconstructed, weight)


def _cycle_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for spread, weight, description in (
        (0.3, None, "a half-trained pair of generators, the default weight"),
        (0.05, None, "reconstructions already close to the real images"),
        (0.4, 5.0, "weight=5.0"),
        (0.2, 1.0, "weight=1.0"),
    ):
        shape = _shape(rng)
        real = _images(rng, shape)
        translated = _images(rng, shape)
        reconstructed = _near(rng, real, spread)
        args = tuple(tf.constant(a) for a in (real, translated, reconstructed))
        kwargs = {} if weight is None else {"weight": weight}
        expected = cycle_loss_reference(*args, **kwargs).numpy()
        shown = f"{description}, images {list(shape)}"
        cases.append(Case(shown, args, kwargs, expected, hint=_CYCLE_HINT, rtol=1e-4, atol=1e-6))
    return cases


def _l1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b).mean()


_CYCLE_MISTAKES = {
    "compared with the translated images G(x): the cycle loss compares x with the "
    "reconstruction F(G(x))": (lambda x, gx, fgx, weight=CYCLE_LAMBDA: weight * _l1(x, gx)),
    "squared differences (L2): CycleGAN's cycle loss is the mean absolute difference (L1)": (
        lambda x, gx, fgx, weight=CYCLE_LAMBDA: weight * ((x - fgx) ** 2).mean()
    ),
    "the weight lambda is missing: multiply the mean absolute difference by it": (
        lambda x, gx, fgx, weight=CYCLE_LAMBDA: _l1(x, fgx)
    ),
    "the weight was fixed at 10: use the weight argument": (
        lambda x, gx, fgx, weight=CYCLE_LAMBDA: CYCLE_LAMBDA * _l1(x, fgx)
    ),
    "summed instead of averaged: take the mean over every pixel": (
        lambda x, gx, fgx, weight=CYCLE_LAMBDA: weight * np.abs(x - fgx).sum()
    ),
    "half the weight: that is the identity loss's 0.5 * lambda; the cycle loss uses lambda": (
        lambda x, gx, fgx, weight=CYCLE_LAMBDA: 0.5 * weight * _l1(x, fgx)
    ),
}

CYCLE_LOSS = define(
    TOPIC,
    "cycle_loss",
    _cycle_cases,
    mistakes=_CYCLE_MISTAKES,
    title="The cycle-consistency loss of one direction",
    references=[losses.cycle_consistency_loss, losses.mean_absolute_error],
)


# --- identity_loss ----------------------------------------------------------------------------

_IDENTITY_HINT = (
    "Half the cycle loss's weight times the mean absolute difference between the images and "
    "the generator's output on them: 0.5 * weight * tf.reduce_mean(tf.abs(real - same))."
)


def _identity_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for spread, weight, description in (
        (0.2, None, "the default weight"),
        (0.6, None, "a generator that changes its target domain's images a lot"),
        (0.1, 4.0, "weight=4.0"),
        (0.3, 1.0, "weight=1.0"),
    ):
        shape = _shape(rng)
        real = _images(rng, shape)
        same = _near(rng, real, spread)
        args = (tf.constant(real), tf.constant(same))
        kwargs = {} if weight is None else {"weight": weight}
        expected = losses.identity_loss(*args, **kwargs).numpy()
        shown = f"{description}, images {list(shape)}"
        cases.append(Case(shown, args, kwargs, expected, hint=_IDENTITY_HINT, rtol=1e-4, atol=1e-6))
    return cases


_IDENTITY_MISTAKES = {
    "the full weight: the identity loss weighs half of lambda, 0.5 * weight": (
        lambda y, gy, weight=CYCLE_LAMBDA: weight * _l1(y, gy)
    ),
    "squared differences (L2): use the mean absolute difference (L1)": (
        lambda y, gy, weight=CYCLE_LAMBDA: 0.5 * weight * ((y - gy) ** 2).mean()
    ),
    "the weight is missing: multiply by 0.5 * weight": lambda y, gy, weight=CYCLE_LAMBDA: _l1(
        y, gy
    ),
    "0.5 without the weight: multiply by 0.5 * weight": (
        lambda y, gy, weight=CYCLE_LAMBDA: 0.5 * _l1(y, gy)
    ),
    "the weight was fixed at 10: use the weight argument": (
        lambda y, gy, weight=CYCLE_LAMBDA: 0.5 * CYCLE_LAMBDA * _l1(y, gy)
    ),
    "summed instead of averaged: take the mean over every pixel": (
        lambda y, gy, weight=CYCLE_LAMBDA: 0.5 * weight * np.abs(y - gy).sum()
    ),
}

IDENTITY_LOSS = define(
    TOPIC,
    "identity_loss",
    _identity_cases,
    mistakes=_IDENTITY_MISTAKES,
    title="The identity loss",
    references=[losses.identity_loss, losses.mean_absolute_error],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (CYCLE_LOSS, IDENTITY_LOSS)
