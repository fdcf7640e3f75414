"""course_lib.lsm.unprojection against explicit NumPy/SciPy projection and bilinear sampling."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from course_lib.graphics.util import testing
from course_lib.lsm import unprojection
from course_lib.lsm.unprojection import project_points, unproject, voxel_centres

# --- NumPy helpers (independent of the data module) ---------------------------------------


def _look_at(centre: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera ``R``, ``t`` of a camera at ``centre`` looking at the origin."""
    forward = -centre / np.linalg.norm(centre)
    helper = rng.normal(size=3)
    right = np.cross(forward, helper)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])  # rows: camera x, y, z in world coordinates
    return rotation, -rotation @ centre


def _intrinsics(focal: float, height: int, width: int, rng=None) -> np.ndarray:
    shift = np.zeros(2) if rng is None else rng.uniform(-0.5, 0.5, size=2)
    return np.array(
        [
            [focal, 0.0, width / 2 + shift[0]],
            [0.0, focal * 1.1, height / 2 + shift[1]],
            [0.0, 0.0, 1.0],
        ]
    )


def _random_cameras(rng, count, distance, focal, height, width):
    """``count`` cameras on a sphere of radius ``distance`` around the origin, looking at it."""
    Ks, Rs, ts = [], [], []
    for _ in range(count):
        direction = rng.normal(size=3)
        rotation, translation = _look_at(distance * direction / np.linalg.norm(direction), rng)
        Ks.append(_intrinsics(focal, height, width, rng))
        Rs.append(rotation)
        ts.append(translation)
    return np.array(Ks), np.array(Rs), np.array(ts)


def _np_centres(resolution: int, extent: float = 1.0) -> np.ndarray:
    grid = np.zeros((resolution, resolution, resolution, 3))
    for i in range(resolution):
        for j in range(resolution):
            for k in range(resolution):
                grid[i, j, k] = [-extent / 2 + (n + 0.5) * extent / resolution for n in (i, j, k)]
    return grid


def _np_project(point, K, R, t):
    camera = R @ point + t
    pixel = K @ camera
    return pixel[:2] / pixel[2], camera[2]


def _np_bilinear(image: np.ndarray, u: float, v: float, depth: float) -> np.ndarray:
    """Bilinear sample of `[H, W, C]` at pixel ``(u, v)`` by hand; zeros outside or behind."""
    height, width, _ = image.shape
    if depth <= 0 or not (0 <= u < width and 0 <= v < height):
        return np.zeros(image.shape[-1])
    x = min(max(u - 0.5, 0.0), width - 1.0)
    y = min(max(v - 0.5, 0.0), height - 1.0)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
    ax, ay = x - x0, y - y0
    return (
        (1 - ay) * (1 - ax) * image[y0, x0]
        + (1 - ay) * ax * image[y0, x1]
        + ay * (1 - ax) * image[y1, x0]
        + ay * ax * image[y1, x1]
    )


def _np_unproject(features, K, R, t, resolution, extent=1.0):
    """The grid `[B, V, R, R, R, C + 1]` and mask by an explicit loop over voxels."""
    batch, views, _, _, channels = features.shape
    centres = _np_centres(resolution, extent)
    grid = np.zeros((batch, views, resolution, resolution, resolution, channels + 1))
    mask = np.zeros((batch, views, resolution, resolution, resolution))
    height, width = features.shape[2:4]
    for b in range(batch):
        for v in range(views):
            for index in np.ndindex(resolution, resolution, resolution):
                (px, py), depth = _np_project(centres[index], K[b, v], R[b, v], t[b, v])
                grid[(b, v, *index)][:channels] = _np_bilinear(features[b, v], px, py, depth)
                grid[(b, v, *index)][channels] = depth
                mask[(b, v, *index)] = depth > 0 and 0 <= px < width and 0 <= py < height
    return grid, mask


# --- voxel centres and projection ---------------------------------------------------------


