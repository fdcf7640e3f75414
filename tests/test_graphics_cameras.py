"""Cameras: orthographic and perspective projection, against closed forms written in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import course_lib.graphics.rendering.camera as tfg_camera
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

perspective = tfg_camera.perspective
orthographic = tfg_camera.orthographic


def random_points(rng, shape, near=1.0, far=5.0):
    """Points in front of the camera: x, y in [-2, 2], z in [near, far]."""
    xy = rng.uniform(-2.0, 2.0, shape + (2,))
    z = rng.uniform(near, far, shape + (1,))
    return np.concatenate([xy, z], axis=-1)


def random_intrinsics(rng, shape):
    focal = rng.uniform(50.0, 800.0, shape + (2,))
    principal_point = rng.uniform(100.0, 400.0, shape + (2,))
    return focal, principal_point


def pinhole_closed_form(point, focal, principal_point):
    """x' = fx x / z + cx, y' = fy y / z + cy, one coordinate at a time."""
    x, y, z = point[..., 0], point[..., 1], point[..., 2]
    fx, fy = focal[..., 0], focal[..., 1]
    cx, cy = principal_point[..., 0], principal_point[..., 1]
    return np.stack([fx * x / z + cx, fy * y / z + cy], axis=-1)


def pinhole_homogeneous(point, focal, principal_point):
    """The matrix form: K @ X, then divide by the third homogeneous coordinate."""
    point, focal, principal_point = np.broadcast_arrays(
        point, np.concatenate([focal, np.zeros_like(focal[..., :1])], -1),
        np.concatenate([principal_point, np.ones_like(principal_point[..., :1])], -1),
    )  # fmt: skip
    k = np.zeros(point.shape + (3,))
    k[..., 0, 0], k[..., 1, 1] = focal[..., 0], focal[..., 1]
    k[..., 0, 2], k[..., 1, 2], k[..., 2, 2] = principal_point[..., 0], principal_point[..., 1], 1
    homogeneous = np.einsum("...ij,...j->...i", k, point)
    return homogeneous[..., :2] / homogeneous[..., 2:]


def assert_close_float32(actual, expected):
    """float32 result against a float64 reference: relative error at most 1e-5."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == np.float32
    scale = np.maximum(np.abs(expected), 1.0)
    assert np.max(np.abs(actual - expected) / scale) <= 1e-5


# --- perspective.project ----------------------------------------------------------------------


def test_project_matches_closed_form_with_broadcasting(rng):
    point = random_points(rng, (4, 5))
    focal, _ = random_intrinsics(rng, (4, 1))
    _, principal_point = random_intrinsics(rng, (5,))
    got = perspective.project(
        point.astype(np.float32), focal.astype(np.float32), principal_point.astype(np.float32)
    )
    assert got.shape == (4, 5, 2)
    assert_close_float32(got, pinhole_closed_form(point, focal, principal_point))


def test_project_matches_homogeneous_pinhole(rng):
    point = random_points(rng, (3, 7))
    focal, principal_point = random_intrinsics(rng, (3, 1))
    expected = pinhole_homogeneous(point, focal, principal_point)
    got = perspective.project(*(a.astype(np.float32) for a in (point, focal, principal_point)))
    assert_close_float32(got, expected)
    got64 = perspective.project(point, focal, principal_point)
    assert got64.dtype == tf.float64
    np.testing.assert_allclose(got64, expected, rtol=1e-12)


def test_project_equals_intrinsic_matrix_product(rng):
    point = random_points(rng, (6,))
    focal, principal_point = random_intrinsics(rng, (6,))
    k = perspective.matrix_from_intrinsics(focal, principal_point).numpy()
    homogeneous = np.einsum("nij,nj->ni", k, point)
    np.testing.assert_allclose(
        perspective.project(point, focal, principal_point),
        homogeneous[:, :2] / homogeneous[:, 2:],
        rtol=1e-12,
    )


def test_project_accepts_lists_and_tuples():
    got = perspective.project([[1.0, 2.0, 4.0]], (100.0, 50.0), (256.0, 128.0))
    np.testing.assert_allclose(got, [[281.0, 153.0]])


