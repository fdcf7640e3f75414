"""Exercises of the chapter "Neural style transfer" (book/part1/06_style_transfer).

- ``gram_matrix(activations)``: ``[B, H, W, C]`` -> ``[B, C, C]``, the channels' products
  averaged over the ``H W`` positions, one matrix per image;
- ``total_variation(images)``: ``[B, H, W, C]`` -> ``[B]``, the sum of absolute differences
  between vertically and horizontally neighbouring pixels, as ``tf.image.total_variation``.

The Gram matrices a case expects are computed with NumPy's ``einsum`` in float64 (the tests check
that ``course_lib.lucid.misc.style.gram_matrix`` agrees); the total variations come from
``tf.image.total_variation``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.grading.cases import Mistake, other_shape, reference_cases, shapes
from course_lib.grading.exercise import Case, define
from course_lib.lucid.misc import style

TOPIC = "style_transfer"


# --- gram_matrix ------------------------------------------------------------------------------

_GRAM_HINT = (
    "For each image, multiply every pair of channels position by position and average over the "
    "H*W positions: tf.einsum('bijc,bijd->bcd', F, F) / (H * W)."
)


def einsum_gram(activations) -> np.ndarray:
    """The reference: ``[B, H, W, C]`` -> ``[B, C, C]`` float64 Gram matrices (NumPy einsum)."""
    values = np.asarray(activations, dtype=np.float64)
    positions = values.shape[1] * values.shape[2]
    return np.einsum("bijc,bijd->bcd", values, values) / positions


def _activations(rng: np.random.Generator, batch: int, height: int, width: int, channels: int):
    values = np.maximum(rng.normal(0.3, 1.0, size=(batch, height, width, channels)), 0.0)
    return tf.constant(values.astype(np.float32))


def _gram_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [
        (1, int(rng.integers(3, 6)), int(rng.integers(6, 9)), int(rng.integers(2, 5))),
        (2, int(rng.integers(4, 7)), int(rng.integers(4, 7)), int(rng.integers(5, 8))),
        (3, int(rng.integers(2, 5)), int(rng.integers(5, 8)), int(rng.integers(3, 6))),
        (2, 1, int(rng.integers(9, 13)), int(rng.integers(2, 4))),
    ]
    described = ["one image", "a batch of two", "a batch of three, H != W", "one row of pixels"]
    settings = [
        (_activations(rng, *shape), f"{text}, activations {list(shape)}")
        for shape, text in zip(shapes, described, strict=True)
    ]
    return reference_cases(settings, einsum_gram, hint=_GRAM_HINT, rtol=1e-4, atol=1e-5)


def _sums(f: np.ndarray) -> np.ndarray:
    """Each image's channel products summed over the positions, ``[B, C, C]``."""
    return np.einsum("bijc,bijd->bcd", f, f)


def _positions(f: np.ndarray) -> int:
    return f.shape[1] * f.shape[2]


def _position_products(f: np.ndarray) -> np.ndarray:
    """F F^T per image, ``[B, H*W, H*W]``."""
    flat = f.reshape(f.shape[0], -1, f.shape[-1])
    return flat @ flat.transpose(0, 2, 1) / _positions(f)


def _reshaped_not_transposed(f: np.ndarray) -> np.ndarray:
    flat = f.reshape(f.shape[0], f.shape[-1], -1)
    return flat @ flat.transpose(0, 2, 1) / _positions(f)


def _one_for_the_batch(f: np.ndarray) -> np.ndarray:
    return np.einsum("bijc,bijd->cd", f, f) / (f.shape[0] * _positions(f))


