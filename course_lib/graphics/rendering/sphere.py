"""A differentiable sphere renderer: camera rays, ray-sphere intersection and shading.

Coordinates are the camera's: the camera sits at the origin and looks down +z, x points right
and y points down in the image (as for the pinhole camera of ``rendering.camera``). Pixel
(row i, column j) is sampled at its centre. The sphere is at ``(0, 0, distance)``.

A light direction is the direction the light TRAVELS (toward the surface), as the BRDFs expect;
:func:`light_direction_from_angles` builds one from an azimuth and an elevation.

Everything is vectorized over pixels; gradients flow to the light, the material parameters and
the sphere, and stay finite for rays that graze the sphere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.math import vector
from course_lib.graphics.util import safe_ops, shape


def intersect(
    ray_origin: Any, ray_direction: Any, center: Any, radius: Any, name: str = "sphere_intersect"
) -> tuple[tf.Tensor, tf.Tensor]:
    """The nearest intersection in front of the ray origin with a sphere.

    Solves ``|o + t d - c|^2 = r^2`` for the smallest ``t > 0``, with ``d`` normalized.

    Args:
        ray_origin: `[A1, ..., An, 3]` ray origins.
        ray_direction: `[A1, ..., An, 3]` ray directions (normalized inside).
        center: `[A1, ..., An, 3]` sphere centres.
        radius: `[A1, ..., An, 1]` sphere radii.

    Returns:
        ``(distance, hit)``: `[A1, ..., An, 1]` distances along the unit direction (0 where the
        ray misses) and the `[A1, ..., An, 1]` boolean mask of rays that hit (a tangent ray hits).
        Gradients are finite everywhere, including for tangent rays.

    Raises:
        ValueError: if a last dimension is not 3 (or 1 for ``radius``), a dtype is not floating,
            or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        origin, direction, center, radius = shape.checked(
            ray_origin=(ray_origin, 3),
            ray_direction=(ray_direction, 3),
            center=(center, 3),
            radius=(radius, 1),
        )
        direction = safe_ops.normalize(direction)
        offset = origin - center
        half_b = vector.dot(direction, offset)
        discriminant = tf.square(half_b) - (vector.dot(offset, offset) - tf.square(radius))
        root = safe_ops.sqrt(discriminant)
        near, far = -half_b - root, -half_b + root
        distance = tf.where(near > 0.0, near, far)
        hit = tf.logical_and(discriminant >= 0.0, distance > 0.0)
        return tf.where(hit, distance, tf.zeros_like(distance)), hit


def camera_rays(
    image_size: tuple[int, int],
    projection: str = "orthographic",
    extent: float = 1.1,
    field_of_view: float = 0.6,
    dtype: tf.DType = tf.float32,
) -> tuple[tf.Tensor, tf.Tensor]:
    """One ray per pixel centre of a camera at the origin looking down +z (y down).

    Args:
        image_size: ``(height, width)``.
        projection: ``"orthographic"`` (parallel rays; the image spans ``[-extent, extent]`` in
            x along its shorter side) or ``"perspective"`` (a pinhole with the given vertical
            ``field_of_view`` in radians).

    Returns:
        ``(origins, directions)``: `[H, W, 3]` each, directions of unit length.

    Raises:
        ValueError: for an unknown projection or a non-positive image size.
    """
    height, width = shape.image_size(image_size)
    checks.one_of("projection", projection, ("orthographic", "perspective"))
    rows = tf.cast(tf.range(height), dtype) + 0.5
    cols = tf.cast(tf.range(width), dtype) + 0.5
    y, x = tf.meshgrid(rows - height / 2.0, cols - width / 2.0, indexing="ij")
    if projection == "orthographic":
        scale = 2.0 * extent / min(height, width)
        origins = tf.stack([x * scale, y * scale, tf.zeros_like(x)], axis=-1)
        directions = tf.broadcast_to(tf.constant([0.0, 0.0, 1.0], dtype), origins.shape)
    else:
        focal = height / 2.0 / np.tan(field_of_view / 2.0)
        directions = safe_ops.normalize(tf.stack([x / focal, y / focal, tf.ones_like(x)], -1))
        origins = tf.zeros_like(directions)
    return origins, directions


