"""The orthographic camera: parallel rays along +z, so projecting drops the depth.

``project([x, y, z]) = [x, y]``; ``unproject([x, y], z) = [x, y, z]``; every ray is ``[0, 0, 1]``.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.util import shape


def project(point_3d: tf.Tensor, name: str = "orthographic_project") -> tf.Tensor:
    """Projects 3-D points onto the image plane along z.

    Args:
        point_3d: `[A1, ..., An, 3]` points in camera coordinates.

    Returns:
        `[A1, ..., An, 2]` image points `[x, y]`.

    Raises:
        ValueError: if the last dimension of `point_3d` is not 3, or its dtype is not floating.
    """
    with tf.name_scope(name):
        (point_3d,) = shape.checked(point_3d=(point_3d, 3))
        return point_3d[..., :2]


def unproject(point_2d: tf.Tensor, depth: tf.Tensor, name: str = "orthographic_unproject"):
    """Lifts image points back to 3-D at the given depths.

    Args:
        point_2d: `[A1, ..., An, 2]` image points.
        depth: `[A1, ..., An, 1]` depths (camera z).

    Returns:
        `[A1, ..., An, 3]` points `[x, y, depth]`.

    Raises:
        ValueError: if a last dimension is not 2 (`point_2d`) or 1 (`depth`), the batch
            dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        point_2d, depth = shape.checked(point_2d=(point_2d, 2), depth=(depth, 1))
        point_2d, depth = shape.broadcast_batch((point_2d, 1), (depth, 1))
        return tf.concat([point_2d, depth], axis=-1)


def ray(point_2d: tf.Tensor, name: str = "orthographic_ray") -> tf.Tensor:
    """The direction of the ray through each image point: always `[0, 0, 1]`.

    Args:
        point_2d: `[A1, ..., An, 2]` image points.

    Returns:
        `[A1, ..., An, 3]` unit directions `[0, 0, 1]`.

    Raises:
        ValueError: if the last dimension of `point_2d` is not 2, or its dtype is not floating.
    """
    with tf.name_scope(name):
        (point_2d,) = shape.checked(point_2d=(point_2d, 2))
        zeros = tf.zeros_like(point_2d)
        return tf.concat([zeros, tf.ones_like(zeros[..., :1])], axis=-1)
