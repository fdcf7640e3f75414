"""What ``rotation_matrix_2d`` and ``rotation_matrix_3d`` share: inverse and validity test."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.util import shape


def inverse(matrix: Any, dimension: int) -> tf.Tensor:
    """The transposes of checked `[A1, ..., An, D, D]` rotation matrices (``D = dimension``)."""
    (matrix,) = shape.checked(matrix=(matrix, (dimension, dimension)))
    return tf.linalg.matrix_transpose(matrix)


def is_valid(matrix: Any, atol: float, dimension: int) -> tf.Tensor:
    """`[A1, ..., An, 1]`: ``R @ R^T = I`` and ``det(R) = +1`` within ``atol``, for checked
    `[A1, ..., An, D, D]` matrices (``D = dimension``)."""
    (matrix,) = shape.checked(matrix=(matrix, (dimension, dimension)))
    gram = tf.matmul(matrix, matrix, transpose_b=True)
    identity = tf.eye(dimension, dtype=matrix.dtype)
    orthogonal = tf.reduce_all(tf.abs(gram - identity) <= atol, axis=(-2, -1))
    proper = tf.abs(tf.linalg.det(matrix) - 1.0) <= atol
    return tf.logical_and(orthogonal, proper)[..., tf.newaxis]
