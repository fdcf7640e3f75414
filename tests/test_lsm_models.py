"""course_lib.lsm.models: the LSM and the 2D baseline (shapes, cameras, parameter budget), and
project_depth against a NumPy ray march, a cube's closed-form depth and finite differences."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from course_lib.data import shapes3d
from course_lib.graphics.util import testing
from course_lib.lsm import models
from course_lib.lsm.models import Baseline2D, LearntStereoMachine, project_depth

RES, SIZE = 8, 16


def _small_lsm(**kwargs) -> LearntStereoMachine:
    settings = dict(features=4, encoder_widths=(4, 8), gru_filters=4, decoder_widths=(4, 8))
    settings.update(kwargs)
    return LearntStereoMachine(RES, **settings)


def _inputs(batch=2, views=3, size=SIZE, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cameras = [shapes3d.random_cameras(seed + b, views, size) for b in range(batch)]
    return {
        "images": rng.uniform(size=(batch, views, size, size, 3)).astype(np.float32),
        "K": np.stack([c.K for c in cameras]),
        "R": np.stack([c.R for c in cameras]),
        "t": np.stack([c.t for c in cameras]),
    }


@pytest.mark.parametrize("views", [1, 2, 3])
def test_both_models_give_logits_of_the_grid_for_any_number_of_views(views):
    keras.utils.set_random_seed(0)
    inputs = _inputs(views=views)
    lsm, baseline = _small_lsm(), Baseline2D(RES, encoder_widths=(4, 8), latent=8, channels=8)
    for model in (lsm, baseline):
        out = model(inputs)
        assert out.shape == (2, RES, RES, RES) and out.dtype == tf.float32
        assert np.all(np.isfinite(out))
    as_tuple = lsm(tuple(inputs[k] for k in ("images", "K", "R", "t")))
    np.testing.assert_allclose(as_tuple, lsm(inputs), atol=1e-6)
    stages = lsm.stages(inputs)
    assert stages["features"].shape == (2, views, SIZE, SIZE, 4)
    assert stages["grids"].shape == (2, views, RES, RES, RES, 4 + 1 + 3)  # depth, x, y, z
    assert stages["states"].shape == (2, views, RES, RES, RES, 4)
    np.testing.assert_allclose(stages["logits"], lsm(inputs), atol=1e-6)
    np.testing.assert_allclose(stages["states"][:, -1], stages["fused"])


def test_the_coordinates_option_appends_the_voxel_centres_to_every_view():
    inputs = _inputs(views=2)
    assert _small_lsm(coordinates=False).stages(inputs)["grids"].shape[-1] == 4 + 1
    grids = _small_lsm(coordinates=True).stages(inputs)["grids"]
    assert grids.shape == (2, 2, RES, RES, RES, 4 + 1 + 3)
    centres = np.broadcast_to(shapes3d.voxel_centres(RES), (2, 2, RES, RES, RES, 3))
    np.testing.assert_allclose(grids[..., -3:], centres, atol=1e-6)


def test_global_context_lets_a_far_pixel_change_the_features():
    keras.utils.set_random_seed(4)
    images = np.random.default_rng(4).uniform(size=(1, 16, 16, 3)).astype(np.float32)
    changed = images.copy()
    changed[0, 0, 0] += 1.0
    for global_context, differs in ((False, False), (True, True)):
        encoder = models.ImageEncoder(3, (4, 8), global_context=global_context)
        far = np.abs(encoder(images)[0, -4:, -4:] - encoder(changed)[0, -4:, -4:])
        assert (np.max(far) > 1e-6) == differs


def test_the_lsm_uses_the_cameras_and_the_baseline_does_not():
    keras.utils.set_random_seed(1)
    inputs = _inputs()
    moved = dict(inputs, t=inputs["t"] + np.float32([0.1, -0.05, 0.2]))
    lsm = _small_lsm()
    assert np.max(np.abs(lsm(inputs) - lsm(moved))) > 1e-4
    other = dict(inputs, K=inputs["K"] * np.float32([[1.2], [1.2], [1.0]]))
    assert np.max(np.abs(lsm(inputs) - lsm(other))) > 1e-4

    baseline = Baseline2D(RES, encoder_widths=(4, 8), latent=8, channels=8)
    np.testing.assert_array_equal(baseline(inputs), baseline(moved))
    np.testing.assert_array_equal(baseline(inputs), baseline(inputs["images"]))
    with pytest.raises(ValueError, match="'K', 'R' and 't'"):
        lsm(inputs["images"])


def test_the_encoder_and_decoder_keep_the_spatial_size():
    encoder = models.ImageEncoder(5, (4, 8, 16))
    assert encoder(np.zeros((3, 8, 12, 3), np.float32)).shape == (3, 8, 12, 5)
    decoder = models.VoxelDecoder((4, 8, 16))
    assert decoder(np.zeros((2, 8, 4, 12, 3), np.float32)).shape == (2, 8, 4, 12)
    with pytest.raises(ValueError, match="images"):
        encoder(np.zeros((1, 6, 8, 3), np.float32))
    with pytest.raises(ValueError, match="grid"):
        decoder(np.zeros((1, 6, 8, 8, 3), np.float32))


@pytest.mark.parametrize(("resolution", "size"), [(16, 32), (32, 64)])
def test_the_baseline_has_the_parameter_budget_of_the_lsm(resolution, size):
    inputs = _inputs(batch=1, views=2, size=size)
    lsm, baseline = LearntStereoMachine(resolution), Baseline2D(resolution)
    with pytest.raises(ValueError, match="model"):
        models.count_params(lsm)
    lsm(inputs)
    baseline(inputs)
    ratio = models.count_params(baseline) / models.count_params(lsm)
    assert 0.7 <= ratio <= 1.3, ratio
    assert models.count_params(lsm) == lsm.count_params()


def test_models_round_trip_through_their_config():
    lsm = _small_lsm()
    copy = LearntStereoMachine.from_config(lsm.get_config())
    assert copy.get_config() == lsm.get_config()
    baseline = Baseline2D(RES, latent=8)
    assert Baseline2D.from_config(baseline.get_config()).get_config() == baseline.get_config()


# --- project_depth ----------------------------------------------------------------------------


def _camera_on_x(distance: float, size: int, focal: float):
    """A camera at (distance, 0, 0) looking at the origin, world z up (image y down)."""
    R = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    t = -R @ np.array([distance, 0.0, 0.0])
    K = np.array([[focal, 0.0, size / 2], [0.0, focal, size / 2], [0.0, 0.0, 1.0]])
    return K, R, t


def _np_project_depth(occupancy, K, R, t, size, samples, extent=1.0):
    """The ray march by hand: SciPy's linear interpolation on the zero-padded grid, products."""
    res = occupancy.shape[0]
    padded = np.pad(occupancy, 1)
    half = extent * np.sqrt(3) / 2
    near, far = max(t[2] - half, 1e-3), t[2] + half
    depths = near + (np.arange(samples) + 0.5) * (far - near) / samples
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            ray = np.linalg.solve(K, [j + 0.5, i + 0.5, 1.0])
            points = np.array([R.T @ (d * ray - t) for d in depths])  # [S, 3]
            coords = (points + extent / 2) * res / extent - 0.5 + 1
            p = ndimage.map_coordinates(padded, coords.T, order=1, mode="constant", cval=0.0)
            survive = np.concatenate([[1.0], np.cumprod(1 - p)[:-1]])
            out[i, j] = np.sum(p * survive * depths)
    return out


