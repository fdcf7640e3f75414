"""Exercises of the chapter "Feature visualization" (book/part3/01_feature_visualization).

- ``channel_objective(activations, n_channel)``: the mean of one channel of a layer's
  activations ``[B, H, W, C]`` over the batch and the image, a scalar (what
  ``course_lib.lucid.optvis.objectives.channel`` maximizes);
- ``jitter(images, d, offsets)``: the crop that ``course_lib.lucid.optvis.transform.jitter(d)``
  takes at random, made deterministic: with ``offsets = (dy, dx)``, integers in ``0..d``, it
  returns ``images[:, dy:dy + H - d, dx:dx + W - d, :]``, of shape ``[B, H - d, W - d, C]``.

Expected answers come from ``course_lib.lucid`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.grading.cases import first_match, numeric_compare, reference_cases
from course_lib.grading.exercise import Case, define
from course_lib.lucid.optvis import objectives, transform

TOPIC = "feature_visualization"


# --- channel_objective ------------------------------------------------------------------------

_CHANNEL_HINT = (
    "Channels are the last axis of [B, H, W, C]: take activations[..., n_channel] and average "
    "it over everything else, tf.reduce_mean(activations[..., n_channel])."
)


def channel_reference(activations: Any, n_channel: int) -> tf.Tensor:
    """The library's channel objective on ``activations`` as one layer, averaged over the batch."""
    activations = tf.convert_to_tensor(activations, tf.float32)
    value = objectives.channel("layer", n_channel)(lambda name: activations)
    return tf.reduce_mean(value)  # a scalar already, or one value per image: their mean


def _activations(rng: np.random.Generator, shape: tuple[int, ...], relu: bool) -> tf.Tensor:
    values = rng.normal(0.1, 1.0, size=shape).astype(np.float32)
    # each channel its own scale, so that a neighbouring channel or the layer mean differs
    values *= rng.uniform(0.5, 3.0, size=shape[-1]).astype(np.float32)
    return tf.constant(np.maximum(values, 0.0) if relu else values)


def _channel_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    # first: n_channel < H and a batch of 2, so that most mistakes give a number to recognize
    height, width = int(rng.integers(5, 8)), int(rng.integers(5, 8))
    channels = int(rng.integers(6, 10))
    settings.append(
        ((2, height, width, channels), int(rng.integers(1, 4)), True, "a batch of two, after ReLU")
    )
    settings.append(
        ((1, 4, 4, 8), int(rng.integers(1, 3)), True, "one image, as render_vis optimizes")
    )
    settings.append(
        (
            (3, int(rng.integers(3, 6)), int(rng.integers(6, 9)), 12),
            int(rng.integers(6, 12)),
            False,
            "three images, before ReLU (negative values too)",
        )
    )
    settings.append(((2, 6, 5, 5), 0, True, "the first channel"))
    settings.append(((1, 3, 3, 16), 15, False, "the last channel"))
    drawn = [
        (
            _activations(rng, shape, relu),
            n_channel,
            f"{description}: activations {list(shape)}, n_channel={n_channel}",
        )
        for shape, n_channel, relu, description in settings
    ]
    return reference_cases(drawn, channel_reference, hint=_CHANNEL_HINT, rtol=1e-4, atol=1e-5)


def _channel_mistakes(a: np.ndarray, n: int) -> list[tuple[Any, str]]:
    """Typical wrong answers on activations ``a`` [B, H, W, C] and what to say about them."""
    batch, height = a.shape[0], a.shape[1]
    candidates = [
        (a[..., n].max(), "the largest value: the objective is the channel's mean"),
        (a[..., n].sum(), "summed: take the mean, so that the image's size does not matter"),
        (a.mean(), "the mean of the whole layer (every channel): keep only channel n_channel"),
        (
            np.mean(a[..., n] ** 2),
            "the mean of squares (DeepDream's layer objective): the mean of the values",
        ),
        (a[..., n].mean(axis=(1, 2)), "one value per image: average over the batch too"),
        (a[..., n].mean(axis=(0, 1)), "averaged over the batch and rows only: also the columns"),
        (a[..., n].mean(axis=(0, 2)), "averaged over the batch and columns only: also the rows"),
    ]
    if batch > 1:
        candidates.append((a[0, ..., n].mean(), "only the first image: average over the batch"))
    if n < height:
        candidates.append(
            (
                a[:, n].mean(),
                "channels-first indexing (activations[:, n]) picks row n: TensorFlow's layers "
                "are channels-last, [B, H, W, C], so index the last axis",
            )
        )
    if n < batch:
        candidates.append((a[n].mean(), "indexed the batch axis: channels are the last axis"))
    if n + 1 < a.shape[-1]:
        candidates.append((a[..., n + 1].mean(), "the next channel: indices start at 0"))
    if n > 0:
        candidates.append((a[..., n - 1].mean(), "the previous channel: use n_channel as is"))
    candidates.append((a.mean(axis=-1).mean(), "averaged across channels: select one channel"))
    return candidates


