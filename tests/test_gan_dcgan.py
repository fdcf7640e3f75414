"""DCGAN (``course_lib.gan.dcgan``): the tutorial's shapes, checks, training, checkpoints and
strategy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from course_lib import config
from course_lib.data import mnist
from course_lib.gan import dcgan, losses

TINY = dataclasses.replace(dcgan.CPU, width=4, batch_size=16, steps=4)


def _trainable_shapes(model):
    return [tuple(v.shape) for v in model.trainable_variables]


def test_default_networks_are_the_tutorials():
    generator = dcgan.build_generator()
    discriminator = dcgan.build_discriminator()
    assert tuple(generator.output_shape) == (None, 28, 28, 1)
    assert tuple(discriminator.output_shape) == (None, 1)
    assert generator.get_layer("project").kernel.shape == (100, 7 * 7 * 256)
    assert [generator.get_layer(n).filters for n in ("up1", "up2", "image")] == [128, 64, 1]
    assert [generator.get_layer(n).strides for n in ("up1", "up2", "image")] == [
        (1, 1),
        (2, 2),
        (2, 2),
    ]
    assert not any(generator.get_layer(n).use_bias for n in ("project", "up1", "up2", "image"))
    assert [discriminator.get_layer(n).filters for n in ("conv1", "conv2")] == [64, 128]
    assert discriminator.get_layer("conv1_dropout").rate == 0.3
    # The tutorial's parameter counts (its model.summary()).
    assert generator.count_params() == 2_330_944
    assert discriminator.count_params() == 212_865
    assert dcgan.COURSE.batch_size == 256 and dcgan.COURSE.learning_rate == 1e-4
    assert dcgan.COURSE.noise_dim == 100 and dcgan.COURSE.steps == 50 * 235


def test_size_and_width_scale_the_networks():
    generator = dcgan.build_generator(image_size=32, width=8, noise_dim=10, channels=3)
    assert tuple(generator.output_shape) == (None, 32, 32, 3)
    assert generator.get_layer("project").kernel.shape == (10, 8 * 8 * 32)
    discriminator = dcgan.build_discriminator(image_size=32, width=8, channels=3)
    images = generator(tf.random.normal([2, 10]), training=False)
    assert discriminator(images, training=False).shape == (2, 1)
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0


@pytest.mark.parametrize(
    ("image_size", "error"),
    [(30, ValueError), (0, ValueError), (-4, ValueError), (2.5, TypeError), ("28", TypeError)],
)
def test_bad_image_sizes_name_the_argument(image_size, error):
    # Values that are not multiples of 4 (or not positive): ValueError; not an int: TypeError,
    # as everywhere in course_lib.checks.
    for build in (dcgan.build_generator, dcgan.build_discriminator):
        with pytest.raises(error, match="image_size"):
            build(image_size=image_size)
    with pytest.raises(ValueError, match="divisible by 4"):
        dcgan.build_generator(image_size=30)


@pytest.mark.parametrize(("width", "error"), [(0, ValueError), (-1, ValueError), (2.5, TypeError)])
def test_bad_widths_name_the_argument(width, error):
    for build in (dcgan.build_generator, dcgan.build_discriminator):
        with pytest.raises(error, match="width"):
            build(width=width)
    with pytest.raises(error, match="width"):
        dcgan.DCGAN(dataclasses.replace(TINY, width=width))


def test_digits_are_in_the_gan_range_and_batched():
    images = dcgan.load_digits("train")
    assert images.shape[1:] == (28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    batch = next(iter(dcgan.dataset(images, 16)))
    assert batch.shape == (16, 28, 28, 1)
    with pytest.raises(ValueError, match="batch_size"):
        dcgan.dataset(images[:4], 16)
    with pytest.raises(ValueError, match="split"):
        dcgan.load_digits("validation")


def test_online_mnist_and_its_failure_both_reach_the_gan(monkeypatch, capsys):
    fake = np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8)
    fake[0][0, 0, 0] = 255
    monkeypatch.setattr(mnist, "is_mnist_cached", lambda: True)
    monkeypatch.setattr(mnist, "_load_keras_mnist", lambda: (fake, fake))
    images = dcgan.load_digits("train")
    assert images.shape == (3, 28, 28, 1) and images[0, 0, 0, 0] == 1.0 and images.min() == -1.0

    def fail():
        raise OSError("no network")

    monkeypatch.setattr(mnist, "_load_keras_mnist", fail)
    assert len(dcgan.load_digits("train")) == 1437  # scikit-learn's digits instead
    assert "MNIST download failed (OSError)" in capsys.readouterr().out


def _fixed_batch(seed: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
    images = dcgan.load_digits("train")
    rng = np.random.default_rng(seed)
    real = tf.constant(images[rng.choice(len(images), TINY.batch_size, replace=False)])
    noise = tf.constant(rng.standard_normal((TINY.batch_size, TINY.noise_dim)), tf.float32)
    return real, noise


def test_training_steps_lower_each_networks_loss():
    config.seed_everything(0)
    trainer = dcgan.DCGAN(dataclasses.replace(TINY, learning_rate=1e-3))
    real, noise = _fixed_batch()
    frozen = tf.keras.models.clone_model(trainer.discriminator)
    frozen.set_weights(trainer.discriminator.get_weights())

    def measured():
        fake = trainer.generator(noise, training=False)
        d_loss = losses.discriminator_loss(
            trainer.discriminator(real, training=False), trainer.discriminator(fake)
        )
        # The generator judged by the discriminator it started against.
        g_loss = losses.generator_loss(frozen(fake, training=False))
        return float(d_loss), float(g_loss)

    d_before, g_before = measured()
    data = dcgan.dataset(dcgan.load_digits("train"), TINY.batch_size)
    for _, batch in zip(range(10), data, strict=False):
        step_losses = trainer.train_step(batch)
    assert set(step_losses) == {"generator", "discriminator"}
    d_after, g_after = measured()
    # Measured: 1.25 -> 0.87 and 0.6936 -> 0.6788 (the untrained discriminator's logits are
    # near 0, so the generator's loss starts at log 2 and moves slowly).
    assert d_after < d_before - 0.2
    assert g_after < g_before - 0.005


def test_checkpoint_round_trip_restores_identical_samples(tmp_path):
    config.seed_everything(0)
    trainer = dcgan.DCGAN(TINY)
    data = dcgan.dataset(dcgan.load_digits("train"), TINY.batch_size)
    for _, batch in zip(range(2), data, strict=False):
        trainer.train_step(batch)
    trainer.save(tmp_path / "ckpt")
    config.seed_everything(1)
    other = dcgan.DCGAN(TINY)
    assert not np.allclose(other.samples(), trainer.samples())
    other.restore(tmp_path / "ckpt")
    np.testing.assert_array_equal(other.samples(), trainer.samples())
    assert int(other.optimizers["generator"].iterations) == 2
    real, _ = _fixed_batch()
    np.testing.assert_array_equal(
        other.discriminator(real, training=False), trainer.discriminator(real, training=False)
    )


def test_samples_are_fixed_noise_images_in_unit_range():
    trainer = dcgan.DCGAN(TINY, sample_seed=3)
    samples = trainer.samples()
    assert samples.shape == (dcgan.NUM_SAMPLES, 28, 28, 1)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, trainer.samples())
    assert trainer.random_samples(5).shape == (5, 28, 28, 1)
    with pytest.raises(TypeError, match="settings"):
        dcgan.DCGAN({"width": 4})


def test_train_course_writes_checkpoint_samples_and_figure(tmp_path):
    figure = dcgan.train_course(tmp_path, steps=2, progress=False)
    with np.load(tmp_path / "samples.npz") as saved:
        images = saved["images"]
    assert images.shape == (100, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert (tmp_path / "checkpoint" / "ckpt.index").is_file()
    assert figure["steps"] == 2 and 0.0 < figure["confidence"] <= 1.0
    assert 0 <= figure["classes_covered"] <= 10
    # Held-out real digits are far closer to the training digits than noise is.
    assert figure["frechet_real"] < figure["frechet_noise"] / 5
    text = dcgan.format_figure(figure)
    assert "of 10 classes covered" in text and "Fréchet" in text
    restored = dcgan.DCGAN(dcgan.CPU)
    restored.restore(tmp_path / "checkpoint")
    np.testing.assert_allclose(restored.samples(), images, atol=1e-6)
