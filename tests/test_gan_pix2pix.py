"""``gan.pix2pix``: the U-Net, the PatchGAN, the joint jitter, the trainer and the figure."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import config
from course_lib.data import paired
from course_lib.gan import losses, pix2pix

TINY = dataclasses.replace(pix2pix.CPU, image_size=32, width=4, batch_size=4, steps=4)


def _layers(model: keras.Model, kind: type) -> list:
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            found += [inner for inner in layer.layers if isinstance(inner, kind)]
        elif isinstance(layer, kind):
            found.append(layer)
    return found


@pytest.mark.parametrize(("size", "depth"), [(32, 5), (64, 6), (256, 8)])
def test_the_unet_halves_the_image_down_to_one_pixel(size, depth):
    assert pix2pix.unet_depth(size) == depth
    generator = pix2pix.build_generator(size, width=2)
    strided = _layers(generator, keras.layers.Conv2D)
    transposed = _layers(generator, keras.layers.Conv2DTranspose)
    assert len(strided) == depth and len(transposed) == depth  # depth - 1 ups and the output
    assert all(c.kernel_size == (4, 4) and c.strides == (2, 2) for c in strided + transposed)
    bottleneck = keras.Model(generator.input, generator.layers[depth].output)
    assert bottleneck.output.shape[1:3] == (1, 1)
    assert generator.output.shape[1:] == (size, size, 3)
    assert [c.filters for c in strided] == [min(2 * 2**i, 16) for i in range(depth)]


def test_the_blocks_are_the_tutorials():
    generator = pix2pix.build_generator(64, width=4)
    downs = [b for b in generator.layers if isinstance(b, keras.Sequential)][:6]
    ups = [b for b in generator.layers if isinstance(b, keras.Sequential)][6:]
    assert not any(isinstance(x, keras.layers.BatchNormalization) for x in downs[0].layers)
    assert all(isinstance(b.layers[1], keras.layers.BatchNormalization) for b in downs[1:])
    assert all(b.layers[-1].negative_slope == pytest.approx(0.2) for b in downs)
    assert [any(isinstance(x, keras.layers.Dropout) for x in b.layers) for b in ups] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert generator.layers[-1].activation is keras.activations.tanh
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    out = generator(images, training=False).numpy()
    assert np.abs(out).max() <= 1.0


@pytest.mark.parametrize(("size", "grid"), [(32, 2), (64, 6), (256, 30)])
def test_the_patchgan_gives_one_logit_per_patch(size, grid):
    assert pix2pix.patch_grid_size(size) == grid
    if size <= 64:
        discriminator = pix2pix.build_discriminator(size, width=2)
        images = tf.zeros((3, size, size, 3))
        assert discriminator([images, images]).shape == (3, grid, grid, 1)


@pytest.mark.parametrize("size", [16, 31, 48, 100, 0, -64, 64.0, "64"])
def test_sizes_the_unet_cannot_halve_are_refused(size):
    for build in (pix2pix.build_generator, pix2pix.build_discriminator):
        with pytest.raises(ValueError, match="image_size"):
            build(size, 4)


@pytest.mark.parametrize("width", [0, -2, 2.5, None])
def test_bad_widths_are_refused(width):
    for build in (pix2pix.build_generator, pix2pix.build_discriminator):
        with pytest.raises(ValueError, match="width"):
            build(32, width)


def test_the_jitter_crops_and_mirrors_input_and_target_together():
    rng = np.random.default_rng(0)
    source = tf.constant(rng.uniform(size=(32, 32, 3)).astype(np.float32))
    target = 1.0 - source  # any pixelwise relation must survive the jitter
    flips = set()
    for index in range(12):
        seed = tf.constant([7, index], tf.int64)
        x, y = pix2pix.random_jitter(source, target, seed)
        assert x.shape == y.shape == (32, 32, 3)
        np.testing.assert_allclose(y.numpy(), 1.0 - x.numpy(), atol=1e-6)
        again, _ = pix2pix.random_jitter(source, target, seed)
        np.testing.assert_array_equal(x.numpy(), again.numpy())  # stateless: same seed, same
        # the crop is a window of the nearest-neighbour enlargement, mirrored or not
        big = tf.image.resize(source[None], (36, 36), method="nearest")[0].numpy()
        windows = {
            (top, left, mirrored)
            for top in range(5)
            for left in range(5)
            for mirrored in (False, True)
            if np.array_equal(
                (big[:, ::-1] if mirrored else big)[top : top + 32, left : left + 32], x.numpy()
            )
        }
        assert windows
        flips.add(all(m for _, _, m in windows))
    assert flips == {True, False}
    assert pix2pix.jitter_size(256) == 286 and pix2pix.jitter_size(64) == 72
    with pytest.raises(ValueError, match="target"):
        pix2pix.random_jitter(source, target[:16], tf.constant([0, 0]))


def test_the_dataset_is_seeded_batched_and_in_minus_one_to_one():
    inputs, targets = paired.make_facades(8, 32, seed=0)

    def first(seed):
        data = pix2pix.make_dataset(inputs, targets, 4, seed=seed)
        return [tuple(t.numpy() for t in batch) for batch in data.take(3)]

    once, again, other = first(0), first(0), first(1)
    for (x, y), (x2, y2) in zip(once, again, strict=True):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(once[0][0], other[0][0])
    x, y = once[0]
    assert x.shape == y.shape == (4, 32, 32, 3)
    assert -1.0 <= x.min() and x.max() <= 1.0
    with pytest.raises(ValueError, match="batch_size"):
        pix2pix.make_dataset(inputs, targets, 9)


def _tiny_trainer(preview=None):
    config.seed_everything(0)
    return pix2pix.Pix2Pix(TINY, preview=preview)


def test_training_lowers_the_l1_loss_and_a_checkpoint_restores_identical_outputs(tmp_path):
    inputs, targets = paired.make_facades(4, 32, seed=0)
    settings = dataclasses.replace(TINY, learning_rate=1e-3)
    config.seed_everything(0)
    trainer = pix2pix.Pix2Pix(settings, preview=inputs[:2])
    batch = (pix2pix.to_network(inputs), pix2pix.to_network(targets))  # one batch, repeated
    data = tf.data.Dataset.from_tensors(batch).repeat()
    history = pix2pix.fit(
        trainer, data, 30, sample_every=15, checkpoint_dir=tmp_path, progress=False
    )
    l1 = history.loss("l1")
    assert l1[-3:].mean() < 0.8 * l1[:3].mean()
    np.testing.assert_allclose(
        history.loss("generator"),
        history.loss("adversarial") + losses.PIX2PIX_LAMBDA * l1,
        rtol=1e-5,
    )
    assert [s.shape for s in history.samples] == [(2, 32, 32, 3)] * 3
    assert all(0.0 <= s.min() and s.max() <= 1.0 for s in history.samples)

    restored = pix2pix.Pix2Pix(settings)
    with pytest.raises(ValueError, match="preview"):
        restored.samples()
    assert not np.array_equal(trainer.translate(inputs), restored.translate(inputs))
    restored.restore(tmp_path)
    np.testing.assert_array_equal(trainer.translate(inputs), restored.translate(inputs))
    np.testing.assert_array_equal(
        trainer.models["discriminator"](batch).numpy(),
        restored.models["discriminator"](batch).numpy(),
    )
    assert int(restored.optimizers["generator"].iterations) == 30


def test_the_figure_of_an_identity_generator_is_the_baseline():
    inputs, targets = paired.make_facades(4, 32, seed=2)
    identity = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Identity()])
    figure = pix2pix.evaluate(identity, inputs, targets)
    assert figure["pairs"] == 4
    assert figure["l1"] == pytest.approx(figure["identity_l1"], rel=1e-5)
    assert figure["l1_ratio"] == pytest.approx(1.0, rel=1e-5)
    assert figure["ssim"] == pytest.approx(figure["identity_ssim"], abs=1e-4)
    assert figure["identity_l1"] == pytest.approx(np.abs(inputs - targets).mean(), rel=1e-6)
    assert "ratio 1.00" in pix2pix.format_figure(figure)


def test_train_course_writes_the_checkpoint_and_the_samples(tmp_path, monkeypatch):
    monkeypatch.setattr(pix2pix, "CPU", dataclasses.replace(TINY, image_size=32))
    figure = pix2pix.train_course(tmp_path, steps=2, progress=False)
    assert (tmp_path / "checkpoint" / "ckpt.index").is_file()
    with np.load(tmp_path / "samples.npz") as saved:
        images = saved["images"]
    assert images.shape == (paired.PROCEDURAL_TEST, 32, 32, 3)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert figure["steps"] == 2 and figure["seconds_per_step"] > 0
    assert all(isinstance(v, int | float) for v in figure.values())
    assert "held-out L1" in pix2pix.format_figure(figure)


def test_settings_and_arguments():
    assert pix2pix.COURSE == pix2pix.Settings(256, 64, 1, 40_000)
    assert pix2pix.COURSE.l1_weight == 100 and pix2pix.COURSE.learning_rate == 2e-4
    assert pix2pix.COURSE.beta_1 == 0.5
    with pytest.raises(TypeError, match="settings"):
        pix2pix.Pix2Pix({"image_size": 32})
