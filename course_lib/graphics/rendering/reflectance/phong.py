"""The energy-normalized Phong BRDF: a lobe around the mirror direction of the light."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.rendering.reflectance import _common


def brdf(
    direction_incoming_light: Any,
    direction_outgoing_light: Any,
    surface_normal: Any,
    shininess: Any,
    albedo: Any,
    name: str = "phong_brdf",
) -> tf.Tensor:
    """Phong BRDF ``albedo (n + 2) / (2 pi) max(r . v, 0)^n``.

    ``r`` is the mirror reflection of the incoming direction about the normal (it points away
    from the surface), ``v`` the direction to the viewer and ``n`` the shininess. The factor
    ``(n + 2) / (2 pi)`` normalizes the lobe so that a white surface lit head-on reflects all the
    energy it receives.

    Args:
        direction_incoming_light: `[A1, ..., An, 3]` directions from the light toward the surface.
        direction_outgoing_light: `[A1, ..., An, 3]` directions from the surface to the viewer.
        surface_normal: `[A1, ..., An, 3]` surface normals (normalized inside).
        shininess: `[A1, ..., An, 1]` non-negative exponents.
        albedo: `[A1, ..., An, C]` albedos, any number of channels.

    Returns:
        `[A1, ..., An, C]` BRDF values; zero where ``n . l <= 0`` or ``n . v <= 0``.

    Raises:
        ValueError: if a direction or the normal does not end in 3, ``shininess`` does not end
            in 1, a dtype is not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        to_light, to_viewer, normal, albedo, shininess, visible = _common.prepare(
            direction_incoming_light, direction_outgoing_light, surface_normal, albedo, shininess
        )
        mirror = vector.reflect(-to_light, normal)
        cosine = vector.dot(mirror, to_viewer)
        return _common.specular_lobe(albedo, shininess, cosine, 2.0, visible)
