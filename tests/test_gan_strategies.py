"""DCGAN, pix2pix and CycleGAN train under a MirroredStrategy over two logical CPUs.

Logical devices must be configured before TensorFlow initializes its devices, which this pytest
process has done: the three trainers run in ONE fresh interpreter (TensorFlow imported once).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import dataclasses, json
    import numpy as np
    from course_lib.perf import distribute

    strategy = distribute.mirrored_strategy_on_logical_cpus(2)
    from course_lib import config
    from course_lib.data import paired
    from course_lib.data.unpaired import make_fill_domains
    from course_lib.gan import cyclegan, dcgan, pix2pix

    def floats(losses):
        return {name: float(value) for name, value in losses.items()}

    report = {"replicas": strategy.num_replicas_in_sync}

    config.seed_everything(0)
    settings = dataclasses.replace(dcgan.CPU, width=4, batch_size=16)
    trainer = dcgan.DCGAN(settings, strategy=strategy)
    data = strategy.experimental_distribute_dataset(
        dcgan.dataset(dcgan.load_digits("train"), settings.batch_size)
    )
    report["dcgan"] = [floats(loss) for _, loss in zip(range(2), map(trainer.train_step, data))]

    settings = dataclasses.replace(pix2pix.CPU, image_size=32, width=4, batch_size=4)
    trainer = pix2pix.Pix2Pix(settings, strategy=strategy)
    before = trainer.models["generator"].get_weights()[0].copy()
    inputs, targets = paired.make_facades(8, 32, seed=0)
    data = pix2pix.make_dataset(inputs, targets, 4, seed=0)
    history = pix2pix.fit(
        trainer, strategy.experimental_distribute_dataset(data), 2, progress=False
    )
    report["pix2pix"] = {
        "finite": all(bool(np.isfinite(history.loss(k)).all()) for k in history.losses),
        "moved": not np.allclose(before, trainer.models["generator"].get_weights()[0]),
    }

    trainer = cyclegan.CycleGAN(32, 2, dropout=0.0, strategy=strategy)
    data = cyclegan.make_dataset(make_fill_domains(8, 1, 32, 0), batch_size=4)
    batches = iter(strategy.experimental_distribute_dataset(data))
    for _ in range(2):
        losses = trainer.train_step(next(batches))
    report["cyclegan"] = floats(losses)
    print(json.dumps(report))
    """
)


def test_the_three_gans_train_under_a_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored_gans.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    # DCGAN: two steps, each with both networks' finite losses.
    assert len(report["dcgan"]) == 2
    for losses_of_step in report["dcgan"]:
        assert set(losses_of_step) == {"generator", "discriminator"}
        assert all(np.isfinite(list(losses_of_step.values())))
    # pix2pix: finite losses, and the generator's first kernel moved.
    assert report["pix2pix"] == {"finite": True, "moved": True}
    # CycleGAN: the second step's six losses, finite.
    assert set(report["cyclegan"]) == {
        "generator_g",
        "generator_f",
        "discriminator_x",
        "discriminator_y",
        "cycle",
        "identity",
    }
    assert all(np.isfinite(list(report["cyclegan"].values()))), report["cyclegan"]
