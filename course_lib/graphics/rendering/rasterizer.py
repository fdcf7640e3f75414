"""A differentiable triangle rasterizer in pure TensorFlow (no compiled ops; CPU and GPU).

``rasterize`` turns a triangle mesh in camera coordinates into four images: the depth of the
nearest surface, the index of the triangle seen, its perspective-correct barycentric
coordinates and a coverage mask. ``interpolate`` turns per-vertex attributes (normals, colours,
UVs) into per-pixel ones and ``sample_texture`` looks up UV-mapped textures bilinearly.

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

Which gradients each mode gives:

- ``rasterize`` (hard mode): *which* triangle covers a pixel is a discrete choice with no
  gradient. Given that choice, depth, barycentrics and everything ``interpolate`` computes from
  them are smooth functions of the vertex positions (and of the attributes, focal and principal
  point), and their gradients are exact. Moving a silhouette or an occlusion boundary changes
  which pixels are covered, and that has no gradient here: mask and triangle index have none.
- ``soft_silhouette`` (soft mode, after SoftRas): every triangle contributes a sigmoid of the
  signed distance from the pixel centre to its projection, so the silhouette is a smooth
  function of the vertex positions and gradients flow at silhouettes (and at occlusion
  boundaries of the outline), which is what fitting a pose or a shape to a target outline needs.
  It gives coverage only, no depth order.

Speed and memory. Nothing loops over triangles or pixels in Python. Each drawn triangle
proposes the pixels of its bounding box; these (triangle, pixel) pairs are enumerated in chunks
of at most ``CHUNK`` pairs inside a ``tf.while_loop`` (one ragged range gives each pair its
triangle and its place in the box, and one gather fetches the triangle's coefficients), tested
with the edge functions, and the z-test is one segment minimum per chunk over a 64-bit key
(depth bits, then triangle index). This selection carries no gradient and keeps only per-pixel
state, so memory grows with the pixels plus one chunk, not with the triangles. The
differentiable part then recomputes, for the covered pixels only, the barycentrics of the one
selected triangle per pixel, from the same per-triangle coefficients as the selection. Time
grows with the number of pairs, i.e. the sum of the triangles' bounding-box areas plus the
number of triangles, plus the pixels. ``soft_silhouette`` enumerates pairs the same way (boxes
grown by its cutoff, so it handles many more pairs) and is chunked in both directions: its
gradient recomputes each chunk of pairs rather than storing them, so its memory too is one
chunk plus per-pixel and per-vertex state.

Compilation. Called eagerly, every public function here runs as a ``tf.function`` with relaxed
shapes (traced at most twice per dtype, batch rank and Python option, whatever the image and
mesh sizes), so an eager call costs about what a call inside a compiled function does; inside
the caller's own ``tf.function`` they are plain graph code. Gradients flow through both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.rendering import barycentric
from course_lib.graphics.util import safe_ops, shape

#: Triangles are drawn only when all three vertices have camera z greater than this.
NEAR = 1e-3
#: The most (triangle, pixel) candidate pairs handled at once.
CHUNK = 1 << 18
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


# --- argument checks ---------------------------------------------------------------------------


def _flatten_batch(vertices, camera_a, camera_b):
    """Broadcasts the batch dimensions; returns ``[B, V, 3], [B, 2], [B, 2]`` and the batch."""
    batch = tf.broadcast_dynamic_shape(
        tf.broadcast_dynamic_shape(tf.shape(vertices)[:-2], tf.shape(camera_a)[:-1]),
        tf.shape(camera_b)[:-1],
    )
    count = tf.reduce_prod(batch)
    num_vertices = tf.shape(vertices)[-2]
    vertices = tf.reshape(
        tf.broadcast_to(vertices, tf.concat([batch, [num_vertices, 3]], 0)), [count, -1, 3]
    )
    camera_a = tf.reshape(tf.broadcast_to(camera_a, tf.concat([batch, [2]], 0)), [count, 2])
    camera_b = tf.reshape(tf.broadcast_to(camera_b, tf.concat([batch, [2]], 0)), [count, 2])
    return vertices, camera_a, camera_b, batch


def _project(vertices, camera_a, camera_b, perspective):
    """Pixels ``[B, V, 2]`` of ``[B, V, 3]`` vertices (perspective or orthographic)."""
    xy = vertices[..., :2]
    if perspective:
        xy = safe_ops.divide(xy, vertices[..., 2:])
    return camera_a[:, None, :] * xy + camera_b[:, None, :]


# --- candidate (triangle, pixel) pairs ---------------------------------------------------------


def _boxes(corners, depths, height, width, near, margin, keep):
    """The pixel bounding boxes of the drawn triangles, numbered as (triangle, pixel) pairs.

    Args:
        corners: `[B, F, 3, 2]` screen vertices of the triangles.
        depths: `[B, F, 3]` camera z of their vertices.
        height, width: the image size (ints or int32 scalars).
        near: triangles are drawn only if all their vertices have ``z > near``.
        margin: pixels added around each box.
        keep: `[B, F]` bool, the triangles that may be drawn at all.

    Returns:
        ``candidates`` `[N, 2]` int32 (batch, triangle) of the triangles with a non-empty box;
        per candidate ``first`` `[N, 2]` int32 (first column, first row) and ``box_width`` `[N]`
        int32 and ``count`` `[N]` int64, its number of pairs (pixels in its box, at least one);
        and ``total``, the int64 number of pairs. Pairs are numbered box after box, row-major
        inside a box.
    """
    dtype = corners.dtype
    drawn = tf.logical_and(tf.reduce_all(depths > near, axis=-1), keep)
    drawn = tf.logical_and(drawn, tf.reduce_all(tf.math.is_finite(corners), axis=[-2, -1]))
    low = tf.reduce_min(corners, axis=-2) - margin  # [B, F, 2]
    high = tf.reduce_max(corners, axis=-2) + margin
    limit = tf.cast(tf.stack([width, height]), dtype)
    # Pixel centres k + 0.5 inside [low, high]: k from ceil(low - 0.5) to floor(high - 0.5).
    first = tf.math.ceil(tf.clip_by_value(low - 0.5, -1.0, limit))
    last = tf.math.floor(tf.clip_by_value(high - 0.5, -1.0, limit))
    first = tf.maximum(first, 0.0)
    last = tf.minimum(last, limit - 1.0)
    size = tf.maximum(last - first + 1.0, 0.0)
    count = tf.cast(size[..., 0], tf.int64) * tf.cast(size[..., 1], tf.int64)
    count = tf.where(drawn, count, tf.zeros_like(count))
    candidates = tf.cast(tf.where(count > 0), tf.int32)  # [N, 2]
    first = tf.cast(tf.gather_nd(first, candidates), tf.int32)
    box_width = tf.cast(tf.gather_nd(size[..., 0], candidates), tf.int32)
    count = tf.gather_nd(count, candidates)
    return candidates, first, box_width, count, tf.reduce_sum(count)


def _chunk_pairs(start, count):
    """The pairs numbered ``start`` to ``start + CHUNK - 1`` (fewer at the end).

    Args:
        start: int64 scalar, the first pair's number.
        count: `[N]` int64 pairs per candidate (see :func:`_boxes`).

    Returns:
        The candidate `[n]` int32 of each pair and its offset `[n]` int32 inside the box, both
        from one ragged range of ``candidate * 2**32 + offset`` (no search, no gather).
    """
    box_start = tf.cumsum(count, exclusive=True)
    low = tf.clip_by_value(start - box_start, 0, count)
    high = tf.clip_by_value(start + CHUNK - box_start, 0, count)
    tag = tf.bitwise.left_shift(tf.range(tf.size(count, out_type=tf.int64)), 32)
    values = tf.ragged.range(tag + low, tag + high, dtype=tf.int64).flat_values
    candidate = tf.cast(tf.bitwise.right_shift(values, 32), tf.int32)
    return candidate, tf.cast(tf.bitwise.bitwise_and(values, 0xFFFFFFFF), tf.int32)


def _chunked(total, body, initial):
    """Runs ``body(start, state) -> state`` over pairs ``[0, total)`` in chunks of ``CHUNK``."""
    chunks = (total + CHUNK - 1) // CHUNK

    def step(k, state):
        return k + 1, body(k * CHUNK, state)

    def more(k, state):
        return k < chunks

    _, state = tf.while_loop(more, step, (tf.constant(0, tf.int64), initial))
    return state


# --- the hard rasterizer -----------------------------------------------------------------------


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


def _columns(rows):
    """The columns of `[..., K]` rows as K tensors `[...]` (transposed first: much faster)."""
    rank = rows.shape.rank
    return tf.unstack(tf.transpose(rows, [rank - 1, *range(rank - 1)]), axis=0)


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
    candidates, first, box_width, count, total = _boxes(
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
        candidate, local = _chunk_pairs(start, count)
        # Padded to a multiple of 16 pairs (masked out below), so that the columns are aligned
        # and unstacking them copies nothing.
        n = tf.size(candidate)
        padding = [[0, (n + 15) // 16 * 16 - n]]
        candidate, local = tf.pad(candidate, padding), tf.pad(local, padding)
        valid = tf.range(tf.size(candidate)) < n
        if packed is not None:
            g = _columns(tf.gather(packed, candidate))
            pair_width, pair_first, pair_triangle = (tf.bitcast(c, tf.int32) for c in g[11:])
        else:
            g = _columns(tf.gather(geometry, candidate))
            pair_width, pair_first, pair_triangle = _columns(tf.gather(integers, candidate))
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

    best = _chunked(total, body, tf.fill([batch * pixels], tf.constant(_NO_HIT, tf.int64)))
    index = tf.cast(tf.bitwise.bitwise_and(best, 0xFFFFFFFF), tf.int32)
    return tf.where(best == _NO_HIT, -1, index)


#: The stand-in for triangles no pixel sees, in the differentiable part (finite gradients):
#: screen corners (0, 0), (1, 0), (0, 1), all at depth 1.
_PLAIN_TRIANGLE = (0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0)


def _rasterize_core(
    vertices, triangles, camera_a, camera_b, height, width, near, perspective, cull
):
    """:func:`rasterize` after the argument checks (``height``, ``width``: ints or tensors)."""
    vertices, camera_a, camera_b, batch = _flatten_batch(vertices, camera_a, camera_b)
    dtype = vertices.dtype
    count = tf.shape(vertices)[0]
    num_triangles = tf.shape(triangles)[0]
    screen = _project(vertices, camera_a, camera_b, perspective)
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
    ax, ay, sx, sy, tx, ty, da, db, dc = _columns(tf.gather(table, rows))  # each [K]
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


def _compile(function):
    """``function`` as a ``tf.function`` for eager calls: shapes relax after a second trace.

    A new dtype, batch rank or Python option still traces (at most twice each), which is
    expected here, so TensorFlow's "frequent retracing" warning is turned off for it.
    """
    compiled = tf.function(function, reduce_retracing=True, autograph=False)
    compiled._omit_frequent_tracing_warning = True  # noqa: SLF001 (TensorFlow has no public switch)
    return compiled


_rasterize_compiled = _compile(_rasterize_core)


def _rasterize(vertices, triangles, camera_a, camera_b, image_size, perspective, cull, near):
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
        vertices, focal, principal_point = shape.checked(
            vertices=(vertices, (None, 3)), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        return _rasterize(
            vertices, triangles, focal, principal_point, image_size, True, cull_backfaces, near
        )


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
        vertices, scale, offset = shape.checked(
            vertices=(vertices, (None, 3)), scale=(scale, 2), offset=(offset, 2)
        )
        return _rasterize(
            vertices, triangles, scale, offset, image_size, False, cull_backfaces, near
        )


# --- attributes and textures -------------------------------------------------------------------


def interpolate(
    attributes: tf.Tensor,
    triangles: tf.Tensor,
    rasterized: Rasterized,
    name: str = "rasterizer_interpolate",
) -> tf.Tensor:
    """Per-pixel attributes: the barycentric blend of the seen triangle's vertex attributes.

    Args:
        attributes: `[A1, ..., An, V, C]` per-vertex attributes (normals, colours, UVs...); the
            batch dimensions broadcast against the rasterized images' (e.g. `[V, C]` for
            attributes shared by the batch).
        triangles: `[F, 3]` the triangles given to :func:`rasterize`.
        rasterized: the :class:`Rasterized` output.

    Returns:
        `[A1, ..., An, H, W, C]` interpolated attributes, zero on the background;
        differentiable with respect to the attributes and, through the barycentrics, the
        vertices.

    Raises:
        ValueError: if `attributes` is not `[..., V, C]` floating, `triangles` is not `[F, 3]`
            integer or indexes outside `[0, V)`, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        barycentrics = tf.convert_to_tensor(rasterized.barycentrics)
        (attributes,) = shape.checked(attributes=(attributes, (None, None)))
        if attributes.dtype != barycentrics.dtype:
            raise ValueError(
                f"attributes has dtype {attributes.dtype.name}, but the rasterized images are "
                f"{barycentrics.dtype.name}"
            )
        triangles = mesh.check_triangles(triangles, attributes.shape[-2])
        index = tf.convert_to_tensor(rasterized.triangle_index)
        if tf.executing_eagerly():
            return _interpolate_compiled(attributes, triangles, index, barycentrics)
        return _interpolate_core(attributes, triangles, index, barycentrics)


