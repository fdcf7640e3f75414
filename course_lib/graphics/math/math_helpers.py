"""Small math shared across the graphics modules: spherical coordinates and factorials.

Spherical coordinates are ``[r, theta, phi]``: the radius, the polar angle ``theta`` in
``[0, pi]`` measured from +z, and the azimuth ``phi`` about +z measured from +x, so that
``(x, y, z) = r (sin t cos p, sin t sin p, cos t)`` (the convention of
:mod:`course_lib.graphics.math.spherical_harmonics`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.util import asserts, safe_ops, shape

__all__ = [
    "cartesian_to_spherical_coordinates",
    "double_factorial",
    "factorial",
    "spherical_to_cartesian_coordinates",
    "square_to_spherical_coordinates",
]


def cartesian_to_spherical_coordinates(
    point_cartesian: Any,
    eps: float | None = None,
    name: str = "cartesian_to_spherical_coordinates",
) -> tf.Tensor:
    """Spherical coordinates ``[r, theta, phi]`` of 3-D points.

    ``theta = atan2(sqrt(x^2 + y^2), z)`` (accurate near the poles, unlike ``acos(z / r)``) and
    ``phi = atan2(y, x)`` in ``[-pi, pi]``. On the z axis ``phi = 0``; at the origin
    ``[0, pi/2, 0]``. Values and gradients are finite everywhere (zero gradients where an angle
    is undefined).

    Args:
        point_cartesian: `[A1, ..., An, 3]` points ``[x, y, z]``.
        eps: accepted for TensorFlow Graphics compatibility (its denominator epsilon); the
            ``atan2`` form divides by nothing, so it is not used.

    Returns:
        `[A1, ..., An, 3]` coordinates ``[r, theta, phi]``.

    Raises:
        ValueError: if ``point_cartesian`` is not a floating tensor with last dimension 3.
    """
    del eps
    with tf.name_scope(name):
        (point,) = shape.checked(point_cartesian=(point_cartesian, 3))
        x, y, z = tf.unstack(point, axis=-1)
        radius = safe_ops.norm(point, keepdims=False)
        rho = safe_ops.norm(point[..., :2], keepdims=False)
        origin = tf.equal(radius, 0.0)
        theta = tf.where(origin, tf.constant(0.5 * math.pi, point.dtype), safe_ops.atan2(rho, z))
        phi = safe_ops.atan2(y, x)
        return tf.stack([radius, theta, phi], axis=-1)


def spherical_to_cartesian_coordinates(
    point_spherical: Any, name: str = "spherical_to_cartesian_coordinates"
) -> tf.Tensor:
    """3-D points ``r (sin t cos p, sin t sin p, cos t)`` of spherical coordinates.

    Any angles are accepted (they are periodic); a negative radius gives the antipodal point
    (``InvalidArgumentError`` instead when value checks are on, see
    :mod:`course_lib.graphics.util.asserts`).

    Args:
        point_spherical: `[A1, ..., An, 3]` coordinates ``[r, theta, phi]``.

    Returns:
        `[A1, ..., An, 3]` points ``[x, y, z]``.

    Raises:
        ValueError: if ``point_spherical`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (point,) = shape.checked(point_spherical=(point_spherical, 3))
        radius, theta, phi = tf.unstack(point, axis=-1)
        radius = asserts.assert_all_above(radius, 0.0, "the radius r")
        in_plane = radius * tf.sin(theta)
        return tf.stack(
            [in_plane * tf.cos(phi), in_plane * tf.sin(phi), radius * tf.cos(theta)], axis=-1
        )


def square_to_spherical_coordinates(
    point_2d: Any, name: str = "math_square_to_spherical_coordinates"
) -> tf.Tensor:
    """Maps the unit square onto the unit sphere, uniform to uniform (equal-area).

    ``(u, v)`` in ``[0, 1]^2`` goes to ``theta = 2 atan2(sqrt(u), sqrt(1 - u))`` (so
    ``cos(theta) = 1 - 2 u``, exactly 0 and pi at the ends) and ``phi = 2 pi v``: uniformly
    distributed ``(u, v)`` give uniformly distributed directions. ``u`` outside ``[0, 1]`` is
    clamped to it (``InvalidArgumentError`` instead when value checks are on, see
    :mod:`course_lib.graphics.util.asserts`); gradients are finite at ``u = 0`` and ``u = 1``.

    Args:
        point_2d: `[A1, ..., An, 2]` points ``[u, v]`` in ``[0, 1]``.

    Returns:
        `[A1, ..., An, 3]` coordinates ``[1, theta, phi]`` with ``theta`` in ``[0, pi]`` and
        ``phi`` in ``[0, 2 pi]``.

    Raises:
        ValueError: if ``point_2d`` is not a floating tensor with last dimension 2.
    """
    with tf.name_scope(name):
        (point,) = shape.checked(point_2d=(point_2d, 2))
        point = asserts.assert_all_in_range(point, 0.0, 1.0, "point_2d")
        u, v = tf.unstack(point, axis=-1)
        theta = 2.0 * safe_ops.atan2(safe_ops.sqrt(u), safe_ops.sqrt(1.0 - u))
        phi = 2.0 * math.pi * v
        return tf.stack([tf.ones_like(theta), theta, phi], axis=-1)


def _integers_or_floats(name: str, value: Any) -> tf.Tensor:
    """``value`` as an integer or floating tensor; Python ints become int64, floats float32."""
    if isinstance(value, (tf.Tensor, tf.Variable, np.ndarray, np.generic)):
        tensor = tf.convert_to_tensor(value)
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold integers or floats, got {array.dtype} values")
        tensor = tf.constant(array, tf.int64 if array.dtype.kind in "iu" else tf.float32)
    if not (tensor.dtype.is_integer or tensor.dtype.is_floating):
        raise ValueError(f"{name} must hold integers or floats, got {tensor.dtype.name}")
    return tensor


def double_factorial(n: Any, name: str = "double_factorial") -> tf.Tensor:
    """Double factorials ``n!! = n (n - 2) (n - 4) ...`` down to 1 or 2; 1 for ``n < 2``.

    (So ``0!! = (-1)!! = 1``, the values the spherical-harmonics recurrences need.)

    Args:
        n: `[A1, ..., An]` whole numbers, integer or floating (any shape).

    Returns:
        `[A1, ..., An]` double factorials, in the dtype of ``n`` (exact while representable).

    Raises:
        ValueError: if ``n`` is neither integer nor floating.
    """
    with tf.name_scope(name):
        n = _integers_or_floats("n", n)
        two = tf.constant(2, n.dtype)

        def body(k: tf.Tensor, product: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return k - two, tf.where(k >= two, product * k, product)

        def more(k: tf.Tensor, product: tf.Tensor) -> tf.Tensor:
            return tf.reduce_any(k >= two)

        _, product = tf.while_loop(more, body, [n, tf.ones_like(n)])
        return product


def factorial(n: Any, name: str = "factorial") -> tf.Tensor:
    """Factorials ``n! = Gamma(n + 1)``, differentiable in ``n`` (non-integers allowed).

    Evaluated as ``exp(lgamma(n + 1))`` in float64 and cast back, so whole numbers up to 10 come
    out exact in float32.

    Args:
        n: `[A1, ..., An]` floating values ``> -1`` (Python numbers become float32).

    Returns:
        `[A1, ..., An]` factorials, in the dtype of ``n``.

    Raises:
        ValueError: if ``n`` is an integer or non-numeric tensor.
    """
    with tf.name_scope(name):
        (n,) = shape.checked(n=(n, None))
        wide = tf.cast(n, tf.float64)
        return tf.cast(tf.exp(tf.math.lgamma(wide + 1.0)), n.dtype)
