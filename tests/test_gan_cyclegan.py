"""CycleGAN: network shapes, argument checks, the step's losses against their closed forms,
training lowers the cycle loss, checkpoints, the chapter's figure (MirroredStrategy:
tests/test_gan_strategies.py)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import config
from course_lib.data.unpaired import make_fill_domains
from course_lib.gan import cyclegan, networks
from course_lib.gan.layers import InstanceNormalization
from course_lib.gan.training import fit

SIZE, WIDTH = 32, 4


def _trainer(seed: int = 0, **kwargs) -> cyclegan.CycleGAN:
    config.seed_everything(seed)
    return cyclegan.CycleGAN(SIZE, WIDTH, dropout=0.0, **kwargs)


def _batch(seed: int = 0, n: int = 4):
    domains = make_fill_domains(n, 1, SIZE, seed)
    return cyclegan.to_model_range(domains.train_x), cyclegan.to_model_range(domains.train_y)


def _layers(model: keras.Model) -> list:
    """The model's layers, those of its blocks (``keras.Sequential``) included."""
    found = []
    for layer in model.layers:
        found += layer.layers if isinstance(layer, keras.Sequential) else [layer]
    return found


def test_generator_is_a_unet_down_to_one_pixel_and_back():
    generator = cyclegan.build_generator(SIZE, WIDTH, dropout=0.0)
    assert generator.output_shape == (None, SIZE, SIZE, 3)
    strided = [layer for layer in _layers(generator) if isinstance(layer, keras.layers.Conv2D)]
    assert len(strided) == 5  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert min(layer.output.shape[1] for layer in strided) == 1
    images = generator(tf.random.uniform([2, SIZE, SIZE, 3], -1.0, 1.0)).numpy()
    assert np.abs(images).max() <= 1.0  # tanh


def test_the_tutorial_sizes_give_its_30x30_patchgan_and_eight_down_blocks():
    assert cyclegan.build_discriminator(256, 2).output_shape == (None, 30, 30, 1)
    filters = [networks.block_filters(64, level) for level in range(8)]
    assert filters == [64, 128, 256, 512, 512, 512, 512, 512]
    assert cyclegan.COURSE.image_size == 256 and cyclegan.COURSE.width == 64
    assert cyclegan.COURSE.batch_size == 1 and cyclegan.COURSE.learning_rate == 2e-4


def test_networks_use_instance_normalization_only():
    trainer = _trainer()
    for model in trainer.models.values():
        kinds = {type(layer) for layer in _layers(model)}
        assert InstanceNormalization in kinds
        assert keras.layers.BatchNormalization not in kinds
    assert set(trainer.optimizers) == set(trainer.models) == set(cyclegan.MODEL_NAMES)
    assert all(opt.beta_1 == 0.5 for opt in trainer.optimizers.values())


@pytest.mark.parametrize("size", [48, 100, 4, 1024])
def test_sizes_the_unet_cannot_halve_name_image_size(size):
    with pytest.raises(ValueError, match="image_size"):
        cyclegan.build_generator(size, WIDTH)


def test_bad_widths_and_small_patchgans_are_value_errors():
    with pytest.raises(ValueError, match="width"):
        cyclegan.build_generator(SIZE, 0)
    with pytest.raises(ValueError, match="width"):
        cyclegan.build_discriminator(SIZE, -2)
    with pytest.raises(ValueError, match="image_size"):
        cyclegan.build_discriminator(16, WIDTH)
    with pytest.raises(ValueError, match="image_size"):
        cyclegan.CycleGAN(16, WIDTH)
    with pytest.raises(ValueError, match="normalization"):
        cyclegan.build_generator(SIZE, WIDTH, normalization="layer")
    with pytest.raises(ValueError, match="width"):
        cyclegan.CycleGAN(SIZE, 0)


def _bce(label, logits):
    logits = np.asarray(logits, np.float64)
    return np.mean(np.maximum(logits, 0) - logits * label + np.log1p(np.exp(-np.abs(logits))))