def test_project_point_at_z_zero_is_finite():
    got = perspective.project([[1.0, -2.0, 0.0], [0.0, 0.0, 0.0]], (100.0, 100.0), (1.0, 1.0))
    assert np.all(np.isfinite(got))


def test_project_gradient_is_finite_at_z_zero():
    for point in ([[1.0, 2.0, 0.0]], [[0.0, 0.0, 0.0]], [[1.0, 2.0, -0.0]]):
        assert_gradient_finite(perspective.project, point, [[100.0, 90.0]], [[256.0, 200.0]])


# --- perspective.unproject and ray -------------------------------------------------------------


def test_unproject_matches_closed_form_with_broadcasting(rng):
    pixel = rng.uniform(0.0, 512.0, (4, 5, 2))
    depth = rng.uniform(1.0, 5.0, (5, 1))
    focal, principal_point = random_intrinsics(rng, (4, 1))
    expected = np.concatenate(
        [
            (pixel - principal_point) / focal * depth,
            np.broadcast_to(depth, (4, 5, 1)),
        ],
        axis=-1,
    )
    got = perspective.unproject(
        *(a.astype(np.float32) for a in (pixel, depth, focal, principal_point))
    )
    assert got.shape == (4, 5, 3)
    assert_close_float32(got, expected)


def test_unproject_broadcasts_a_single_depth(rng):
    pixel = rng.uniform(0.0, 512.0, (6, 2))
    got = perspective.unproject(
        pixel, np.array([2.0]), np.array([100.0, 80.0]), np.array([5.0, 6.0])
    )
    assert got.shape == (6, 3)
    np.testing.assert_allclose(got[:, 2], 2.0)


def test_unproject_inverts_project(rng):
    point = random_points(rng, (4, 5)).astype(np.float32)
    focal, principal_point = (a.astype(np.float32) for a in random_intrinsics(rng, (4, 1)))
    pixel = perspective.project(point, focal, principal_point)
    back = perspective.unproject(pixel, point[..., 2:], focal, principal_point)
    np.testing.assert_allclose(back, point, rtol=1e-5, atol=1e-5)


def test_project_inverts_unproject(rng):
    pixel = rng.uniform(0.0, 640.0, (8, 2))
    depth = rng.uniform(0.5, 10.0, (8, 1))
    focal, principal_point = random_intrinsics(rng, (8,))
    point = perspective.unproject(pixel, depth, focal, principal_point)
    np.testing.assert_allclose(
        perspective.project(point, focal, principal_point), pixel, rtol=1e-12
    )


def test_rays_through_projected_points_pass_through_the_points(rng):
    point = random_points(rng, (4, 5))
    focal, principal_point = random_intrinsics(rng, (4, 1))
    pixel = perspective.project(point, focal, principal_point)
    direction = perspective.ray(pixel, focal, principal_point).numpy()
    np.testing.assert_allclose(direction[..., 2], 1.0)
    np.testing.assert_allclose(point[..., 2:] * direction, point, rtol=1e-10, atol=1e-12)
    unit = perspective.ray(pixel, focal, principal_point, normalize=True).numpy()
    np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0, rtol=1e-12)
    distance = np.linalg.norm(point, axis=-1, keepdims=True)
    np.testing.assert_allclose(distance * unit, point, rtol=1e-10, atol=1e-12)


def test_ray_matches_closed_form_in_float32(rng):
    pixel = rng.uniform(0.0, 512.0, (3, 4, 2))
    focal, principal_point = random_intrinsics(rng, (3, 1))
    expected = np.concatenate([(pixel - principal_point) / focal, np.ones((3, 4, 1))], -1)
    got = perspective.ray(*(a.astype(np.float32) for a in (pixel, focal, principal_point)))
    assert_close_float32(got, expected)


def test_ray_and_unproject_gradients_are_finite_at_zero_focal():
    args = ([[10.0, 20.0]], [[0.0, 0.0]], [[5.0, 5.0]])
    assert_gradient_finite(perspective.ray, *args)
    assert_gradient_finite(perspective.unproject, args[0], [[2.0]], *args[1:])
    assert_gradient_finite(lambda p, f, c: perspective.ray(p, f, c, normalize=True), *args)


