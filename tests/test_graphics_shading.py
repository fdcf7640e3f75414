"""Shading rasterized meshes: closed forms on hand-made rasterizations, renders, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib import data
from course_lib.graphics.rendering import rasterizer, shading
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

# One tilted triangle at z about 2, seen on a 2x3 image: pixel (0, 2) is background.
TRIANGLE_VERTICES = np.array([[-1.0, -1.0, 2.0], [1.0, -1.0, 2.5], [0.0, 1.0, 1.8]])
TRIANGLES = np.array([[0, 1, 2]], np.int32)
BARYCENTRICS = np.array(
    [
        [[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.0, 0.0, 0.0]],
        [[1 / 3, 1 / 3, 1 / 3], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0]],
    ]
)
INDEX = np.array([[0, 0, -1], [0, 0, 0]], np.int32)


def _hand_made(dtype=np.float64):
    mask = (INDEX >= 0).astype(dtype)
    point = BARYCENTRICS @ TRIANGLE_VERTICES
    return rasterizer.Rasterized(
        depth=tf.constant(point[..., 2] * mask, dtype),
        triangle_index=tf.constant(INDEX),
        barycentrics=tf.constant(BARYCENTRICS, dtype),
        mask=tf.constant(mask),
    )


def _normalize(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _phong_numpy(light_direction, diffuse, specular, shininess, ambient, background, energy):
    """The closed form, written out for the flat triangle (its vertex normals are its normal)."""
    a, b, c = TRIANGLE_VERTICES
    normal = _normalize(np.cross(b - a, c - a))
    point = BARYCENTRICS @ TRIANGLE_VERTICES
    to_light = -_normalize(np.asarray(light_direction))
    with np.errstate(invalid="ignore"):  # the background pixel's point is zero
        to_viewer = _normalize(-point)
    n_dot_l = np.sum(normal * to_light, -1, keepdims=True)
    n_dot_v = np.sum(normal * to_viewer, -1, keepdims=True)
    mirror = 2.0 * n_dot_l * normal - to_light
    lobe = np.maximum(np.sum(mirror * to_viewer, -1, keepdims=True), 0.0) ** shininess
    brdf = diffuse / np.pi + specular * (shininess + 2) / (2 * np.pi) * lobe
    lit = (n_dot_l > 0) & (n_dot_v > 0)
    radiance = np.where(lit, energy * brdf * np.maximum(n_dot_l, 0.0), 0.0) + ambient * diffuse
    mask = (INDEX >= 0)[..., None]
    return np.where(mask, radiance, background)


def test_phong_shading_matches_the_closed_form_on_a_hand_made_rasterization():
    a, b, c = TRIANGLE_VERTICES
    light = -_normalize(np.cross(b - a, c - a)) + [0.2, -0.1, 0.0]  # roughly head-on
    got = shading.shade(
        TRIANGLE_VERTICES,
        TRIANGLES,
        _hand_made(),
        light_direction=light,
        light_intensity=2.0,
        diffuse_albedo=[0.8, 0.5, 0.2],
        specular_albedo=[0.3, 0.3, 0.3],
        shininess=8.0,
        ambient=0.1,
        background=[0.1, 0.2, 0.3],
    )
    expected = _phong_numpy(light, np.array([0.8, 0.5, 0.2]), 0.3, 8.0, 0.1, [0.1, 0.2, 0.3], 2.0)
    assert got.shape == (2, 3, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got[0, 2], [0.1, 0.2, 0.3])  # the background pixel


def test_light_below_the_surface_leaves_only_the_ambient_term():
    a, b, c = TRIANGLE_VERTICES
    behind = _normalize(np.cross(b - a, c - a))  # shining onto the back of the triangle
    got = shading.shade(
        TRIANGLE_VERTICES, TRIANGLES, _hand_made(), light_direction=behind, ambient=0.25
    ).numpy()
    covered = INDEX >= 0
    np.testing.assert_allclose(got[covered], 0.25 * 0.7, rtol=1e-6)


def _sphere(subdivisions=2, size=48):
    vertices, faces = data.load_mesh("icosphere", subdivisions)
    vertices = vertices + np.array([0.0, 0.0, 4.0], np.float32)
    focal, centre = [2.0 * size, 2.0 * size], [size / 2, size / 2]
    return vertices, faces, rasterizer.rasterize(vertices, faces, focal, centre, (size, size))


def test_a_lambertian_sphere_lit_from_the_camera_is_brightest_in_the_middle():
    vertices, faces, raster = _sphere()
    image = shading.shade(
        vertices,
        faces,
        raster,
        light_direction=[0.0, 0.0, 1.0],
        reflectance="lambertian",
        diffuse_albedo=[1.0],
        ambient=0.0,
        background=[0.5],
    ).numpy()[..., 0]
    mask = raster.mask.numpy() > 0
    np.testing.assert_array_equal(image[~mask], 0.5)
    assert image[24, 24] == pytest.approx(1.0, abs=5e-3)  # white, head-on, E = pi
    assert np.all(image[mask] <= 1.0 + 1e-6)
    # Lambert's cosine: a pixel's brightness is n . l, the normal's -z component.
    centred = (vertices - [0, 0, 4]).astype(np.float32)
    normal = rasterizer.interpolate(centred, faces, raster).numpy()
    cosine = -normal[..., 2] / np.linalg.norm(normal, axis=-1).clip(1e-9)
    np.testing.assert_allclose(image[mask], cosine[mask], atol=0.03)


def test_specular_models_add_a_highlight_around_the_mirror_direction():
    vertices, faces, raster = _sphere()
    light = [0.0, 0.0, 1.0]
    diffuse = shading.shade(
        vertices, faces, raster, light_direction=light, reflectance="lambertian"
    )
    for model in ("phong", "blinn_phong"):
        shiny = shading.shade(vertices, faces, raster, light_direction=light, reflectance=model)
        extra = (shiny - diffuse).numpy()[..., 0]
        assert np.all(extra >= -1e-6)
        row, col = np.unravel_index(np.argmax(extra), extra.shape)
        assert abs(row - 23.5) <= 2 and abs(col - 23.5) <= 2


def test_a_point_light_at_the_camera_falls_off_with_the_squared_distance():
    vertices, faces, raster = _sphere()
    kwargs = dict(reflectance="lambertian", ambient=0.0)
    directional = shading.shade(vertices, faces, raster, light_direction=[0.0, 0.0, 1.0], **kwargs)
    point = shading.shade(
        vertices,
        faces,
        raster,
        light_position=[0.0, 0.0, 0.0],
        light_intensity=9.0 * np.pi,
        **kwargs,
    )
    # The sphere's front pole is at distance 3: there the point light gives (9 pi / 9) = pi.
    np.testing.assert_allclose(point[24, 24], directional[24, 24], rtol=5e-3)


def test_batched_lights_and_vertex_colours_broadcast():
    vertices, faces, raster = _sphere(1, 24)
    lights = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0]], np.float32)
    colours = ((vertices - [0, 0, 4] + 1.0) / 2.0).astype(np.float32)
    images = shading.shade(vertices, faces, raster, light_direction=lights, vertex_colors=colours)
    assert images.shape == (2, 24, 24, 3)
    for k in range(2):
        one = shading.shade(
            vertices, faces, raster, light_direction=lights[k], vertex_colors=colours
        )
        np.testing.assert_allclose(images[k], one, rtol=1e-6)


def test_jacobian_with_respect_to_light_materials_and_vertices():
    raster = _hand_made()

    def render(vertices, light, albedo):
        return shading.shade(
            vertices, TRIANGLES, raster, light_direction=light, diffuse_albedo=albedo, shininess=4.0
        )

    a, b, c = TRIANGLE_VERTICES
    light = -_normalize(np.cross(b - a, c - a)) + [0.1, 0.2, 0.0]
    assert_jacobian_matches(render, [TRIANGLE_VERTICES, light, [0.6, 0.4, 0.2]])


def test_gradients_are_finite_on_background_pixels_and_silhouettes():
    vertices, faces, raster = _sphere(1, 16)

    def render(v):
        return shading.shade(v, faces, raster, light_direction=[0.2, 0.1, 1.0])

    assert_gradient_finite(render, vertices)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(), "light_direction and light_position"),
        (dict(light_direction=[0.0, 0.0, 1.0], light_position=[0.0, 0.0, 0.0]), "exactly one"),
        (dict(light_direction=[0.0, 1.0]), "light_direction"),
        (dict(light_position=np.array([0, 0, 1])), "light_position"),
        (dict(light_direction=[0.0, 0.0, 1.0], reflectance="cook_torrance"), "reflectance"),
        (dict(light_direction=[0.0, 0.0, 1.0], shininess=[1.0, 2.0]), "shininess"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shading.shade(TRIANGLE_VERTICES, TRIANGLES, _hand_made(), **kwargs)


def test_integer_vertices_are_rejected():
    with pytest.raises(ValueError, match="vertices"):
        shading.shade(
            TRIANGLE_VERTICES.astype(np.int32), TRIANGLES, _hand_made(), light_direction=[0, 0, 1.0]
        )
