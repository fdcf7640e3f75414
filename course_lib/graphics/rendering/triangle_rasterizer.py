"""The hard rasterizer: depth, triangle index, barycentrics and mask of triangle meshes.

``rasterize`` (pinhole cameras) and ``rasterize_orthographic`` turn a triangle mesh in camera
coordinates into four images: the depth of the nearest surface, the index of the triangle seen,
its perspective-correct barycentric coordinates and a coverage mask.

Conventions. The camera sits at the origin and looks down +z, as in
:mod:`course_lib.graphics.rendering.camera.perspective`: a point ``[x, y, z]`` lands on pixel
``[fx x / z + cx, fy y / z + cy]``, x to the right and y *down*. Pixel ``(i, j)`` (row i,
column j) is sampled at its centre ``(x, y) = (j + 0.5, i + 0.5)``. A pixel is covered by a
triangle when its centre is inside the triangle's projection, edges included (pixels exactly
on an edge shared by two triangles are claimed by both; the z-test picks one, and between
equal depths the lower triangle index wins). Either winding is drawn unless
``cull_backfaces=True``, which drops triangles whose normal ``(v1 - v0) x (v2 - v0)`` points
away from the camera (faces counter-clockwise seen from outside, the convention of
``data.load_mesh``, are the front faces). Only triangles entirely in front of the near plane
(all three vertices at ``z > near``, default ``NEAR = 1e-3``) are drawn: there is no clipping,
so a triangle crossing the near plane or behind the camera is dropped whole. Zero-area
triangles are never drawn.

Gradients. *Which* triangle covers a pixel is a discrete choice with no gradient. Given that
choice, depth, barycentrics and everything ``interpolate`` computes from them are smooth
functions of the vertex positions (and of the attributes, focal and principal point), and their
gradients are exact. Moving a silhouette or an occlusion boundary changes which pixels are
covered, and that has no gradient here: mask and triangle index have none (``soft_silhouette``
gives gradients at silhouettes).

Speed and memory. Nothing loops over triangles or pixels in Python. Each drawn triangle
proposes the pixels of its bounding box; these (triangle, pixel) pairs are enumerated in chunks
(:mod:`._triangle_pairs`), tested with the edge functions, and the z-test is one segment minimum
per chunk over a 64-bit key (depth bits, then triangle index). This selection carries no
gradient and keeps only per-pixel state, so memory grows with the pixels plus one chunk, not
with the triangles. The differentiable part then recomputes, for the covered pixels only, the
barycentrics of the one selected triangle per pixel, from the same per-triangle coefficients as
the selection. Time grows with the number of pairs, i.e. the sum of the triangles' bounding-box
areas plus the number of triangles, plus the pixels.

Compilation. Called eagerly, both functions run as a ``tf.function`` with relaxed shapes (see
:mod:`._compile`); inside the caller's own ``tf.function`` they are plain graph code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.rendering import _triangle_pairs as pairs
from course_lib.graphics.rendering._compile import compile_for_eager
from course_lib.graphics.util import safe_ops, shape

#: Triangles are drawn only when all three vertices have camera z greater than this.
NEAR = 1e-3
#: Slack of the inside test, in barycentric units: pixel centres this close outside an edge
#: count as on it (so rounding never opens cracks between triangles that share an edge).
EDGE_TOLERANCE = 1e-5
#: ``soft_silhouette`` ignores a triangle beyond this many ``sigma`` outside it (where its
#: sigmoid is below 1e-4).
SOFT_CUTOFF = 9.2

_NO_HIT = np.iinfo(np.int64).max


class Rasterized(NamedTuple):
    """The output of :func:`rasterize`; ``[A1, ..., An]`` are the batch dimensions.

    Attributes:
        depth: `[A1, ..., An, H, W]` camera z of the nearest surface, 0 on the background.
        triangle_index: `[A1, ..., An, H, W]` int32 index of the triangle seen, -1 on the
            background.
        barycentrics: `[A1, ..., An, H, W, 3]` perspective-correct barycentric coordinates of
            the surface point within that triangle, 0 on the background.
        mask: `[A1, ..., An, H, W]` 1.0 where a triangle covers the pixel, else 0.0.
    """

    depth: tf.Tensor
    triangle_index: tf.Tensor
    barycentrics: tf.Tensor
    mask: tf.Tensor


def _triangle_table(corners, depths, perspective):
    """Per-triangle coefficients `[..., 12]` and doubled signed screen areas `[...]`.

    ``corners`` are `[..., 3, 2]` screen vertices and ``depths`` `[..., 3]` camera z.

    With ``a, b, c`` a triangle's screen vertices, ``u = b - a``, ``v = c - a`` and ``area = u x
    v``, a pixel centre ``a + q`` has the screen barycentrics ``(1 - s - t, s, t)`` with ``s =
    q_x v_y / area - q_y v_x / area`` and ``t = q_y u_x / area - q_x u_y / area``. Columns: ``a``
    (2), ``(v_y, v_x, u_x, u_y) / area`` (4), the depth plane ``(d_a, d_b - d_a, d_c - d_a)``
    (3) and ``(d_a, d_b, d_c)`` (3), where ``d`` is 1/z for a pinhole camera (linear on the
    screen) and z for an orthographic one. Zero-area triangles get zero coefficients.
    """
    a = corners[..., 0, :]
    u, v = corners[..., 1, :] - a, corners[..., 2, :] - a
    area = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    degenerate = tf.equal(area, 0.0)
    inverse_area = tf.where(
        degenerate, tf.zeros_like(area), 1.0 / tf.where(degenerate, tf.ones_like(area), area)
    )
    if perspective:
        depths = safe_ops.divide(tf.ones_like(depths), depths)
    coefficients = (
        tf.stack([v[..., 1], v[..., 0], u[..., 0], u[..., 1]], axis=-1) * inverse_area[..., None]
    )
    base = depths[..., :1]
    plane = [base, depths[..., 1:2] - base, depths[..., 2:] - base]
    return tf.concat([a, coefficients, *plane, depths], axis=-1), area


def _depth_key(depth, triangle):
    """int64 keys ordering (depth, triangle): depth's float32 bits, then the triangle index."""
    bits = tf.cast(tf.bitcast(tf.cast(depth, tf.float32), tf.int32), tf.int64)
    return tf.bitwise.left_shift(bits, 32) + tf.cast(triangle, tf.int64)