def test_pixel_rays_go_through_pixel_centres(rng):
    focal, principal_point = random_intrinsics(rng, (2,))
    rays = perspective.pixel_rays((3, 4), focal, principal_point).numpy()
    assert rays.shape == (2, 3, 4, 3)
    i, j = 2, 1  # row 2, column 1: the pixel centre is x' = 1.5, y' = 2.5
    expected = [
        (1.5 - principal_point[:, 0]) / focal[:, 0],
        (2.5 - principal_point[:, 1]) / focal[:, 1],
        np.ones(2),
    ]
    np.testing.assert_allclose(rays[:, i, j], np.stack(expected, -1), rtol=1e-12)
    # Every ray, scaled to a depth, projects back to its pixel centre.
    pixel = perspective.project(3.0 * rays, focal[:, None, None], principal_point[:, None, None])
    np.testing.assert_allclose(pixel[:, i, j], np.tile([1.5, 2.5], (2, 1)), rtol=1e-12)
    unit = perspective.pixel_rays((3, 4), focal, principal_point, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0, rtol=1e-12)


# --- OpenGL projection matrices and random rays (TensorFlow Graphics' API) ---------------------


def test_right_handed_maps_the_frustum_to_the_clip_cube(rng):
    fov = rng.uniform(0.2, 3.0, (3, 4, 1))
    aspect = rng.uniform(0.5, 2.0, (3, 4, 1))
    near = rng.uniform(0.1, 2.0, (3, 4, 1))
    far = near + rng.uniform(0.5, 50.0, (3, 4, 1))
    matrix = perspective.right_handed(fov, aspect, near, far).numpy()
    assert matrix.shape == (3, 4, 4, 4)
    signs = np.array([[sx, sy] for sx in (-1, 1) for sy in (-1, 1)], np.float64)
    for depth, ndc_z in ((near, -1.0), (far, 1.0)):
        # The frustum's corners at this depth (eye space: the camera looks down -z).
        half_height = depth * np.tan(0.5 * fov)
        half_size = np.concatenate([half_height * aspect, half_height], -1)
        xy = signs * half_size[..., None, :]
        eye = np.concatenate([xy, np.broadcast_to(-depth[..., None, :], xy.shape[:-1] + (1,))], -1)
        eye = np.concatenate([eye, np.ones(eye.shape[:-1] + (1,))], -1)
        clip = np.einsum("...ij,...kj->...ki", matrix, eye)
        ndc = clip[..., :3] / clip[..., 3:]
        expected = np.concatenate([signs, np.full((4, 1), ndc_z)], -1)
        np.testing.assert_allclose(ndc, np.broadcast_to(expected, ndc.shape), atol=1e-9)


def test_right_handed_preset_broadcasting_and_jacobian():
    # Values given in TensorFlow Graphics' tests for the same OpenGL matrix.
    matrix = perspective.right_handed(
        [[np.pi / 3.0], [5.0 * np.pi / 18.0]], [[1.5], [1.1]], [[1.0], [1.2]], [[10.0], [5.0]]
    )
    expected = [
        [
            [1.15470052, 0, 0, 0],
            [0, 1.73205066, 0, 0],
            [0, 0, -1.22222221, -2.22222233],
            [0, 0, -1, 0],
        ],
        [
            [1.9495517, 0, 0, 0],
            [0, 2.14450693, 0, 0],
            [0, 0, -1.63157892, -3.15789485],
            [0, 0, -1, 0],
        ],
    ]
    np.testing.assert_allclose(matrix, expected, rtol=1e-6)
    assert perspective.right_handed([1.0], [[1.0], [2.0]], [0.1], [[[10.0]]]).shape == (1, 2, 4, 4)
    assert_jacobian_matches(
        perspective.right_handed, [[[1.0], [0.5]], [[1.2], [0.8]], [[0.5], [1.0]], [[9.0], [4.0]]]
    )


