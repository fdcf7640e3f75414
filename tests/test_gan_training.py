"""``gan.training``: the shared GAN trainer, its loop, checkpoints and sample files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _toy_gan import ToyGAN, toy_data  # noqa: E402 (tests/ is on sys.path)

from course_lib import config, gan
from course_lib.gan import training


def test_fit_records_every_step_and_the_samples_along_the_way():
    config.seed_everything(0)
    seen = []
    history = gan.fit(
        ToyGAN(),
        toy_data(),
        20,
        sample_every=8,
        progress=False,
        on_sample=lambda s, _: seen.append(s),
    )
    assert set(history.losses) == {"generator", "discriminator"}
    assert history.loss("generator").shape == (20,)
    assert history.sample_steps == seen == [0, 8, 16, 20]
    assert [s.shape for s in history.samples] == [(4, 1, 1, 2)] * 4
    assert history.seconds_per_step > 0


def test_training_moves_the_generator_towards_the_data():
    config.seed_everything(0)
    trainer = ToyGAN()
    noise = np.random.default_rng(1).normal(size=(512, 2)).astype(np.float32)
    before = np.linalg.norm(trainer.models["generator"](noise).numpy().mean(0) - 3.0)
    gan.fit(trainer, toy_data(), 150, progress=False)
    after = np.linalg.norm(trainer.models["generator"](noise).numpy().mean(0) - 3.0)
    assert after < 0.5 * before


def test_fit_repeats_the_data_and_shows_a_progress_bar(capsys):
    history = gan.fit(ToyGAN(), toy_data(128), 5, progress=True)  # 2 batches per pass
    assert history.loss("discriminator").shape == (5,)
    assert "5/5" in capsys.readouterr().out


def test_checkpoint_round_trip_restores_identical_networks_and_optimizers(tmp_path):
    config.seed_everything(0)
    trained = ToyGAN()
    gan.fit(trained, toy_data(), 10, checkpoint_dir=tmp_path / "ckpt", progress=False)
    restored = ToyGAN()
    points = np.random.default_rng(2).normal(size=(5, 2)).astype(np.float32)
    assert not np.allclose(
        trained.models["generator"](points), restored.models["generator"](points)
    )
    restored.restore(tmp_path / "ckpt")
    for name in ("generator", "discriminator"):
        np.testing.assert_array_equal(
            trained.models[name](points if name == "generator" else points),
            restored.models[name](points),
        )
        assert int(restored.optimizers[name].iterations) == 10


def test_restoring_from_an_empty_folder_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        ToyGAN().restore(tmp_path)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="strategy"):
        ToyGAN(strategy="mirrored")
    with pytest.raises(ValueError, match="steps"):
        gan.fit(ToyGAN(), toy_data(), 0)
    with pytest.raises(ValueError, match="sample_every"):
        gan.fit(ToyGAN(), toy_data(), 2, sample_every=0)
    with pytest.raises(ValueError, match="no batch"):
        gan.fit(ToyGAN(), toy_data().take(0), 2, progress=False)
    with pytest.raises(TypeError, match="abstract"):
        gan.GANTrainer()


def test_samples_are_saved_under_the_key_images(tmp_path):
    images = np.random.default_rng(0).uniform(size=(3, 4, 4, 1))
    path = gan.save_samples(tmp_path / "out" / "samples.npz", images)
    with np.load(path) as saved:
        np.testing.assert_allclose(saved["images"], images.astype(np.float32))
        assert saved["images"].dtype == np.float32
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        gan.save_samples(tmp_path / "bad.npz", images * 2)
    with pytest.raises(ValueError, match="\\[N, H, W, C\\]"):
        gan.save_samples(tmp_path / "bad.npz", images[0])


def test_a_mirrored_strategy_over_two_logical_cpus_trains_like_one_device():
    """Two replicas, each half of the batch: the losses and the weights match one device's."""
    script = textwrap.dedent(
        """
        import sys
        import keras, numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        logical = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, logical)
        sys.path.insert(0, TESTS)
        from course_lib import gan
        from _toy_gan import ToyGAN, toy_data

        class Fixed(ToyGAN):
            def step(self, real):  # no noise, so that one device and two replicas agree
                with tf.GradientTape() as tape:
                    fake = self.models["generator"](real * 0.0 + 1.0, training=True)
                    logits_real = self.models["discriminator"](real, training=True)
                    logits_fake = self.models["discriminator"](fake, training=True)
                    d = gan.discriminator_loss(logits_real, logits_fake)
                self.apply(tape, d, "discriminator")
                return {"discriminator": d}

        results = []
        for strategy in (None, tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])):
            keras.utils.set_random_seed(0)
            trainer = Fixed(strategy)
            data = toy_data(64)
            if strategy is not None:
                data = strategy.experimental_distribute_dataset(data)
            history = gan.fit(trainer, data, 3, progress=False)
            weights = trainer.models["discriminator"].get_weights()[0]
            results.append((history.loss("discriminator"), weights))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-6)
        print("same")
        """
    ).replace("TESTS", repr(str(Path(__file__).parent)))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("same")


def test_history_loss_is_an_array():
    history = training.History(losses={"g": [1.0, 0.5]})
    np.testing.assert_array_equal(history.loss("g"), [1.0, 0.5])
