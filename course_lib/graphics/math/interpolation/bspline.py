"""Uniform B-splines of degree 0 to 4, open or cyclical.

A uniform B-spline of degree ``d`` with ``K`` knots (control points) ``k_0, ..., k_{K-1}`` is,
on each unit segment ``s`` of its parameter, a blend of ``d + 1`` consecutive knots:

    curve(s + u) = sum_{j=0}^{d} B_{d,j}(u) k_{s + j},    0 <= u < 1,

with the uniform basis polynomials ``B_{d,j}`` (non-negative, summing to 1). The position domain:

- not cyclical: segments ``s = 0, ..., K - d - 1``, positions in ``[0, K - d]``. Positions
  outside are clipped to it (the gradient there is zero); ``K - d`` itself is the end of the
  last segment (``u = 1``).
- cyclical: segments ``s = 0, ..., K - 1`` with knot indices taken modulo ``K`` (the curve closes
  on itself), positions in ``[0, K)``; any position is first taken modulo ``K``.

Degree 0 is piecewise constant, 1 piecewise linear, 3 the classic cubic B-spline.
"""

from __future__ import annotations

import enum
from typing import Any

import tensorflow as tf

from course_lib.graphics.util import shape

#: The highest supported degree.
MAX_DEGREE = 4


class Degree(enum.IntEnum):
    """Named degrees; any ``degree`` argument takes these or plain ints."""

    CONSTANT = 0
    LINEAR = 1
    QUADRATIC = 2
    CUBIC = 3
    QUARTIC = 4


def basis(u: tf.Tensor, degree: int) -> tf.Tensor:
    """The ``degree + 1`` uniform B-spline basis polynomials at local parameters ``u``.

    Args:
        u: `[A1, ..., An]` local parameters in [0, 1].
        degree: 0 to 4.

    Returns:
        `[A1, ..., An, degree + 1]` weights of the knots ``s, ..., s + degree`` of a segment.

    Raises:
        ValueError: if ``degree`` is not an integer in 0 to 4.
    """
    _check_degree(degree)
    v = 1.0 - u
    if degree == 0:
        weights = [tf.ones_like(u)]
    elif degree == 1:
        weights = [v, u]
    elif degree == 2:
        weights = [v * v / 2.0, (-2.0 * u * u + 2.0 * u + 1.0) / 2.0, u * u / 2.0]
    elif degree == 3:
        u2, u3 = u * u, u * u * u
        weights = [
            v * v * v / 6.0,
            (3.0 * u3 - 6.0 * u2 + 4.0) / 6.0,
            (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0) / 6.0,
            u3 / 6.0,
        ]
    else:
        u2, u3, u4 = u * u, u * u * u, u * u * u * u
        weights = [
            v * v * v * v / 24.0,
            (-4.0 * u4 + 12.0 * u3 - 6.0 * u2 - 12.0 * u + 11.0) / 24.0,
            (6.0 * u4 - 12.0 * u3 - 6.0 * u2 + 12.0 * u + 11.0) / 24.0,
            (-4.0 * u4 + 4.0 * u3 + 6.0 * u2 + 4.0 * u + 1.0) / 24.0,
            u4 / 24.0,
        ]
    return tf.stack(weights, axis=-1)


# TensorFlow Graphics' private names for the basis of each degree (its tests call them).
def _constant(u: tf.Tensor) -> tf.Tensor:
    return basis(u, 0)


def _linear(u: tf.Tensor) -> tf.Tensor:
    return basis(u, 1)


def _quadratic(u: tf.Tensor) -> tf.Tensor:
    return basis(u, 2)


def _cubic(u: tf.Tensor) -> tf.Tensor:
    return basis(u, 3)


def _quartic(u: tf.Tensor) -> tf.Tensor:
    return basis(u, 4)


