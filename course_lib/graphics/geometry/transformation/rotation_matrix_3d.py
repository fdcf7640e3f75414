"""3-D rotation matrices: built from Euler angles, axis-angle pairs and quaternions; applied.

A rotation matrix ``R`` maps a point ``p`` to ``R @ p`` (column vectors). Conventions (see
``course_lib.graphics``): Euler angles ``[x, y, z]`` in radians with ``R = Rz @ Ry @ Rx``
(rotate about x first, then y, then z, all about the fixed world axes); quaternions Hamilton,
stored ``[x, y, z, w]``.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.geometry.transformation import _rotation_matrix
from course_lib.graphics.util import asserts, shape

__all__ = [
    "assert_rotation_matrix_normalized",
    "from_axis_angle",
    "from_euler",
    "from_euler_with_small_angles_approximation",
    "from_quaternion",
    "inverse",
    "is_valid",
    "rotate",
]


def _matrix(rows: list[list[tf.Tensor]]) -> tf.Tensor:
    """Stacks nine equally shaped `[A1, ..., An]` tensors into `[A1, ..., An, 3, 3]`."""
    return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def from_euler(angles: tf.Tensor, name: str = "rotation_matrix_3d_from_euler") -> tf.Tensor:
    """Rotation matrices ``Rz(z) @ Ry(y) @ Rx(x)`` from Euler angles.

    Args:
        angles: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        `[A1, ..., An, 3, 3]` rotation matrices.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        return _from_sines_cosines(tf.sin(angles), tf.cos(angles))


def from_euler_with_small_angles_approximation(
    angles: tf.Tensor, name: str = "rotation_matrix_3d_from_euler_with_small_angles"
) -> tf.Tensor:
    """Approximate rotation matrices of small Euler angles: :func:`from_euler` with
    ``sin(a) ~ a`` and ``cos(a) ~ 1 - a^2 / 2``.

    The result is not exactly orthogonal (within 1e-3 of :func:`from_euler` for angles up to
    about 0.16 radians); the smallness is not checked.

    Args:
        angles: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        `[A1, ..., An, 3, 3]` matrices.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        return _from_sines_cosines(angles, 1.0 - 0.5 * tf.square(angles))


def _from_sines_cosines(sines: tf.Tensor, cosines: tf.Tensor) -> tf.Tensor:
    """``Rz @ Ry @ Rx`` from `[..., 3]` sines and cosines of the Euler angles."""
    sx, sy, sz = tf.unstack(sines, axis=-1)
    cx, cy, cz = tf.unstack(cosines, axis=-1)
    return _matrix(
        [
            [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx],
            [sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx],
            [-sy, cy * sx, cy * cx],
        ]
    )


def from_axis_angle(
    axis: tf.Tensor, angle: tf.Tensor, name: str = "rotation_matrix_3d_from_axis_angle"
) -> tf.Tensor:
    """Rotation matrices ``cos(a) I + sin(a) [axis]_x + (1 - cos(a)) axis axis^T``.

    Args:
        axis: `[A1, ..., An, 3]` unit-length rotation axes.
        angle: `[A1, ..., An, 1]` angles in radians (counter-clockwise about ``axis``).

    Returns:
        `[A1, ..., An, 3, 3]` rotation matrices.

    Raises:
        ValueError: if a last dimension is not 3 (``axis``) or 1 (``angle``), a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        axis, angle = shape.checked(axis=(axis, 3), angle=(angle, 1))
        axis = asserts.assert_normalized(axis, "axis")
        axis, angle = shape.broadcast_batch((axis, 1), (angle, 1))
        x, y, z = tf.unstack(axis, axis=-1)
        c, s = tf.cos(angle[..., 0]), tf.sin(angle[..., 0])
        t = 1.0 - c
        return _matrix(
            [
                [c + t * x * x, t * x * y - s * z, t * x * z + s * y],
                [t * x * y + s * z, c + t * y * y, t * y * z - s * x],
                [t * x * z - s * y, t * y * z + s * x, c + t * z * z],
            ]
        )


