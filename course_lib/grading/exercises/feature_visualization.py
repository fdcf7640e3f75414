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

from course_lib.grading.cases import Mistake, other_shape, reference_cases, shapes
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


_CHANNEL_MISTAKES = {
    "the largest value: the objective is the channel's mean": lambda a, n: a[..., n].max(),
    "summed: take the mean, so that the image's size does not matter": (
        lambda a, n: a[..., n].sum()
    ),
    "the mean of the whole layer (every channel): keep only channel n_channel": (
        lambda a, n: a.mean()
    ),
    "the mean of squares (DeepDream's layer objective): the mean of the values": (
        lambda a, n: np.mean(a[..., n] ** 2)
    ),
    "one value per image: average over the batch too": lambda a, n: a[..., n].mean(axis=(1, 2)),
    "averaged over the batch and rows only: also the columns": (
        lambda a, n: a[..., n].mean(axis=(0, 1))
    ),
    "averaged over the batch and columns only: also the rows": (
        lambda a, n: a[..., n].mean(axis=(0, 2))
    ),
    "only the first image: average over the batch": (
        lambda a, n: a[0, ..., n].mean() if len(a) > 1 else None
    ),
    "channels-first indexing (activations[:, n]) picks row n: TensorFlow's layers are "
    "channels-last, [B, H, W, C], so index the last axis": (
        lambda a, n: a[:, n].mean() if n < a.shape[1] else None
    ),
    "indexed the batch axis: channels are the last axis": (
        lambda a, n: a[n].mean() if n < len(a) else None
    ),
    "the next channel: indices start at 0": (
        lambda a, n: a[..., n + 1].mean() if n + 1 < a.shape[-1] else None
    ),
    "the previous channel: use n_channel as is": (
        lambda a, n: a[..., n - 1].mean() if n > 0 else None
    ),
    "the objective is a single number, a scalar": Mistake(
        lambda a, n: a[..., n].mean(axis=(0, 1, 2), keepdims=True), match=other_shape
    ),
}


CHANNEL_OBJECTIVE = define(
    TOPIC,
    "channel_objective",
    _channel_cases,
    mistakes=_CHANNEL_MISTAKES,
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


def _crop(x: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    return x[:, top : top + height, left : left + width]


def _other_crop_size(have: np.ndarray, case: Case) -> bool:
    return have.ndim == 4 and have.shape[1:3] != np.shape(case.expected)[1:3]


# x: the images [B, H, W, C] (H = x.shape[1], W = x.shape[2]); (dy, dx): the offsets
_JITTER_MISTAKES = {
    "the offsets were swapped: offsets = (dy, dx), the row offset first": (
        lambda x, d, offsets: _crop(x, offsets[1], offsets[0], x.shape[1] - d, x.shape[2] - d)
    ),
    "the crop was taken from the other corner: dy and dx count from the top-left": (
        lambda x, d, offsets: _crop(
            x, d - offsets[0], d - offsets[1], x.shape[1] - d, x.shape[2] - d
        )
    ),
    "the offsets were ignored: start the crop at (dy, dx)": (
        lambda x, d, offsets: _crop(x, 0, 0, x.shape[1] - d, x.shape[2] - d)
    ),
    "rolled, not cropped: jitter returns a crop, d pixels smaller on each axis": Mistake(
        lambda x, d, offsets: np.roll(x, offsets, axis=(1, 2)),
        lambda x, d, offsets: np.roll(x, (-offsets[0], -offsets[1]), axis=(1, 2)),
    ),
    "one pixel too small: the crop is (H - d) x (W - d)": (
        lambda x, d, offsets: _crop(x, *offsets, x.shape[1] - d - 1, x.shape[2] - d - 1)
    ),
    "the crop ends at H - d: it is H - d pixels long from dy, so it ends at dy + H - d": (
        lambda x, d, offsets: x[:, offsets[0] : x.shape[1] - d, offsets[1] : x.shape[2] - d]
    ),
    "d pixels cut from both sides: the crop is (H - d) x (W - d), not H - 2d": (
        lambda x, d, offsets: _crop(x, *offsets, x.shape[1] - 2 * d, x.shape[2] - 2 * d)
    ),
    "cropped the batch and height axes: the first axis is the batch, crop axes 1 and 2": (
        lambda x, d, offsets: x[
            offsets[0] : offsets[0] + len(x) - d, offsets[1] : offsets[1] + x.shape[1] - d
        ]
    ),
    "the crop is {have[1]}x{have[2]}: it must be (H - d) x (W - d), here {want[1]}x{want[2]}": (
        Mistake(
            lambda x, d, offsets: x[:, offsets[0] :, offsets[1] :],
            match=_other_crop_size,
            fields=shapes,
        )
    ),
}


JITTER = define(
    TOPIC,
    "jitter",
    _jitter_cases,
    mistakes=_JITTER_MISTAKES,
    title="Jitter: a crop at given offsets",
    references=[transform.jitter_with_offsets],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (CHANNEL_OBJECTIVE, JITTER)