def test_project_depth_matches_a_numpy_ray_march():
    rng = np.random.default_rng(3)
    occupancy = rng.uniform(size=(2, 6, 6, 6))
    cameras = [shapes3d.random_cameras(s, 1, 8) for s in (4, 5)]
    K = np.stack([c.K[0] for c in cameras]).astype(np.float64)
    R = np.stack([c.R[0] for c in cameras]).astype(np.float64)
    t = np.stack([c.t[0] for c in cameras]).astype(np.float64)
    depth = project_depth(occupancy, K, R, t, 8, num_samples=20)
    assert depth.shape == (2, 8, 8) and depth.dtype == tf.float64
    for b in range(2):
        want = _np_project_depth(occupancy[b], K[b], R[b], t[b], 8, 20)
        np.testing.assert_allclose(depth[b], want, atol=1e-6)
    # per-view cameras [B, V, ...] give [B, V, H, W], each view as alone
    stacked = project_depth(occupancy, K[:, None], R[:, None], t[:, None], (8, 8), num_samples=20)
    np.testing.assert_allclose(stacked[:, 0], depth, atol=1e-12)


def test_a_solid_cube_seen_along_x_has_its_front_face_at_the_closed_form_depth():
    res, size, distance, half = 16, 16, 2.0, 0.25
    centres = shapes3d.voxel_centres(res)
    cube = np.all(np.abs(centres) < half, axis=-1).astype(np.float32)  # [-0.25, 0.25]^3
    K, R, t = (a.astype(np.float32) for a in _camera_on_x(distance, size, focal=16.0))
    depth, coverage = project_depth(
        cube[None], K[None], R[None], t[None], size, num_samples=128, return_coverage=True
    )
    depth, coverage = depth[0].numpy(), coverage[0].numpy()
    # the face x = 0.25 spans |y|, |z| < 0.25: camera depth 1.75, pixels |u - 8| < 16 * 0.25 / 1.75
    centre = slice(6, 10)
    assert np.all(np.abs(depth[centre, centre] - (distance - half)) <= 0.5 / res)
    assert np.all(coverage[centre, centre] > 0.99)
    assert np.all(depth[:2, :2] == 0) and np.all(coverage[:2, :2] < 1e-6)  # rays that miss
    far_depth = project_depth(cube[None], K[None], R[None], t[None], size, background="far")
    np.testing.assert_allclose(far_depth[0, 0, 0], distance + np.sqrt(3) / 2, rtol=1e-5)
    testing.assert_gradient_finite(
        lambda occ: project_depth(occ, K[None], R[None], t[None], 4, num_samples=16), cube[None]
    )


