"""A point light: radiance reflected toward a viewer, with the inverse-square falloff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.util import safe_ops, shape


def incoming_direction_and_falloff(
    point_light_position: Any, surface_point: Any, name: str = "point_light_falloff"
) -> tuple[tf.Tensor, tf.Tensor]:
    """The unit direction from the light toward the surface and the falloff ``1 / d^2``.

    Args:
        point_light_position: `[A1, ..., An, 3]` light positions.
        surface_point: `[A1, ..., An, 3]` lit points.

    Returns:
        ``(direction_incoming_light, falloff)``: `[A1, ..., An, 3]` unit directions and
        `[A1, ..., An, 1]` inverse squared distances (large but finite at distance zero).

    Raises:
        ValueError: if a last dimension is not 3, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        light, point = shape.checked(
            point_light_position=(point_light_position, 3), surface_point=(surface_point, 3)
        )
        offset = point - light
        squared = vector.dot(offset, offset)
        return safe_ops.normalize(offset), safe_ops.divide(tf.ones_like(squared), squared)


def estimate_radiance(
    point_light_radiance: Any,
    point_light_position: Any,
    surface_point: Any,
    surface_normal: Any,
    observation_point: Any,
    brdf: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor],
    name: str = "point_light_estimate_radiance",
) -> tf.Tensor:
    """Radiance leaving ``surface_point`` toward ``observation_point``, lit by a point light.

    ``L_out = brdf(i, v, n) * L_light * max(n . l, 0) / d^2`` with ``i`` the direction from the
    light to the point, ``l = -i``, ``v`` the direction to the observer and ``d`` the distance
    to the light (the light's ``radiance`` is its intensity: power per steradian).

    Args:
        point_light_radiance: `[A1, ..., An, C]` intensities of the lights.
        point_light_position: `[A1, ..., An, 3]` light positions.
        surface_point: `[A1, ..., An, 3]` lit points.
        surface_normal: `[A1, ..., An, 3]` normals at those points (normalized inside).
        observation_point: `[A1, ..., An, 3]` the observer (camera) positions.
        brdf: ``brdf(direction_incoming_light, direction_outgoing_light, surface_normal)`` ->
            `[A1, ..., An, C]`, e.g. ``lambda i, o, n: lambertian.brdf(i, o, n, albedo)``.

    Returns:
        `[A1, ..., An, C]` outgoing radiance (zero where the light is below the surface).

    Raises:
        ValueError: if a last dimension is wrong, a dtype is not floating, or the batch
            dimensions do not broadcast (the message names the argument).
    """
    with tf.name_scope(name):
        radiance, light, point, normal, observer = shape.checked(
            point_light_radiance=(point_light_radiance, (None,)),
            point_light_position=(point_light_position, 3),
            surface_point=(surface_point, 3),
            surface_normal=(surface_normal, 3),
            observation_point=(observation_point, 3),
        )
        incoming, falloff = incoming_direction_and_falloff(light, point)
        outgoing = safe_ops.normalize(observer - point)
        normal = safe_ops.normalize(normal)
        cosine = tf.maximum(vector.dot(normal, -incoming), 0.0)
        return brdf(incoming, outgoing, normal) * radiance * cosine * falloff
