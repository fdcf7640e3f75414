"""Vector ops that broadcast batch dimensions (``tf.linalg.cross`` does not)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.util import asserts, shape


def _to_last(name: str, tensor: Any, axis: int) -> Any:
    """``tensor`` with its ``axis`` moved last (unchanged for ``axis=-1``)."""
    if axis == -1:
        return tensor
    tensor = tf.convert_to_tensor(tensor)
    rank = tensor.shape.rank
    if rank is None or not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for {name} of shape {tensor.shape}")
    return tf.experimental.numpy.moveaxis(tensor, axis, -1)


def _from_last(tensor: tf.Tensor, axis: int) -> tf.Tensor:
    """Undoes :func:`_to_last` on a result whose last axis stands for ``axis``."""
    return tensor if axis == -1 else tf.experimental.numpy.moveaxis(tensor, -1, axis)


def dot(
    u: tf.Tensor, v: tf.Tensor, axis: int = -1, keepdims: bool = True, name: str = "vector_dot"
) -> tf.Tensor:
    """Dot products along the last axis (or along ``axis``).

    Args:
        u: `[A1, ..., An, D]` vectors.
        v: `[A1, ..., An, D]` vectors.
        axis: the axis holding the vectors' coordinates (default the last).
        keepdims: keep that axis, of size 1.

    Returns:
        `[A1, ..., An, 1]` dot products (`[A1, ..., An]` with ``keepdims=False``).

    Raises:
        ValueError: if the vectors' dimensions differ, the batch dimensions do not broadcast, or
            ``axis`` is out of range.
    """
    with tf.name_scope(name):
        u, v = _to_last("u", u, axis), _to_last("v", v, axis)
        (u,) = shape.checked(u=(u, (None,)))
        u, v = shape.checked(u=(u, u.shape[-1]), v=(v, u.shape[-1]))
        product = tf.reduce_sum(u * v, axis=-1, keepdims=True)
        return _from_last(product, axis) if keepdims else product[..., 0]


def cross(u: tf.Tensor, v: tf.Tensor, axis: int = -1, name: str = "vector_cross") -> tf.Tensor:
    """Cross products ``u x v``.

    Args:
        u: `[A1, ..., An, 3]` vectors.
        v: `[A1, ..., An, 3]` vectors.
        axis: the axis holding the vectors' coordinates (default the last).

    Returns:
        `[A1, ..., An, 3]` cross products.

    Raises:
        ValueError: if a vector dimension is not 3, the batch dimensions do not broadcast, or
            ``axis`` is out of range.
    """
    with tf.name_scope(name):
        u, v = _to_last("u", u, axis), _to_last("v", v, axis)
        u, v = shape.checked(u=(u, 3), v=(v, 3))
        ux, uy, uz = tf.unstack(u, axis=-1)
        vx, vy, vz = tf.unstack(v, axis=-1)
        product = tf.stack([uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx], axis=-1)
        return _from_last(product, axis)


def reflect(
    vector: tf.Tensor, normal: tf.Tensor, axis: int = -1, name: str = "vector_reflect"
) -> tf.Tensor:
    """Mirrors ``vector`` about the plane with unit ``normal``: ``v - 2 (v . n) n``.

    Args:
        vector: `[A1, ..., An, D]` vectors.
        normal: `[A1, ..., An, D]` unit normals.
        axis: the axis holding the vectors' coordinates (default the last).

    Returns:
        `[A1, ..., An, D]` reflected vectors.

    Raises:
        ValueError: if the vectors' dimensions differ, the batch dimensions do not broadcast, or
            ``axis`` is out of range.
    """
    with tf.name_scope(name):
        vector, normal = _to_last("vector", vector, axis), _to_last("normal", normal, axis)
        (vector,) = shape.checked(vector=(vector, (None,)))
        size = vector.shape[-1]
        vector, normal = shape.checked(vector=(vector, size), normal=(normal, size))
        normal = asserts.assert_normalized(normal, "normal")
        reflected = vector - 2.0 * tf.reduce_sum(vector * normal, axis=-1, keepdims=True) * normal
        return _from_last(reflected, axis)
