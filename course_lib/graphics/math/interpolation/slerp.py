"""Spherical linear interpolation (slerp) of quaternions and of vectors.

Slerp moves from ``vector1`` to ``vector2`` along the great arc between them at constant angular
speed: with ``Omega`` the angle between the two and ``t`` the percent,

    slerp(v1, v2, t) = sin((1 - t) Omega) / sin(Omega) * v1 + sin(t Omega) / sin(Omega) * v2.

Two methods:

- ``InterpolationType.QUATERNION``: the inputs are normalized, and ``q2`` is replaced by ``-q2``
  when ``q1 . q2 < 0`` (both represent the same rotation), so the rotation takes the shorter
  path; ``Omega`` is then at most pi / 2 and the result is a unit quaternion.
- ``InterpolationType.VECTOR``: ``Omega`` is the angle between the directions of the two
  vectors, nothing is flipped, and the weights are applied to the vectors as given (for unit
  vectors, the result runs along the great circle through them).

Where ``sin(Omega) < eps`` (nearly parallel inputs, and for vectors also nearly opposite ones)
the weights fall back to those of linear interpolation, ``1 - t`` and ``t``, whose gradients are
finite.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.util import asserts, safe_ops, shape


class InterpolationType(enum.Enum):
    """Which slerp: between rotations (``QUATERNION``) or between directions (``VECTOR``)."""

    QUATERNION = 0
    VECTOR = 1


#: Below this ``sin(Omega)`` the weights are those of linear interpolation.
DEFAULT_EPS = 1e-4


def _percent_as_column(percent: Any) -> Any:
    """A scalar percent becomes ``[1]``, so that it broadcasts like a ``[A1, ..., An, 1]`` one."""
    if isinstance(percent, (tf.Tensor, tf.Variable)):
        return tf.reshape(percent, [1]) if percent.shape.rank == 0 else percent
    if isinstance(percent, (np.ndarray, np.generic)):
        return np.reshape(percent, [1]) if percent.ndim == 0 else percent
    return [percent] if np.ndim(percent) == 0 else percent


def _angle(unit1: tf.Tensor, unit2: tf.Tensor) -> tf.Tensor:
    """The angle in [0, pi] between unit vectors, accurate near 0 and pi (unlike acos of a dot).

    ``Omega = 2 atan2(|u1 - u2|, |u1 + u2|)``; both norms have finite gradients at zero.
    """
    return 2.0 * safe_ops.atan2(safe_ops.norm(unit1 - unit2), safe_ops.norm(unit1 + unit2))


def _weights(angle: tf.Tensor, percent: tf.Tensor, eps: float) -> tuple[tf.Tensor, tf.Tensor]:
    """``sin((1 - t) Omega) / sin(Omega)`` and ``sin(t Omega) / sin(Omega)``; where
    ``sin(Omega) < eps`` those of a linear blend.

    Nearly parallel inputs blend with ``t``. Nearly opposite ones lie on every great circle
    through both; the blend then uses ``s = (1 - cos(pi t)) / 2``, which gives the mean of all
    those arcs, ``cos(pi t) v1`` for unit ``v2 = -v1`` (TensorFlow Graphics' limit too).
    """
    sin_angle = tf.sin(angle)
    linear = sin_angle < eps
    opposite = tf.logical_and(linear, angle > 0.5 * np.pi)
    blend = tf.where(opposite, 0.5 - 0.5 * tf.cos(np.pi * percent), percent)
    safe_sin = tf.where(linear, tf.ones_like(sin_angle), sin_angle)
    weight1 = tf.where(linear, 1.0 - blend, tf.sin((1.0 - percent) * angle) / safe_sin)
    weight2 = tf.where(linear, blend, tf.sin(percent * angle) / safe_sin)
    return weight1, weight2


def quaternion_weights(
    quaternion1: Any,
    quaternion2: Any,
    percent: Any,
    eps: float = DEFAULT_EPS,
    flip: str = "quaternion2",
    name: str = "quaternion_weights",
) -> tuple[tf.Tensor, tf.Tensor]:
    """The two weights of quaternion slerp, for the normalized inputs.

    ``slerp = weight1 * normalize(q1) + weight2 * normalize(q2)``. When ``q1 . q2 < 0`` the
    second weight is negated, which is the same as interpolating towards ``-q2`` (the shorter
    path; the path starts exactly at ``q1``). With ``flip="quaternion1"`` the first weight is
    negated instead (interpolating from ``-q1`` to ``q2``, TensorFlow Graphics' convention):
    the same rotations, the opposite sign.

    Args:
        quaternion1: `[A1, ..., An, 4]` quaternions `[x, y, z, w]`; they need not be unit length,
            except when value checks are on (:mod:`course_lib.graphics.util.asserts`), which
            then require it as TensorFlow Graphics does.
        quaternion2: `[A1, ..., An, 4]` quaternions.
        percent: `[A1, ..., An, 1]` interpolation parameters (0 gives ``q1``, 1 gives ``q2``), or
            a scalar.
        eps: below this ``sin(Omega)`` the weights are ``1 - t`` and ``t``.
        flip: which input is negated when the two lie in opposite hemispheres:
            ``"quaternion2"`` (default) or ``"quaternion1"``.

    Returns:
        Two `[A1, ..., An, 1]` tensors, the weights of the normalized ``q1`` and ``q2``.

    Raises:
        ValueError: if a last dimension is not 4 (``quaternion1``, ``quaternion2``) or 1
            (``percent``), the batch dimensions do not broadcast, a dtype is not floating, or
            ``flip`` is neither ``"quaternion1"`` nor ``"quaternion2"``.
    """
    with tf.name_scope(name):
        _check_flip(flip)
        quaternion1, quaternion2, percent = shape.checked(
            quaternion1=(quaternion1, 4),
            quaternion2=(quaternion2, 4),
            percent=(_percent_as_column(percent), 1),
        )
        quaternion1 = asserts.assert_normalized(quaternion1, "quaternion1")
        quaternion2 = asserts.assert_normalized(quaternion2, "quaternion2")
        unit1 = safe_ops.normalize(quaternion1)
        unit2 = safe_ops.normalize(quaternion2)
        dot = tf.reduce_sum(unit1 * unit2, axis=-1, keepdims=True)
        sign = tf.where(dot < 0.0, -tf.ones_like(dot), tf.ones_like(dot))
        weight1, weight2 = _weights(_angle(unit1, sign * unit2), percent, eps)
        if flip == "quaternion1":
            return sign * weight1, weight2
        return weight1, sign * weight2


def vector_weights(
    vector1: Any,
    vector2: Any,
    percent: Any,
    eps: float = DEFAULT_EPS,
    name: str = "vector_weights",
) -> tuple[tf.Tensor, tf.Tensor]:
    """The two weights of vector slerp (great arc, no flipping).

    ``slerp = weight1 * v1 + weight2 * v2``, with ``Omega`` the angle between the directions of
    ``v1`` and ``v2``.

    Args:
        vector1: `[A1, ..., An, D]` vectors.
        vector2: `[A1, ..., An, D]` vectors.
        percent: `[A1, ..., An, 1]` interpolation parameters, or a scalar.
        eps: below this ``sin(Omega)`` the weights are ``1 - t`` and ``t`` (parallel vectors)
            or ``(1 + cos(pi t)) / 2`` and ``(1 - cos(pi t)) / 2`` (opposite vectors, which
            have no unique great arc: the mean of all of them).

    Returns:
        Two `[A1, ..., An, 1]` tensors, the weights of ``v1`` and ``v2``.

    Raises:
        ValueError: if the last dimensions of ``vector1`` and ``vector2`` differ, ``percent``'s is
            not 1, the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        vector1, vector2, percent = shape.checked(
            vector1=(vector1, (None,)),
            vector2=(vector2, (None,)),
            percent=(_percent_as_column(percent), 1),
        )
        shape.check_same_last("vector1", vector1, "vector2", vector2)
        angle = _angle(safe_ops.normalize(vector1), safe_ops.normalize(vector2))
        return _weights(angle, percent, eps)


def interpolate_with_weights(
    vector1: Any,
    vector2: Any,
    weight1: Any,
    weight2: Any,
    name: str = "interpolate_with_weights",
) -> tf.Tensor:
    """``weight1 * vector1 + weight2 * vector2``.

    Args:
        vector1: `[A1, ..., An, D]` vectors.
        vector2: `[A1, ..., An, D]` vectors.
        weight1: `[A1, ..., An, 1]` weights of ``vector1``.
        weight2: `[A1, ..., An, 1]` weights of ``vector2``.

    Returns:
        `[A1, ..., An, D]` weighted sums.

    Raises:
        ValueError: if the last dimensions differ (``vector2``) or are not 1 (``weight1``,
            ``weight2``), or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        vector1, vector2, weight1, weight2 = shape.checked(
            vector1=(vector1, (None,)),
            vector2=(vector2, (None,)),
            weight1=(weight1, 1),
            weight2=(weight2, 1),
        )
        shape.check_same_last("vector1", vector1, "vector2", vector2)
        return weight1 * vector1 + weight2 * vector2


def interpolate(
    vector1: Any,
    vector2: Any,
    percent: Any,
    method: InterpolationType = InterpolationType.QUATERNION,
    eps: float = DEFAULT_EPS,
    flip: str = "quaternion2",
    name: str = "slerp_interpolate",
) -> tf.Tensor:
    """Spherical linear interpolation between quaternions or vectors.

    Args:
        vector1: `[A1, ..., An, 4]` quaternions `[x, y, z, w]` (``QUATERNION``), or
            `[A1, ..., An, D]` vectors (``VECTOR``).
        vector2: the same shape as ``vector1``.
        percent: `[A1, ..., An, 1]` interpolation parameters (0 gives ``vector1``, 1 gives
            ``vector2``; values outside [0, 1] extrapolate along the arc), or a scalar.
        method: ``InterpolationType.QUATERNION`` (inputs normalized, shorter path, unit
            output) or ``InterpolationType.VECTOR`` (great arc, no flipping, inputs used as
            given).
        eps: below this ``sin(Omega)`` the interpolation is linear.
        flip: for quaternions in opposite hemispheres, which one is negated (see
            :func:`quaternion_weights`): ``"quaternion2"`` (default: the result runs from ``q1``
            to ``-q2``) or ``"quaternion1"`` (TensorFlow Graphics: from ``-q1`` to ``q2``, the
            same rotations with the opposite sign). Ignored for vectors.

    Returns:
        `[A1, ..., An, 4]` unit quaternions, or `[A1, ..., An, D]` vectors.

    Raises:
        ValueError: if ``method`` is not an ``InterpolationType``, a last dimension is wrong
            (``vector1``, ``vector2``: 4 for quaternions and equal for vectors; ``percent``: 1),
            the batch dimensions do not broadcast, a dtype is not floating, or ``flip`` is not
            one of its two values.
    """
    with tf.name_scope(name):
        if method == InterpolationType.QUATERNION:
            vector1, vector2, percent = shape.checked(
                vector1=(vector1, 4), vector2=(vector2, 4), percent=(_percent_as_column(percent), 1)
            )
            weight1, weight2 = quaternion_weights(vector1, vector2, percent, eps, flip)
            return weight1 * safe_ops.normalize(vector1) + weight2 * safe_ops.normalize(vector2)
        if method == InterpolationType.VECTOR:
            vector1, vector2, percent = shape.checked(
                vector1=(vector1, (None,)),
                vector2=(vector2, (None,)),
                percent=(_percent_as_column(percent), 1),
            )
            weight1, weight2 = vector_weights(vector1, vector2, percent, eps)
            return weight1 * vector1 + weight2 * vector2
        raise ValueError(
            f"method must be an InterpolationType, got {method!r}. "
            "Unknown interpolation type supplied."
        )


def _check_flip(flip: Any) -> None:
    if flip not in ("quaternion1", "quaternion2"):
        raise ValueError(f'flip must be "quaternion1" or "quaternion2", got {flip!r}')
