"""What ``rotation_matrix_2d`` and ``rotation_matrix_3d`` share: inverse and validity test."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.util import asserts, shape


def inverse(matrix: Any, dimension: int) -> tf.Tensor:
    """The transposes of checked `[A1, ..., An, D, D]` rotation matrices (``D = dimension``)."""
    (matrix,) = shape.checked(matrix=(matrix, (dimension, dimension)))
    return tf.linalg.matrix_transpose(matrix)


def assert_rotation(matrix: tf.Tensor, dimension: int) -> tf.Tensor:
    """``matrix`` unchanged; when value checks are on (:mod:`course_lib.graphics.util.asserts`),
    every matrix must be a rotation within 1e-3."""
    return asserts.assert_that(
        matrix,
        lambda: is_valid(matrix, 1e-3, dimension),
        "matrix must be a rotation matrix (R R^T = I, det R = 1)",
    )


def is_valid(matrix: Any, atol: float, dimension: int) -> tf.Tensor:
    """`[A1, ..., An, 1]`: ``R @ R^T = I`` and ``det(R) = +1`` within ``atol``, for checked
    `[A1, ..., An, D, D]` matrices (``D = dimension``)."""
    (matrix,) = shape.checked(matrix=(matrix, (dimension, dimension)))
    gram = tf.matmul(matrix, matrix, transpose_b=True)
    identity = tf.eye(dimension, dtype=matrix.dtype)
    orthogonal = tf.reduce_all(tf.abs(gram - identity) <= atol, axis=(-2, -1))
    proper = tf.abs(tf.linalg.det(matrix) - 1.0) <= atol
    return tf.logical_and(orthogonal, proper)[..., tf.newaxis]
