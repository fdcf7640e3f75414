"""Weighted interpolation of point sets, and 2-D barycentric coordinates of pixels.

- :func:`interpolate` blends, for every output point, ``P`` points picked by index from a point
  set, with (by default normalized) weights.
- :func:`get_barycentric_coordinates` gives every pixel's barycentric weights with respect to
  a 2-D triangle (from :mod:`course_lib.graphics.rendering.barycentric`).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.rendering import barycentric
from course_lib.graphics.util import asserts, shape

__all__ = ["get_barycentric_coordinates", "interpolate"]


def interpolate(
    points: Any,
    weights: Any,
    indices: Any,
    normalize: bool = True,
    allow_negative_weights: bool = False,
    name: str = "weighted_interpolate",
) -> tf.Tensor:
    """Weighted sums of points picked by index: ``sum_p w_p points[indices_p]``.

    ``points`` is a grid of ``M``-dimensional points indexed by its first ``R - 1`` dimensions,
    as in ``tf.gather_nd``.

    Args:
        points: `[B1, ..., Bk, M]` points (rank ``R = k + 1 >= 2``).
        weights: `[A1, ..., An, P]` weights of the ``P`` points blended into each output.
        indices: `[A1, ..., An, P, k]` integer indices into the first ``k`` dimensions of
            ``points``; its batch dimensions must broadcast with those of ``weights``.
        normalize: divide the weights by their sum over ``P`` first (a zero sum gives zero
            weights).
        allow_negative_weights: when False and value checks are on
            (:mod:`course_lib.graphics.util.asserts`), negative weights raise
            ``InvalidArgumentError``; so does a zero sum with ``normalize``.

    Returns:
        `[A1, ..., An, M]` interpolated points.

    Raises:
        ValueError: if ``points`` has rank below 2, ``indices`` is not integer or its last
            dimension is not ``k``, the ``P`` of ``weights`` and ``indices`` differ, their batch
            dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        (points,) = shape.checked(points=(points, (None,)))
        weights = shape.to_float("weights", weights, points.dtype)
        shape.check_inner("weights", weights, (None,))
        if points.shape.rank is not None and points.shape.rank < 2:
            raise ValueError(f"points must have rank 2 or more, got shape {points.shape}")
        indices = tf.convert_to_tensor(indices)
        if not indices.dtype.is_integer:
            raise ValueError(f"indices must be an integer tensor, got {indices.dtype.name}")
        grid_rank = None if points.shape.rank is None else points.shape.rank - 1
        shape.check_inner("indices", indices, (weights.shape[-1], grid_rank))
        shape.check_broadcast(
            weights=shape.batch_shape(weights, (None,)),
            indices=shape.batch_shape(indices, (None, None)),
        )
        if not allow_negative_weights:
            weights = asserts.assert_all_above(weights, 0.0, "weights")
        if normalize:
            total = tf.reduce_sum(weights, axis=-1, keepdims=True)
            total = asserts.assert_nonzero(total, "the sum of the weights")
            weights = tf.where(
                tf.equal(total, 0.0), tf.zeros_like(weights), weights / _nonzero(total)
            )
        picked = tf.gather_nd(points, indices)  # [A1, ..., An, P, M]
        return tf.reduce_sum(weights[..., tf.newaxis] * picked, axis=-2)


def _nonzero(value: tf.Tensor) -> tf.Tensor:
    return tf.where(tf.equal(value, 0.0), tf.ones_like(value), value)


def get_barycentric_coordinates(
    triangle_vertices: Any,
    pixels: Any,
    name: str = "rasterizer_get_barycentric_coordinates",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Barycentric coordinates of pixels with respect to 2-D triangles, and the inside test.

    Args:
        triangle_vertices: `[A1, ..., An, 3, 2]` triangles, vertices ``[x, y]``.
        pixels: `[A1, ..., An, N, 2]` points ``[x, y]``.

    Returns:
        ``(coordinates, valid)``: `[A1, ..., An, N, 3]` weights of the three vertices (summing
        to 1; all zero for a zero-area triangle) and `[A1, ..., An, N]` booleans, True where the
        pixel lies in the triangle (edges included, either winding).

    Raises:
        ValueError: if ``triangle_vertices`` is not `[..., 3, 2]`, ``pixels`` not `[..., N, 2]`,
            the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        triangle, pixels = shape.checked(
            triangle_vertices=(triangle_vertices, (3, 2)), pixels=(pixels, (None, 2))
        )
        a, b, c = (triangle[..., tf.newaxis, k, :] for k in range(3))
        coordinates = barycentric.barycentric_2d(pixels, a, b, c)
        valid = barycentric.inside(pixels, a, b, c)[..., 0]
        return coordinates, valid
