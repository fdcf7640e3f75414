"""Euler angles ``[x, y, z]`` in radians, for the rotation ``R = Rz(z) @ Ry(y) @ Rx(x)``.

(Rotate about the world x axis first, then y, then z: SciPy's extrinsic ``"xyz"``.)
Conversions to Euler angles give ``x, z`` in ``[-pi, pi]`` and ``y`` in ``[-pi/2, pi/2]``.

Gimbal lock: when ``cos(y) = 0`` (``y = +-pi/2``) only ``z - x`` (or ``z + x``) is determined.
The convention here is ``z = 0`` there; ``x`` is then read from the matrix, so the angles
rebuild the matrix exactly. Values and gradients stay finite at and near gimbal lock.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.geometry.transformation import _rotation_matrix, rotation_matrix_3d
from course_lib.graphics.util import safe_ops, shape

__all__ = ["from_axis_angle", "from_quaternion", "from_rotation_matrix", "inverse"]


def from_rotation_matrix(matrix: tf.Tensor, name: str = "euler_from_rotation_matrix") -> tf.Tensor:
    """Euler angles of rotation matrices.

    ``y = atan2(-m20, sqrt(m00^2 + m10^2))`` and ``z = atan2(m10, m00)``; then ``x`` is read
    from ``Rz(z)^T @ R = Ry(y) @ Rx(x)``, whose middle row is ``[0, cos x, -sin x]``. This stays
    accurate near gimbal lock, where ``z`` is set to 0 (when ``cos(y)`` is below 1e-6 in
    float32, 1e-12 in float64).

    Args:
        matrix: `[A1, ..., An, 3, 3]` rotation matrices.

    Returns:
        `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        matrix = _rotation_matrix.assert_rotation(matrix, 3)
        rows = tf.unstack(matrix, axis=-2)
        (m00, m01, m02), (m10, m11, m12), (m20, _, _) = (tf.unstack(r, axis=-1) for r in rows)
        cos_y = safe_ops.norm(tf.stack([m00, m10], axis=-1), keepdims=False)
        y = tf.atan2(-m20, cos_y)
        tolerance = 1e-6 if matrix.dtype == tf.float32 else 1e-12
        locked = cos_y < tolerance
        z = tf.where(
            locked,
            tf.zeros_like(m00),
            tf.atan2(tf.where(locked, tf.zeros_like(m10), m10), tf.where(locked, 1.0, m00)),
        )
        cz, sz = tf.cos(z), tf.sin(z)
        x = safe_ops.atan2(sz * m02 - cz * m12, cz * m11 - sz * m01)
        return tf.stack([x, y, z], axis=-1)


def from_quaternion(quaternion: tf.Tensor, name: str = "euler_from_quaternion") -> tf.Tensor:
    """Euler angles of unit quaternions ``[x, y, z, w]``.

    Args:
        quaternion: `[A1, ..., An, 4]` unit quaternions.

    Returns:
        `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians (``z = 0`` at gimbal lock).

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        return from_rotation_matrix(rotation_matrix_3d.from_quaternion(quaternion))


def from_axis_angle(
    axis: tf.Tensor, angle: tf.Tensor, name: str = "euler_from_axis_angle"
) -> tf.Tensor:
    """Euler angles of axis-angle rotations.

    Args:
        axis: `[A1, ..., An, 3]` unit axes.
        angle: `[A1, ..., An, 1]` angles in radians.

    Returns:
        `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians (``z = 0`` at gimbal lock).

    Raises:
        ValueError: if a last dimension is not 3 (``axis``) or 1 (``angle``), a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        axis, angle = shape.checked(axis=(axis, 3), angle=(angle, 1))
        return from_rotation_matrix(rotation_matrix_3d.from_axis_angle(axis, angle))


def inverse(euler_angle: tf.Tensor, name: str = "euler_inverse") -> tf.Tensor:
    """Euler angles of the inverse rotations: ``R(result) = R(euler_angle)^T``.

    Not simply ``-euler_angle``: ``(Rz Ry Rx)^T = Rx^T Ry^T Rz^T`` applies the axes in the other
    order, so the angles are read back from the transposed matrix (``z = 0`` at gimbal lock).
    TensorFlow Graphics' ``euler.inverse`` returns ``-euler_angle``, which is the inverse only
    when at most one angle is non-zero.

    Args:
        euler_angle: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Raises:
        ValueError: if ``euler_angle`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (euler_angle,) = shape.checked(euler_angle=(euler_angle, 3))
        matrix = rotation_matrix_3d.from_euler(euler_angle)
        return from_rotation_matrix(tf.linalg.matrix_transpose(matrix))
