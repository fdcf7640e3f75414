"""Vector ops that broadcast batch dimensions (``tf.linalg.cross`` does not)."""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.util import shape


def dot(u: tf.Tensor, v: tf.Tensor, name: str = "vector_dot") -> tf.Tensor:
    """Dot products along the last axis.

    Args:
        u: `[A1, ..., An, D]` vectors.
        v: `[A1, ..., An, D]` vectors.

    Returns:
        `[A1, ..., An, 1]` dot products.

    Raises:
        ValueError: if the last dimensions differ or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        (u,) = shape.checked(u=(u, (None,)))
        u, v = shape.checked(u=(u, u.shape[-1]), v=(v, u.shape[-1]))
        return tf.reduce_sum(u * v, axis=-1, keepdims=True)


def cross(u: tf.Tensor, v: tf.Tensor, name: str = "vector_cross") -> tf.Tensor:
    """Cross products ``u x v``.

    Args:
        u: `[A1, ..., An, 3]` vectors.
        v: `[A1, ..., An, 3]` vectors.

    Returns:
        `[A1, ..., An, 3]` cross products.

    Raises:
        ValueError: if a last dimension is not 3 or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        u, v = shape.checked(u=(u, 3), v=(v, 3))
        ux, uy, uz = tf.unstack(u, axis=-1)
        vx, vy, vz = tf.unstack(v, axis=-1)
        return tf.stack([uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx], axis=-1)


def reflect(vector: tf.Tensor, normal: tf.Tensor, name: str = "vector_reflect") -> tf.Tensor:
    """Mirrors ``vector`` about the plane with unit ``normal``: ``v - 2 (v . n) n``.

    Args:
        vector: `[A1, ..., An, D]` vectors.
        normal: `[A1, ..., An, D]` unit normals.

    Returns:
        `[A1, ..., An, D]` reflected vectors.
    """
    with tf.name_scope(name):
        (vector,) = shape.checked(vector=(vector, (None,)))
        size = vector.shape[-1]
        vector, normal = shape.checked(vector=(vector, size), normal=(normal, size))
        return vector - 2.0 * tf.reduce_sum(vector * normal, axis=-1, keepdims=True) * normal
