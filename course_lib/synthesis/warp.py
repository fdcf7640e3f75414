"""The differentiable inverse warp of analysis by synthesis (Cao, Kar, Häne, Malik, CVPR 2019).

Every target pixel ``(i, j)``, centred at ``(u, v) = (j + 0.5, i + 0.5)``, is lifted to the
camera point ``x = z K^-1 [u, v, 1]`` by its depth ``z`` (:func:`backproject`), moved by its
3D scene flow ``f`` (in the target camera's frame) and by the camera motion to the source
camera, ``x' = R (x + f) + t``, projected with ``K`` (:func:`course_lib.lsm.project_points`),
and the source image is sampled there bilinearly (the rasterizer's ``sample_texture``).
With the true depth, flow and motion, the warped source equals the target wherever the point is
seen in both frames; the mask marks the pixels whose point lands in front of the source camera
and inside its image.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.rendering._compile import compile_for_eager
from course_lib.graphics.rendering.texture_map import sample_texture
from course_lib.graphics.util import shape
from course_lib.lsm.unprojection import _check_intrinsics, project_points


def _pixel_centres(height: int, width: int, dtype: tf.DType) -> tf.Tensor:
    """`[H, W, 3]` homogeneous pixel centres ``[j + 0.5, i + 0.5, 1]``."""
    rows, cols = tf.meshgrid(
        tf.range(height, dtype=dtype) + 0.5, tf.range(width, dtype=dtype) + 0.5, indexing="ij"
    )
    return tf.stack([cols, rows, tf.ones_like(rows)], axis=-1)


def _check_rank(name: str, tensor: tf.Tensor, rank: int, layout: str) -> None:
    if tensor.shape.rank is not None and tensor.shape.rank != rank:
        raise ValueError(f"{name} must have shape {layout}, got {tuple(tensor.shape)}")


def backproject(depth: tf.Tensor, K: tf.Tensor, name: str = "synthesis_backproject") -> tf.Tensor:
    """Camera points of every pixel of depth maps: ``z K^-1 [j + 0.5, i + 0.5, 1]``.

    Args:
        depth: `[B, H, W]` camera z of each pixel.
        K: `[B, 3, 3]` (or `[3, 3]`) invertible intrinsic matrices.

    Returns:
        `[B, H, W, 3]` points in each camera's frame (z equals ``depth``).

    Raises:
        ValueError: naming the argument, for a depth not of rank 3, K not 3 x 3 or singular, or
            batch sizes that do not broadcast.
    """
    with tf.name_scope(name):
        (depth,) = shape.checked(depth=(depth, None))
        K = shape.to_float("K", K, depth.dtype)
        shape.check_inner("K", K, (3, 3))
        _check_depth_and_intrinsics(depth, K)
        return _backproject_core(depth, K)


def _check_depth_and_intrinsics(depth: tf.Tensor, K: tf.Tensor) -> None:
    _check_rank("depth", depth, 3, "[B, H, W]")
    if K.shape.rank is not None and K.shape.rank not in (2, 3):
        raise ValueError(f"K must have shape [B, 3, 3] or [3, 3], got {tuple(K.shape)}")
    _check_intrinsics(K)


def _backproject_core(depth: tf.Tensor, K: tf.Tensor) -> tf.Tensor:
    height, width = tf.shape(depth)[1], tf.shape(depth)[2]
    rays = tf.linalg.matmul(
        _pixel_centres(height, width, depth.dtype),
        tf.linalg.inv(K)[..., tf.newaxis, :, :],
        transpose_b=True,
    )  # [B or 1, H, W, 3], z = 1
    return rays * depth[..., tf.newaxis]


def inverse_warp(
    source: tf.Tensor,
    depth: tf.Tensor,
    K: tf.Tensor,
    R: tf.Tensor,
    t: tf.Tensor,
    flow: tf.Tensor | None = None,
    name: str = "synthesis_inverse_warp",
) -> tuple[tf.Tensor, tf.Tensor]:
    """The source image resampled into the target frame, and where that is valid.

    Args:
        source: `[B, H, W, C]` source images.
        depth: `[B, H, W]` the target frame's depth (camera z).
        K: `[B, 3, 3]` (or `[3, 3]`) intrinsics, the same for both frames.
        R: `[B, 3, 3]` rotation from the target camera's frame to the source camera's.
        t: `[B, 3]` translation: a target-frame point ``x`` is at ``R x + t`` in the source frame.
        flow: `[B, H, W, 3]` each target pixel's 3D motion in the target camera's frame before
            the camera motion; None: a static scene.

    Returns:
        ``(warped, mask)``: `[B, H, W, C]` the source sampled at each target pixel's projection
        (clamped to the border pixels) and `[B, H, W]` 1.0 where that projection is in front of
        the source camera and inside its image, else 0.0. Differentiable with respect to the
        source, the depth, the flow and the pose; finite everywhere, also for points at or
        behind the camera (masked).

    Raises:
        ValueError: naming the argument, for wrong ranks or inner dimensions, target sizes that
            differ between ``depth`` and ``flow``, a singular K, or batches that do not
            broadcast.
    """
    with tf.name_scope(name):
        (source,) = shape.checked(source=(source, None))
        _check_rank("source", source, 4, "[B, H, W, C]")
        K, R, t = (shape.to_float(n, v, source.dtype) for n, v in (("K", K), ("R", R), ("t", t)))
        K, R, t = shape.checked(K=(K, (3, 3)), R=(R, (3, 3)), t=(t, 3))
        depth = shape.to_float("depth", depth, source.dtype)
        _check_depth_and_intrinsics(depth, K)
        if flow is not None:
            flow = shape.to_float("flow", flow, depth.dtype)
            shape.check_inner("flow", flow, 3)
            _check_rank("flow", flow, 4, "[B, H, W, 3]")
            if not flow.shape[1:3].is_compatible_with(depth.shape[1:3]):
                raise ValueError(
                    f"flow must have the depth's height and width {tuple(depth.shape[1:3])}, "
                    f"got shape {tuple(flow.shape)}"
                )
        else:
            flow = tf.zeros([1, 1, 1, 3], depth.dtype)
        for arg, tensor, rank in (("R", R, 3), ("t", t, 2)):
            if tensor.shape.rank is not None and tensor.shape.rank not in (rank - 1, rank):
                raise ValueError(f"{arg} must have one batch dimension, got {tuple(tensor.shape)}")
        if tf.executing_eagerly():
            return _warp_compiled(source, depth, flow, K, R, t)
        return _warp_core(source, depth, flow, K, R, t)


def _warp_core(source, depth, flow, K, R, t):
    """``inverse_warp`` after its checks (``flow`` broadcasts against the points)."""
    points = _backproject_core(depth, K) + flow
    size = tf.shape(points)[1:3]
    flat = tf.reshape(points, [tf.shape(points)[0], -1, 3])  # [B, H*W, 3]
    pixels, z = project_points(flat, K, R, t)
    height = tf.cast(tf.shape(source)[1], pixels.dtype)
    width = tf.cast(tf.shape(source)[2], pixels.dtype)
    u, v = pixels[..., 0], pixels[..., 1]
    inside = (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    safe = tf.where(inside[..., tf.newaxis], pixels, tf.zeros_like(pixels))
    uv = safe / tf.stack([width, height])
    uv = tf.reshape(uv, tf.concat([tf.shape(uv)[:1], size, [2]], 0))
    warped = sample_texture(source, uv)
    mask = tf.reshape(tf.cast(inside, source.dtype), tf.concat([tf.shape(uv)[:1], size], 0))
    return warped, mask


_warp_compiled = compile_for_eager(_warp_core)