@pytest.mark.parametrize("resolution, extent", [(1, 1.0), (4, 1.0), (5, 2.0)])
def test_voxel_centres_match_the_convention(resolution, extent):
    centres = voxel_centres(resolution, extent)
    assert centres.dtype == tf.float32
    assert centres.shape == (resolution, resolution, resolution, 3)
    np.testing.assert_allclose(centres.numpy(), _np_centres(resolution, extent), atol=1e-7)
    assert voxel_centres(2, dtype=tf.float64).dtype == tf.float64


def test_project_points_matches_numpy_on_random_cameras():
    rng = np.random.default_rng(0)
    Ks, Rs, ts = _random_cameras(rng, 4, 2.5, 30.0, 24, 32)
    points = rng.uniform(-0.5, 0.5, size=(2, 5, 3))
    # cameras [4, 1] broadcast against the points' batch [2]: result [4, 2, 5, ...]
    pixels, depth = project_points(points, Ks[:, None], Rs[:, None], ts[:, None])
    assert pixels.shape == (4, 2, 5, 2) and depth.shape == (4, 2, 5)
    for c in range(4):
        for b in range(2):
            for p in range(5):
                want_pixel, want_depth = _np_project(points[b, p], Ks[c], Rs[c], ts[c])
                np.testing.assert_allclose(pixels[c, b, p], want_pixel, rtol=1e-10)
                np.testing.assert_allclose(depth[c, b, p], want_depth, rtol=1e-10)


def test_project_points_float32_and_unbatched():
    rng = np.random.default_rng(1)
    K, R, t = (a[0].astype(np.float32) for a in _random_cameras(rng, 1, 3.0, 20.0, 16, 16))
    points = rng.uniform(-0.5, 0.5, size=(7, 3)).astype(np.float32)
    pixels, depth = project_points(points, K, R, t)
    assert pixels.dtype == tf.float32 and pixels.shape == (7, 2) and depth.shape == (7,)
    camera = points.astype(np.float64) @ R.T.astype(np.float64) + t
    homogeneous = camera @ K.T.astype(np.float64)
    np.testing.assert_allclose(pixels, homogeneous[:, :2] / homogeneous[:, 2:], rtol=1e-5)
    np.testing.assert_allclose(depth, camera[:, 2], rtol=1e-5)


@pytest.mark.parametrize("i, j", [(0, 0), (2, 5), (7, 7), (7, 0)])
def test_a_point_on_a_pixel_centre_samples_exactly_that_pixel(i, j):
    rng = np.random.default_rng(i * 8 + j)
    features = rng.normal(size=(1, 1, 8, 8, 2))
    rotation = _look_at(np.array([0.3, -0.4, 2.0]), rng)[0]
    translation = np.array([0.0, 0.0, 2.0])  # the origin, the only voxel centre at R=1, at z=2
    K = np.array([[9.0, 0.0, j + 0.5], [0.0, 7.0, i + 0.5], [0.0, 0.0, 1.0]])
    pixels, _ = project_points(np.zeros((1, 3)), K, rotation, translation)
    np.testing.assert_allclose(pixels[0], [j + 0.5, i + 0.5], atol=1e-12)
    grid = unproject(features, K, rotation, translation, resolution=1, depth_channel=False)
    np.testing.assert_allclose(grid[0, 0, 0, 0, 0], features[0, 0, i, j], atol=1e-12)


# --- unprojection ---------------------------------------------------------------------------


