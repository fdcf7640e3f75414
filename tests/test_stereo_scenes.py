"""course_lib.data.stereo_scenes: procedural stereo video with true depth and scene flow."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.data import shapes3d, stereo_scenes
from course_lib.data.stereo_scenes import BASELINE

SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)
SIZE = 32


@pytest.fixture(scope="module")
def video() -> stereo_scenes.StereoVideo:
    return stereo_scenes.render_scenes(SEEDS, SIZE)


@pytest.fixture(scope="module")
def scenes() -> list[stereo_scenes.Scene]:
    return [stereo_scenes.make_scene(seed) for seed in SEEDS]


def plane_depth(K: np.ndarray, R: np.ndarray, t: np.ndarray, size: int) -> np.ndarray:
    """``[H, W]`` camera z where each pixel centre's ray meets the ground z = 0 (NumPy, float64)."""
    rows, columns = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    pixels = np.stack([columns, rows, np.ones_like(rows)], -1)
    rays = pixels @ np.linalg.inv(K.astype(np.float64)).T  # camera frame, z = 1
    centre = -R.T @ t
    rays_world = rays @ R  # R^T r
    return -centre[2] / rays_world[..., 2]  # the ray's parameter is its camera z


def warp_errors(video, source, source_depth, R, t, flow):
    """Per-pixel L1 error of the source warped into left_t, and the masks (in image, visible)."""
    from course_lib.synthesis import inverse_warp
    from course_lib.synthesis.warp import backproject

    depth = video.depths[:, 0, 0]
    target = video.images[:, 0, 0]
    warped, inside = inverse_warp(source, depth, video.K, R, t, flow)
    error = np.abs(warped.numpy() - target).mean(-1)
    inside = inside.numpy() > 0
    # Occlusion, from the true depths: the source sees the point if its depth there agrees.
    seen, _ = inverse_warp(source_depth[..., None], depth, video.K, R, t, flow)
    points = backproject(depth, video.K).numpy() + (0.0 if flow is None else flow)
    z = np.einsum("bj,bhwj->bhw", R[:, 2], points) + t[:, None, None, 2]
    visible = inside & (np.abs(seen.numpy()[..., 0] - z) < 0.03 * z)
    return error, inside, visible


def test_shapes_and_dtypes(video):
    n, s = len(SEEDS), SIZE
    assert len(video) == n and video.image_size == s
    expected = {
        "images": ((n, 2, 2, s, s, 3), np.float32),
        "depths": ((n, 2, 2, s, s), np.float32),
        "flow": ((n, s, s, 3), np.float32),
        "moving": ((n, s, s), np.bool_),
        "surfaces": ((n, s, s), np.int8),
        "object_motion": ((n, 3), np.float32),
        "K": ((3, 3), np.float32),
        "stereo_t": ((3,), np.float32),
        "motion_R": ((n, 3, 3), np.float32),
        "motion_t": ((n, 3), np.float32),
        "seeds": ((n,), np.int64),
    }
    for field, (shape, dtype) in expected.items():
        value = getattr(video, field)
        assert value.shape == shape, field
        assert value.dtype == dtype, field
    np.testing.assert_array_equal(video.seeds, SEEDS)
    np.testing.assert_array_equal(video.K, shapes3d.intrinsics(SIZE))
    np.testing.assert_allclose(video.stereo_t, [-BASELINE, 0.0, 0.0], atol=1e-7)
    assert 0.0 <= video.images.min() and video.images.max() <= 1.0
    assert video.images[:, 0, 0].std(axis=(1, 2)).min() > 0.04  # textured, not flat


def test_deterministic_from_the_seed_and_seeds_differ(video):
    again = stereo_scenes.render_scenes([3, 5], SIZE)  # another batch, another order
    for field in ("images", "depths", "flow", "moving", "object_motion", "motion_R", "motion_t"):
        np.testing.assert_array_equal(getattr(again, field), getattr(video, field)[[3, 5]])
    a, b = stereo_scenes.make_scene(3), stereo_scenes.make_scene(3)
    np.testing.assert_array_equal(a.corners, b.corners)
    np.testing.assert_array_equal(a.waves, b.waves)
    assert np.abs(video.images[3] - video.images[5]).mean() > 0.05
    assert not np.allclose(video.motion_t[3], video.motion_t[5])