def knot_weights(
    positions: Any,
    num_knots: int,
    degree: int,
    cyclical: bool,
    sparse_mode: bool = False,
    name: str = "bspline_knot_weights",
) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """The weight of every knot at each position of a uniform B-spline.

    Args:
        positions: `[A1, ..., An]` positions along the spline: in ``[0, num_knots - degree]``
            when not cyclical (clipped to it), in ``[0, num_knots)`` when cyclical (taken modulo
            ``num_knots``).
        num_knots: the number of knots ``K``; at least ``degree + 1``.
        degree: 0 to 4.
        cyclical: whether the spline closes on itself.
        sparse_mode: return only the ``degree + 1`` non-zero weights and where they start.

    Returns:
        `[A1, ..., An, num_knots]` weights (non-negative, summing to 1); or, in sparse mode, the
        pair of `[A1, ..., An, degree + 1]` weights of the knots ``shift, ..., shift + degree``
        (modulo ``num_knots`` when cyclical) and the `[A1, ..., An]` int32 ``shift``.

    Raises:
        ValueError: if ``degree`` is not an integer in 0 to 4, ``num_knots`` is smaller than
            ``degree + 1``, or ``positions`` is not floating.
    """
    with tf.name_scope(name):
        _check_degree(degree)
        if isinstance(num_knots, bool) or not isinstance(num_knots, int) or num_knots < 1:
            raise ValueError(f"num_knots must be a positive int, got {num_knots!r}")
        if num_knots < degree + 1:
            raise ValueError(
                f"num_knots must be at least degree + 1 = {degree + 1} for a degree-{degree} "
                f"B-spline, got {num_knots}. Degree cannot be >= number of knots."
            )
        (positions,) = shape.checked(positions=(positions, None))
        dtype = positions.dtype
        if cyclical:
            positions = tf.math.floormod(positions, tf.cast(num_knots, dtype))
            last_segment = num_knots - 1
        else:
            last_segment = num_knots - degree - 1
            positions = tf.clip_by_value(positions, 0.0, float(num_knots - degree))
        segment = tf.clip_by_value(tf.floor(positions), 0.0, float(last_segment))
        local = basis(positions - tf.stop_gradient(segment), degree)
        shift = tf.cast(segment, tf.int32)
        if sparse_mode:
            return local, shift
        indices = shift[..., tf.newaxis] + tf.range(degree + 1, dtype=tf.int32)
        if cyclical:
            indices = tf.math.floormod(indices, num_knots)
        one_hot = tf.one_hot(indices, num_knots, dtype=dtype)
        return tf.reduce_sum(local[..., tf.newaxis] * one_hot, axis=-2)


def interpolate_with_weights(
    knots: Any, weights: Any, name: str = "bspline_interpolate_with_weights"
) -> tf.Tensor:
    """Blends knots with knot weights: ``result[..., c] = sum_k weights[..., k] knots[..., c, k]``.

    Args:
        knots: `[A1, ..., An, C, K]` knots (``C`` channels, e.g. 2 for a planar curve, ``K``
            knots).
        weights: `[A1, ..., An, K]` knot weights, e.g. from :func:`knot_weights`.

    Returns:
        `[A1, ..., An, C]` interpolated values (batch dimensions broadcast).

    Raises:
        ValueError: if ``knots`` has fewer than 2 dimensions, ``weights``'s last dimension is not
            ``K``, the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        shape.check_same_last("knots", knots, "weights", weights)
        knots, weights = shape.checked(knots=(knots, (None, None)), weights=(weights, (None,)))
        return tf.reduce_sum(weights[..., tf.newaxis, :] * knots, axis=-1)


def interpolate(
    knots: Any,
    positions: Any,
    degree: int,
    cyclical: bool,
    name: str = "bspline_interpolate",
) -> tf.Tensor:
    """Evaluates a uniform B-spline at positions.

    Args:
        knots: `[A1, ..., An, C, K]` knots: ``C`` channels (e.g. 2 for a planar curve), ``K``
            knots. One curve ``[C, K]`` evaluated at positions ``[N]`` gives ``[N, C]``.
        positions: `[A1, ..., An]` positions, in ``[0, K - degree]`` when not cyclical (clipped),
            in ``[0, K)`` when cyclical (taken modulo ``K``); any floating dtype.
        degree: 0 to 4.
        cyclical: whether the curve closes on itself.

    Returns:
        `[A1, ..., An, C]` points on the curve (batch dimensions broadcast).

    Raises:
        ValueError: if ``degree`` is not in 0 to 4, ``knots`` has fewer than 2 dimensions or
            fewer than ``degree + 1`` knots (``num_knots``), the batch dimensions do not
            broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        (knots,) = shape.checked(knots=(knots, (None, None)))
        num_knots = knots.shape[-1]
        if num_knots is None:
            raise ValueError("knots must have a known number of knots (its last dimension)")
        positions = shape.to_float("positions", positions, _floating_dtype(positions))
        shape.check_broadcast(knots=knots.shape[:-2], positions=tuple(positions.shape))
        weights = knot_weights(positions, num_knots, degree, cyclical)
        return interpolate_with_weights(knots, tf.cast(weights, knots.dtype))


def _floating_dtype(value: Any) -> tf.DType:
    dtype = getattr(value, "dtype", None)
    if dtype is not None and tf.as_dtype(dtype).is_floating:
        return tf.as_dtype(dtype)
    return tf.float32


def _check_degree(degree: Any) -> None:
    if isinstance(degree, bool) or not isinstance(degree, int) or not 0 <= degree <= MAX_DEGREE:
        raise ValueError(
            f"degree must be an int in 0 to {MAX_DEGREE}, got {degree!r}. "
            f"Degree should be between 0 and {MAX_DEGREE}."
        )
