"""The pinhole (perspective) camera.

The camera sits at the origin and looks down +z. A point ``[x, y, z]`` lands on the pixel

    x' = fx * x / z + cx,    y' = fy * y / z + cy,

with ``focal = [fx, fy]`` and ``principal_point = [cx, cy]`` in pixels. The same numbers form the
intrinsic matrix ``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``, and ``[x', y', 1] ~ K [x, y, z]``.
Points at ``z = 0`` give large but finite values and finite gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from course_lib.graphics.util import safe_ops, shape


def project(
    point_3d: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    name: str = "perspective_project",
) -> tf.Tensor:
    """Projects 3-D points in camera coordinates to pixels.

    Args:
        point_3d: `[A1, ..., An, 3]` points in camera coordinates.
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.

    Returns:
        `[A1, ..., An, 2]` pixels `[fx * x / z + cx, fy * y / z + cy]`.

    Raises:
        ValueError: if a last dimension is not 3 (`point_3d`) or 2 (`focal`,
            `principal_point`), the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        point_3d, focal, principal_point = shape.checked(
            point_3d=(point_3d, 3), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        return focal * safe_ops.divide(point_3d[..., :2], point_3d[..., 2:]) + principal_point


def unproject(
    point_2d: tf.Tensor,
    depth: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    name: str = "perspective_unproject",
) -> tf.Tensor:
    """Lifts pixels back to 3-D points at the given depths (the inverse of `project`).

    Args:
        point_2d: `[A1, ..., An, 2]` pixels `[x', y']`.
        depth: `[A1, ..., An, 1]` depths (camera z, not the distance to the camera).
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.

    Returns:
        `[A1, ..., An, 3]` points `[(x' - cx) / fx * z, (y' - cy) / fy * z, z]`.

    Raises:
        ValueError: if a last dimension is not 2 (`point_2d`, `focal`, `principal_point`) or 1
            (`depth`), the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        point_2d, depth, focal, principal_point = shape.checked(
            point_2d=(point_2d, 2),
            depth=(depth, 1),
            focal=(focal, 2),
            principal_point=(principal_point, 2),
        )
        xy = safe_ops.divide(point_2d - principal_point, focal) * depth
        xy, depth = shape.broadcast_batch((xy, 1), (depth, 1))
        return tf.concat([xy, depth], axis=-1)


def ray(
    point_2d: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    normalize: bool = False,
    name: str = "perspective_ray",
) -> tf.Tensor:
    """The direction of the ray from the camera centre through each pixel.

    Every point `t * ray` (t > 0) projects back to the pixel; with the default z = 1 scaling,
    `t` is the depth, so `unproject(point_2d, depth, ...) == depth * ray(point_2d, ...)`.

    Args:
        point_2d: `[A1, ..., An, 2]` pixels.
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        normalize: if True, return unit-length directions instead of z = 1 ones.

    Returns:
        `[A1, ..., An, 3]` directions `[(x' - cx) / fx, (y' - cy) / fy, 1]` (or those scaled to
        unit length).

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        point_2d, focal, principal_point = shape.checked(
            point_2d=(point_2d, 2), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        xy = safe_ops.divide(point_2d - principal_point, focal)
        direction = tf.concat([xy, tf.ones_like(xy[..., :1])], axis=-1)
        return safe_ops.normalize(direction) if normalize else direction


def pixel_rays(
    image_size: Sequence[int],
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    normalize: bool = False,
    name: str = "perspective_pixel_rays",
) -> tf.Tensor:
    """The ray through the centre of every pixel of an image.

    Pixel (row i, column j) is sampled at its centre, `[x', y'] = [j + 0.5, i + 0.5]`.

    Args:
        image_size: `(height, width)` in pixels (Python ints).
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        normalize: if True, unit-length directions instead of z = 1 ones.

    Returns:
        `[A1, ..., An, height, width, 3]` ray directions (see `ray`).

    Raises:
        ValueError: if `image_size` is not two positive ints, a last dimension is not 2, the
            batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        focal, principal_point = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2)
        )
        height, width = shape.image_size(image_size)
        rows, columns = tf.meshgrid(
            tf.range(height, dtype=focal.dtype) + 0.5,
            tf.range(width, dtype=focal.dtype) + 0.5,
            indexing="ij",
        )
        grid = tf.stack([columns, rows], axis=-1)  # [H, W, 2] as [x', y']
        return ray(grid, focal[..., None, None, :], principal_point[..., None, None, :], normalize)


def matrix_from_intrinsics(
    focal: tf.Tensor, principal_point: tf.Tensor, name: str = "perspective_matrix_from_intrinsics"
) -> tf.Tensor:
    """The intrinsic matrix `K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`.

    Args:
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.

    Returns:
        `[A1, ..., An, 3, 3]` matrices.

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        focal, principal_point = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2)
        )
        focal, principal_point = shape.broadcast_batch((focal, 1), (principal_point, 1))
        fx, fy = tf.unstack(focal, axis=-1)
        cx, cy = tf.unstack(principal_point, axis=-1)
        zero, one = tf.zeros_like(fx), tf.ones_like(fx)
        rows = [[fx, zero, cx], [zero, fy, cy], [zero, zero, one]]
        return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def intrinsics_from_matrix(
    matrix: tf.Tensor, name: str = "perspective_intrinsics_from_matrix"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Reads focal lengths and principal points off intrinsic matrices.

    Only `K[0, 0]`, `K[1, 1]`, `K[0, 2]` and `K[1, 2]` are read (any skew `K[0, 1]` is ignored).

    Args:
        matrix: `[A1, ..., An, 3, 3]` intrinsic matrices.

    Returns:
        `(focal, principal_point)`, each `[A1, ..., An, 2]`.

    Raises:
        ValueError: if the last two dimensions of `matrix` are not `(3, 3)`, or its dtype is
            not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        focal = tf.stack([matrix[..., 0, 0], matrix[..., 1, 1]], axis=-1)
        principal_point = tf.stack([matrix[..., 0, 2], matrix[..., 1, 2]], axis=-1)
        return focal, principal_point
