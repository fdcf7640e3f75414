"""Random image transformations applied at every optimization step ("transformation robustness").

A transform is a callable ``t(images) -> images`` on a batch ``[B, H, W, C]``; it may change
``H`` and ``W``. Randomness comes from TensorFlow's random ops (one draw per call, shared by the
whole batch), so a run is reproducible after ``tf.random.set_seed`` (``render_vis`` does it).
Optimizing an image that still excites the network after small random shifts, scalings and
rotations removes the high-frequency patterns that only work at one exact pixel alignment.

- :func:`pad`, :func:`jitter`, :func:`random_scale`, :func:`random_rotate`, :func:`compose`;
- :data:`standard_transforms`: Lucid's recipe (pad 12, jitter 8, scale ±10 %, rotate ±10°,
  jitter 4);
- :func:`jitter_with_offsets`: the deterministic crop behind :func:`jitter`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import tensorflow as tf

from course_lib import checks

Transform = Callable[[tf.Tensor], tf.Tensor]


def _non_negative_int(value, name: str) -> int:
    if not checks.is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def _choice(values: Sequence[float]) -> tf.Tensor:
    """One of ``values``, drawn uniformly."""
    table = tf.constant(list(values), tf.float32)
    index = tf.random.uniform([], 0, len(values), dtype=tf.int32)
    return tf.gather(table, index)


def pad(w: int, mode: str = "REFLECT", constant_value: float = 0.5) -> Transform:
    """Pads ``w`` pixels on every side (``"REFLECT"``, ``"SYMMETRIC"`` or ``"CONSTANT"``).

    ``[B, H, W, C] -> [B, H + 2w, W + 2w, C]``; ``constant_value`` fills in ``"CONSTANT"`` mode.
    """
    w = _non_negative_int(w, "w")
    mode = mode.upper()
    if mode not in ("REFLECT", "SYMMETRIC", "CONSTANT"):
        raise ValueError(f"mode must be REFLECT, SYMMETRIC or CONSTANT, got {mode!r}")

    def transform(images):
        paddings = [[0, 0], [w, w], [w, w], [0, 0]]
        if mode == "CONSTANT":
            return tf.pad(images, paddings, constant_values=constant_value)
        return tf.pad(images, paddings, mode=mode)

    return transform


def jitter_with_offsets(images: tf.Tensor, d: int, offsets) -> tf.Tensor:
    """The crop that :func:`jitter` makes, for given offsets (deterministic).

    Args:
        images: ``[B, H, W, C]`` with ``H, W > d``.
        d: the jitter size.
        offsets: ``[dy, dx]`` integers in ``[0, d]`` (row offset first).

    Returns:
        ``images[:, dy : dy + H - d, dx : dx + W - d, :]``, shape ``[B, H - d, W - d, C]``.
    """
    size = tf.shape(images)
    offsets = tf.convert_to_tensor(offsets, tf.int32)
    return tf.slice(
        images,
        tf.stack([0, offsets[0], offsets[1], 0]),
        tf.stack([size[0], size[1] - d, size[2] - d, size[3]]),
    )


def jitter(d: int) -> Transform:
    """Random crop: ``[B, H, W, C] -> [B, H - d, W - d, C]`` at offsets drawn in ``[0, d]``.

    The image moves by up to ``d`` pixels in each direction (see :func:`jitter_with_offsets`).
    """
    d = _non_negative_int(d, "d")

    def transform(images):
        if d == 0:
            return images
        offsets = tf.random.uniform([2], 0, d + 1, dtype=tf.int32)
        return jitter_with_offsets(images, d, offsets)

    return transform


def random_scale(scales: Sequence[float]) -> Transform:
    """Resizes (bilinear) by a factor drawn from ``scales``: ``H -> round(s * H)``."""
    scales = [float(s) for s in scales]
    if not scales or min(scales) <= 0:
        raise ValueError(f"scales must be a non-empty list of positive numbers, got {scales!r}")

    def transform(images):
        scale = _choice(scales)
        size = tf.cast(tf.shape(images)[1:3], tf.float32)
        new_size = tf.cast(tf.round(size * scale), tf.int32)
        return tf.image.resize(images, new_size, method="bilinear")

    return transform


def rotate(images: tf.Tensor, angle: tf.Tensor) -> tf.Tensor:
    """Rotates ``[B, H, W, C]`` images by ``angle`` radians about their centre (bilinear).

    Pixels that come from outside the image are filled by reflection.
    """
    images = tf.convert_to_tensor(images)
    size = tf.cast(tf.shape(images)[1:3], tf.float32)
    cy, cx = (size[0] - 1.0) / 2.0, (size[1] - 1.0) / 2.0
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Output pixel (x, y) reads input pixel (cos*(x-cx) + sin*(y-cy) + cx, -sin*(x-cx) + ...).
    matrix = tf.stack(
        [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy, 0.0, 0.0]
    )
    matrix = tf.tile(matrix[None], [tf.shape(images)[0], 1])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=matrix,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def random_rotate(angles: Sequence[float], units: str = "degrees") -> Transform:
    """Rotates by an angle drawn from ``angles`` (``units``: ``"degrees"`` or ``"radians"``)."""
    if units not in ("degrees", "radians"):
        raise ValueError(f"units must be 'degrees' or 'radians', got {units!r}")
    angles = [float(a) for a in angles]
    if not angles:
        raise ValueError("angles must not be empty")
    if units == "degrees":
        angles = [math.radians(a) for a in angles]

    def transform(images):
        return rotate(images, _choice(angles))

    return transform


def compose(transforms: Sequence[Transform]) -> Transform:
    """The transforms applied in order, as one transform."""
    transforms = list(transforms)

    def transform(images):
        for t in transforms:
            images = t(images)
        return images

    return transform


#: Lucid's standard recipe: grey padding, jitter, scale 0.9..1.1, rotation -10..10°, jitter.
standard_transforms: list[Transform] = [
    pad(12, mode="CONSTANT", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
]

__all__ = [
    "Transform",
    "compose",
    "jitter",
    "jitter_with_offsets",
    "pad",
    "random_rotate",
    "random_scale",
    "rotate",
    "standard_transforms",
]
