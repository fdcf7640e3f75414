"""course_lib.synthesis.warp: back-projection and the inverse warp against NumPy and closed-form
scenes (a textured plane seen by two cameras, a plane that moves), gradients against finite
differences, points behind the camera, argument errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

from course_lib.synthesis import backproject, inverse_warp

H, W = 24, 32
K = np.array([[30.0, 0.0, 16.0], [0.0, 30.0, 12.0], [0.0, 0.0, 1.0]])


def _centres():
    rows, cols = np.mgrid[0:H, 0:W] + 0.5
    return np.stack([cols, rows, np.ones_like(rows)], -1)  # [H, W, 3]: u, v, 1


def _texture(x, y):
    """A smooth pattern on the plane, in world units."""
    return np.stack([np.sin(3 * x) * np.cos(2 * y), np.cos(4 * x + y), 0.5 + 0.3 * x], -1)


def _plane_images(R, t, flow=(0.0, 0.0, 0.0), z_plane=2.0):
    """The target and source views of the textured plane z = z_plane (target frame); between
    the frames the plane moves by ``flow`` and the camera by ``x' = R x + t``."""
    flow = np.asarray(flow)
    rays = _centres() @ np.linalg.inv(K).T
    target_points = rays * (z_plane / rays[..., 2:])
    target = _texture(target_points[..., 0], target_points[..., 1])
    # A source pixel's ray s d meets the moved plane where (R^T (s d - t))_z = z_plane + flow_z.
    d_target = rays @ R  # each ray d as R^T d: its direction in the target frame
    offset = R.T @ t
    s = (z_plane + flow[2] + offset[2]) / d_target[..., 2]
    on_plane = s[..., None] * d_target - offset - flow
    source = _texture(on_plane[..., 0], on_plane[..., 1])
    depth = np.full((H, W), z_plane)
    return target[None], source[None], depth[None]


def _numpy_warp(source, depth, R, t, flow):
    """The same warp written out in NumPy: back-project, move, project, bilinear sample."""
    points = depth[..., None] * (_centres() @ np.linalg.inv(K).T) + flow
    moved = points @ R.T + t
    pixels = moved @ K.T
    uv = pixels[..., :2] / pixels[..., 2:]
    inside = (moved[..., 2] > 0) & (uv[..., 0] >= 0) & (uv[..., 0] < W)
    inside &= (uv[..., 1] >= 0) & (uv[..., 1] < H)
    col = np.clip(uv[..., 0] - 0.5, 0, W - 1)
    row = np.clip(uv[..., 1] - 0.5, 0, H - 1)
    c0, r0 = np.floor(col).astype(int), np.floor(row).astype(int)
    c1, r1 = np.minimum(c0 + 1, W - 1), np.minimum(r0 + 1, H - 1)
    fc, fr = (col - c0)[..., None], (row - r0)[..., None]
    value = (source[r0, c0] * (1 - fc) + source[r0, c1] * fc) * (1 - fr)
    value += (source[r1, c0] * (1 - fc) + source[r1, c1] * fc) * fr
    return np.where(inside[..., None], value, source[0, 0]), inside


def _pose(angles_deg=(2.0, -3.0, 1.0), t=(0.1, -0.05, 0.05)):
    return Rotation.from_euler("xyz", angles_deg, degrees=True).as_matrix(), np.array(t)


def test_backproject_matches_numpy_and_projects_back_to_the_pixel_centres():
    depth = np.random.default_rng(0).uniform(1.0, 3.0, (2, H, W))
    points = backproject(depth, K).numpy()
    want = depth[..., None] * (_centres() @ np.linalg.inv(K).T)
    np.testing.assert_allclose(points, want, rtol=1e-12)
    projected = points @ K.T
    centres = np.broadcast_to(_centres()[..., :2], (2, H, W, 2))
    np.testing.assert_allclose(projected[..., :2] / projected[..., 2:], centres)


def test_zero_flow_and_identity_motion_reproduce_the_image_for_any_depth():
    rng = np.random.default_rng(1)
    image = rng.random((2, H, W, 3)).astype(np.float32)
    depth = rng.uniform(0.5, 5.0, (2, H, W)).astype(np.float32)
    eye, zero = np.eye(3, dtype=np.float32), np.zeros(3, np.float32)
    warped, mask = inverse_warp(image, depth, K.astype(np.float32), eye, zero)
    np.testing.assert_allclose(warped.numpy(), image, atol=1e-5)
    assert mask.numpy().min() == 1.0


def test_true_depth_and_camera_motion_reproduce_the_target_where_both_see_the_plane():
    R, t = _pose()
    target, source, depth = _plane_images(R, t)
    warped, mask = inverse_warp(source, depth, K, R[None], t[None])
    mask = mask.numpy()[0] > 0
    assert 0.7 < mask.mean() < 1.0  # part of the target leaves the source's image
    error = np.abs(warped.numpy()[0] - target[0])[mask].mean()
    unwarped = np.abs(source[0] - target[0])[mask].mean()
    assert error < 0.01 and error < 0.1 * unwarped, (error, unwarped)