@pytest.fixture(scope="module")
def trained():
    """One trainer (one compiled step): the losses its first step should return, in closed
    form, then 40 steps on one fixed batch."""
    trainer = _trainer(learning_rate=3e-3)
    x, y = batch = _batch(seed=1)
    g, f = trainer.models["generator_g"], trainer.models["generator_f"]
    d_x, d_y = trainer.models["discriminator_x"], trainer.models["discriminator_y"]
    fake_y, fake_x = g(x).numpy(), f(y).numpy()
    expected = {
        "generator_g": _bce(1.0, d_y(fake_y)),
        "generator_f": _bce(1.0, d_x(fake_x)),
        "discriminator_x": 0.5 * (_bce(1.0, d_x(x)) + _bce(0.0, d_x(fake_x))),
        "discriminator_y": 0.5 * (_bce(1.0, d_y(y)) + _bce(0.0, d_y(fake_y))),
        "cycle": 10.0 * (np.abs(x - f(fake_y)).mean() + np.abs(y - g(fake_x)).mean()),
        "identity": 5.0 * (np.abs(y - g(y)).mean() + np.abs(x - f(x)).mean()),
    }
    history = fit(trainer, [batch], 40, progress=False)
    return trainer, expected, history


def test_step_returns_the_losses_of_the_closed_forms(trained):
    _, expected, history = trained
    assert set(history.losses) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(history.loss(name)[0], value, rtol=1e-4, err_msg=name)


def test_a_few_steps_lower_the_cycle_and_identity_losses(trained):
    _, _, history = trained
    for name in ("cycle", "identity"):
        losses = history.loss(name)
        assert losses[-3:].mean() < 0.9 * losses[:3].mean(), name


def test_checkpoint_round_trip_restores_identical_outputs(trained, tmp_path):
    trainer = trained[0]
    trainer.save(tmp_path / "ckpt")
    restored = _trainer(seed=7)
    x, y = _batch(seed=3)
    assert not np.allclose(restored.models["generator_g"](x), trainer.models["generator_g"](x))
    restored.restore(tmp_path / "ckpt")
    for name, model in trainer.models.items():
        source = x if name in ("generator_g", "discriminator_x") else y
        np.testing.assert_array_equal(restored.models[name](source), model(source))
    for name, optimizer in trainer.optimizers.items():
        assert int(restored.optimizers[name].iterations) == int(optimizer.iterations) == 40


def test_samples_and_cycle_error_are_round_trips():
    domains = make_fill_domains(2, 3, SIZE, 0)
    trainer = _trainer(sample_x=domains.test_x[:2], sample_y=domains.test_y[:2])
    samples = trainer.samples()
    assert samples.shape == (12, SIZE, SIZE, 3) and 0.0 <= samples.min() <= samples.max() <= 1.0
    translated, back = trainer.round_trip(domains.test_x, "x2y")
    expected_x = np.abs(back - domains.test_x).mean()
    _, back_y = trainer.round_trip(domains.test_y, "y2x")
    expected = 0.5 * (expected_x + np.abs(back_y - domains.test_y).mean())
    got = cyclegan.cycle_error(trainer, domains.test_x, domains.test_y)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(samples[2:4], translated[:2], atol=1e-6)
    with pytest.raises(ValueError, match="direction"):
        trainer.translate(domains.test_x, "sideways")


def test_train_course_saves_a_checkpoint_samples_and_returns_the_figure(tmp_path, monkeypatch):
    tiny = dataclasses.replace(cyclegan.CPU, width=2, batch_size=4, num_train=32, steps=3)
    monkeypatch.setattr(cyclegan, "CPU", tiny)
    monkeypatch.setattr(cyclegan, "CPU_NUM_TEST", 8)
    figure = cyclegan.train_course(tmp_path, progress=False)
    assert (tmp_path / "checkpoint" / "ckpt.index").is_file()
    images = np.load(tmp_path / "samples.npz")["images"]
    assert images.shape == (24, 32, 32, 3) and images.min() >= 0.0 and images.max() <= 1.0
    assert 0.0 <= figure["to_target"] <= 1.0 and figure["cycle_error_start"] > 0.0
    assert all(isinstance(v, float) for v in figure.values())
    text = cyclegan.format_figure(figure)
    assert "cycle-consistency error" in text and len(text.splitlines()) == 2