def test_the_video_is_cached_and_a_second_call_does_not_render(tmp_path, monkeypatch):
    first = stereo_scenes.make_stereo_video([2, 9], 16, cache_dir=tmp_path)
    path = stereo_scenes.cache_path([2, 9], 16, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert f"v{stereo_scenes.VERSION}" in path.name

    def fail(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(stereo_scenes, "render_scenes", fail)
    second = stereo_scenes.make_stereo_video([2, 9], 16, cache_dir=tmp_path)
    for field in stereo_scenes.StereoVideo.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(second, field), getattr(first, field))
        assert getattr(second, field).dtype == getattr(first, field).dtype
    others = [([2, 9], 32), ([9, 2], 16), ([2], 16)]  # the size, order and seeds key the file
    assert len({path, *(stereo_scenes.cache_path(s, z, tmp_path) for s, z in others)}) == 4


def test_the_profile_picks_the_default_size(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert stereo_scenes.profile_settings() == {"image_size": 32}
    assert stereo_scenes.profile_settings("full") == {"image_size": 64}
    data = stereo_scenes.make_stereo_video([4], cache_dir=tmp_path, use_cache=False)
    assert data.image_size == 32
    assert not list(tmp_path.iterdir())


def test_every_pixel_sees_a_surface_at_a_sane_depth(video):
    assert (video.depths > 0).all()
    assert (video.surfaces >= 0).all()
    assert 0.5 < video.depths.min() and video.depths.max() < 7.0


def test_ground_depth_is_the_ray_plane_intersection(video, scenes):
    matched = 0
    for n, scene in enumerate(scenes):
        for time in range(2):
            for eye in range(2):
                plane = plane_depth(video.K, scene.R[time, eye], scene.t[time, eye], SIZE)
                depth = video.depths[n, time, eye]
                assert (plane > 0).all()
                assert (depth <= plane * (1 + 1e-4)).all()  # nothing under the ground
                matched += np.mean(np.abs(depth - plane) < 1e-3 * plane)
                if time == eye == 0:
                    ground = video.surfaces[n] == 0
                    np.testing.assert_allclose(depth[ground], plane[ground], rtol=1e-3)
                    assert (depth[~ground] < plane[~ground]).all()  # objects stand above it
    assert matched / (4 * len(scenes)) > 0.5


def test_cameras_follow_the_conventions(video, scenes):
    from course_lib.graphics.geometry.transformation import look_at

    centre_depths = []
    for n, scene in enumerate(scenes):
        R, t = scene.R, scene.t
        centre = -R[0, 0].T @ t[0, 0]
        forward = R[0, 0, 2]
        target = centre - centre[2] / forward[2] * forward  # where the optical axis meets z = 0
        np.testing.assert_allclose(
            look_at.right_handed(centre, target, [0.0, 0.0, 1.0]).numpy(), R[0, 0], atol=1e-6
        )
        assert 1.2 <= centre[2] <= 1.6
        centre_depths.append(np.linalg.norm(target - centre))
        for time in range(2):  # right = left moved by BASELINE along the left camera's +x
            np.testing.assert_array_equal(R[time, 1], R[time, 0])
            np.testing.assert_allclose(t[time, 1], t[time, 0] + [-BASELINE, 0, 0], atol=1e-12)
            right_centre = -R[time, 1].T @ t[time, 1]
            left_centre = -R[time, 0].T @ t[time, 0]
            np.testing.assert_allclose(right_centre - left_centre, BASELINE * R[time, 0, 0])
        # motion: a static world point seen at x in left-t is at motion_R x + motion_t at t + 1
        point = np.array([0.3, -0.2, 0.1])
        x0, x1 = R[0, 0] @ point + t[0, 0], R[1, 0] @ point + t[1, 0]
        np.testing.assert_allclose(video.motion_R[n] @ x0 + video.motion_t[n], x1, atol=1e-5)
        np.testing.assert_allclose(video.motion_R[n], scene.motion_R, atol=1e-6)
        step = (-R[1, 0].T @ t[1, 0]) - centre
        assert abs(step[2]) < 1e-9 and np.linalg.norm(step) <= 0.15 + 1e-9
        angle = np.degrees(np.arccos(np.clip((np.trace(scene.motion_R) - 1) / 2, -1, 1)))
        assert angle <= stereo_scenes.YAW_MOTION_DEG + 1e-6
    assert 1.5 < min(centre_depths) and max(centre_depths) < 3.5


def test_objects_rest_on_the_ground_and_are_seen(video, scenes):
    for n, scene in enumerate(scenes):
        assert 2 <= scene.num_objects <= 3
        assert 1 <= scene.moving <= scene.num_objects
        for k in range(1, scene.num_objects + 1):
            corners = scene.corners[scene.surfaces == k].reshape(-1, 3)
            assert abs(corners[:, 2].min()) < 1e-6
            c, s = np.cos(scene.yaws[k - 1]), np.sin(scene.yaws[k - 1])
            local = corners @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])  # Rz^T x
            side = np.ptp(local, axis=0).max()
            assert 0.5 - 1e-6 <= side <= 0.9 + 1e-6
            assert (video.surfaces[n] == k).sum() >= 5  # seen at t, not hidden by the others
        length = np.linalg.norm(scene.translation)
        assert 0.15 <= length <= 0.35 and scene.translation[2] == 0.0


