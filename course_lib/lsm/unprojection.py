"""Unprojection: image features lifted into a voxel grid along camera rays (Kar et al., 2017).

The grid is a cube of side ``extent`` centred at the world origin, cut into ``R^3`` voxels;
``grid[i, j, k]`` has its centre at

    x = -extent/2 + (i + 0.5) extent / R,  y = ... (j + 0.5) ...,  z = ... (k + 0.5) ...

Cameras are pinholes looking down +z with image y down: a world point ``p`` goes to camera
coordinates ``q = R p + t`` and to the pixel ``[u, v] = (K q)[:2] / (K q)[2]`` with
``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``. Pixel (row i, column j) is sampled at its centre
``(u, v) = (j + 0.5, i + 0.5)``, as the course's rasterizer does, and covers
``[j, j + 1) x [i, i + 1)``.

:func:`unproject` projects every voxel centre into every view and samples that view's feature
map bilinearly between the four nearest pixel centres (the border pixels' values extend to the
image's edge); a voxel behind the camera or projecting outside the image gets zeros. The depth
of the voxel centre along the camera's axis (its camera z) can be appended as one more channel.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.data import shapes3d
from course_lib.graphics.util import safe_ops, shape

#: ``|det K|`` divided by the product of K's row norms (1 for a diagonal K) below this is singular.
_SINGULAR = 1e-9


def voxel_centres(resolution: int, extent: float = 1.0, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """The centres of an ``R^3`` grid of voxels spanning ``[-extent/2, extent/2]^3``.

    The grid of :func:`course_lib.data.shapes3d.voxel_centres` (the data's voxels) scaled by
    ``extent``.

    Args:
        resolution: R, the number of voxels along each axis.
        extent: the side of the cube.
        dtype: the floating dtype of the result.

    Returns:
        `[R, R, R, 3]` centres; ``[i, j, k]`` is ``-extent/2 + (([i, j, k]) + 0.5) extent / R``.
    """
    extent = checks.positive_float("extent", extent)
    return tf.constant(shapes3d.voxel_centres(resolution) * extent, dtype=dtype)


def _check_intrinsics(K: tf.Tensor) -> None:
    """``ValueError`` naming ``K`` if any matrix is singular (when K's value is known)."""
    value = tf.get_static_value(K)
    if value is None:  # a symbolic tensor inside tf.function: nothing to check here
        return
    value = np.asarray(value, dtype=np.float64).reshape(-1, 3, 3)
    if not np.all(np.isfinite(value)):
        raise ValueError("K must be finite intrinsic matrices [A1, ..., An, 3, 3]")
    rows = np.prod(np.linalg.norm(value, axis=-1), axis=-1)
    det = np.abs(np.linalg.det(value))
    singular = (rows == 0) | (det <= _SINGULAR * np.where(rows == 0, 1.0, rows))
    if np.any(singular):
        index = int(np.argmax(singular))
        raise ValueError(
            f"K must be invertible intrinsic matrices [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] "
            f"(fx, fy non-zero); matrix {index} (flattened batch) is singular: "
            f"{value[index].tolist()}"
        )


def _to_camera(points: tf.Tensor, K: tf.Tensor, R: tf.Tensor, t: tf.Tensor):
    """Pixels `[..., P, 2]` and camera z `[..., P]` of world points `[..., P, 3]`."""
    camera = tf.linalg.matmul(points, R, transpose_b=True) + t[..., tf.newaxis, :]
    homogeneous = tf.linalg.matmul(camera, K, transpose_b=True)
    pixels = safe_ops.divide(homogeneous[..., :2], homogeneous[..., 2:])
    return pixels, camera[..., 2]


def project_points(
    points: tf.Tensor,
    K: tf.Tensor,
    R: tf.Tensor,
    t: tf.Tensor,
    name: str = "lsm_project_points",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Projects world points into cameras ``x_cam = R x + t``, ``[u, v, 1] ~ K x_cam``.

    Args:
        points: `[A1, ..., An, P, 3]` world points.
        K: `[A1, ..., An, 3, 3]` intrinsic matrices (invertible).
        R: `[A1, ..., An, 3, 3]` world-to-camera rotations.
        t: `[A1, ..., An, 3]` world-to-camera translations.

    Returns:
        ``(pixels, depth)``: `[A1, ..., An, P, 2]` pixel coordinates ``[u, v]`` (u to the right,
        v down; pixel (i, j)'s centre is ``[j + 0.5, i + 0.5]``) and `[A1, ..., An, P]` camera
        z (positive in front of the camera). Points at z = 0 get large finite pixels. The batch
        dimensions broadcast.

    Raises:
        ValueError: naming the argument, for a wrong last dimension (3 for ``points`` and ``t``,
            3 x 3 for ``K`` and ``R``), batch dimensions that do not broadcast, a non-floating
            dtype, or a singular ``K`` (checked when K's value is known: eagerly, or a constant).
    """
    with tf.name_scope(name):
        points, K, R, t = shape.checked(
            points=(points, (None, 3)), K=(K, (3, 3)), R=(R, (3, 3)), t=(t, 3)
        )
        _check_intrinsics(K)
        return _to_camera(points, K, R, t)


def _dims(tensor: tf.Tensor) -> list:
    """The static dimensions where known, the dynamic ones elsewhere."""
    dynamic = tf.shape(tensor)
    return [d if d is not None else dynamic[i] for i, d in enumerate(tensor.shape.as_list())]


def unproject(
    features: tf.Tensor,
    K: tf.Tensor,
    R: tf.Tensor,
    t: tf.Tensor,
    resolution: int,
    extent: float = 1.0,
    depth_channel: bool = True,
    return_mask: bool = False,
    name: str = "lsm_unproject",
) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """Lifts each view's feature map into the voxel grid along the camera rays.

    Every voxel centre (:func:`voxel_centres`) is projected into every view
    (:func:`project_points`) and the view's features are sampled there bilinearly between the
    four nearest pixel centres (clamped to the border pixels within the image). Voxels behind
    the camera (z <= 0) or projecting outside the image (u outside [0, W) or v outside [0, H))
    get zero features. Differentiable with respect to the features and, through the bilinear
    weights and the depth channel, to K, R and t.

    Args:
        features: `[B, V, H, W, C]` feature maps of V views of each of B scenes.
        K: `[B, V, 3, 3]` intrinsic matrices (or any shape broadcasting to it: `[3, 3]`,
            `[V, 3, 3]`, `[B, 1, 3, 3]`).
        R: `[B, V, 3, 3]` world-to-camera rotations (broadcasting as K).
        t: `[B, V, 3]` world-to-camera translations (broadcasting as K).
        resolution: R, voxels along each axis.
        extent: the side of the cube the grid spans, centred at the origin.
        depth_channel: whether to append the camera z of each voxel centre as a last channel
            (for every voxel, valid or not).
        return_mask: whether to also return the validity mask.

    Returns:
        `[B, V, R, R, R, C]` (`[..., C + 1]` with ``depth_channel``) the unprojected grid; grid
        ``[b, v, i, j, k]`` belongs to the voxel centre ``voxel_centres(R, extent)[i, j, k]``.
        With ``return_mask``, ``(grid, mask)`` with mask `[B, V, R, R, R]`: 1.0 where the
        voxel centre is in front of the camera and inside the image, else 0.0.

    Raises:
        ValueError: naming the argument, for features not of rank 5, cameras with wrong last
            dimensions or batch dimensions not broadcasting to `[B, V]`, dtypes that are not
            one floating dtype, or a singular K (when K's value is known).
    """
    resolution = checks.positive_int("resolution", resolution)
    extent = checks.positive_float("extent", extent)
    depth_channel = checks.boolean("depth_channel", depth_channel)
    return_mask = checks.boolean("return_mask", return_mask)
    with tf.name_scope(name):
        features, K, R, t = shape.checked(
            features=(features, (None, None, None)), K=(K, (3, 3)), R=(R, (3, 3)), t=(t, 3)
        )
        if features.shape.rank is not None and features.shape.rank != 5:
            raise ValueError(
                f"features must have shape [B, V, H, W, C], got {tuple(features.shape)}"
            )
        for arg, tensor, inner in (("K", K, 2), ("R", R, 2), ("t", t, 1)):
            if tensor.shape.rank is not None and tensor.shape.rank - inner > 2:
                raise ValueError(
                    f"{arg} must have batch dimensions broadcasting to [B, V], "
                    f"got shape {tuple(tensor.shape)}"
                )
        _check_intrinsics(K)
        batch, views, height, width, channels = _dims(features)
        count = resolution**3
        centres = tf.reshape(voxel_centres(resolution, extent, features.dtype), [count, 3])
        pixels, depth = _to_camera(centres, K, R, t)  # [cameras' batch, N, 2], [..., N]
        pixels = tf.broadcast_to(pixels, [batch, views, count, 2])
        depth = tf.broadcast_to(depth, [batch, views, count])

        u, v = pixels[..., 0], pixels[..., 1]
        w_f = tf.cast(width, features.dtype)
        h_f = tf.cast(height, features.dtype)
        inside = (depth > 0) & (u >= 0) & (u < w_f) & (v >= 0) & (v < h_f)
        mask = tf.cast(inside, features.dtype)
        # Continuous pixel indices (pixel centres at integers), clamped to the border pixels.
        col = tf.clip_by_value(u - 0.5, 0.0, w_f - 1)
        row = tf.clip_by_value(v - 0.5, 0.0, h_f - 1)
        col0, row0 = tf.floor(col), tf.floor(row)
        wc, wr = col - col0, row - row0
        c0 = tf.cast(col0, tf.int32)
        r0 = tf.cast(row0, tf.int32)
        c1 = tf.minimum(c0 + 1, width - 1)
        r1 = tf.minimum(r0 + 1, height - 1)
        index = tf.stack([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1], -1)
        weights = (
            tf.stack([(1 - wr) * (1 - wc), (1 - wr) * wc, wr * (1 - wc), wr * wc], axis=-1)
            * mask[..., tf.newaxis]
        )  # [B, V, N, 4]

        flat = tf.reshape(features, [batch * views, height * width, channels])
        gathered = tf.gather(flat, tf.reshape(index, [batch * views, count * 4]), batch_dims=1)
        gathered = tf.reshape(gathered, [batch, views, count, 4, channels])
        sampled = tf.reduce_sum(weights[..., tf.newaxis] * gathered, axis=-2)

        grid_shape = [batch, views, resolution, resolution, resolution]
        grid = tf.reshape(sampled, [*grid_shape, channels])
        if depth_channel:
            grid = tf.concat([grid, tf.reshape(depth, [*grid_shape, 1])], axis=-1)
        if return_mask:
            return grid, tf.reshape(mask, grid_shape)
        return grid
