"""Tensor operations written with broadcasting, as the first chapter teaches them."""

from __future__ import annotations

import tensorflow as tf

from course_lib.basics._checks import float_tensor


def pairwise_squared_distances(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Squared Euclidean distances between every row of ``a`` and every row of ``b``.

    Broadcasting ``[N, 1, D] - [1, M, D]`` gives all ``N * M`` differences without a loop.

    Args:
        a: ``[N, D]`` points.
        b: ``[M, D]`` points.

    Returns:
        ``[N, M]`` float32 tensor with ``out[i, j] = sum_k (a[i, k] - b[j, k]) ** 2``.

    Raises:
        ValueError: if ``a`` or ``b`` is not rank 2, or their last dimensions differ.
    """
    a = float_tensor("a", a, ndim=2)
    b = float_tensor("b", b, ndim=2)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"a and b must have the same last dimension, got a: {a.shape.as_list()}, "
            f"b: {b.shape.as_list()}"
        )
    difference = a[:, tf.newaxis, :] - b[tf.newaxis, :, :]
    return tf.reduce_sum(tf.square(difference), axis=-1)