def _select(table, corners, depths, area, height, width, perspective, cull, near):
    """The int32 index `[B, H * W]` of the nearest triangle covering each pixel (-1: none).

    No gradient: ``table`` (:func:`_triangle_table`), ``corners`` and ``depths`` are constants
    here. Each chunk of (triangle, pixel) pairs is tested with the edge functions and the
    z-test is one segment minimum of 64-bit keys (depth, then triangle index) per pixel.
    Pixels are numbered in int32 (``B * H * W`` below 2**31: the keys alone would then take
    16 GiB).
    """
    dtype = table.dtype
    batch = tf.shape(table)[0]
    keep = tf.not_equal(area, 0.0)
    if cull:
        # Front faces (normal towards the camera) have a negative signed area on screen: the
        # image's y axis points down, so they appear clockwise on screen.
        keep = tf.logical_and(keep, area < 0.0)
    candidates, first, box_width, count, total = pairs.boxes(
        corners, depths, height, width, near, 0.0, keep
    )
    pixels = height * width
    # Per candidate: the centre of its first pixel, a, the barycentric coefficients, the plane;
    # its box width, its first pixel's number and its triangle. For float32, one gather per
    # pair fetches them all (the integers bitcast alongside the floats).
    geometry = tf.concat(
        [tf.cast(first, dtype) + 0.5, tf.gather_nd(table[..., :9], candidates)], axis=-1
    )  # [N, 11]
    integers = tf.stack(
        [
            box_width,
            candidates[:, 0] * pixels + first[:, 1] * width + first[:, 0],
            candidates[:, 1],
        ],
        axis=-1,
    )  # [N, 3]
    packed = tf.concat([geometry, tf.bitcast(integers, dtype)], -1) if dtype == tf.float32 else None
    tolerance = tf.constant(-EDGE_TOLERANCE, dtype)

    def body(start, best):
        candidate, local = pairs.chunk_pairs(start, count)
        # Padded to a multiple of 16 pairs (masked out below), so that the columns are aligned
        # and unstacking them copies nothing.
        n = tf.size(candidate)
        padding = [[0, (n + 15) // 16 * 16 - n]]
        candidate, local = tf.pad(candidate, padding), tf.pad(local, padding)
        valid = tf.range(tf.size(candidate)) < n
        if packed is not None:
            g = pairs.columns(tf.gather(packed, candidate))
            pair_width, pair_first, pair_triangle = (tf.bitcast(c, tf.int32) for c in g[11:])
        else:
            g = pairs.columns(tf.gather(geometry, candidate))
            pair_width, pair_first, pair_triangle = pairs.columns(tf.gather(integers, candidate))
        row = tf.truncatediv(local, pair_width)  # both non-negative: no floor needed
        column = local - row * pair_width
        qx = (tf.cast(column, dtype) + g[0]) - g[2]
        qy = (tf.cast(row, dtype) + g[1]) - g[3]
        s = qx * g[4] - qy * g[5]
        t = qy * g[6] - qx * g[7]
        hit = (s >= tolerance) & (t >= tolerance) & (1.0 - s - t >= tolerance)
        depth = g[8] + s * g[9] + t * g[10]
        if perspective:
            depth = 1.0 / depth
        key = tf.where(hit & (depth > 0.0) & valid, _depth_key(depth, pair_triangle), _NO_HIT)
        pixel = pair_first + row * width + column
        return tf.minimum(best, tf.math.unsorted_segment_min(key, pixel, batch * pixels))

    best = pairs.chunked(total, body, tf.fill([batch * pixels], tf.constant(_NO_HIT, tf.int64)))
    index = tf.cast(tf.bitwise.bitwise_and(best, 0xFFFFFFFF), tf.int32)
    return tf.where(best == _NO_HIT, -1, index)


#: The stand-in for triangles no pixel sees, in the differentiable part (finite gradients):
#: screen corners (0, 0), (1, 0), (0, 1), all at depth 1.
_PLAIN_TRIANGLE = (0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0)


def _rasterize_core(
    vertices, triangles, camera_a, camera_b, height, width, near, perspective, cull
):
    """:func:`rasterize` after the argument checks (``height``, ``width``: ints or tensors)."""
    vertices, camera_a, camera_b, batch = pairs.flatten_batch(vertices, camera_a, camera_b)
    dtype = vertices.dtype
    count = tf.shape(vertices)[0]
    num_triangles = tf.shape(triangles)[0]
    screen = pairs.project(vertices, camera_a, camera_b, perspective)
    corners = tf.gather(screen, triangles, axis=1)  # [B, F, 3, 2]
    depths = tf.gather(vertices[..., 2], triangles, axis=1)  # [B, F, 3]
    fixed_corners, fixed_depths = tf.stop_gradient(corners), tf.stop_gradient(depths)
    table, area = _triangle_table(fixed_corners, fixed_depths, perspective)
    index = _select(
        table, fixed_corners, fixed_depths, area, height, width, perspective, cull, near
    )
    index = tf.reshape(index, [count, -1])  # [B, P]

    # The differentiable part: the barycentrics of the selected triangle at each covered pixel
    # centre, from the same per-triangle coefficients (so the same numbers as the selection),
    # now with their gradient; scattered into images that are zero on the background.
    # Triangles that no pixel sees are replaced by a plain one first, so that no far-off or
    # degenerate triangle can put a NaN in the gradient.
    pixels = height * width
    covered = index >= 0  # [B, P]
    hits = tf.cast(tf.where(tf.reshape(covered, [-1]))[:, 0], tf.int32)  # [K]: b * P + pixel
    image = hits // pixels
    pixel = hits - image * pixels
    rows = image * num_triangles + tf.gather(tf.reshape(index, [-1]), hits)  # [K] into [B * F]
    seen = tf.math.unsorted_segment_max(tf.ones_like(rows), rows, count * num_triangles) > 0
    # Unseen triangles take the plain triangle's corners and depths (one gather, no broadcast).
    values = tf.concat([tf.reshape(corners, [-1, 6]), tf.reshape(depths, [-1, 3])], axis=-1)
    values = tf.gather(
        tf.concat([values, tf.constant([_PLAIN_TRIANGLE], dtype)], axis=0),
        tf.where(seen, tf.range(count * num_triangles), count * num_triangles),
    )  # [B * F, 9]
    table, _ = _triangle_table(tf.reshape(values[:, :6], [-1, 3, 2]), values[:, 6:], perspective)
    table = tf.concat([table[:, :6], table[:, 9:]], axis=-1)  # a, coefficients, depths
    ax, ay, sx, sy, tx, ty, da, db, dc = pairs.columns(tf.gather(table, rows))  # each [K]
    row = pixel // width
    qx = (tf.cast(pixel - row * width, dtype) + 0.5) - ax
    qy = (tf.cast(row, dtype) + 0.5) - ay
    s = qx * sx - qy * sy
    t = qy * tx - qx * ty
    r = 1.0 - s - t
    if perspective:
        # Perspective-correct weights: (b_i / z_i) / sum_j (b_j / z_j); that sum is 1 / depth.
        weighted = [r * da, s * db, t * dc]
        depth = safe_ops.divide(tf.ones_like(r), weighted[0] + weighted[1] + weighted[2])
        weights = [w * depth for w in weighted]
    else:
        weights = [r, s, t]
        depth = r * da + s * db + t * dc
    # Into the images: zeros everywhere, then the covered pixels' values (dynamic_stitch takes
    # the last value given for an index; faster here than a scatter).
    everywhere = tf.range(count * pixels)
    depth = tf.dynamic_stitch([everywhere, hits], [tf.zeros_like(everywhere, dtype), depth])
    weights = tf.dynamic_stitch(
        [everywhere, hits],
        [tf.zeros([count * pixels, 3], dtype), tf.transpose(tf.stack(weights))],
    )
    image_shape = tf.concat([batch, [height, width]], axis=0)
    return Rasterized(
        depth=tf.reshape(depth, image_shape),
        triangle_index=tf.reshape(index, image_shape),
        barycentrics=tf.reshape(weights, tf.concat([image_shape, [3]], 0)),
        mask=tf.reshape(tf.cast(covered, dtype), image_shape),
    )


_rasterize_compiled = compile_for_eager(_rasterize_core)


def _rasterize(vertices, triangles, camera, image_size, perspective, cull, near):
    """Checks the arguments and rasterizes (compiled when eager).

    ``camera`` names the two `[..., 2]` camera arguments and gives their values: focal and
    principal point (``perspective``) or scale and offset.
    """
    (name_a, camera_a), (name_b, camera_b) = camera.items()
    vertices, camera_a, camera_b = shape.checked(
        vertices=(vertices, (None, 3)), **{name_a: (camera_a, 2), name_b: (camera_b, 2)}
    )
    height, width = shape.image_size(image_size)
    triangles = mesh.check_triangles(triangles, vertices.shape[-2])
    cull = bool(cull)
    if tf.executing_eagerly():
        # Compiled: one graph per dtype, batch rank, camera and culling, whatever the sizes.
        # The mask is made here, from the integer index, so that it has no gradient at all
        # (None, as in a graph), rather than the zeros a compiled function's gradient gives.
        depth, triangle_index, barycentrics, _ = _rasterize_compiled(
            vertices,
            triangles,
            camera_a,
            camera_b,
            tf.constant(height),
            tf.constant(width),
            tf.constant(near, vertices.dtype),
            perspective,
            cull,
        )
        mask = tf.cast(triangle_index >= 0, vertices.dtype)
        return Rasterized(depth, triangle_index, barycentrics, mask)
    return _rasterize_core(
        vertices, triangles, camera_a, camera_b, height, width, near, perspective, cull
    )


def rasterize(
    vertices: tf.Tensor,
    triangles: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    image_size: Sequence[int],
    cull_backfaces: bool = False,
    near: float = NEAR,
    name: str = "rasterize",
) -> Rasterized:
    """Rasterizes triangle meshes seen by pinhole cameras: depth, triangle ids, barycentrics.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions in camera coordinates (looking down +z).
        triangles: `[F, 3]` int32 or int64 vertex indices, shared by the whole batch.
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        image_size: `(height, width)` in pixels, Python ints.
        cull_backfaces: if True, skip triangles whose normal ``(v1 - v0) x (v2 - v0)`` faces
            away from the camera (front faces are counter-clockwise seen from outside).
        near: triangles are drawn only if all their vertices have ``z > near``.

    Returns:
        A :class:`Rasterized` tuple: ``depth`` `[A1, ..., An, H, W]` (camera z, 0 on the
        background), ``triangle_index`` `[A1, ..., An, H, W]` int32 (-1 on the background),
        ``barycentrics`` `[A1, ..., An, H, W, 3]` (perspective-correct, 0 on the background) and
        ``mask`` `[A1, ..., An, H, W]` (1.0 covered, 0.0 not). Depth and barycentrics are
        differentiable with respect to vertices, focal and principal point for the visible
        triangles (the choice of triangle is not; see the module docstring). Empty meshes give
        an empty image.

    Raises:
        ValueError: if `vertices` is not `[..., V, 3]`, `focal` or `principal_point` not
            `[..., 2]`, the batch dimensions do not broadcast, a dtype is wrong (floating
            vertices and cameras, integer `triangles`), `triangles` is not `[F, 3]` or (when its
            values are known, e.g. eagerly) indexes a vertex outside `[0, V)`, or `image_size`
            is not two positive integers. Inside a ``tf.function`` with non-constant triangles,
            out-of-range indices raise ``tf.errors.InvalidArgumentError`` when run.
    """
    with tf.name_scope(name):
        camera = {"focal": focal, "principal_point": principal_point}
        return _rasterize(vertices, triangles, camera, image_size, True, cull_backfaces, near)


def rasterize_orthographic(
    vertices: tf.Tensor,
    triangles: tf.Tensor,
    scale: tf.Tensor,
    offset: tf.Tensor,
    image_size: Sequence[int],
    cull_backfaces: bool = False,
    near: float = NEAR,
    name: str = "rasterize_orthographic",
) -> Rasterized:
    """Rasterizes triangle meshes seen by orthographic cameras (parallel rays along +z).

    A point ``[x, y, z]`` lands on pixel ``scale * [x, y] + offset``; its depth is ``z``.
    Barycentrics are the screen-space ones (for a parallel projection they are also the 3-D
    ones). As for :func:`rasterize`, depth 0 marks the background, so only triangles with all
    vertices at ``z > near`` are drawn: place the camera in front of the scene.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions in camera coordinates.
        triangles: `[F, 3]` int32 or int64 vertex indices.
        scale: `[A1, ..., An, 2]` pixels per unit along x and y.
        offset: `[A1, ..., An, 2]` the pixel where the camera's z axis meets the image.
        image_size: `(height, width)` in pixels.
        cull_backfaces: if True, skip triangles whose normal has a positive z component.
        near: triangles are drawn only if all their vertices have ``z > near``.

    Returns:
        A :class:`Rasterized` tuple, as :func:`rasterize`.

    Raises:
        ValueError: as :func:`rasterize`, naming `scale` and `offset` for the camera.
    """
    with tf.name_scope(name):
        camera = {"scale": scale, "offset": offset}
        return _rasterize(vertices, triangles, camera, image_size, False, cull_backfaces, near)