def test_the_scene_flow_of_a_moving_plane_is_undone():
    flow = np.array([0.08, -0.04, 0.1])
    target, source, depth = _plane_images(np.eye(3), np.zeros(3), flow)
    flow_map = np.broadcast_to(flow, (1, H, W, 3))
    warped, mask = inverse_warp(source, depth, K, np.eye(3), np.zeros(3), flow=flow_map)
    static, _ = inverse_warp(source, depth, K, np.eye(3), np.zeros(3))
    mask = mask.numpy()[0] > 0
    error = np.abs(warped.numpy()[0] - target[0])[mask].mean()
    assert error < 0.01 and error < 0.1 * np.abs(static.numpy()[0] - target[0])[mask].mean()


def test_matches_a_numpy_warp_with_rotation_translation_and_flow():
    rng = np.random.default_rng(2)
    source = rng.random((H, W, 2))
    depth = rng.uniform(1.0, 4.0, (H, W))
    flow = rng.normal(0.0, 0.05, (H, W, 3))
    R, t = _pose((5.0, 4.0, -6.0), (0.3, 0.1, -0.2))
    warped, mask = inverse_warp(source[None], depth[None], K, R, t, flow=flow[None])
    want, inside = _numpy_warp(source, depth, R, t, flow)
    np.testing.assert_array_equal(mask.numpy()[0] > 0, inside)
    np.testing.assert_allclose(warped.numpy()[0][inside], want[inside], atol=1e-9)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    source = tf.constant(rng.random((1, 8, 10, 2)))
    k_small = np.array([[8.0, 0.0, 5.0], [0.0, 8.0, 4.0], [0.0, 0.0, 1.0]])
    depth = tf.constant(rng.uniform(1.5, 2.5, (1, 8, 10)))
    flow = tf.constant(rng.normal(0.0, 0.02, (1, 8, 10, 3)))
    R, t = _pose((1.0, -1.5, 0.5), (0.03, 0.02, 0.01))

    def check(fn, x):
        theoretical, numerical = tf.test.compute_gradient(fn, [x], delta=1e-6)
        np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-5)

    def warped(d, f, rotation, translation):
        out, mask = inverse_warp(source, d, k_small, rotation, translation, flow=f)
        return out * mask[..., None]

    check(lambda d: warped(d, flow, R, t), depth)
    check(lambda f: warped(depth, f, R, t), flow)
    check(lambda tr: warped(depth, flow, R, tr), tf.constant(t))
    check(lambda rot: warped(depth, flow, rot, t), tf.constant(R))
    check(lambda s: inverse_warp(s, depth, k_small, R, t)[0], source)


def test_points_at_or_behind_the_source_camera_are_masked_with_finite_gradients():
    values = np.full((1, H, W), 3.0)
    values[0, :, : W // 2] = 1.0  # the source camera is 2 units ahead: z' = z - 2 = -1, behind
    depth = tf.Variable(values)
    image = tf.constant(np.random.default_rng(4).random((1, H, W, 3)))
    t = np.array([0.0, 0.0, -2.0])
    with tf.GradientTape() as tape:
        warped, mask = inverse_warp(image, depth, K, np.eye(3), t)
        loss = tf.reduce_sum(warped * mask[..., None])
    gradient = tape.gradient(loss, depth).numpy()
    mask = mask.numpy()[0]
    assert mask[:, : W // 2].max() == 0.0  # behind the camera
    assert mask[H // 2, W // 2 + 1] == 1.0  # z' = 1, near the principal point: inside
    assert np.all(np.isfinite(warped.numpy())) and np.all(np.isfinite(gradient))
    assert np.all(gradient[0, :, : W // 2] == 0.0)
    at_camera = np.zeros((1, H, W))  # z' = 0 exactly
    warped, mask = inverse_warp(image, at_camera, K, np.eye(3), np.zeros(3))
    assert mask.numpy().max() == 0.0 and np.all(np.isfinite(warped.numpy()))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"source": np.zeros((H, W, 3))}, "source"),
        ({"depth": np.ones((H, W))}, "depth"),
        ({"depth": np.ones((1, H, W), np.int32)}, "depth"),
        ({"K": np.eye(2)}, "K"),
        ({"K": np.zeros((3, 3))}, "K"),
        ({"R": np.eye(4)}, "R"),
        ({"R": np.ones((1, 1, 1, 3, 3))}, "R"),
        ({"t": np.zeros(2)}, "t"),
        ({"flow": np.zeros((1, H, W, 2))}, "flow"),
        ({"flow": np.zeros((1, H + 1, W, 3))}, "flow"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    arguments = {
        "source": np.zeros((1, H, W, 3)),
        "depth": np.ones((1, H, W)),
        "K": K,
        "R": np.eye(3),
        "t": np.zeros(3),
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        inverse_warp(**arguments)
