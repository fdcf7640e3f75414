"""Shading a rasterized mesh: interpolated vertex normals, one light, a BRDF, a background.

The camera sits at the origin of the camera frame (as in :mod:`rasterizer`), so the direction
from a surface point ``p`` to the viewer is ``-p``. Each covered pixel gets

    radiance = E * (f_diffuse + f_specular) * max(n . l, 0) + ambient * albedo_diffuse

where ``n`` is the interpolated (area-weighted) vertex normal, ``l`` the direction to the
light, ``f`` the reflectance module's BRDFs and ``E`` the light's intensity: for a directional
light ``E = light_intensity``; for a point light ``E = light_intensity / d**2`` at distance
``d``. The default ``light_intensity = pi`` makes a white Lambertian surface lit head-on
exactly 1. Background pixels get ``background``.

Gradients flow to the vertices (through the barycentrics, normals and positions of visible
surfaces), the light and the materials; like the hard rasterizer itself, the image is not
differentiable with respect to which triangle covers a pixel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.math import vector
from course_lib.graphics.rendering import rasterizer
from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian, phong
from course_lib.graphics.util import safe_ops, shape

REFLECTANCES = ("lambertian", "phong", "blinn_phong")


def _per_image(value: tf.Tensor) -> tf.Tensor:
    """`[A1, ..., An, C]` -> `[A1, ..., An, 1, 1, C]`, to broadcast over the image."""
    return value[..., None, None, :]


def shade(
    vertices: Any,
    triangles: Any,
    rasterized: rasterizer.Rasterized,
    light_direction: Any = None,
    light_position: Any = None,
    light_intensity: Any = np.pi,
    reflectance: str = "phong",
    diffuse_albedo: Any = (0.7, 0.7, 0.7),
    specular_albedo: Any = (0.1, 0.1, 0.1),
    shininess: Any = 16.0,
    ambient: Any = 0.05,
    background: Any = (0.0, 0.0, 0.0),
    vertex_colors: Any = None,
    normals: Any = None,
    name: str = "shading_shade",
) -> tf.Tensor:
    """Shades the pixels of a rasterized mesh with one directional or point light.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions in camera coordinates (those that were
            rasterized).
        triangles: `[F, 3]` integer vertex indices.
        rasterized: the :class:`rasterizer.Rasterized` result of ``vertices`` and ``triangles``
            (barycentrics `[A1, ..., An, H, W, 3]`, triangle_index, mask `[A1, ..., An, H, W]`).
        light_direction: `[A1, ..., An, 3]` direction of a directional light, from the light
            TOWARD the scene (the reflectance contract). Give this or ``light_position``.
        light_position: `[A1, ..., An, 3]` position of a point light in camera coordinates.
        light_intensity: `[A1, ..., An, 1]` (or a number) intensity ``E`` of the light.
        reflectance: ``"lambertian"`` (diffuse only), ``"phong"`` or ``"blinn_phong"`` (diffuse
            plus that specular lobe).
        diffuse_albedo: `[A1, ..., An, C]` diffuse albedo (ignored when ``vertex_colors`` given).
        specular_albedo: `[A1, ..., An, C]` specular albedo.
        shininess: `[A1, ..., An, 1]` specular exponent.
        ambient: `[A1, ..., An, 1]` ambient term, a fraction of the diffuse albedo.
        background: `[A1, ..., An, C]` colour of uncovered pixels.
        vertex_colors: optional `[A1, ..., An, V, C]` per-vertex diffuse albedos, interpolated.
        normals: optional `[A1, ..., An, V, 3]` vertex normals; by default the area-weighted
            :func:`mesh.vertex_normals` of ``vertices``.

    Returns:
        `[A1, ..., An, H, W, C]` radiance (not clipped: specular highlights may exceed 1).

    Raises:
        ValueError: naming the argument, for a wrong last dimension, a non-floating dtype, both
            or neither of ``light_direction`` and ``light_position``, or an unknown
            ``reflectance``.
    """
    with tf.name_scope(name):
        checks.one_of("reflectance", reflectance, REFLECTANCES)
        if (light_direction is None) == (light_position is None):
            raise ValueError("give exactly one of light_direction and light_position")
        light = light_direction if light_direction is not None else light_position
        light_name = "light_direction" if light_direction is not None else "light_position"
        (vertices,) = shape.checked(vertices=(vertices, (None, 3)))
        dtype = vertices.dtype
        light, light_intensity, specular_albedo, shininess, ambient, background = (
            shape.to_float(arg_name, value, dtype)
            for arg_name, value in (
                (light_name, light),
                ("light_intensity", light_intensity),
                ("specular_albedo", specular_albedo),
                ("shininess", shininess),
                ("ambient", ambient),
                ("background", background),
            )
        )
        shape.check_inner(light_name, light, 3)
        for arg_name, value in (
            ("light_intensity", light_intensity),
            ("shininess", shininess),
            ("ambient", ambient),
        ):
            if value.shape.rank == 0:
                continue
            shape.check_inner(arg_name, value, 1)
        light_intensity, shininess, ambient = (
            tf.reshape(v, [1]) if v.shape.rank == 0 else v
            for v in (light_intensity, shininess, ambient)
        )
        if normals is None:
            normals = mesh.vertex_normals(vertices, triangles)
        else:
            (normals,) = shape.checked(
                normals=(shape.to_float("normals", normals, dtype), (None, 3))
            )

        normal = safe_ops.normalize(rasterizer.interpolate(normals, triangles, rasterized))
        point = rasterizer.interpolate(vertices, triangles, rasterized)
        if vertex_colors is not None:
            colors = shape.to_float("vertex_colors", vertex_colors, dtype)
            albedo = rasterizer.interpolate(colors, triangles, rasterized)
        else:
            albedo = _per_image(shape.to_float("diffuse_albedo", diffuse_albedo, dtype))
            albedo = albedo + tf.zeros_like(point[..., :1])

        to_viewer = -point
        if light_direction is not None:
            incoming = _per_image(light) + tf.zeros_like(point)
            irradiance = _per_image(light_intensity)
        else:
            incoming = point - _per_image(light)
            distance_squared = vector.dot(incoming, incoming)
            irradiance = safe_ops.divide(_per_image(light_intensity), distance_squared)
        cosine = tf.maximum(vector.dot(normal, -safe_ops.normalize(incoming)), 0.0)

        value = lambertian.brdf(incoming, to_viewer, normal, albedo)
        if reflectance != "lambertian":
            lobe = phong if reflectance == "phong" else blinn_phong
            specular = _per_image(specular_albedo) + tf.zeros_like(point[..., :1])
            value += lobe.brdf(incoming, to_viewer, normal, _per_image(shininess), specular)
        radiance = irradiance * value * cosine + _per_image(ambient) * albedo
        mask = tf.cast(rasterized.mask, dtype)[..., None]
        return mask * radiance + (1.0 - mask) * _per_image(background)
