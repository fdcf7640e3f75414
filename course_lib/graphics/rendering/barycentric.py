"""Screen-space triangle geometry: edge functions, barycentric coordinates, the inside test.

Points are pixels ``[x, y]`` with x to the right and y *down* (image rows grow downwards).

The edge function of a directed edge ``a -> b`` and a point ``p`` is the z-component of the
cross product ``(b - a) x (p - a)``: twice the signed area of the triangle ``(a, b, p)``. Its
sign says on which side of the edge ``p`` lies. The numbers are those of the usual
mathematical convention (positive when ``(a, b, p)`` turn counter-clockwise in a frame with y
*up*); because pixel rows grow downwards, on the screen a positive value means that ``(a, b,
p)`` turn *clockwise* as you look at the image, i.e. ``p`` lies to the right of ``a -> b`` as
drawn. Nothing in this module depends on the winding: either orientation counts as inside.

For a triangle ``(a, b, c)`` with ``area = edge_function(a, b, c)``, the barycentric weights of
``p`` are ``edge_function(b, c, p) / area``, ``edge_function(c, a, p) / area`` and
``edge_function(a, b, p) / area``; they sum to 1 and ``p = w_a a + w_b b + w_c c``.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.util import safe_ops, shape


def unchecked_edge_function(a: tf.Tensor, b: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
    """:func:`edge_function` without the argument checks, for code that checked them already.

    Used inside the rasterizers' loops, where the points come from tensors already checked
    (and a name scope and a conversion per call would only add graph nodes).

    Args:
        a: `[A1, ..., An, 2]` floating start points of the edges, in pixels.
        b: `[A1, ..., An, 2]` end points of the edges, same dtype.
        p: `[A1, ..., An, 2]` query points, same dtype.

    Returns:
        `[A1, ..., An, 1]` ``(bx - ax) (py - ay) - (by - ay) (px - ax)``, as
        :func:`edge_function`.
    """
    return (b[..., :1] - a[..., :1]) * (p[..., 1:] - a[..., 1:]) - (b[..., 1:] - a[..., 1:]) * (
        p[..., :1] - a[..., :1]
    )


def edge_function(
    a: tf.Tensor, b: tf.Tensor, p: tf.Tensor, name: str = "barycentric_edge_function"
) -> tf.Tensor:
    """Twice the signed area of the triangle ``(a, b, p)``: ``(b - a) x (p - a)``, z-component.

    Args:
        a: `[A1, ..., An, 2]` start points of the edges, in pixels.
        b: `[A1, ..., An, 2]` end points of the edges.
        p: `[A1, ..., An, 2]` query points.

    Returns:
        `[A1, ..., An, 1]` values ``(bx - ax) (py - ay) - (by - ay) (px - ax)``: zero on the line
        through ``a`` and ``b``, positive on one side and negative on the other (see the module
        docstring for what the sign means on screen).

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        a, b, p = shape.checked(a=(a, 2), b=(b, 2), p=(p, 2))
        return unchecked_edge_function(a, b, p)


def _checked_weights(point, a, b, c):
    """Edge functions `[..., 3]` (opposite a, b, c) and the doubled area `[..., 1]`, checked."""
    point, a, b, c = shape.checked(point=(point, 2), a=(a, 2), b=(b, 2), c=(c, 2))
    edges = [
        unchecked_edge_function(b, c, point),
        unchecked_edge_function(c, a, point),
        unchecked_edge_function(a, b, point),
    ]
    area = unchecked_edge_function(a, b, c)
    common = tf.shape(edges[0])
    for value in edges[1:] + [area]:
        common = tf.broadcast_dynamic_shape(common, tf.shape(value))
    w = tf.concat([tf.broadcast_to(e, common) for e in edges], axis=-1)
    return w, area


def barycentric_2d(
    point: tf.Tensor,
    a: tf.Tensor,
    b: tf.Tensor,
    c: tf.Tensor,
    name: str = "barycentric_2d",
) -> tf.Tensor:
    """Screen-space barycentric coordinates of points with respect to triangles.

    Args:
        point: `[A1, ..., An, 2]` query points, in pixels.
        a: `[A1, ..., An, 2]` first vertices of the triangles.
        b: `[A1, ..., An, 2]` second vertices.
        c: `[A1, ..., An, 2]` third vertices.

    Returns:
        `[A1, ..., An, 3]` weights ``(w_a, w_b, w_c)`` with ``w_a + w_b + w_c = 1`` and
        ``point = w_a a + w_b b + w_c c``; all three lie in [0, 1] exactly when the point is in
        the triangle. Either winding works. For a zero-area triangle (collinear or repeated
        vertices) the weights are all zero, with zero gradients: no NaN, no Inf.

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        w, area = _checked_weights(point, a, b, c)
        degenerate = tf.equal(area, 0.0)
        safe_area = tf.where(degenerate, tf.ones_like(area), area)
        return tf.where(degenerate, tf.zeros_like(w), w / safe_area)


def inside(
    point: tf.Tensor,
    a: tf.Tensor,
    b: tf.Tensor,
    c: tf.Tensor,
    name: str = "barycentric_inside",
) -> tf.Tensor:
    """Whether points lie in triangles (the edge-function test), for either winding.

    A point is inside when its three edge functions ``edge(b, c, p)``, ``edge(c, a, p)``,
    ``edge(a, b, p)`` are all ``>= 0`` or all ``<= 0``. Ties count as inside: a point exactly on
    an edge or a vertex is inside (so a pixel centre on an edge shared by two triangles is
    inside both; the rasterizer's z-test then picks one). A zero-area triangle contains no
    point.

    Args:
        point: `[A1, ..., An, 2]` query points, in pixels.
        a: `[A1, ..., An, 2]` first vertices of the triangles.
        b: `[A1, ..., An, 2]` second vertices.
        c: `[A1, ..., An, 2]` third vertices.

    Returns:
        `[A1, ..., An, 1]` booleans.

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        w, area = _checked_weights(point, a, b, c)
        all_nonnegative = tf.reduce_all(w >= 0.0, axis=-1, keepdims=True)
        all_nonpositive = tf.reduce_all(w <= 0.0, axis=-1, keepdims=True)
        return tf.logical_and(
            tf.logical_or(all_nonnegative, all_nonpositive), tf.not_equal(area, 0.0)
        )


def perspective_correct(
    barycentrics_2d: tf.Tensor, z: tf.Tensor, name: str = "barycentric_perspective_correct"
) -> tf.Tensor:
    """Perspective-correct barycentrics from screen-space ones and the vertices' depths.

    Screen-space weights interpolate linearly on the image, not on the 3-D triangle; the weights
    of the 3-D point seen through the pixel are ``(b_i / z_i) / sum_j (b_j / z_j)``.

    Args:
        barycentrics_2d: `[A1, ..., An, 3]` screen-space barycentric coordinates.
        z: `[A1, ..., An, 3]` camera depths (z > 0) of the triangles' three vertices.

    Returns:
        `[A1, ..., An, 3]` perspective-correct barycentrics (summing to 1). Depths at or near
        zero are kept a small epsilon away from it, and an all-zero input (e.g. a zero-area
        triangle's) gives zeros; the result and its gradient stay finite.

    Raises:
        ValueError: if a last dimension is not 3, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        barycentrics_2d, z = shape.checked(barycentrics_2d=(barycentrics_2d, 3), z=(z, 3))
        weighted = safe_ops.divide(barycentrics_2d, z)
        return safe_ops.divide(weighted, tf.reduce_sum(weighted, axis=-1, keepdims=True))