def _interpolate_core(attributes, triangles, index, barycentrics):
    """:func:`interpolate` after the argument checks."""
    image_batch = tf.shape(index)[:-2]
    batch = tf.broadcast_dynamic_shape(image_batch, tf.shape(attributes)[:-2])
    channels = tf.shape(attributes)[-1]
    num_vertices = tf.shape(attributes)[-2]
    count = tf.reduce_prod(batch)
    attributes = tf.reshape(
        tf.broadcast_to(attributes, tf.concat([batch, [num_vertices, channels]], 0)),
        [count, num_vertices, channels],
    )
    attributes = tf.concat([attributes, tf.zeros([count, 1, channels], attributes.dtype)], 1)
    height, width = tf.shape(index)[-2], tf.shape(index)[-1]
    index = tf.reshape(tf.broadcast_to(index, tf.concat([batch, [height, width]], 0)), [count, -1])
    barycentrics = tf.reshape(
        tf.broadcast_to(barycentrics, tf.concat([batch, [height, width, 3]], 0)),
        [count, -1, 3, 1],
    )
    padded = tf.concat([triangles, tf.fill([1, 3], num_vertices)], axis=0)
    corners = tf.gather(padded, tf.where(index >= 0, index, tf.shape(triangles)[0]))
    values = tf.gather(attributes, tf.reshape(corners, [count, -1]), batch_dims=1)
    values = tf.reshape(values, [count, -1, 3, channels])
    blended = tf.reduce_sum(barycentrics * values, axis=-2)
    return tf.reshape(blended, tf.concat([batch, [height, width, channels]], 0))