def test_parameters_from_right_handed_inverts_right_handed(rng):
    fov = rng.uniform(0.05, 3.0, (5, 1))
    aspect = rng.uniform(0.1, 10.0, (5, 1))
    near = rng.uniform(0.1, 100.0, (5, 1))
    far = near + rng.uniform(0.1, 100.0, (5, 1))
    matrix = perspective.right_handed(fov, aspect, near, far)
    for got, want in zip(
        perspective.parameters_from_right_handed(matrix), (fov, aspect, near, far), strict=True
    ):
        assert got.shape == (5, 1)
        np.testing.assert_allclose(got, want, rtol=1e-9)
    got32 = perspective.parameters_from_right_handed(tf.cast(matrix, tf.float32))
    for got, want in zip(got32, (fov, aspect, near, far), strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-3)
    for index in range(4):
        assert_jacobian_matches(
            lambda m, index=index: perspective.parameters_from_right_handed(m)[index], [matrix[:2]]
        )
    assert_gradient_finite(
        lambda m: tf.stack(perspective.parameters_from_right_handed(m)), np.zeros((4, 4))
    )


def test_random_rays_are_seeded_in_bounds_and_through_pixel_centres(rng):
    focal, principal_point = random_intrinsics(rng, (3,))
    rays, pixels = perspective.random_rays(focal, principal_point[:1], 20, 30, 7, margin=2, seed=5)
    assert rays.shape == (3, 7, 3) and pixels.shape == (3, 7, 2) and pixels.dtype == tf.int32
    again = perspective.random_rays(focal, principal_point[:1], 20, 30, 7, margin=2, seed=5)
    np.testing.assert_array_equal(again[1], pixels)
    other = perspective.random_rays(focal, principal_point[:1], 20, 30, 7, margin=2, seed=6)
    assert not np.array_equal(other[1], pixels)
    x, y = pixels.numpy()[..., 0], pixels.numpy()[..., 1]
    assert x.min() >= 2 and x.max() < 28 and y.min() >= 2 and y.max() < 18
    grid = perspective.pixel_rays((20, 30), focal, principal_point[:1]).numpy()
    expected = grid[np.arange(3)[:, None], y, x]
    np.testing.assert_allclose(rays, expected, rtol=1e-12)
    unseeded_rays, unseeded = perspective.random_rays([100.0, 100.0], [5.0, 5.0], 10, 10, 4)
    assert unseeded.shape == (4, 2) and unseeded_rays.dtype == tf.float32


def test_random_rays_draw_pixels_uniformly():
    _, pixels = perspective.random_rays([50.0, 50.0], [4.0, 3.0], 6, 8, 24000, margin=1, seed=2)
    flat = (pixels[:, 1] - 1) * 6 + (pixels[:, 0] - 1)  # the 4 x 6 pixels inside the margin
    counts = np.bincount(flat.numpy(), minlength=24)
    assert counts.size == 24 and counts.min() > 0
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_random_patches_are_grids_inside_the_image(rng):
    focal, principal_point = random_intrinsics(rng, (2, 3))
    rays, pixels = perspective.random_patches(focal, principal_point, 12, 16, 3, 4, 1.5, seed=4)
    assert rays.shape == (2, 3, 12, 3) and pixels.shape == (2, 3, 12, 2)
    np.testing.assert_array_equal(
        pixels, perspective.random_patches(focal, principal_point, 12, 16, 3, 4, 1.5, seed=4)[1]
    )
    grid = pixels.numpy().reshape(2, 3, 3, 4, 2)
    origin = grid[:, :, :1, :1]
    rows, columns = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    np.testing.assert_allclose(grid - origin, 1.5 * np.stack([columns, rows], -1) + 0 * origin)
    np.testing.assert_array_equal(origin, np.round(origin))
    np.testing.assert_allclose(
        rays,
        perspective.ray(pixels + 0.5, focal[..., None, :], principal_point[..., None, :]),
        rtol=1e-12,
    )
    # Over many cameras: every place where the patch fits is drawn, and none where it does not.
    many = np.ones((4000, 2))
    _, pixels = perspective.random_patches(many, many, 12, 16, 3, 4, 1.5, seed=1)
    x0, y0 = pixels.numpy()[:, 0, 0], pixels.numpy()[:, 0, 1]
    last = pixels.numpy()[:, -1]
    assert last[:, 0].max() <= 15 and last[:, 1].max() <= 11
    assert set(x0.astype(int)) == set(range(16 - 5)) and set(y0.astype(int)) == set(range(12 - 3))
    _, whole = perspective.random_patches([1.0, 1.0], [0.0, 0.0], 4, 5, 4, 5, seed=0)
    np.testing.assert_array_equal(whole[0], [0.0, 0.0])