def test_unproject_matches_an_explicit_loop():
    rng = np.random.default_rng(2)
    batch, views, size, resolution = 2, 3, 8, 4
    features = rng.normal(size=(batch, views, size, size, 3))
    # near cameras with a long focal length: some voxels project outside, some lie behind
    Ks, Rs, ts = _random_cameras(rng, batch * views, 0.6, 6.0, size, size)
    Ks, Rs, ts = (a.reshape(batch, views, *a.shape[1:]) for a in (Ks, Rs, ts))
    Ks[1, 2] = _intrinsics(4.0, size, size)  # one wide view sees every voxel in front of it
    grid, mask = unproject(features, Ks, Rs, ts, resolution, return_mask=True)
    assert grid.shape == (batch, views, resolution, resolution, resolution, 4)
    assert mask.shape == (batch, views, resolution, resolution, resolution)
    want_grid, want_mask = _np_unproject(features, Ks, Rs, ts, resolution)
    np.testing.assert_allclose(grid, want_grid, atol=1e-10)
    np.testing.assert_array_equal(mask, want_mask)
    assert 0 < want_mask.mean() < 1, "the cameras should see some voxels and miss others"
    assert np.any(want_grid[..., -1] < 0), "some voxels should lie behind a camera"
    outside = want_mask == 0
    assert np.all(grid.numpy()[..., :3][outside] == 0)


def test_unproject_matches_scipy_map_coordinates_inside_the_image():
    rng = np.random.default_rng(3)
    size, resolution = 12, 5
    features = rng.normal(size=(1, 2, size, size, 2)).astype(np.float32)
    Ks, Rs, ts = (a[None] for a in _random_cameras(rng, 2, 2.5, 14.0, size, size))
    grid, mask = unproject(
        features, Ks.astype(np.float32), Rs.astype(np.float32), ts.astype(np.float32),
        resolution, depth_channel=False, return_mask=True,
    )  # fmt: skip
    centres = _np_centres(resolution).reshape(-1, 3)
    for view in range(2):
        camera = centres @ Rs[0, view].T + ts[0, view]
        pixel = camera @ Ks[0, view].T
        u, v = pixel[:, 0] / pixel[:, 2], pixel[:, 1] / pixel[:, 2]
        inside = (camera[:, 2] > 0) & (u >= 0) & (u < size) & (v >= 0) & (v < size)
        assert inside.mean() > 0.5
        for channel in range(2):
            want = ndimage.map_coordinates(
                features[0, view, :, :, channel].astype(np.float64),
                [v[inside] - 0.5, u[inside] - 0.5],
                order=1,
                mode="nearest",
            )
            got = grid[0, view, ..., channel].numpy().reshape(-1)
            np.testing.assert_allclose(got[inside], want, atol=1e-5)
            assert np.all(got[~inside] == 0)
        np.testing.assert_array_equal(mask[0, view].numpy().reshape(-1), inside)


def test_unproject_depth_channel_is_camera_z_and_cameras_broadcast():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(2, 3, 6, 6, 1))
    Ks, Rs, ts = _random_cameras(rng, 3, 2.0, 6.0, 6, 6)
    grid = unproject(features, Ks, Rs, ts, resolution=3, extent=0.8)  # cameras [V]: per view
    centres = _np_centres(3, extent=0.8)
    for v in range(3):
        want = centres @ Rs[v].T + ts[v]
        for b in range(2):
            np.testing.assert_allclose(grid[b, v, ..., 1], want[..., 2], atol=1e-12)
    same = unproject(features, Ks[None], Rs[None], ts[None], resolution=3, extent=0.8)
    np.testing.assert_array_equal(grid, same)


def test_voxels_outside_the_view_get_zeros():
    rng = np.random.default_rng(5)
    features = rng.uniform(1.0, 2.0, size=(1, 2, 8, 8, 2))
    K = _intrinsics(8.0, 8, 8)
    R = np.eye(3)
    # view 0 looks away from the grid (all of it behind); view 1 sees it from far off-axis
    t = np.array([[[0.0, 0.0, -3.0], [40.0, 0.0, 3.0]]])
    grid, mask = unproject(features, K, R, t, resolution=4, return_mask=True)
    assert np.all(mask.numpy() == 0)
    assert np.all(grid.numpy()[..., :2] == 0)
    np.testing.assert_allclose(
        grid[0, 0, ..., 2], -3.0 + _np_centres(4)[..., 2], atol=1e-12
    )  # depth is kept


