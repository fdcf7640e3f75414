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

from course_lib.grading.cases import first_match, numeric_compare, reference_cases
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


def _explain_gram(have: np.ndarray, case: Case) -> str | None:
    f = case.args[0].numpy().astype(np.float64)
    batch, height, width, channels = f.shape
    positions = height * width
    if have.shape == (batch, positions, positions):
        return "that is positions x positions: contract over the positions, F^T F is C x C"
    if have.shape == (channels, channels):
        return (
            "a single C x C matrix: keep the batch dimension, one matrix per image (with a "
            "batch, the images were mixed into one)"
        )
    if have.shape != (batch, channels, channels):
        return f"one C x C matrix per image: expected shape {(batch, channels, channels)}"
    sums = np.einsum("bijc,bijd->bcd", f, f)
    flat = f.reshape(batch, channels, positions)  # reshaped, not transposed
    candidates = [
        (sums, "not divided by the number of positions H*W"),
        (sums / (positions * channels), "divided by H*W*C: divide by the positions H*W only"),
        (sums / (batch * positions), "divided by B*H*W: each image's matrix averages its own H*W"),
        (sums / height, "divided by H only: the positions are H*W"),
        (
            flat @ flat.transpose(0, 2, 1) / positions,
            "reshaped to [B, C, H*W] without transposing: that mixes channels and positions; "
            "reshape to [B, H*W, C] and compute F^T F",
        ),
        (
            np.broadcast_to(np.einsum("bijc,bijd->cd", f, f) / (batch * positions), have.shape),
            "the same matrix for every image: the batch was mixed into the positions",
        ),
    ]
    return first_match(have, candidates, case.rtol, case.atol)


define(
    TOPIC,
    "gram_matrix",
    _gram_cases,
    numeric_compare(_explain_gram),
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


def _explain_variation(have: np.ndarray, case: Case) -> str | None:
    x = case.args[0].numpy().astype(np.float64)
    down = np.abs(x[:, 1:] - x[:, :-1]).sum(axis=(1, 2, 3))
    across = np.abs(x[:, :, 1:] - x[:, :, :-1]).sum(axis=(1, 2, 3))
    if have.shape == ():
        if np.isclose(have, (down + across).sum(), case.rtol, case.atol):
            return "summed over the batch: return one number per image, shape [B]"
        return "one number per image: the result has shape [B]"
    squared = ((x[:, 1:] - x[:, :-1]) ** 2).sum(axis=(1, 2, 3))
    squared += ((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum(axis=(1, 2, 3))
    rolled = np.abs(np.roll(x, -1, axis=1) - x).sum(axis=(1, 2, 3))
    rolled += np.abs(np.roll(x, -1, axis=2) - x).sum(axis=(1, 2, 3))
    means = np.abs(x[:, 1:] - x[:, :-1]).mean(axis=(1, 2, 3))
    means += np.abs(x[:, :, 1:] - x[:, :, :-1]).mean(axis=(1, 2, 3))
    candidates = [
        (down, "only the vertical differences: add the horizontal ones"),
        (across, "only the horizontal differences: add the vertical ones"),
        (squared, "squared differences: total variation sums their absolute values"),
        (rolled, "the differences wrap around the border (tf.roll?): use slices, no wrap"),
        (means, "averaged differences: total variation sums them"),
    ]
    return first_match(have, candidates, case.rtol, case.atol)


define(
    TOPIC,
    "total_variation",
    _variation_cases,
    numeric_compare(_explain_variation),
    title="The total variation of a batch of images",
)