def test_flow_is_the_moving_objects_translation_and_zero_elsewhere(video, scenes):
    for n, scene in enumerate(scenes):
        moving = video.moving[n]
        np.testing.assert_array_equal(moving, video.surfaces[n] == scene.moving)
        assert moving.sum() >= 5
        np.testing.assert_allclose(
            video.object_motion[n], scene.R[0, 0] @ scene.translation, atol=1e-6
        )
        expected = np.broadcast_to(video.object_motion[n], (moving.sum(), 3))
        np.testing.assert_allclose(video.flow[n][moving], expected, atol=1e-6)
        assert (video.flow[n][~moving] == 0).all()


def test_warping_with_the_true_depth_motion_and_flow_reproduces_left_t(video):
    n = len(video)
    identity = np.tile(np.eye(3, dtype=np.float32), (n, 1, 1))
    stereo = np.tile(video.stereo_t, (n, 1))
    cases = {
        "right_t": (video.images[:, 0, 1], video.depths[:, 0, 1], identity, stereo, None),
        "left_t1": (
            video.images[:, 1, 0],
            video.depths[:, 1, 0],
            video.motion_R,
            video.motion_t,
            video.flow,
        ),
        "right_t1": (
            video.images[:, 1, 1],
            video.depths[:, 1, 1],
            video.motion_R,
            video.motion_t + stereo,
            video.flow,
        ),
    }
    for name, (source, source_depth, R, t, flow) in cases.items():
        error, inside, visible = warp_errors(video, source, source_depth, R, t, flow)
        unwarped = np.abs(source - video.images[:, 0, 0]).mean(-1)
        assert visible.mean() > 0.6, name
        assert error[inside].mean() < 0.03, (name, error[inside].mean())
        assert error[visible].mean() < 0.02, (name, error[visible].mean())
        assert error[visible].mean() < 0.25 * unwarped.mean(), name
        if flow is not None:  # without the flow the moving object does not match
            still, still_inside, _ = warp_errors(video, source, source_depth, R, t, None)
            on = visible & video.moving
            off = still_inside & video.moving
            assert error[on].mean() < 0.04, (name, error[on].mean())
            assert still[off].mean() > 3 * error[on].mean(), (name, still[off].mean())


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: stereo_scenes.render_scenes([], 16), "seeds"),
        (lambda: stereo_scenes.render_scenes([1, -2], 16), "seeds"),
        (lambda: stereo_scenes.render_scenes([1], 4), "image_size"),
        (lambda: stereo_scenes.make_stereo_video([-1], 16, use_cache=False), "seeds"),
        (lambda: stereo_scenes.make_stereo_video([1], 7, use_cache=False), "image_size"),
        (lambda: stereo_scenes.make_scene(-3), "seed"),
        (lambda: stereo_scenes.profile_settings("huge"), "profile"),
        (lambda: stereo_scenes.make_scene(1).corners_at(2), "time"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_wrong_types_raise_type_errors():
    with pytest.raises(TypeError, match="image_size"):
        stereo_scenes.render_scenes([1], 16.0)
    with pytest.raises(TypeError, match="use_cache"):
        stereo_scenes.make_stereo_video([1], 16, use_cache="yes")