def test_a_sphere_lands_inside_its_silhouette_in_every_view():
    rng = np.random.default_rng(6)
    size, resolution, radius, distance, focal = 32, 16, 0.3, 2.5, 60.0
    Ks, Rs, ts = _random_cameras(rng, 5, distance, focal, size, size)
    masks = np.zeros((5, size, size, 1))
    rows, cols = np.mgrid[0:size, 0:size]
    pixels = np.stack([cols + 0.5, rows + 0.5, np.ones_like(rows, float)], axis=-1)
    for v in range(5):
        centre = -Rs[v].T @ ts[v]  # the camera centre in world coordinates
        rays = pixels @ np.linalg.inv(Ks[v]).T @ Rs[v]  # world directions, R^T K^-1 [u, v, 1]
        closest = np.linalg.norm(np.cross(centre, rays), axis=-1) / np.linalg.norm(rays, axis=-1)
        masks[v, ..., 0] = closest < radius
    assert 0.05 < masks.mean() < 0.5
    grid = unproject(masks[None], Ks[None], Rs[None], ts[None], resolution, depth_channel=False)
    values = grid.numpy()[0, ..., 0]  # [V, R, R, R]
    distances = np.linalg.norm(_np_centres(resolution), axis=-1)
    inside = distances < radius
    margin = 2.0 * (distance + radius) / focal  # a pixel diagonal at the sphere, and some
    deep = distances < radius - margin
    assert inside.sum() > 50 and deep.sum() > 5
    # inside the sphere: inside every silhouette (near the surface, bilinear weights may blend
    # in pixels whose centres miss the sphere); a pixel diagonal deeper: exactly 1
    assert np.all(values[:, inside] > 0), "a point inside the sphere is in every silhouette"
    assert np.mean(values[:, inside] > 0.99) > 0.85
    np.testing.assert_allclose(values[:, deep], 1.0, atol=1e-12)
    # the visual hull of 5 views is close to the sphere; voxels farther out leave a silhouette
    hull = np.all(values >= 0.5, axis=0)
    assert np.all(hull[deep]) and hull.sum() < 1.2 * inside.sum()
    far = distances > radius + margin
    assert np.all(values[:, far].min(axis=0) < 0.5), "far voxels leave some silhouette"


def test_unproject_in_a_function_with_unknown_sizes():
    rng = np.random.default_rng(7)
    features = rng.normal(size=(2, 3, 8, 10, 4)).astype(np.float32)
    Ks, Rs, ts = (
        a.reshape(2, 3, *a.shape[1:]).astype(np.float32)
        for a in _random_cameras(rng, 6, 2.0, 10.0, 8, 10)
    )
    eager = unproject(features, Ks, Rs, ts, 4)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, None, 4]),
            tf.TensorSpec([None, None, 3, 3]),
            tf.TensorSpec([None, None, 3, 3]),
            tf.TensorSpec([None, None, 3]),
        ]
    )
    def compiled(f, K, R, t):
        return unproject(f, K, R, t, 4)

    np.testing.assert_allclose(compiled(features, Ks, Rs, ts), eager, atol=1e-6)


# --- gradients --------------------------------------------------------------------------------


def _small_scene(seed: int):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(1, 2, 5, 6, 2))
    Ks, Rs, ts = _random_cameras(rng, 2, 2.0, 5.0, 5, 6)
    return features, Ks[None], Rs[None], ts[None]


def _project_output(grid: tf.Tensor) -> tf.Tensor:
    """`[6]` fixed random linear functionals of the grid (its Jacobian in 6 rows)."""
    weights = np.random.default_rng(99).normal(size=(int(np.prod(grid.shape)), 6))
    return tf.reshape(grid, [1, -1]) @ tf.constant(weights, grid.dtype)


