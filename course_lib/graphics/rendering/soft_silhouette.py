"""A soft, differentiable silhouette of triangle meshes (after SoftRas), for pinhole cameras.

Every triangle contributes a sigmoid of the signed distance from the pixel centre to its
projection, so the silhouette is a smooth function of the vertex positions and gradients flow at
silhouettes (and at occlusion boundaries of the outline), which is what fitting a pose or a
shape to a target outline needs. It gives coverage only, no depth order (``rasterize`` gives
depth, but no gradient at silhouettes).

Speed and memory. Pairs of a triangle and a pixel of its bounding box, grown by the cutoff, are
enumerated in chunks as by the hard rasterizer (:mod:`._triangle_pairs`; many more pairs than
it handles). The op is chunked in both directions: its gradient recomputes each chunk of pairs
rather than storing them, so its memory is one chunk plus per-pixel and per-vertex state.
Called eagerly, it runs compiled (see :mod:`._compile`).
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.rendering import _triangle_pairs as pairs
from course_lib.graphics.rendering import barycentric
from course_lib.graphics.rendering._compile import compile_for_eager
from course_lib.graphics.rendering.triangle_rasterizer import NEAR
from course_lib.graphics.util import safe_ops, shape

#: ``soft_silhouette`` ignores a triangle beyond this many ``sigma`` outside it (where its
#: sigmoid is below 1e-4).
SOFT_CUTOFF = 9.2


def _segment_distance_squared(p, a, b):
    """Squared distance `[P]` from points `[P, 2]` to segments ``a b``."""
    ab = b - a
    length = tf.reduce_sum(ab * ab, axis=-1, keepdims=True)
    t = tf.clip_by_value(
        safe_ops.divide(tf.reduce_sum((p - a) * ab, -1, keepdims=True), length), 0.0, 1.0
    )
    d = p - a - t * ab
    return tf.reduce_sum(d * d, axis=-1)


def soft_silhouette(
    vertices: tf.Tensor,
    triangles: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    image_size: Sequence[int],
    sigma: float = 1.0,
    near: float = NEAR,
    name: str = "soft_silhouette",
) -> tf.Tensor:
    """A soft, differentiable silhouette (SoftRas-style aggregation), for pinhole cameras.

    Each triangle ``j`` covers pixel ``p`` with probability ``D_j(p) = sigmoid(d_j(p) / sigma)``,
    where ``d_j(p)`` is the signed distance in pixels from the pixel centre to the triangle's
    projection (positive inside, negative outside); the silhouette is the probability that at
    least one triangle covers the pixel, ``1 - prod_j (1 - D_j(p))``. As ``sigma -> 0`` it
    becomes the hard mask. A triangle is ignored beyond ``SOFT_CUTOFF * sigma`` pixels outside
    it (where ``D_j < 1e-4``). Triangles are drawn as in :func:`rasterize` (all vertices at
    ``z > near``, either winding, zero-area ones skipped); depth order plays no part.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions in camera coordinates.
        triangles: `[F, 3]` integer vertex indices.
        focal: `[A1, ..., An, 2]` focal lengths in pixels.
        principal_point: `[A1, ..., An, 2]` principal points in pixels.
        image_size: `(height, width)`.
        sigma: the softness, in pixels (> 0).

    Returns:
        `[A1, ..., An, H, W]` soft silhouettes in [0, 1), differentiable with respect to the
        vertices and cameras, including at silhouettes.

    Raises:
        ValueError: as :func:`rasterize`, and if `sigma` is not positive and finite.
        TypeError: if `sigma` is not a number.
    """
    with tf.name_scope(name):
        sigma = checks.positive_float("sigma", checks.real("sigma", sigma))
        vertices, focal, principal_point = shape.checked(
            vertices=(vertices, (None, 3)), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        height, width = shape.image_size(image_size)
        triangles = mesh.check_triangles(triangles, vertices.shape[-2])
        if tf.executing_eagerly():
            return _soft_silhouette_compiled(
                vertices,
                triangles,
                focal,
                principal_point,
                tf.constant(height),
                tf.constant(width),
                tf.constant(sigma, vertices.dtype),
                tf.constant(near, vertices.dtype),
            )
        return _soft_silhouette_core(
            vertices, triangles, focal, principal_point, height, width, sigma, near
        )


def _soft_silhouette_core(vertices, triangles, focal, principal_point, height, width, sigma, near):
    """:func:`soft_silhouette` after the argument checks."""
    vertices, focal, principal_point, batch = pairs.flatten_batch(vertices, focal, principal_point)
    dtype = vertices.dtype
    count = tf.shape(vertices)[0]
    num_vertices = tf.shape(vertices)[1]
    screen = pairs.project(vertices, focal, principal_point, True)  # [B, V, 2]

    # Candidate pairs, without gradient: each drawn triangle's box grown by the cutoff.
    corners = tf.stop_gradient(tf.gather(screen, triangles, axis=1))
    u, v = corners[..., 1, :] - corners[..., 0, :], corners[..., 2, :] - corners[..., 0, :]
    keep = tf.not_equal(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0], 0.0)
    depths = tf.stop_gradient(tf.gather(vertices[..., 2], triangles, axis=1))
    candidates, first, box_width, pair_count, total = pairs.boxes(
        corners, depths, height, width, near, SOFT_CUTOFF * sigma, keep
    )
    segments = count * height * width
    # Per candidate: the screen-vertex ids of its corners, its first pixel, its box width.
    corner_ids = tf.gather(triangles, candidates[:, 1]) + candidates[:, :1] * num_vertices
    integers = tf.concat([corner_ids, first, box_width[:, None], candidates[:, :1]], axis=-1)

    def chunk_log_miss(start, flat_screen):
        """Pixel ids `[P]` and ``log(1 - D)`` `[P]` of a chunk of pairs from ``start``."""
        candidate, local = pairs.chunk_pairs(start, pair_count)
        ia, ib, ic, first_column, first_row, pair_width, image = pairs.columns(
            tf.gather(integers, candidate)
        )
        row_offset = local // pair_width
        column = first_column + local - row_offset * pair_width
        row = first_row + row_offset
        a, b, c = (tf.gather(flat_screen, i) for i in (ia, ib, ic))
        p = tf.stack([tf.cast(column, dtype), tf.cast(row, dtype)], axis=-1) + 0.5
        distance_squared = tf.minimum(
            tf.minimum(_segment_distance_squared(p, a, b), _segment_distance_squared(p, b, c)),
            _segment_distance_squared(p, c, a),
        )
        edge = barycentric.unchecked_edge_function
        edges = tf.concat([edge(b, c, p), edge(c, a, p), edge(a, b, p)], axis=-1)
        is_inside = tf.logical_or(tf.reduce_all(edges >= 0.0, -1), tf.reduce_all(edges <= 0.0, -1))
        distance = safe_ops.sqrt(distance_squared)
        signed = tf.where(is_inside, distance, -distance)
        pixel = (image * height + row) * width + column
        return pixel, tf.math.log_sigmoid(-signed / sigma)  # log(1 - D)

    # Chunked in both directions: the backward pass recomputes each chunk's pairs instead of
    # keeping them all, so memory stays at one chunk plus per-pixel and per-vertex state.
    @tf.custom_gradient
    def summed_log_miss(flat_screen):
        def add(start, accumulated):
            pixel, log_miss = chunk_log_miss(start, flat_screen)
            return accumulated + tf.math.unsorted_segment_sum(log_miss, pixel, segments)

        result = pairs.chunked(total, add, tf.zeros([segments], dtype))

        def grad(upstream):
            def add_grad(start, accumulated):
                with tf.GradientTape() as tape:
                    tape.watch(flat_screen)
                    pixel, log_miss = chunk_log_miss(start, flat_screen)
                    weighted = tf.reduce_sum(log_miss * tf.gather(upstream, pixel))
                chunk_grad = tape.gradient(weighted, flat_screen)
                return accumulated + tf.convert_to_tensor(chunk_grad)

            return pairs.chunked(total, add_grad, tf.zeros_like(flat_screen))

        return result, grad

    total_log_miss = summed_log_miss(tf.reshape(screen, [-1, 2]))
    silhouette = -tf.math.expm1(total_log_miss)
    return tf.reshape(silhouette, tf.concat([batch, [height, width]], 0))


_soft_silhouette_compiled = compile_for_eager(_soft_silhouette_core)