# --- intrinsic matrices -------------------------------------------------------------------------


def test_matrix_from_intrinsics_matches_hand_written_matrix(rng):
    focal, principal_point = random_intrinsics(rng, (4, 1))
    principal_point = np.broadcast_to(principal_point[:1, :, :], (1, 3, 2))  # broadcasts to 4x3
    k = perspective.matrix_from_intrinsics(
        focal.astype(np.float32), principal_point.astype(np.float32)
    )
    assert k.shape == (4, 3, 3, 3)
    expected = np.zeros((4, 3, 3, 3))
    expected[..., 0, 0] = focal[..., 0]
    expected[..., 1, 1] = focal[..., 1]
    expected[..., 0, 2] = principal_point[..., 0]
    expected[..., 1, 2] = principal_point[..., 1]
    expected[..., 2, 2] = 1.0
    assert_close_float32(k, expected)


def test_matrix_and_intrinsics_round_trip(rng):
    focal, principal_point = random_intrinsics(rng, (5, 2))
    back_focal, back_principal = perspective.intrinsics_from_matrix(
        perspective.matrix_from_intrinsics(focal, principal_point)
    )
    np.testing.assert_array_equal(back_focal, focal)
    np.testing.assert_array_equal(back_principal, principal_point)
    k = perspective.matrix_from_intrinsics(focal, principal_point).numpy()
    np.testing.assert_array_equal(
        perspective.matrix_from_intrinsics(*perspective.intrinsics_from_matrix(k)), k
    )


