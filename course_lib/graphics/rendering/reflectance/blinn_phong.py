"""The energy-normalized Blinn-Phong BRDF: a lobe of the half vector around the normal."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.rendering.reflectance import _common
from course_lib.graphics.util import safe_ops


def brdf(
    direction_incoming_light: Any,
    direction_outgoing_light: Any,
    surface_normal: Any,
    shininess: Any,
    albedo: Any,
    name: str = "blinn_phong_brdf",
) -> tf.Tensor:
    """Blinn-Phong BRDF ``albedo (n + 8) / (8 pi) max(n . h, 0)^n``.

    ``h = normalize(l + v)`` is the half vector between the direction TO the light
    ``l = -direction_incoming_light`` and the direction to the viewer ``v``; ``n`` is the
    shininess. ``(n + 8) / (8 pi)`` is the usual approximate energy normalization.

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
        half = safe_ops.normalize(to_light + to_viewer)
        return _common.specular_lobe(albedo, shininess, vector.dot(normal, half), 8.0, visible)
