"""UV-mapped meshes, views and the textured-mesh renderer of ``lucid.optvis.param.texture``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches
from course_lib.lucid.optvis.param import texture


def _numpy_sphere_uv(points):
    x, y, z = np.moveaxis(points, -1, 0)
    radius = np.linalg.norm(points, axis=-1)
    return np.stack([0.5 + np.arctan2(x, z) / (2 * np.pi), np.arccos(y / radius) / np.pi], -1)


def _outward_fraction(vertices, triangles, centre_of):
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    normals = np.cross(b - a, c - a)
    centroids = (a + b + c) / 3
    return np.mean(np.sum(normals * (centroids - centre_of(centroids)), -1) > 0)


def test_uv_sphere_counts_winding_and_uv_convention():
    rows, cols = 6, 10
    vertices, triangles, uv = texture.uv_sphere(rows, cols, radius=2.0)
    assert vertices.shape == ((rows + 1) * (cols + 1), 3) and vertices.dtype == np.float32
    assert triangles.shape == (2 * rows * cols - 2 * cols, 3) and triangles.dtype == np.int32
    assert uv.shape == (vertices.shape[0], 2) and uv.min() == 0.0 and uv.max() == 1.0
    np.testing.assert_allclose(np.linalg.norm(vertices, axis=-1), 2.0, rtol=1e-6)
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    assert np.all(np.linalg.norm(np.cross(b - a, c - a), axis=-1) > 1e-6)  # no degenerate ones
    assert _outward_fraction(vertices, triangles, np.zeros_like) == 1.0
    # Away from the seam and the poles, the vertex UVs are the sphere_uv convention.
    inner = (uv[:, 0] > 0) & (uv[:, 0] < 1) & (uv[:, 1] > 0) & (uv[:, 1] < 1)
    np.testing.assert_allclose(uv[inner], _numpy_sphere_uv(vertices[inner]), atol=1e-6)


def test_uv_torus_counts_winding_and_radii():
    rows, cols = 5, 9
    vertices, triangles, uv = texture.uv_torus(rows, cols, major_radius=1.5, minor_radius=0.5)
    assert vertices.shape == ((rows + 1) * (cols + 1), 3)
    assert triangles.shape == (2 * rows * cols, 3)
    assert uv.min() == 0.0 and uv.max() == 1.0

    def ring_point(points):
        flat = points * np.array([1.0, 0.0, 1.0])
        return 1.5 * flat / np.linalg.norm(flat, axis=-1, keepdims=True)

    np.testing.assert_allclose(
        np.linalg.norm(vertices - ring_point(vertices), axis=-1), 0.5, rtol=1e-5
    )
    assert _outward_fraction(vertices, triangles, ring_point) == 1.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: texture.uv_sphere(1, 8), "rows"),
        (lambda: texture.uv_sphere(4, 2), "cols"),
        (lambda: texture.uv_sphere(4.0, 8), "rows"),
        (lambda: texture.uv_torus(4, 8, 1.0, 1.0), "minor_radius"),
        (lambda: texture.sphere_uv(np.zeros([4, 2], np.float32)), "points"),
        (lambda: texture.sphere_uv(np.zeros([4, 3], np.int32)), "points"),
        (lambda: texture.random_views(0), "batch_size"),
        (lambda: texture.random_views(2, max_elevation=2.0), "max_elevation"),
        (lambda: texture.view_rotation(np.zeros([2], np.float32), np.zeros([3])), "elevation"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sphere_uv_matches_numpy_and_has_finite_gradients(rng):
    points = rng.normal(size=(3, 4, 3)) * rng.uniform(0.1, 3.0, size=(3, 4, 1))
    for dtype in (np.float32, np.float64):
        got = texture.sphere_uv(points.astype(dtype))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, _numpy_sphere_uv(points), rtol=1e-5, atol=1e-6)
    assert_jacobian_matches(texture.sphere_uv, [rng.normal(size=(2, 3))])
    poles_and_origin = np.array([[0.0, 1.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    assert_gradient_finite(texture.sphere_uv, poles_and_origin)


def test_view_rotation_matches_scipy_and_random_views_are_rotations(rng):
    azimuth = rng.uniform(0, 2 * np.pi, size=(2, 3))
    elevation = rng.uniform(-1, 1, size=(2, 3))
    got = texture.view_rotation(azimuth, elevation).numpy()
    # Extrinsic "yx": first about y by the azimuth, then about the fixed x by the elevation.
    want = Rotation.from_euler("yx", np.stack([azimuth, elevation], -1).reshape(-1, 2))
    np.testing.assert_allclose(got.reshape(-1, 3, 3), want.as_matrix(), atol=1e-6)

    tf.random.set_seed(3)
    views = texture.random_views(64, max_elevation=0.4, seed=5).numpy()
    assert views.shape == (64, 3, 3)
    identity = np.broadcast_to(np.eye(3), views.shape)
    np.testing.assert_allclose(views @ np.swapaxes(views, -1, -2), identity, atol=1e-5)
    np.testing.assert_allclose(np.linalg.det(views), 1.0, atol=1e-5)
    tilt = np.arcsin(np.clip(views[:, 2, 1], -1, 1))  # the object's up axis leans by elevation
    assert np.all(np.abs(tilt) <= 0.4 + 1e-5) and np.ptp(tilt) > 0.3
    tf.random.set_seed(3)
    np.testing.assert_array_equal(texture.random_views(64, max_elevation=0.4, seed=5), views)


@pytest.fixture(scope="module")
def sphere_renderer():
    vertices, triangles, uv = texture.uv_sphere(24, 48)
    return texture.textured_mesh_renderer(vertices, triangles, uv, 48, distance=3.0)


def test_silhouette_has_the_projected_sphere_area(sphere_renderer):
    _, mask = sphere_renderer.uv_map(texture.view_rotation([0.3], [0.2]))
    focal = 24.0 / math.tan(math.radians(22.5))
    radius_pixels = focal * 1.0 / math.sqrt(3.0**2 - 1.0)  # tangent cone of a unit sphere
    assert mask.shape == (1, 48, 48, 1)
    np.testing.assert_allclose(mask.numpy().sum(), math.pi * radius_pixels**2, rtol=0.04)


def test_orientation_and_centre_uv_follow_the_view(sphere_renderer):
    half = np.zeros([8, 32, 3], np.float32)
    half[:, 16:] = 1.0  # u > 0.5 is white
    image = sphere_renderer(half, texture.view_rotation([0.0], [0.0]), background=0.25)[0]
    assert np.all(image[24, 30:36].numpy() == 1.0)  # right of the centre: +x, u > 0.5
    assert np.all(image[24, 12:18].numpy() == 0.0)
    assert np.all(image[0, 0].numpy() == 0.25) and np.all(image[-1, -1].numpy() == 0.25)
    azimuth = np.array([0.0, 0.8, -1.2, 2.0], np.float32)
    elevation = np.array([0.0, 0.5, -0.4, 0.9], np.float32)
    views = texture.view_rotation(azimuth, elevation)
    uv, mask = sphere_renderer.uv_map(views)
    assert np.all(mask[:, 23:25, 23:25].numpy() == 1.0)
    centre = uv[:, 23:25, 23:25].numpy().mean(axis=(1, 2))
    # The pixel at the image centre sees the object point R^T [0, 0, 1].
    seen = np.einsum("bji,j->bi", views.numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(centre, _numpy_sphere_uv(seen), atol=0.02)
    up = uv[0, 10, 24].numpy()
    assert up[1] < 0.4  # above the centre: towards the north pole, v -> 0


def test_render_is_linear_in_the_texture_and_its_jacobian_matches():
    vertices, triangles, uv = texture.uv_sphere(6, 8)
    renderer = texture.textured_mesh_renderer(vertices, triangles, uv, 8, background=0.0)
    views = texture.view_rotation(np.array([0.4, 2.0]), np.array([0.3, -0.2]))
    first, second = (tf.random.uniform([5, 6, 3], seed=s) for s in (1, 2))
    np.testing.assert_allclose(
        renderer(2.0 * first - second, views),
        2.0 * renderer(first, views) - renderer(second, views),
        atol=1e-5,
    )
    small = np.random.default_rng(0).uniform(size=(3, 4, 1))
    assert_jacobian_matches(lambda tex: renderer(tex, views), [small])


def test_supersampling_batched_textures_and_tf_function():
    vertices, triangles, uv = texture.uv_torus(8, 16)
    renderer = texture.textured_mesh_renderer(
        vertices, triangles, uv, (20, 24), distance=4.0, supersample=2, background=[1.0, 0, 0]
    )
    textures = tf.random.uniform([3, 8, 16, 3], seed=4)

    @tf.function
    def render(textures):
        return renderer(textures, texture.random_views(3, seed=7))

    tf.random.set_seed(11)
    images = render(textures).numpy()
    assert images.shape == (3, 20, 24, 3)
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(images[:, 0, 0], [[1.0, 0.0, 0.0]] * 3)  # background corner
    tf.random.set_seed(11)
    np.testing.assert_array_equal(render(textures), images)  # seeded views: reproducible
    with tf.GradientTape() as tape:
        tape.watch(textures)
        loss = tf.reduce_sum(render(textures))
    gradient = tape.gradient(loss, textures).numpy()
    assert np.all(np.isfinite(gradient)) and np.all(gradient >= 0) and gradient.sum() > 0


def test_renderer_rejects_bad_inputs(sphere_renderer):
    vertices, triangles, uv = texture.uv_sphere(4, 6)
    with pytest.raises(ValueError, match="vertices"):
        texture.textured_mesh_renderer(vertices[:, :2], triangles, uv, 8)
    with pytest.raises(ValueError, match="uv"):
        texture.textured_mesh_renderer(vertices, triangles, uv[:-1], 8)
    with pytest.raises(ValueError, match="image_size"):
        texture.textured_mesh_renderer(vertices, triangles, uv, (8, 0))
    with pytest.raises(ValueError, match="view_rotation"):
        sphere_renderer(np.zeros([4, 4, 3], np.float32), np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="texture"):
        sphere_renderer(np.zeros([4, 4, 3], np.int32), np.eye(3, dtype=np.float32)[None])
