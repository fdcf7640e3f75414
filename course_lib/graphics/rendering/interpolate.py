"""Per-pixel attributes from a rasterized mesh: the barycentric blend of vertex attributes.

Called eagerly, :func:`interpolate` runs compiled (see :mod:`._compile`).
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.rendering._compile import compile_for_eager
from course_lib.graphics.rendering.triangle_rasterizer import Rasterized
from course_lib.graphics.util import shape


def interpolate(
    attributes: tf.Tensor,
    triangles: tf.Tensor,
    rasterized: Rasterized,
    name: str = "rasterizer_interpolate",
) -> tf.Tensor:
    """Per-pixel attributes: the barycentric blend of the seen triangle's vertex attributes.

    Args:
        attributes: `[A1, ..., An, V, C]` per-vertex attributes (normals, colours, UVs...); the
            batch dimensions broadcast against the rasterized images' (e.g. `[V, C]` for
            attributes shared by the batch).
        triangles: `[F, 3]` the triangles given to :func:`rasterize`.
        rasterized: the :class:`Rasterized` output.

    Returns:
        `[A1, ..., An, H, W, C]` interpolated attributes, zero on the background;
        differentiable with respect to the attributes and, through the barycentrics, the
        vertices.

    Raises:
        ValueError: if `attributes` is not `[..., V, C]` floating, `triangles` is not `[F, 3]`
            integer or indexes outside `[0, V)`, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        barycentrics = tf.convert_to_tensor(rasterized.barycentrics)
        (attributes,) = shape.checked(attributes=(attributes, (None, None)))
        if attributes.dtype != barycentrics.dtype:
            raise ValueError(
                f"attributes has dtype {attributes.dtype.name}, but the rasterized images are "
                f"{barycentrics.dtype.name}"
            )
        triangles = mesh.check_triangles(triangles, attributes.shape[-2])
        index = tf.convert_to_tensor(rasterized.triangle_index)
        if tf.executing_eagerly():
            return _interpolate_compiled(attributes, triangles, index, barycentrics)
        return _interpolate_core(attributes, triangles, index, barycentrics)


def _interpolate_core(attributes, triangles, index, barycentrics):
    """:func:`interpolate` after the argument checks."""
    image_batch = tf.shape(index)[:-2]
    batch = tf.broadcast_dynamic_shape(image_batch, tf.shape(attributes)[:-2])
    channels = tf.shape(attributes)[-1]
    num_vertices = tf.shape(attributes)[-2]
    count = tf.reduce_prod(batch)
    attributes = shape.broadcast_and_flatten(attributes, batch, 2)  # [count, V, C]
    attributes = tf.concat([attributes, tf.zeros([count, 1, channels], attributes.dtype)], 1)
    height, width = tf.shape(index)[-2], tf.shape(index)[-1]
    index = shape.broadcast_and_flatten(index, batch, 2, [-1])
    barycentrics = shape.broadcast_and_flatten(barycentrics, batch, 3, [-1, 3, 1])
    padded = tf.concat([triangles, tf.fill([1, 3], num_vertices)], axis=0)
    corners = tf.gather(padded, tf.where(index >= 0, index, tf.shape(triangles)[0]))
    values = tf.gather(attributes, tf.reshape(corners, [count, -1]), batch_dims=1)
    values = tf.reshape(values, [count, -1, 3, channels])
    blended = tf.reduce_sum(barycentrics * values, axis=-2)
    return tf.reshape(blended, tf.concat([batch, [height, width, channels]], 0))


_interpolate_compiled = compile_for_eager(_interpolate_core)
