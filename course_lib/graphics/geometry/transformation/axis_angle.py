"""Axis-angle rotations: a unit ``axis`` `[..., 3]` and an ``angle`` `[..., 1]` in radians.

Conversions to axis-angle return angles in ``[0, pi]``; the zero rotation, whose axis is
arbitrary, gets the axis ``[1, 0, 0]`` (with finite gradients).
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.geometry.transformation import _rotation_matrix, rotation_matrix_3d
from course_lib.graphics.geometry.transformation import quaternion as quaternion_lib
from course_lib.graphics.math import vector
from course_lib.graphics.util import asserts, safe_ops, shape

__all__ = [
    "from_euler",
    "from_euler_with_small_angles_approximation",
    "from_quaternion",
    "from_rotation_matrix",
    "inverse",
    "is_normalized",
    "rotate",
]


def rotate(
    point: tf.Tensor, axis: tf.Tensor, angle: tf.Tensor, name: str = "axis_angle_rotate"
) -> tf.Tensor:
    """Rotates 3-D points about unit axes by angles (Rodrigues' formula).

    ``p' = p cos(a) + (axis x p) sin(a) + axis (axis . p) (1 - cos(a))``. A single `[3]` axis
    with a single `[1]` angle is turned into a matrix once and applied to every point with one
    matrix product.

    Args:
        point: `[A1, ..., An, 3]` points.
        axis: `[A1, ..., An, 3]` unit-length rotation axes.
        angle: `[A1, ..., An, 1]` angles in radians.

    Returns:
        `[A1, ..., An, 3]` rotated points.

    Raises:
        ValueError: if a last dimension is not 3 (``point``, ``axis``) or 1 (``angle``), a dtype
            is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        point, axis, angle = shape.checked(point=(point, 3), axis=(axis, 3), angle=(angle, 1))
        axis = asserts.assert_normalized(axis, "axis")
        if axis.shape.rank == 1 and angle.shape.rank == 1:
            matrix = rotation_matrix_3d.from_axis_angle(axis, angle)
            return rotation_matrix_3d.rotate(point, matrix)
        cos, sin = tf.cos(angle), tf.sin(angle)
        along = axis * vector.dot(axis, point)
        return point * cos + vector.cross(axis, point) * sin + along * (1.0 - cos)


def from_quaternion(
    quaternion: tf.Tensor, name: str = "axis_angle_from_quaternion"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Axis-angle pairs of quaternions: ``angle = 2 atan2(|v|, w)``, ``axis = v / |v|``.

    The quaternion's sign is chosen so that ``w >= 0``, which puts the angle in ``[0, pi]``.

    Args:
        quaternion: `[A1, ..., An, 4]` quaternions ``[x, y, z, w]`` (any non-zero length).

    Returns:
        ``(axis, angle)``: `[A1, ..., An, 3]` unit axes (``[1, 0, 0]`` for the zero rotation)
        and `[A1, ..., An, 1]` angles.

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        quaternion = tf.where(quaternion[..., 3:] < 0.0, -quaternion, quaternion)
        xyz, w = quaternion[..., :3], quaternion[..., 3:]
        sine = safe_ops.norm(xyz)
        angle = 2.0 * safe_ops.atan2(sine, w)
        fixed = tf.one_hot(tf.zeros_like(w[..., 0], dtype=tf.int32), 3, dtype=xyz.dtype)
        axis = tf.where(sine > 0.0, safe_ops.normalize(xyz), fixed)
        return axis, angle


def from_rotation_matrix(
    matrix: tf.Tensor, name: str = "axis_angle_from_rotation_matrix"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Axis-angle pairs of rotation matrices (through Shepperd's quaternion: 180 degrees work).

    Args:
        matrix: `[A1, ..., An, 3, 3]` rotation matrices.

    Returns:
        ``(axis, angle)``: `[A1, ..., An, 3]` unit axes and `[A1, ..., An, 1]` angles in
        ``[0, pi]``.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        matrix = _rotation_matrix.assert_rotation(matrix, 3)
        return from_quaternion(quaternion_lib.from_rotation_matrix(matrix))


def from_euler(
    angles: tf.Tensor, name: str = "axis_angle_from_euler"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Axis-angle pairs of Euler angles ``[x, y, z]`` (the rotation ``Rz @ Ry @ Rx``).

    Args:
        angles: `[A1, ..., An, 3]` angles in radians.

    Returns:
        ``(axis, angle)``: `[A1, ..., An, 3]` unit axes and `[A1, ..., An, 1]` angles in
        ``[0, pi]``.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        return from_quaternion(quaternion_lib.from_euler(angles))


def from_euler_with_small_angles_approximation(
    angles: tf.Tensor, name: str = "axis_angle_from_euler_with_small_angles_approximation"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Axis-angle pairs of small Euler angles, through
    :func:`quaternion.from_euler_with_small_angles_approximation` (``sin(h) ~ h``,
    ``cos(h) ~ 1 - h^2 / 2`` for the half angles); the smallness is not checked.

    Args:
        angles: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        ``(axis, angle)``: `[A1, ..., An, 3]` unit axes and `[A1, ..., An, 1]` angles in
        ``[0, pi]``.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        return from_quaternion(quaternion_lib.from_euler_with_small_angles_approximation(angles))


def is_normalized(
    axis: tf.Tensor, angle: tf.Tensor, atol: float = 1e-3, name: str = "axis_angle_is_normalized"
) -> tf.Tensor:
    """Whether the axes have unit length: ``| |axis| - 1 | < atol`` (any angle is valid).

    Args:
        axis: `[A1, ..., An, 3]` rotation axes.
        angle: `[A1, ..., An, 1]` angles in radians (only checked for shape).
        atol: the absolute tolerance on the length.

    Returns:
        `[A1, ..., An, 1]` booleans, with the broadcast batch dimensions of both arguments.

    Raises:
        ValueError: if a last dimension is not 3 (``axis``) or 1 (``angle``), a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        axis, angle = shape.checked(axis=(axis, 3), angle=(angle, 1))
        axis, angle = shape.broadcast_batch((axis, 1), (angle, 1))
        return tf.abs(tf.norm(axis, axis=-1, keepdims=True) - 1.0) < atol


def inverse(
    axis: tf.Tensor, angle: tf.Tensor, name: str = "axis_angle_inverse"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Inverse rotations: the same axes, negated angles.

    Args:
        axis: `[A1, ..., An, 3]` unit axes.
        angle: `[A1, ..., An, 1]` angles in radians.

    Returns:
        ``(axis, -angle)`` with the same shapes.

    Raises:
        ValueError: if a last dimension is not 3 (``axis``) or 1 (``angle``), a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        axis, angle = shape.checked(axis=(axis, 3), angle=(angle, 1))
        axis = asserts.assert_normalized(axis, "axis")
        return axis, -angle
