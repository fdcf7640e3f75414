"""Ops whose gradients stay finite at their singularities.

The pattern throughout is the "double where": the unsafe branch is evaluated on a harmless
stand-in value wherever it would blow up, so that neither the value nor the gradient of the
discarded branch is ever NaN or Inf.
"""

from __future__ import annotations

import tensorflow as tf


def _eps(dtype: tf.DType) -> float:
    return 1e-12 if dtype == tf.float64 else 1e-7


def norm(vector: tf.Tensor, axis: int = -1, keepdims: bool = True) -> tf.Tensor:
    """Euclidean norm with a zero (not NaN) gradient at the zero vector.

    Args:
        vector: `[A1, ..., An, D]` vectors.

    Returns:
        `[A1, ..., An, 1]` norms (`[A1, ..., An]` when ``keepdims`` is False).
    """
    squared = tf.reduce_sum(tf.square(vector), axis=axis, keepdims=keepdims)
    tiny = tf.constant(_eps(vector.dtype) ** 2, vector.dtype)
    nonzero = squared > tiny
    return tf.where(nonzero, tf.sqrt(tf.where(nonzero, squared, tf.ones_like(squared))), 0.0)


def normalize(vector: tf.Tensor, axis: int = -1) -> tf.Tensor:
    """Unit vectors along ``axis``; the zero vector maps to zero with a finite gradient.

    Args:
        vector: `[A1, ..., An, D]` vectors.

    Returns:
        `[A1, ..., An, D]` unit vectors (zero where the input is zero).
    """
    length = norm(vector, axis=axis)
    return vector / tf.where(length > 0, length, tf.ones_like(length))


def divide(numerator: tf.Tensor, denominator: tf.Tensor, eps: float | None = None) -> tf.Tensor:
    """``numerator / denominator`` with the denominator kept at least ``eps`` away from zero.

    The sign of the denominator is kept (zero counts as positive), so a point at ``z = 0`` maps
    to a large finite value instead of Inf.
    """
    eps = _eps(denominator.dtype) if eps is None else eps
    small = tf.abs(denominator) < eps
    sign = tf.where(denominator < 0, -tf.ones_like(denominator), tf.ones_like(denominator))
    return numerator / tf.where(small, sign * eps, denominator)


def acos(x: tf.Tensor) -> tf.Tensor:
    """``arccos`` with its argument clipped just inside [-1, 1] (finite gradient at +-1)."""
    limit = 1.0 - _eps(x.dtype)
    return tf.acos(tf.clip_by_value(x, -limit, limit))


def asin(x: tf.Tensor) -> tf.Tensor:
    """``arcsin`` with its argument clipped just inside [-1, 1] (finite gradient at +-1)."""
    limit = 1.0 - _eps(x.dtype)
    return tf.asin(tf.clip_by_value(x, -limit, limit))


def atan2(y: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """``atan2(y, x)`` that is 0 with a zero gradient at the origin (TensorFlow's is NaN there)."""
    origin = tf.logical_and(tf.equal(y, 0.0), tf.equal(x, 0.0))
    return tf.where(origin, tf.zeros_like(y), tf.atan2(y, tf.where(origin, tf.ones_like(x), x)))


def sqrt(x: tf.Tensor) -> tf.Tensor:
    """``sqrt(max(x, 0))`` with a zero (not Inf) gradient at zero."""
    positive = x > _eps(x.dtype) ** 2
    return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.ones_like(x))), 0.0)


def sinc(x: tf.Tensor) -> tf.Tensor:
    """``sin(x) / x``, 1 at zero, with its Taylor series near zero (smooth gradient there)."""
    small = tf.abs(x) < 1e-3
    safe_x = tf.where(small, tf.ones_like(x), x)
    x2 = tf.square(x)
    return tf.where(small, 1.0 - x2 / 6.0 + x2 * x2 / 120.0, tf.sin(safe_x) / safe_x)
