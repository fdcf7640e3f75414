"""2-D rotation matrices ``[[cos a, -sin a], [sin a, cos a]]`` (counter-clockwise by ``a``)."""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.geometry.transformation import _rotation_matrix
from course_lib.graphics.util import shape

__all__ = [
    "from_euler",
    "from_euler_with_small_angles_approximation",
    "inverse",
    "is_valid",
    "rotate",
]


def from_euler(angle: tf.Tensor, name: str = "rotation_matrix_2d_from_euler") -> tf.Tensor:
    """Rotation matrices of angles.

    Args:
        angle: `[A1, ..., An, 1]` angles in radians (counter-clockwise).

    Returns:
        `[A1, ..., An, 2, 2]` rotation matrices.

    Raises:
        ValueError: if ``angle`` is not a floating tensor with last dimension 1.
    """
    with tf.name_scope(name):
        (angle,) = shape.checked(angle=(angle, 1))
        return _from_sine_cosine(tf.sin(angle), tf.cos(angle))


def from_euler_with_small_angles_approximation(
    angles: tf.Tensor, name: str = "rotation_matrix_2d_from_euler_with_small_angles_approximation"
) -> tf.Tensor:
    """Approximate rotation matrices of small angles: ``sin(a) ~ a``, ``cos(a) ~ 1 - a^2 / 2``.

    ``[[1 - a^2 / 2, -a], [a, 1 - a^2 / 2]]``, not exactly orthogonal; the smallness is not
    checked.

    Args:
        angles: `[A1, ..., An, 1]` angles in radians (counter-clockwise).

    Returns:
        `[A1, ..., An, 2, 2]` matrices.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 1.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 1))
        return _from_sine_cosine(angles, 1.0 - 0.5 * tf.square(angles))


def _from_sine_cosine(s: tf.Tensor, c: tf.Tensor) -> tf.Tensor:
    """`[..., 2, 2]` matrices ``[[c, -s], [s, c]]`` from `[..., 1]` sines and cosines."""
    return tf.stack([tf.concat([c, -s], -1), tf.concat([s, c], -1)], axis=-2)


def rotate(
    point: tf.Tensor, matrix: tf.Tensor, name: str = "rotation_matrix_2d_rotate"
) -> tf.Tensor:
    """Rotates 2-D points: ``matrix @ point``.

    Args:
        point: `[A1, ..., An, 2]` points.
        matrix: `[A1, ..., An, 2, 2]` rotation matrices.

    Returns:
        `[A1, ..., An, 2]` rotated points.

    Raises:
        ValueError: if ``point``'s last dimension is not 2, ``matrix``'s last two are not
            ``(2, 2)``, a dtype is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        point, matrix = shape.checked(point=(point, 2), matrix=(matrix, (2, 2)))
        return tf.reduce_sum(matrix * point[..., tf.newaxis, :], axis=-1)


def inverse(matrix: tf.Tensor, name: str = "rotation_matrix_2d_inverse") -> tf.Tensor:
    """Inverse rotations: the transposes.

    Args:
        matrix: `[A1, ..., An, 2, 2]` rotation matrices.

    Returns:
        `[A1, ..., An, 2, 2]` inverse rotation matrices.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(2, 2)`` or it is not floating.
    """
    with tf.name_scope(name):
        return _rotation_matrix.inverse(matrix, 2)


def is_valid(
    matrix: tf.Tensor, atol: float = 1e-3, name: str = "rotation_matrix_2d_is_valid"
) -> tf.Tensor:
    """Whether matrices are rotations: ``R @ R^T = I`` and ``det(R) = +1``, within ``atol``.

    Args:
        matrix: `[A1, ..., An, 2, 2]` matrices.
        atol: absolute tolerance on every entry of ``R @ R^T - I`` and on ``det(R) - 1``.

    Returns:
        `[A1, ..., An, 1]` booleans.

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(2, 2)`` or it is not floating.
    """
    with tf.name_scope(name):
        return _rotation_matrix.is_valid(matrix, atol, 2)