def _explain_channel(have: np.ndarray, case: Case) -> str | None:
    activations, n_channel = case.args
    a = activations.numpy().astype(np.float64)
    explanation = first_match(have, _channel_mistakes(a, n_channel), case.rtol, case.atol)
    if explanation is None and have.shape != ():
        return "the objective is a single number, a scalar"
    return explanation


define(
    TOPIC,
    "channel_objective",
    _channel_cases,
    numeric_compare(_explain_channel),
    title="The channel objective: one channel's mean activation",
    references=[objectives.channel.__wrapped__],
)


# --- jitter -----------------------------------------------------------------------------------

_JITTER_HINT = (
    "Crop a window of (H - d) x (W - d) pixels whose top-left corner is (dy, dx), on the height "
    "and width axes only: images[:, dy:dy + H - d, dx:dx + W - d, :] with dy, dx = offsets."
)


def jitter_reference(images: Any, d: int, offsets: tuple[int, int]) -> tf.Tensor:
    """The crop ``transform.jitter(d)`` takes, at given ``(dy, dx)`` offsets."""
    return transform.jitter_with_offsets(images, d, offsets)


def _jitter_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    # first: height != width and dy != dx, both inside 1..d - 1, so that every mistake shows
    d = int(rng.integers(3, 5))
    dy, dx = (int(v) for v in rng.choice(np.arange(1, d), size=2, replace=False))
    settings.append(((2, 11, 13, 3), d, (dy, dx), "a batch of two"))
    d = int(rng.integers(2, 4))
    settings.append(((1, 9, 7, 3), d, (d, 0), "the largest row offset, column offset 0"))
    settings.append(((1, 8, 10, 3), 2, (0, 2), "row offset 0, the largest column offset"))
    d = int(rng.integers(4, 7))
    dy, dx = (int(v) for v in rng.choice(np.arange(d + 1), size=2, replace=False))
    settings.append(((3, 16, 12, 1), d, (dy, dx), "three one-channel images"))
    settings.append(((2, 6, 6, 3), 1, (1, 0), "the smallest jitter, d = 1"))
    drawn = [
        (
            tf.constant(rng.uniform(size=shape).astype(np.float32)),
            d,
            offsets,
            f"{description}: images {list(shape)}, d={d}, offsets={offsets}",
        )
        for shape, d, offsets, description in settings
    ]
    return reference_cases(drawn, jitter_reference, hint=_JITTER_HINT)


def _jitter_mistakes(x: np.ndarray, d: int, offsets: tuple[int, int]) -> list[tuple[Any, str]]:
    """Typical wrong answers on images ``x`` [B, H, W, C] and what to say about them."""
    dy, dx = offsets
    _, height, width, _ = x.shape
    candidates = [
        (
            x[:, dx : dx + height - d, dy : dy + width - d],
            "the offsets were swapped: offsets = (dy, dx), the row offset first",
        ),
        (
            x[:, d - dy : d - dy + height - d, d - dx : d - dx + width - d],
            "the crop was taken from the other corner: dy and dx count from the top-left",
        ),
        (x[:, : height - d, : width - d], "the offsets were ignored: start the crop at (dy, dx)"),
        (
            np.roll(x, (dy, dx), axis=(1, 2)),
            "rolled, not cropped: jitter returns a crop, d pixels smaller on each axis",
        ),
        (
            np.roll(x, (-dy, -dx), axis=(1, 2)),
            "rolled, not cropped: jitter returns a crop, d pixels smaller on each axis",
        ),
        (
            x[:, dy : dy + height - d - 1, dx : dx + width - d - 1],
            "one pixel too small: the crop is (H - d) x (W - d)",
        ),
        (
            x[:, dy : height - d, dx : width - d],
            "the crop ends at H - d: it is H - d pixels long from dy, so it ends at dy + H - d",
        ),
        (
            x[:, dy : dy + height - 2 * d, dx : dx + width - 2 * d],
            "d pixels cut from both sides: the crop is (H - d) x (W - d), not H - 2d",
        ),
        (
            x[dy : dy + x.shape[0] - d, dx : dx + height - d],
            "cropped the batch and height axes: the first axis is the batch, crop axes 1 and 2",
        ),
    ]
    return candidates


def _explain_jitter(have: np.ndarray, case: Case) -> str | None:
    images, d, offsets = case.args
    x = images.numpy().astype(np.float64)
    explanation = first_match(have, _jitter_mistakes(x, d, offsets), case.rtol, case.atol)
    want = np.shape(case.expected)
    if explanation is None and have.ndim == 4 and have.shape[1:3] != want[1:3]:
        return (
            f"the crop is {have.shape[1]}x{have.shape[2]}: it must be (H - d) x (W - d), "
            f"here {want[1]}x{want[2]}"
        )
    return explanation


define(
    TOPIC,
    "jitter",
    _jitter_cases,
    numeric_compare(_explain_jitter),
    title="Jitter: a crop at given offsets",
    references=[transform.jitter_with_offsets],
)