_interpolate_compiled = _compile(_interpolate_core)


def sample_texture(
    texture: tf.Tensor, uv: tf.Tensor, name: str = "rasterizer_sample_texture"
) -> tf.Tensor:
    """Bilinear texture lookup at UV coordinates.

    ``u`` runs along the texture's width and ``v`` along its height, both in [0, 1]:
    ``(u, v) = (0, 0)`` is the top-left corner of the top-left texel (row 0, column 0, as the
    image is stored), ``(1, 1)`` the bottom-right corner of the last texel, and texel
    ``(i, j)``'s centre is at ``((j + 0.5) / Wt, (i + 0.5) / Ht)``. Lookups outside the texel
    centres clamp to the edge (no wrapping).

    Args:
        texture: `[A1, ..., An, Ht, Wt, C]` textures.
        uv: `[A1, ..., An, H, W, 2]` texture coordinates (e.g. from :func:`interpolate`).

    Returns:
        `[A1, ..., An, H, W, C]` bilinearly interpolated texels; differentiable with respect to
        the texture and (inside the texture, away from texel centres' grid lines) the uv.

    Raises:
        ValueError: if `texture` has fewer than 3 dimensions, `uv`'s last dimension is not 2,
            a dtype is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        texture, uv = shape.checked(texture=(texture, (None, None, None)), uv=(uv, (None, None, 2)))
        if tf.executing_eagerly():
            return _sample_texture_compiled(texture, uv)
        return _sample_texture_core(texture, uv)


def _sample_texture_core(texture, uv):
    """:func:`sample_texture` after the argument checks."""
    batch = tf.broadcast_dynamic_shape(tf.shape(texture)[:-3], tf.shape(uv)[:-3])
    count = tf.reduce_prod(batch)
    tex_shape = tf.shape(texture)[-3:]
    uv_shape = tf.shape(uv)[-3:]
    texture = tf.reshape(
        tf.broadcast_to(texture, tf.concat([batch, tex_shape], 0)),
        tf.concat([[count], tex_shape], 0),
    )
    uv = tf.reshape(tf.broadcast_to(uv, tf.concat([batch, uv_shape], 0)), [count, -1, 2])
    tex_h, tex_w = tex_shape[0], tex_shape[1]
    size = tf.cast(tf.stack([tex_w, tex_h]), uv.dtype)
    position = uv * size - 0.5  # in texel-centre units: (x, y)
    position = tf.clip_by_value(position, 0.0, size - 1.0)
    low = tf.floor(position)
    frac = position - low
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, tf.stack([tex_w, tex_h]) - 1)
    flat = tf.reshape(texture, [count, tex_h * tex_w, -1])

    def texel(x, y):
        return tf.gather(flat, y * tex_w + x, batch_dims=1)

    fx, fy = frac[..., :1], frac[..., 1:]
    top = texel(low[..., 0], low[..., 1]) * (1.0 - fx) + texel(high[..., 0], low[..., 1]) * fx
    bottom = texel(low[..., 0], high[..., 1]) * (1.0 - fx) + texel(high[..., 0], high[..., 1]) * fx
    values = top * (1.0 - fy) + bottom * fy
    return tf.reshape(values, tf.concat([batch, uv_shape[:2], tex_shape[2:]], 0))


_sample_texture_compiled = _compile(_sample_texture_core)


# --- the soft rasterizer -----------------------------------------------------------------------


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
        ValueError: as :func:`rasterize`, and if `sigma` is not positive.
    """
    with tf.name_scope(name):
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number of pixels, got {sigma!r}")
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
    vertices, focal, principal_point, batch = _flatten_batch(vertices, focal, principal_point)
    dtype = vertices.dtype
    count = tf.shape(vertices)[0]
    num_vertices = tf.shape(vertices)[1]
    screen = _project(vertices, focal, principal_point, True)  # [B, V, 2]

    # Candidate pairs, without gradient: each drawn triangle's box grown by the cutoff.
    corners = tf.stop_gradient(tf.gather(screen, triangles, axis=1))
    u, v = corners[..., 1, :] - corners[..., 0, :], corners[..., 2, :] - corners[..., 0, :]
    keep = tf.not_equal(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0], 0.0)
    depths = tf.stop_gradient(tf.gather(vertices[..., 2], triangles, axis=1))
    candidates, first, box_width, pair_count, total = _boxes(
        corners, depths, height, width, near, SOFT_CUTOFF * sigma, keep
    )
    segments = count * height * width
    # Per candidate: the screen-vertex ids of its corners, its first pixel, its box width.
    corner_ids = tf.gather(triangles, candidates[:, 1]) + candidates[:, :1] * num_vertices
    integers = tf.concat([corner_ids, first, box_width[:, None], candidates[:, :1]], axis=-1)

    def chunk_log_miss(start, flat_screen):
        """Pixel ids `[P]` and ``log(1 - D)`` `[P]` of a chunk of pairs from ``start``."""
        candidate, local = _chunk_pairs(start, pair_count)
        ia, ib, ic, first_column, first_row, pair_width, image = _columns(
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
        edges = tf.concat(
            [barycentric._edge(b, c, p), barycentric._edge(c, a, p), barycentric._edge(a, b, p)],
            axis=-1,
        )
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

        result = _chunked(total, add, tf.zeros([segments], dtype))

        def grad(upstream):
            def add_grad(start, accumulated):
                with tf.GradientTape() as tape:
                    tape.watch(flat_screen)
                    pixel, log_miss = chunk_log_miss(start, flat_screen)
                    weighted = tf.reduce_sum(log_miss * tf.gather(upstream, pixel))
                chunk_grad = tape.gradient(weighted, flat_screen)
                return accumulated + tf.convert_to_tensor(chunk_grad)

            return _chunked(total, add_grad, tf.zeros_like(flat_screen))

        return result, grad

    total_log_miss = summed_log_miss(tf.reshape(screen, [-1, 2]))
    silhouette = -tf.math.expm1(total_log_miss)
    return tf.reshape(silhouette, tf.concat([batch, [height, width]], 0))


_soft_silhouette_compiled = _compile(_soft_silhouette_core)
