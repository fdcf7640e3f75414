"""course_lib.lsm.training: voxel IoU against NumPy, the loss, the loop (loss falls, views drawn,
checkpoints resume where they stopped, strategies), evaluation, argument errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import shapes3d
from course_lib.lsm import training
from course_lib.lsm.models import Baseline2D, LearntStereoMachine

RES, SIZE = 8, 16


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> shapes3d.MultiViewSet:
    cache = tmp_path_factory.mktemp("shapes3d")
    return shapes3d.make_multiview_set([0, 5], 2, RES, SIZE, cache_dir=cache)


def _lsm(seed=0) -> LearntStereoMachine:
    keras.utils.set_random_seed(seed)
    return LearntStereoMachine(
        RES, features=4, encoder_widths=(4, 8), gru_filters=4, decoder_widths=(4, 8)
    )


def _np_iou(probs, voxels, threshold):
    ious = []
    for p, v in zip(probs, voxels, strict=True):
        predicted, truth = p > threshold, v > 0.5
        union = np.logical_or(predicted, truth).sum()
        ious.append(1.0 if union == 0 else np.logical_and(predicted, truth).sum() / union)
    return np.array(ious)


def test_voxel_iou_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 5, 5, 5)).astype(np.float32)
    voxels = rng.uniform(size=(4, 5, 5, 5)) < 0.3
    voxels[3] = False
    logits[3] = -5.0  # both empty: IoU 1
    probs = 1 / (1 + np.exp(-logits))
    for threshold in (0.3, 0.5, 0.8):
        want = _np_iou(probs, voxels, threshold)
        got = training.voxel_iou(logits, voxels, threshold, per_shape=True)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        np.testing.assert_allclose(
            training.voxel_iou(probs, voxels.astype(np.float32), threshold, from_logits=False),
            want.mean(),
            rtol=1e-6,
        )
    assert float(training.voxel_iou(np.where(voxels, 9.0, -9.0), voxels)) == 1.0


def test_voxel_loss_is_the_sigmoid_cross_entropy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 3, 3))
    voxels = rng.uniform(size=(2, 3, 3, 3)) < 0.4
    p = 1 / (1 + np.exp(-logits))
    terms = -(voxels * np.log(p) + (1 - voxels) * np.log(1 - p))
    np.testing.assert_allclose(training.voxel_loss(logits, voxels), terms.mean(), rtol=1e-10)
    weighted = -(3.0 * voxels * np.log(p) + (1 - voxels) * np.log(1 - p))
    np.testing.assert_allclose(
        training.voxel_loss(logits, voxels, pos_weight=3.0), weighted.mean(), rtol=1e-10
    )


def test_batch_inputs_takes_the_views_asked_in_their_order(data):
    batch = training.batch_inputs(data, [1, 0], [[1, 0], [0, 1]])
    assert batch["images"].shape == (2, 2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(batch["images"][0, 0], data.images[1, 1])
    np.testing.assert_array_equal(batch["R"][1, 1], data.R[0, 1])
    everything = training.batch_inputs(data, [0])
    np.testing.assert_array_equal(everything["t"][0], data.t[0])


def test_training_lowers_the_loss_and_draws_one_to_v_views(data):
    model = _lsm()
    before = float(training.voxel_loss(model(training.batch_inputs(data, [0, 1])), data.voxels))
    history = training.train(model, data, 15, batch_size=2, learning_rate=3e-2, progress=False)
    assert len(history.losses) == 15 and history.start_step == 0
    assert set(history.views) == {1, 2}
    after = float(training.voxel_loss(model(training.batch_inputs(data, [0, 1])), data.voxels))
    assert after < 0.85 * before, (before, after)
    assert history.seconds_per_step > 0
    iou = training.evaluate_iou(model, data, 2, batch_size=1)
    assert 0.0 <= iou <= 1.0
    error = training.evaluate_depth(model, data, 1, num_samples=8)
    assert np.isfinite(error) and error >= 0.0
    inputs = training.batch_inputs(data, [0, 1], [0])
    depth = model.depth(inputs, num_samples=8).numpy()
    want = np.abs(depth - data.depths[:, :1])[data.masks[:, :1]].mean()
    np.testing.assert_allclose(error, want, rtol=1e-5)


def test_a_resumed_run_continues_from_the_saved_step_as_an_uninterrupted_one(data, tmp_path):
    common = dict(batch_size=1, num_views=2, seed=7, progress=False)
    straight = training.train(_lsm(3), data, 4, **common)

    first = training.train(_lsm(3), data, 2, checkpoint_dir=tmp_path, checkpoint_every=1, **common)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-2")
    resumed_model = _lsm(11)  # other initial weights: the checkpoint replaces them
    resumed = training.train(resumed_model, data, 4, checkpoint_dir=tmp_path, **common)
    assert resumed.start_step == 2 and len(resumed.losses) == 2
    np.testing.assert_allclose(first.losses + resumed.losses, straight.losses, rtol=1e-4)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-4")
    done = training.train(resumed_model, data, 4, 1, checkpoint_dir=tmp_path, progress=False)
    assert done.start_step == 4 and done.losses == []


def test_a_learning_rate_schedule_continues_where_a_resumed_run_stopped(data, tmp_path):
    # The rate is 0 from the third optimizer step on (step > 1): restarted, it would not be.
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1], [3e-2, 0.0])
    common = dict(batch_size=1, learning_rate=schedule, progress=False, checkpoint_dir=tmp_path)
    model = _lsm(5)
    model(training.batch_inputs(data, [0]))
    initial = [w.copy() for w in model.get_weights()]
    training.train(model, data, 2, **common)
    after_two = [w.copy() for w in model.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(initial, after_two, strict=True))
    resumed = _lsm(5)
    history = training.train(resumed, data, 4, **common)
    assert history.start_step == 2 and len(history.losses) == 2
    for before, after in zip(after_two, resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_the_strategy_argument(data, capsys):
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    baseline = Baseline2D(RES, encoder_widths=(4, 8), latent=8, channels=8)
    history = training.train(baseline, data, 3, batch_size=2, num_views=2, strategy=strategy)
    assert history.views == [2, 2, 2] and np.all(np.isfinite(history.loss))
    assert "3/3" in capsys.readouterr().out  # the progress bar
    for variable in baseline.trainable_variables:
        assert strategy.extended.variable_created_in_scope(variable.value)

    built_outside = _lsm()
    built_outside(training.batch_inputs(data, [0], [0]))
    with pytest.raises(ValueError, match="model must be built under strategy.scope"):
        training.train(built_outside, data, 1, batch_size=1, strategy=strategy, progress=False)
    default = training.train(
        built_outside, data, 1, batch_size=1, strategy=tf.distribute.get_strategy(),
        progress=False,
    )  # fmt: skip
    assert len(default.losses) == 1
    with pytest.raises(TypeError, match="strategy"):
        training.train(built_outside, data, 1, 1, strategy="cpu", progress=False)


def test_shape_ious_are_each_shapes_iou_through_the_views_given_in_that_order(data):
    model = _lsm()
    reversed_ious = training.shape_ious(model, data, [1, 0], batch_size=1)
    for shape in range(len(data)):
        logits = model(training.batch_inputs(data, [shape], [1, 0]))
        want = _np_iou(tf.sigmoid(logits).numpy(), data.voxels[[shape]], 0.5)
        np.testing.assert_allclose(reversed_ious[shape], want, rtol=1e-6)
    in_order = training.shape_ious(model, data, [0, 1])
    assert training.evaluate_iou(model, data, 2) == pytest.approx(float(in_order.mean()))


def test_bad_arguments_are_refused_naming_them(data):
    model = _lsm()
    for kwargs, name in (
        ({"steps": 0}, "steps"),
        ({"batch_size": 3}, "batch_size"),
        ({"num_views": 3}, "num_views"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"seed": -1}, "seed"),
        ({"pos_weight": -1.0}, "pos_weight"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
    ):
        arguments = dict(steps=1, batch_size=1, progress=False)
        arguments.update(kwargs)
        with pytest.raises(ValueError, match=name):
            training.train(model, data, **arguments)
    with pytest.raises(ValueError, match="data"):
        training.train(model, {"images": data.images}, 1)
    with pytest.raises(ValueError, match="num_views"):
        training.evaluate_iou(model, data, 0)
    for views in ([], [2], [-1], [0.5]):
        with pytest.raises(ValueError, match="views"):
            training.shape_ious(model, data, views)
    with pytest.raises(ValueError, match="threshold"):
        training.voxel_iou(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 2)), threshold=1.0)
    with pytest.raises(ValueError, match="voxels"):
        training.voxel_iou(np.zeros((1, 2, 2, 2)), np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="logits"):
        training.voxel_loss(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="num_samples"):
        training.evaluate_depth(model, data, 1, num_samples=0)


def test_a_mirrored_strategy_over_two_logical_cpus_trains_like_one_device(tmp_path):
    """Two replicas, each half of the batch: the same losses and weights as one device."""
    script = textwrap.dedent(
        """
        import keras, numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        logical = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, logical)
        from course_lib.data import shapes3d
        from course_lib.lsm import training
        from course_lib.lsm.models import LearntStereoMachine

        data = shapes3d.make_multiview_set([0, 5], 2, 8, 16, cache_dir=CACHE)
        results = []
        for strategy in (None, tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])):
            keras.utils.set_random_seed(0)
            with (strategy or tf.distribute.get_strategy()).scope():
                model = LearntStereoMachine(
                    8, features=4, encoder_widths=(4, 8), gru_filters=4, decoder_widths=(4, 8)
                )
            history = training.train(model, data, 2, 2, 1, strategy=strategy, progress=False)
            results.append((history.losses, model.get_weights()[0]))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-6)
        print("same")
        """
    ).replace("CACHE", repr(str(tmp_path)))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("same")
