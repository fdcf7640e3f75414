"""Colour: decorrelated colour channels and the map to valid RGB values in [0, 1].

Natural images' RGB channels are strongly correlated (mostly brightness). Optimizing three
*decorrelated* channels and mixing them with the square root of the colour correlation matrix
gives gradient steps that change brightness and colour independently.
:data:`COLOR_CORRELATION_SVD_SQRT` is the widely published 3x3 square root (``U sqrt(S)`` of an
SVD) of ImageNet's colour correlation matrix; its columns are nearly orthogonal, the first one
(brightness) positive in all three channels.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

#: Square root of ImageNet's colour correlation matrix (rows R, G, B), a published constant.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
#: The largest column norm of :data:`COLOR_CORRELATION_SVD_SQRT`.
MAX_NORM_SVD_SQRT = float(np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))
#: :data:`COLOR_CORRELATION_SVD_SQRT` divided by its largest column norm (largest column: 1).
COLOR_CORRELATION_NORMALIZED = (COLOR_CORRELATION_SVD_SQRT / MAX_NORM_SVD_SQRT).astype(np.float32)


def linear_decorrelate_color(t: tf.Tensor) -> tf.Tensor:
    """Decorrelated channels ``[..., 3]`` -> RGB: ``COLOR_CORRELATION_NORMALIZED @ t``.

    Raises:
        ValueError: if the last dimension is not 3.
    """
    t = tf.convert_to_tensor(t, tf.float32)
    if t.shape[-1] != 3:
        raise ValueError(f"t must have 3 colour channels [..., 3], got shape {t.shape.as_list()}")
    return tf.linalg.matvec(tf.constant(COLOR_CORRELATION_NORMALIZED), t)


@tf.custom_gradient
def _clip_straight_through(x: tf.Tensor) -> tf.Tensor:
    """Clips to [0, 1]; the gradient passes unchanged (so clipped pixels can come back)."""

    def grad(upstream):
        return upstream

    return tf.clip_by_value(x, 0.0, 1.0), grad


def to_valid_rgb(t: tf.Tensor, decorrelate: bool = True, sigmoid: bool = True) -> tf.Tensor:
    """Unconstrained ``[..., 3]`` values -> RGB in [0, 1].

    Args:
        t: ``[..., 3]`` (extra channels beyond 3 are not allowed: split an alpha channel off
            first).
        decorrelate: treat ``t`` as decorrelated colour channels (:func:`linear_decorrelate_color`).
        sigmoid: squash with a sigmoid (0 -> 0.5); otherwise ``clip(t + 0.5, 0, 1)`` with a
            straight-through gradient.

    Raises:
        ValueError: if the last dimension is not 3.
    """
    t = tf.convert_to_tensor(t, tf.float32)
    if t.shape[-1] != 3:
        raise ValueError(f"t must have 3 colour channels [..., 3], got shape {t.shape.as_list()}")
    if decorrelate:
        t = linear_decorrelate_color(t)
    if sigmoid:
        return tf.sigmoid(t)
    return _clip_straight_through(t + 0.5)


__all__ = [
    "COLOR_CORRELATION_NORMALIZED",
    "COLOR_CORRELATION_SVD_SQRT",
    "MAX_NORM_SVD_SQRT",
    "linear_decorrelate_color",
    "to_valid_rgb",
]