def test_unproject_gradient_wrt_features_matches_finite_differences():
    features, K, R, t = _small_scene(8)

    def fn(f):  # a few random projections of the grid: few backward passes
        return _project_output(unproject(f, K, R, t, resolution=3))

    testing.assert_jacobian_matches(fn, [features])


def test_unproject_gradient_wrt_cameras_matches_finite_differences():
    features, K, R, t = _small_scene(9)

    def fn(K, R, t):
        return _project_output(unproject(features, K, R, t, resolution=3))

    testing.assert_jacobian_matches(fn, [K, R, t], atol=1e-5, rtol=1e-4)


def test_unproject_gradients_are_finite_at_the_camera_plane():
    features = np.ones((1, 1, 4, 4, 1), np.float32)
    K = _intrinsics(4.0, 4, 4).astype(np.float32)
    R = np.eye(3, dtype=np.float32)
    t = np.array([0.0, 0.0, 0.25], np.float32)  # voxel centres at z = -0.25 sit at camera z = 0

    def fn(f, K, R, t):
        return unproject(f, K, R, t, resolution=2)

    testing.assert_gradient_finite(fn, features, K, R, t)
    _, depth = project_points(voxel_centres(2), K, R, t)
    assert np.any(depth.numpy() == 0)


# --- argument checks ------------------------------------------------------------------------


def _good():
    features = np.zeros((1, 2, 4, 4, 3), np.float32)
    K = _intrinsics(4.0, 4, 4).astype(np.float32)
    return features, K, np.eye(3, dtype=np.float32), np.array([0, 0, 2.0], np.float32)


@pytest.mark.parametrize(
    "argument, value",
    [
        ("features", np.zeros((2, 4, 4, 3), np.float32)),
        ("K", np.zeros((3, 4), np.float32)),
        ("K", np.zeros((3, 3), np.float32)),
        ("K", np.array([[4.0, 0, 2], [0, 0, 2], [0, 0, 1]], np.float32)),
        ("K", np.array([[4.0, 0, 2], [0, 4, 2], [0, 0, 0]], np.float32)),
        ("K", np.array([[4.0, 0, 2], [0, 4, 2], [0, 0, np.nan]], np.float32)),
        ("K", np.tile(_intrinsics(4.0, 4, 4).astype(np.float32), (5, 1, 1))),
        ("K", np.tile(_intrinsics(4.0, 4, 4).astype(np.float32), (1, 1, 2, 1, 1))),
        ("R", np.eye(3, dtype=np.float32)[:2]),
        ("R", np.zeros((3,), np.float32)),
        ("t", np.zeros((4,), np.float32)),
        ("t", np.zeros((3, 3), np.int32)),
        ("resolution", 0),
    ],
)
def test_unproject_rejects_bad_arguments_naming_them(argument, value):
    features, K, R, t = _good()
    arguments = dict(features=features, K=K, R=R, t=t, resolution=2)
    arguments[argument] = value
    with pytest.raises(ValueError, match=rf"\b{argument}\b"):
        unproject(**arguments)


@pytest.mark.parametrize(
    "argument, value",
    [
        ("points", np.zeros((4, 2), np.float32)),
        ("K", np.diag([0.0, 4.0, 1.0]).astype(np.float32)),
        ("K", np.zeros((2, 3, 3), np.float32)),
        ("R", np.zeros((3, 2), np.float32)),
        ("t", np.zeros((2,), np.float32)),
    ],
)
def test_project_points_rejects_bad_arguments_naming_them(argument, value):
    _, K, R, t = _good()
    arguments = dict(points=np.zeros((4, 3), np.float32), K=K, R=R, t=t)
    arguments[argument] = value
    with pytest.raises(ValueError, match=rf"\b{argument}\b"):
        project_points(**arguments)


def test_voxel_centres_rejects_bad_arguments():
    with pytest.raises(ValueError, match="resolution"):
        voxel_centres(0)
    with pytest.raises(ValueError, match="extent"):
        voxel_centres(4, extent=-1.0)
    assert unprojection.voxel_centres is voxel_centres