def test_project_depth_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    occupancy = rng.uniform(0.1, 0.9, size=(1, 3, 3, 3))
    K, R, t = _camera_on_x(1.5, 3, focal=2.0)
    R = R @ np.array([[1, 0, 0], [0, 0.96, -0.28], [0, 0.28, 0.96]])  # a tilted view

    def depth(occ):
        return project_depth(occ, K[None], R[None], t[None], 3, num_samples=8)

    testing.assert_jacobian_matches(depth, [occupancy])


def test_the_depth_lsm_projects_its_occupancy_into_every_view():
    keras.utils.set_random_seed(2)
    lsm = _small_lsm()
    inputs = _inputs(views=2)
    depth = lsm.depth(inputs, num_samples=16)
    assert depth.shape == (2, 2, SIZE, SIZE)
    want = project_depth(
        lsm.occupancy(inputs), inputs["K"], inputs["R"], inputs["t"], SIZE, num_samples=16
    )
    np.testing.assert_allclose(depth, want, atol=1e-6)


def test_bad_arguments_are_refused_naming_them():
    K, R, t = _camera_on_x(2.0, 4, 4.0)
    occupancy = np.full((1, 4, 4, 4), 0.5)
    for kwargs, name in (
        ({"occupancy": np.zeros((1, 4, 4))}, "occupancy"),
        ({"occupancy": np.zeros((1, 4, 4, 5))}, "occupancy"),
        ({"K": np.zeros((1, 3, 4))}, "K"),
        ({"K": np.zeros((1, 3, 3))}, "K"),
        ({"t": np.zeros((1, 2))}, "t"),
        ({"R": np.zeros((1, 2, 3, 3))}, "R"),
        ({"image_size": (0, 4)}, "image_size"),
        ({"num_samples": 0}, "num_samples"),
        ({"background": "black"}, "background"),
        ({"near": 2.0, "far": 1.0}, "near"),
    ):
        arguments = dict(occupancy=occupancy, K=K[None], R=R[None], t=t[None], image_size=4)
        arguments.update(kwargs)
        with pytest.raises(ValueError, match=name):
            project_depth(**arguments)
    with pytest.raises(ValueError, match="resolution"):
        LearntStereoMachine(6, decoder_widths=(4, 8, 16))
    with pytest.raises(ValueError, match="resolution"):
        Baseline2D(12)
    with pytest.raises(ValueError, match="decoder_widths"):
        LearntStereoMachine(8, decoder_widths=())
    with pytest.raises(ValueError, match="images"):
        _small_lsm()(dict(_inputs(), images=np.zeros((2, 3, SIZE, SIZE), np.float32)))
    with pytest.raises(ValueError, match="images"):
        Baseline2D(8)({"K": K})
