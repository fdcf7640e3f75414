"""Bilinear lookups in UV-mapped textures.

Called eagerly, :func:`sample_texture` runs compiled (see :mod:`._compile`).
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.rendering._compile import compile_for_eager
from course_lib.graphics.util import shape


def sample_texture(
    texture: tf.Tensor, uv: tf.Tensor, name: str = "rasterizer_sample_texture"
) -> tf.Tensor:
    """Bilinear texture lookup at UV coordinates.

    ``u`` runs along the texture's width and ``v`` along its height, both in [0, 1]:
    ``(u, v) = (0, 0)`` is the top-left corner of the top-left texel (row 0, column 0, as the
    image is stored), ``(1, 1)`` the bottom-right corner of the last texel, and texel
    ``(i, j)``'s centre is at ``((j + 0.5) / Wt, (i + 0.5) / Ht)``. Lookups outside the texel
    centres clamp to the edge (no wrapping).

    Args:
        texture: `[A1, ..., An, Ht, Wt, C]` textures.
        uv: `[A1, ..., An, H, W, 2]` texture coordinates (e.g. from :func:`interpolate`).

    Returns:
        `[A1, ..., An, H, W, C]` bilinearly interpolated texels; differentiable with respect to
        the texture and (inside the texture, away from texel centres' grid lines) the uv.

    Raises:
        ValueError: if `texture` has fewer than 3 dimensions, `uv`'s last dimension is not 2,
            a dtype is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        texture, uv = shape.checked(texture=(texture, (None, None, None)), uv=(uv, (None, None, 2)))
        if tf.executing_eagerly():
            return _sample_texture_compiled(texture, uv)
        return _sample_texture_core(texture, uv)


def _sample_texture_core(texture, uv):
    """:func:`sample_texture` after the argument checks."""
    batch = tf.broadcast_dynamic_shape(tf.shape(texture)[:-3], tf.shape(uv)[:-3])
    count = tf.reduce_prod(batch)
    tex_shape = tf.shape(texture)[-3:]
    uv_shape = tf.shape(uv)[-3:]
    texture = shape.broadcast_and_flatten(texture, batch, 3)
    uv = shape.broadcast_and_flatten(uv, batch, 3, [-1, 2])
    tex_h, tex_w = tex_shape[0], tex_shape[1]
    size = tf.cast(tf.stack([tex_w, tex_h]), uv.dtype)
    position = uv * size - 0.5  # in texel-centre units: (x, y)
    position = tf.clip_by_value(position, 0.0, size - 1.0)
    low = tf.floor(position)
    frac = position - low
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, tf.stack([tex_w, tex_h]) - 1)
    flat = tf.reshape(texture, [count, tex_h * tex_w, -1])

    def texel(x, y):
        return tf.gather(flat, y * tex_w + x, batch_dims=1)

    fx, fy = frac[..., :1], frac[..., 1:]
    top = texel(low[..., 0], low[..., 1]) * (1.0 - fx) + texel(high[..., 0], low[..., 1]) * fx
    bottom = texel(low[..., 0], high[..., 1]) * (1.0 - fx) + texel(high[..., 0], high[..., 1]) * fx
    values = top * (1.0 - fy) + bottom * fy
    return tf.reshape(values, tf.concat([batch, uv_shape[:2], tex_shape[2:]], 0))


_sample_texture_compiled = compile_for_eager(_sample_texture_core)