_GRAM_MISTAKES = {
    "that is positions x positions: contract over the positions, F^T F is C x C": Mistake(
        _position_products, match="shape"
    ),
    "a single C x C matrix: keep the batch dimension, one matrix per image (with a batch, the "
    "images were mixed into one)": Mistake(_one_for_the_batch, match="shape"),
    "one C x C matrix per image: expected shape {want}": Mistake(
        lambda f: _sums(f).reshape(f.shape[0], -1), match=other_shape, fields=shapes
    ),
    "not divided by the number of positions H*W": _sums,
    "divided by H*W*C: divide by the positions H*W only": (
        lambda f: _sums(f) / (_positions(f) * f.shape[-1])
    ),
    "divided by B*H*W: each image's matrix averages its own H*W": (
        lambda f: _sums(f) / (f.shape[0] * _positions(f))
    ),
    "divided by H only: the positions are H*W": lambda f: _sums(f) / f.shape[1],
    "reshaped to [B, C, H*W] without transposing: that mixes channels and positions; reshape "
    "to [B, H*W, C] and compute F^T F": _reshaped_not_transposed,
    "the same matrix for every image: the batch was mixed into the positions": (
        lambda f: np.broadcast_to(_one_for_the_batch(f), _sums(f).shape)
    ),
}


GRAM_MATRIX = define(
    TOPIC,
    "gram_matrix",
    _gram_cases,
    mistakes=_GRAM_MISTAKES,
    title="The Gram matrix of a batch of activations",
    references=[style.gram_matrix],
)


# --- total_variation --------------------------------------------------------------------------

_VARIATION_HINT = (
    "Per image: the sum of |x[i+1, j] - x[i, j]| over rows plus the sum of |x[i, j+1] - x[i, j]| "
    "over columns, all channels: tf.reduce_sum(tf.abs(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3]) + ..."
)


def reference_total_variation(images) -> tf.Tensor:
    """``[B, H, W, C]`` -> ``[B]``: ``tf.image.total_variation``."""
    return tf.image.total_variation(images)


def _variation_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [
        (1, int(rng.integers(4, 7)), int(rng.integers(7, 10)), 3),
        (2, int(rng.integers(5, 8)), int(rng.integers(3, 6)), 3),
        (3, int(rng.integers(3, 6)), int(rng.integers(3, 6)), 1),
    ]
    settings = [
        (tf.constant(rng.uniform(size=shape).astype(np.float32)), f"images {list(shape)}")
        for shape in shapes
    ]
    ramp = np.tile(np.linspace(0.0, 1.0, 6, dtype=np.float32)[None, :, None], (5, 1, 3))
    settings.append((tf.constant(ramp[None]), "one image, a left-to-right ramp [1, 5, 6, 3]"))
    return reference_cases(
        settings, reference_total_variation, hint=_VARIATION_HINT, rtol=1e-4, atol=1e-4
    )


def _down(x: np.ndarray, difference=np.abs, reduce=np.sum) -> np.ndarray:
    """Per image, the vertical neighbours' ``difference``s reduced over everything else."""
    return reduce(difference(x[:, 1:] - x[:, :-1]), axis=(1, 2, 3))


def _across(x: np.ndarray, difference=np.abs, reduce=np.sum) -> np.ndarray:
    return reduce(difference(x[:, :, 1:] - x[:, :, :-1]), axis=(1, 2, 3))


def _rolled(x: np.ndarray) -> np.ndarray:
    return sum(np.abs(np.roll(x, -1, axis=axis) - x).sum(axis=(1, 2, 3)) for axis in (1, 2))


_VARIATION_MISTAKES = {
    "summed over the batch: return one number per image, shape [B]": (
        lambda x: (_down(x) + _across(x)).sum()
    ),
    "one number per image: the result has shape [B]": Mistake(
        lambda x: (_down(x) + _across(x)).mean(), match=lambda have, case: have.shape == ()
    ),
    "only the vertical differences: add the horizontal ones": _down,
    "only the horizontal differences: add the vertical ones": _across,
    "squared differences: total variation sums their absolute values": (
        lambda x: _down(x, np.square) + _across(x, np.square)
    ),
    "the differences wrap around the border (tf.roll?): use slices, no wrap": _rolled,
    "averaged differences: total variation sums them": (
        lambda x: _down(x, reduce=np.mean) + _across(x, reduce=np.mean)
    ),
}


TOTAL_VARIATION = define(
    TOPIC,
    "total_variation",
    _variation_cases,
    mistakes=_VARIATION_MISTAKES,
    title="The total variation of a batch of images",
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (GRAM_MATRIX, TOTAL_VARIATION)
