"""Candidate (triangle, pixel) pairs, shared by the hard and the soft rasterizer.

Each drawn triangle proposes the pixels of its bounding box (grown by a margin). These pairs
are numbered box after box and enumerated in chunks of at most ``CHUNK`` inside a
``tf.while_loop``: one ragged range gives each pair its triangle and its place in the box, so
memory grows with one chunk, not with the number of pairs.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.util import safe_ops, shape

#: The most (triangle, pixel) candidate pairs handled at once.
CHUNK = 1 << 18


def flatten_batch(vertices, camera_a, camera_b):
    """Broadcasts the batch dimensions; returns ``[B, V, 3], [B, 2], [B, 2]`` and the batch."""
    batch = tf.broadcast_dynamic_shape(
        tf.broadcast_dynamic_shape(tf.shape(vertices)[:-2], tf.shape(camera_a)[:-1]),
        tf.shape(camera_b)[:-1],
    )
    vertices = shape.broadcast_and_flatten(vertices, batch, 2, [-1, 3])
    camera_a = shape.broadcast_and_flatten(camera_a, batch, 1, [2])
    camera_b = shape.broadcast_and_flatten(camera_b, batch, 1, [2])
    return vertices, camera_a, camera_b, batch


def project(vertices, camera_a, camera_b, perspective):
    """Pixels ``[B, V, 2]`` of ``[B, V, 3]`` vertices (perspective or orthographic)."""
    xy = vertices[..., :2]
    if perspective:
        xy = safe_ops.divide(xy, vertices[..., 2:])
    return camera_a[:, None, :] * xy + camera_b[:, None, :]


def boxes(corners, depths, height, width, near, margin, keep):
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


def chunk_pairs(start, count):
    """The pairs numbered ``start`` to ``start + CHUNK - 1`` (fewer at the end).

    Args:
        start: int64 scalar, the first pair's number.
        count: `[N]` int64 pairs per candidate (see :func:`boxes`).

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


def chunked(total, body, initial):
    """Runs ``body(start, state) -> state`` over pairs ``[0, total)`` in chunks of ``CHUNK``."""
    chunks = (total + CHUNK - 1) // CHUNK

    def step(k, state):
        return k + 1, body(k * CHUNK, state)

    def more(k, state):
        return k < chunks

    _, state = tf.while_loop(more, step, (tf.constant(0, tf.int64), initial))
    return state


def columns(rows):
    """The columns of `[..., K]` rows as K tensors `[...]` (transposed first: much faster)."""
    rank = rows.shape.rank
    return tf.unstack(tf.transpose(rows, [rank - 1, *range(rank - 1)]), axis=0)