def from_quaternion(
    quaternion: tf.Tensor, name: str = "rotation_matrix_3d_from_quaternion"
) -> tf.Tensor:
    """Rotation matrices of unit quaternions ``[x, y, z, w]``.

    Args:
        quaternion: `[A1, ..., An, 4]` unit quaternions (Hamilton, scalar last).

    Returns:
        `[A1, ..., An, 3, 3]` rotation matrices (``q`` and ``-q`` give the same matrix).

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        quaternion = asserts.assert_normalized(quaternion, "quaternion")
        x, y, z, w = tf.unstack(quaternion, axis=-1)
        xx, yy, zz = x * x, y * y, z * z
        xy, xz, yz = x * y, x * z, y * z
        wx, wy, wz = w * x, w * y, w * z
        return _matrix(
            [
                [1.0 - 2.0 * (yy + zz), 2.0 * (xy - wz), 2.0 * (xz + wy)],
                [2.0 * (xy + wz), 1.0 - 2.0 * (xx + zz), 2.0 * (yz - wx)],
                [2.0 * (xz - wy), 2.0 * (yz + wx), 1.0 - 2.0 * (xx + yy)],
            ]
        )


def _apply(point: tf.Tensor, matrix: tf.Tensor) -> tf.Tensor:
    """``matrix @ point`` for checked `[..., 3]` points and `[..., 3, 3]` matrices."""
    if matrix.shape.rank == 2:
        # One matrix for all points: a single [N, 3] x [3, 3] product (the fast, common case).
        flat = tf.reshape(point, [-1, 3])
        return tf.reshape(tf.matmul(flat, matrix, transpose_b=True), tf.shape(point))
    return tf.reduce_sum(matrix * point[..., tf.newaxis, :], axis=-1)


def rotate(
    point: tf.Tensor, matrix: tf.Tensor, name: str = "rotation_matrix_3d_rotate"
) -> tf.Tensor:
    """Rotates 3-D points: ``matrix @ point``.

    Args:
        point: `[A1, ..., An, 3]` points.
        matrix: `[A1, ..., An, 3, 3]` rotation matrices (a single `[3, 3]` matrix is applied to
            every point with one matrix product).

    Returns:
        `[A1, ..., An, 3]` rotated points.

    Raises:
        ValueError: if ``point``'s last dimension is not 3, ``matrix``'s last two are not
            ``(3, 3)``, a dtype is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        point, matrix = shape.checked(point=(point, 3), matrix=(matrix, (3, 3)))
        matrix = _rotation_matrix.assert_rotation(matrix, 3)
        return _apply(point, matrix)


def inverse(matrix: tf.Tensor, name: str = "rotation_matrix_3d_inverse") -> tf.Tensor:
    """Inverse rotations: the transposes.

    Args:
        matrix: `[A1, ..., An, 3, 3]` rotation matrices.

    Returns:
        `[A1, ..., An, 3, 3]` inverse rotation matrices.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
    """
    with tf.name_scope(name):
        return _rotation_matrix.inverse(matrix, 3)


def is_valid(
    matrix: tf.Tensor, atol: float = 1e-3, name: str = "rotation_matrix_3d_is_valid"
) -> tf.Tensor:
    """Whether matrices are rotations: ``R @ R^T = I`` and ``det(R) = +1``, within ``atol``.

    Args:
        matrix: `[A1, ..., An, 3, 3]` matrices.
        atol: absolute tolerance on every entry of ``R @ R^T - I`` and on ``det(R) - 1``.

    Returns:
        `[A1, ..., An, 1]` booleans.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
    """
    with tf.name_scope(name):
        return _rotation_matrix.is_valid(matrix, atol, 3)


def assert_rotation_matrix_normalized(
    matrix: tf.Tensor, eps: float = 1e-3, name: str = "assert_rotation_matrix_normalized"
) -> tf.Tensor:
    """Checks that matrices are rotations (:func:`is_valid` with ``atol=eps``); returns them.

    Unlike TensorFlow Graphics, where this is a pass-through unless its debug flag
    ``tfg_add_asserts_to_graph`` is set, the check always runs: eagerly it raises at once; in a
    ``tf.function`` the returned tensor depends on the check.

    Args:
        matrix: `[A1, ..., An, 3, 3]` matrices.
        eps: absolute tolerance, as ``is_valid``'s ``atol``.

    Returns:
        `[A1, ..., An, 3, 3]`: ``matrix`` unchanged.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
        tf.errors.InvalidArgumentError: if a matrix is not a rotation within ``eps``.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        valid = _rotation_matrix.is_valid(matrix, eps, 3)
        check = tf.debugging.assert_equal(
            valid, True, message="matrix is not a rotation matrix (R R^T = I, det R = 1)"
        )
        with tf.control_dependencies([check]):
            return tf.identity(matrix)