def test_skew_enters_and_leaves_the_matrix(rng):
    focal, principal_point = random_intrinsics(rng, (4,))
    skew = rng.uniform(-2.0, 2.0, (4, 1))
    k = perspective.matrix_from_intrinsics(focal, principal_point, skew).numpy()
    expected = perspective.matrix_from_intrinsics(focal, principal_point).numpy()
    expected[:, 0, 1] = skew[:, 0]
    np.testing.assert_array_equal(k, expected)
    back = perspective.intrinsics_from_matrix(k, return_skew=True)
    for got, want in zip(back, (focal, principal_point, skew), strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(perspective.intrinsics_from_matrix(k)) == 2
    assert_jacobian_matches(perspective.matrix_from_intrinsics, [focal, principal_point, skew])
    with pytest.raises(ValueError, match="skew"):
        perspective.matrix_from_intrinsics(focal, principal_point, np.zeros((4, 2)))


# --- orthographic -----------------------------------------------------------------------------


def test_orthographic_project_unproject_and_ray(rng):
    point = random_points(rng, (4, 5)).astype(np.float32)
    pixel = orthographic.project(point)
    assert pixel.shape == (4, 5, 2)
    np.testing.assert_array_equal(pixel, point[..., :2])
    np.testing.assert_array_equal(orthographic.unproject(pixel, point[..., 2:]), point)
    back = orthographic.unproject(pixel, np.float32([2.0]))
    np.testing.assert_array_equal(back[..., 2], np.full((4, 5), 2.0, np.float32))
    direction = orthographic.ray(pixel)
    assert direction.shape == (4, 5, 3) and direction.dtype == tf.float32
    np.testing.assert_array_equal(direction, np.broadcast_to([0.0, 0.0, 1.0], (4, 5, 3)))
    # A point moved along its ray keeps its projection: no foreshortening.
    np.testing.assert_array_equal(orthographic.project(point + 3.0 * direction.numpy()), pixel)


# --- Jacobians ----------------------------------------------------------------------------------


def test_jacobians_match_finite_differences(rng):
    point = random_points(rng, (3,), near=2.0, far=4.0)
    focal = rng.uniform(1.0, 3.0, (3, 2))  # small focal lengths keep finite differences accurate
    principal_point = rng.uniform(-1.0, 1.0, (3, 2))
    pixel = rng.uniform(-2.0, 2.0, (3, 2))
    depth = rng.uniform(1.0, 3.0, (3, 1))
    assert_jacobian_matches(perspective.project, [point, focal, principal_point])
    assert_jacobian_matches(perspective.unproject, [pixel, depth, focal, principal_point])
    assert_jacobian_matches(perspective.ray, [pixel, focal, principal_point])
    assert_jacobian_matches(
        lambda p, f, c: perspective.ray(p, f, c, normalize=True), [pixel, focal, principal_point]
    )
    assert_jacobian_matches(perspective.matrix_from_intrinsics, [focal, principal_point])
    k = perspective.matrix_from_intrinsics(focal, principal_point).numpy()
    assert_jacobian_matches(lambda m: tf.concat(perspective.intrinsics_from_matrix(m), -1), [k])
    assert_jacobian_matches(
        lambda f, c: perspective.pixel_rays((2, 3), f, c), [focal[:1], principal_point[:1]]
    )
    assert_jacobian_matches(orthographic.project, [point])
    assert_jacobian_matches(orthographic.unproject, [pixel, depth])
    assert_gradient_finite(orthographic.ray, pixel)


# --- bad input ----------------------------------------------------------------------------------

GOOD_POINT, GOOD_FOCAL, GOOD_PRINCIPAL = [[1.0, 2.0, 3.0]], [[100.0, 100.0]], [[256.0, 256.0]]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: perspective.project(GOOD_POINT, [[100.0, 100.0, 1.0]], GOOD_PRINCIPAL), "focal"),
        (lambda: perspective.project([[1.0, 2.0]], GOOD_FOCAL, GOOD_PRINCIPAL), "point_3d"),
        (lambda: perspective.project(GOOD_POINT, GOOD_FOCAL, [[1.0]]), "principal_point"),
        (
            lambda: perspective.unproject([[1.0, 2.0]], [[1.0, 2.0]], GOOD_FOCAL, GOOD_PRINCIPAL),
            "depth",
        ),
        (
            lambda: perspective.unproject([[1.0, 2.0, 3.0]], [[1.0]], GOOD_FOCAL, GOOD_PRINCIPAL),
            "point_2d",
        ),
        (lambda: perspective.ray([[1.0, 2.0]], [100.0], GOOD_PRINCIPAL), "focal"),
        (
            lambda: perspective.matrix_from_intrinsics(GOOD_FOCAL, [[1.0, 2.0, 3.0]]),
            "principal_point",
        ),
        (lambda: perspective.intrinsics_from_matrix(np.eye(3)[:2]), "matrix"),
        (lambda: perspective.intrinsics_from_matrix(np.eye(4)), "matrix"),
        (lambda: perspective.pixel_rays((3, 4), [100.0, 100.0, 1.0], [1.0, 1.0]), "focal"),
        (lambda: perspective.pixel_rays((3,), [100.0, 100.0], [1.0, 1.0]), "image_size"),
        (lambda: perspective.pixel_rays((3, 0), [100.0, 100.0], [1.0, 1.0]), "image_size"),
        (lambda: perspective.right_handed([1.0], [1.0], [[1.0, 2.0]], [1.0]), "near"),
        (lambda: perspective.right_handed([1.0], [1.0], [1.0], np.ones((2, 2))), "far"),
        (lambda: perspective.parameters_from_right_handed(np.eye(3)), "projection_matrix"),
        (lambda: perspective.random_rays([1.0], [1.0, 1.0], 4, 4, 2), "focal"),
        (lambda: perspective.random_rays([1.0, 1.0], [1.0], 4, 4, 2), "principal_point"),
        (lambda: perspective.random_rays([1.0, 1.0], [1.0, 1.0], 0, 4, 2), "height"),
        (lambda: perspective.random_rays([1.0, 1.0], [1.0, 1.0], 4, 4, 2.5), "n_rays"),
        (lambda: perspective.random_rays([1.0, 1.0], [1.0, 1.0], 4, 4, 2, margin=2), "margin"),
        (lambda: perspective.random_rays([1.0, 1.0], [1.0, 1.0], 4, 4, 2, margin=-1), "margin"),
        (lambda: perspective.random_patches([1.0, 1.0], [1.0], 4, 4, 2, 2), "principal_point"),
        (lambda: perspective.random_patches([1.0, 1.0], [1.0, 1.0], 4, 4, 0, 2), "patch_height"),
        (lambda: perspective.random_patches([1.0, 1.0], [1.0, 1.0], 4, 4, 2, 5), "patch"),
        (lambda: perspective.random_patches([1.0, 1.0], [1.0, 1.0], 4, 4, 2, 3, 2.0), "patch"),
        (lambda: perspective.random_patches([1.0, 1.0], [1.0, 1.0], 4, 4, 2, 2, 0.0), "scale"),
        (lambda: orthographic.project([[1.0, 2.0]]), "point_3d"),
        (lambda: orthographic.unproject([[1.0, 2.0]], [[1.0, 2.0]]), "depth"),
        (lambda: orthographic.ray([[1.0, 2.0, 3.0]]), "point_2d"),
    ],
)
def test_wrong_last_dimension_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_batch_shapes_that_do_not_broadcast_are_rejected(rng):
    point = random_points(rng, (4, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="focal"):
        perspective.project(point, np.ones((3, 1, 2), np.float32), np.ones((2,), np.float32))
    with pytest.raises(ValueError, match="principal_point"):
        perspective.project(point, np.ones((4, 1, 2), np.float32), np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="depth"):
        perspective.unproject(np.ones((4, 2)), np.ones((3, 1)), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="principal_point"):
        perspective.matrix_from_intrinsics(np.ones((4, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="depth"):
        orthographic.unproject(np.ones((4, 2)), np.ones((3, 1)))


def test_integer_dtypes_are_rejected():
    with pytest.raises(ValueError, match="focal"):
        perspective.project(GOOD_POINT, np.array([[100, 100]], np.int32), GOOD_PRINCIPAL)
    with pytest.raises(ValueError, match="point_3d"):
        perspective.project(np.array([[1, 2, 3]]), GOOD_FOCAL, GOOD_PRINCIPAL)
    with pytest.raises(ValueError, match="depth"):
        perspective.unproject([[1.0, 2.0]], tf.constant([[1]]), GOOD_FOCAL, GOOD_PRINCIPAL)
    with pytest.raises(ValueError, match="matrix"):
        perspective.intrinsics_from_matrix(np.eye(3, dtype=np.int64))
    with pytest.raises(ValueError, match="point_2d"):
        orthographic.ray(np.array([[1, 2]], np.int32))


def test_mixed_float_dtypes_are_rejected():
    with pytest.raises(ValueError, match="focal"):
        perspective.project(np.float64(GOOD_POINT), np.float32(GOOD_FOCAL), GOOD_PRINCIPAL)


# --- properties ---------------------------------------------------------------------------------

coordinate = st.floats(-10.0, 10.0, allow_nan=False)
depth_value = st.floats(0.1, 50.0, allow_nan=False)
focal_value = st.floats(1.0, 2000.0, allow_nan=False)
centre_value = st.floats(-500.0, 1500.0, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(coordinate, coordinate, depth_value, focal_value, focal_value, centre_value, centre_value)
def test_property_unproject_of_project_is_identity(x, y, z, fx, fy, cx, cy):
    point = np.array([x, y, z])
    focal, principal_point = np.array([fx, fy]), np.array([cx, cy])
    pixel = perspective.project(point, focal, principal_point)
    back = perspective.unproject(pixel, point[2:], focal, principal_point)
    np.testing.assert_allclose(back, point, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(z * perspective.ray(pixel, focal, principal_point), point, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(focal_value, focal_value, centre_value, centre_value)
def test_property_matrix_intrinsics_round_trip(fx, fy, cx, cy):
    focal, principal_point = np.array([fx, fy]), np.array([cx, cy])
    back = perspective.intrinsics_from_matrix(
        perspective.matrix_from_intrinsics(focal, principal_point)
    )
    np.testing.assert_array_equal(back[0], focal)
    np.testing.assert_array_equal(back[1], principal_point)
