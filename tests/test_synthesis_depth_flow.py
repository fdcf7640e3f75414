"""Tests of course_lib.synthesis.depth_flow (depth and 3D flow learnt by warping) and
course_lib.synthesis.plane_sweep (the learning-free baseline)."""

import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import stereo_scenes
from course_lib.synthesis import depth_flow, plane_sweep, warp

SIZE = 32


@pytest.fixture(scope="module")
def video():
    return stereo_scenes.make_stereo_video(range(6), image_size=SIZE, use_cache=False)


def _loss(video, depth, flow):
    batch = depth_flow.video_batch(video, np.arange(len(video)))
    return float(depth_flow.synthesis_loss(batch, depth, flow)["photometric"])


def test_true_depth_and_flow_explain_the_images_best(video):
    depth, flow = video.depths[:, 0, 0], video.flow
    best = _loss(video, depth, flow)
    assert best < 0.5 * _loss(video, 1.3 * depth, flow)
    assert best < 0.5 * _loss(video, 0.75 * depth, flow)
    assert best < _loss(video, depth, np.zeros_like(flow))
    assert best < _loss(video, depth, -flow)


def test_warped_views_follow_the_data_conventions(video):
    batch = depth_flow.video_batch(video, [0, 1])
    views = depth_flow.warped_views(batch, video.depths[:2, 0, 0], video.flow[:2])
    target = video.images[:2, 0, 0]
    for name, (warped, mask) in views.items():
        valid = mask.numpy() > 0
        assert valid.mean() > 0.6, name
        error = np.abs(warped.numpy() - target).mean(-1)[valid].mean()
        assert error < 0.04, name


def test_model_outputs_lie_in_their_ranges(video):
    model = depth_flow.DepthFlowNet(width=4)
    out = model(depth_flow.video_batch(video, [0, 1, 2]))
    assert out["depth"].shape == (3, SIZE, SIZE) and out["flow"].shape == (3, SIZE, SIZE, 3)
    depth, flow = out["depth"].numpy(), out["flow"].numpy()
    assert depth.min() >= depth_flow.MIN_DEPTH - 1e-4 and depth.max() <= depth_flow.MAX_DEPTH
    assert np.abs(flow).max() <= depth_flow.MAX_FLOW
    clone = depth_flow.DepthFlowNet.from_config(model.get_config())
    assert clone.width == 4


def test_both_networks_learn_from_the_photometric_loss(video):
    model = depth_flow.DepthFlowNet(width=4)
    batch = depth_flow.video_batch(video, [0, 1])
    with tf.GradientTape() as tape:
        out = model(batch)
        loss = depth_flow.synthesis_loss(batch, out["depth"], out["flow"])["total"]
    grads = tape.gradient(loss, model.trainable_variables)
    for net in (model.depth_net, model.flow_net):
        ids = {id(v) for v in net.trainable_variables}
        mine = [g for v, g in zip(model.trainable_variables, grads, strict=True) if id(v) in ids]
        assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in mine)
        assert max(float(tf.reduce_max(tf.abs(g))) for g in mine) > 0


def test_training_lowers_the_loss_and_the_depth_error(video):
    tf.keras.utils.set_random_seed(0)
    model = depth_flow.DepthFlowNet(width=8)
    before = depth_flow.depth_error(
        depth_flow.predict(model, video)["depth"], video.depths[:, 0, 0]
    )
    losses = depth_flow.train_depth_flow(
        model, video, 80, batch_size=4, learning_rate=2e-3, progress=False
    )
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    after = depth_flow.depth_error(depth_flow.predict(model, video)["depth"], video.depths[:, 0, 0])
    assert after < 0.7 * before


