"""The Lambertian (ideal diffuse) BRDF: ``albedo / pi`` above the surface, zero below."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.rendering.reflectance import _common


def brdf(
    direction_incoming_light: Any,
    direction_outgoing_light: Any,
    surface_normal: Any,
    albedo: Any,
    name: str = "lambertian_brdf",
) -> tf.Tensor:
    """Lambertian BRDF ``albedo / pi``; the ``1 / pi`` makes a white surface conserve energy.

    Args:
        direction_incoming_light: `[A1, ..., An, 3]` directions from the light toward the surface.
        direction_outgoing_light: `[A1, ..., An, 3]` directions from the surface to the viewer.
        surface_normal: `[A1, ..., An, 3]` surface normals (normalized inside).
        albedo: `[A1, ..., An, C]` albedos in ``[0, 1]``, any number of channels.

    Returns:
        `[A1, ..., An, C]` BRDF values; zero where ``n . l <= 0`` or ``n . v <= 0``.

    Raises:
        ValueError: if a direction or the normal does not end in 3, a dtype is not floating, or
            the batch dimensions do not broadcast (the message names the argument).
    """
    with tf.name_scope(name):
        *_, albedo, _, visible = _common.prepare(
            direction_incoming_light, direction_outgoing_light, surface_normal, albedo
        )
        value = albedo / np.pi
        return tf.where(visible, value, tf.zeros_like(value))