def light_direction_from_angles(azimuth: Any, elevation: Any) -> tf.Tensor:
    """The direction a light travels when it sits at ``(azimuth, elevation)`` seen from the sphere.

    Azimuth 0 and elevation 0 put the light behind the camera (head-on lighting); a positive
    azimuth moves it to the right, a positive elevation up (toward -y).

    Args:
        azimuth: `[A1, ..., An, 1]` radians.
        elevation: `[A1, ..., An, 1]` radians.

    Returns:
        `[A1, ..., An, 3]` unit directions pointing from the light toward the sphere.
    """
    azimuth, elevation = shape.checked(azimuth=(azimuth, 1), elevation=(elevation, 1))
    cos_e = tf.cos(elevation)
    to_light = tf.concat(
        [cos_e * tf.sin(azimuth), -tf.sin(elevation), -cos_e * tf.cos(azimuth)], -1
    )
    return -to_light


def geometry(
    image_size: tuple[int, int],
    radius: float = 1.0,
    distance: float = 4.0,
    projection: str = "orthographic",
    dtype: tf.DType = tf.float32,
) -> dict[str, tf.Tensor]:
    """What each pixel sees of a sphere at ``(0, 0, distance)``.

    Returns:
        A dict of `[H, W, 3]` ``point``, ``normal`` (unit, outward) and ``to_viewer`` (unit,
        from the surface to the camera), and the `[H, W, 1]` boolean ``mask`` of pixels that see
        the sphere (elsewhere ``point`` and ``normal`` are meaningless).
    """
    origins, directions = camera_rays(image_size, projection, dtype=dtype)
    center = tf.constant([0.0, 0.0, distance], dtype)
    t, mask = intersect(origins, directions, center, tf.constant([radius], dtype))
    point = origins + t * directions
    normal = safe_ops.normalize(point - center)
    return {"point": point, "normal": normal, "to_viewer": -directions, "mask": mask}


def render(
    image_size: tuple[int, int],
    brdf: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor],
    light_direction: Any,
    light_radiance: Any = np.pi,
    ambient: Any = 0.0,
    background: Any = 0.0,
    radius: float = 1.0,
    distance: float = 4.0,
    projection: str = "orthographic",
    name: str = "render_sphere",
) -> tf.Tensor:
    """Renders a sphere lit by a directional light: ``brdf * radiance * max(n . l, 0)``.

    Args:
        image_size: ``(height, width)``.
        brdf: ``brdf(direction_incoming_light, direction_outgoing_light, surface_normal)`` ->
            `[..., C]`, e.g. ``lambda i, o, n: blinn_phong.brdf(i, o, n, shininess, albedo)``.
        light_direction: `[3]` direction the light travels (toward the sphere).
        light_radiance: `[C]` or scalar radiance of the light; the default ``pi`` makes a white
            Lambertian sphere lit head-on exactly 1 at its centre.
        ambient: `[C]` or scalar radiance added on the sphere.
        background: `[C]` or scalar value of the pixels that miss the sphere.

    Returns:
        `[H, W, C]` image (not clipped, so that gradients survive; clip to [0, 1] for display).

    Raises:
        ValueError: if ``light_direction`` does not end in 3.
    """
    with tf.name_scope(name):
        (light_direction,) = shape.checked(light_direction=(light_direction, 3))
        dtype = light_direction.dtype
        seen = geometry(image_size, radius, distance, projection, dtype)
        incoming = safe_ops.normalize(light_direction) + tf.zeros_like(seen["normal"])
        normal = seen["normal"]
        reflected = brdf(incoming, seen["to_viewer"], normal)
        cosine = tf.maximum(vector.dot(normal, -incoming), 0.0)
        radiance = tf.cast(light_radiance, dtype)
        color = reflected * radiance * cosine + tf.cast(ambient, dtype)
        return tf.where(seen["mask"], color, tf.cast(background, dtype) + tf.zeros_like(color))