def test_depth_error_and_flow_direction_by_hand():
    truth = np.array([[1.0, 2.0], [4.0, 5.0]])
    assert depth_flow.depth_error(truth * 1.1, truth) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="depth"):
        depth_flow.depth_error(truth[0], truth)
    flow = np.zeros((2, 2, 2, 3))
    flow[0, 0, 0] = [1, 0, 0]
    flow[1, 1, 1] = [0, -1, 0]
    moving = np.zeros((2, 2, 2), bool)
    moving[0, 0, 0] = moving[1, 1, 1] = True
    cosine = depth_flow.flow_direction(flow, moving, np.array([[2.0, 0, 0], [0, 1.0, 1.0]]))
    np.testing.assert_allclose(cosine, [1.0, -1 / np.sqrt(2)])


@pytest.mark.filterwarnings("ignore:.*unbuilt state")
@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called")
@pytest.mark.parametrize(
    ("batch", "name"),
    [
        ({"images": np.zeros((1, 2, 2, 16, 16, 3), np.float32)}, "batch"),
        (np.zeros((1, 2, 2, 16, 16, 3), np.float32), "batch"),
    ],
)
def test_bad_batches_name_the_argument(batch, name):
    with pytest.raises(ValueError, match=name):
        depth_flow.DepthFlowNet(width=4)(batch)


@pytest.mark.filterwarnings("ignore:.*unbuilt state")
@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called")
def test_bad_image_shapes_name_images(video):
    batch = depth_flow.video_batch(video, [0])
    for images in (batch["images"][:, :, :, :12, :12], batch["images"][:, :1]):
        with pytest.raises(ValueError, match="images"):
            depth_flow.DepthFlowNet(width=4)(dict(batch, images=images))


def test_plane_sweep_recovers_a_fronto_parallel_plane():
    rng = np.random.default_rng(0)
    coarse = rng.uniform(size=(1, 8, 8, 3)).astype(np.float32)
    source = tf.image.resize(coarse, (SIZE, SIZE), method="bicubic").numpy().clip(0, 1)
    K = np.array([[[SIZE, 0, SIZE / 2], [0, SIZE, SIZE / 2], [0, 0, 1]]], np.float32)
    R, t = np.eye(3, dtype=np.float32)[None], np.array([[-0.3, 0.0, 0.0]], np.float32)
    candidates = np.linspace(1.0, 4.0, 13).astype(np.float32)
    truth = candidates[5]
    target, _ = warp.inverse_warp(source, np.full((1, SIZE, SIZE), truth, np.float32), K, R, t)
    found = plane_sweep.plane_sweep_depth(target.numpy(), source, K, R, t, candidates)
    assert found.shape == (1, SIZE, SIZE)
    # Columns near the left border map outside the source for the nearer candidates.
    assert np.mean(found[0, 3:-3, 12:-3] == truth) > 0.95


def test_plane_sweep_beats_a_constant_depth_on_the_scenes(video):
    batch = depth_flow.video_batch(video, np.arange(len(video)))
    identity = np.tile(np.eye(3, dtype=np.float32), (len(video), 1, 1))
    found = plane_sweep.plane_sweep_depth(
        video.images[:, 0, 0], video.images[:, 0, 1], batch["K"], identity, batch["stereo_t"],
        np.geomspace(0.7, 7.0, 24),
    )  # fmt: skip
    truth = video.depths[:, 0, 0]
    # Where the right camera sees the point: on the left border there is nothing to match.
    _, seen = warp.inverse_warp(
        video.images[:, 0, 1], truth, batch["K"], identity, batch["stereo_t"]
    )
    seen = seen.numpy() > 0
    constant = np.full_like(truth, np.median(truth))
    swept_error = depth_flow.depth_error(found[seen], truth[seen])
    assert swept_error < 0.5 * depth_flow.depth_error(constant[seen], truth[seen])


def test_plane_sweep_bad_arguments():
    images = np.zeros((1, 8, 8, 3), np.float32)
    K, R, t = np.eye(3)[None], np.eye(3)[None], np.zeros((1, 3))
    with pytest.raises(ValueError, match="depths"):
        plane_sweep.plane_sweep_depth(images, images, K, R, t, [1.0, -1.0])
    with pytest.raises(ValueError, match="window"):
        plane_sweep.plane_sweep_depth(images, images, K, R, t, [1.0], window=4)
