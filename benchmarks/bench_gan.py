"""GAN train steps per second, against the TensorFlow DCGAN tutorial's own step (a Markdown table).

The reference is the tutorial's DCGAN step as the tutorial writes it: its Sequential generator
and discriminator (width 64), two Adam(1e-4), two gradient tapes in one ``tf.function``, a batch
of 256 digits. Each row is one compiled train step of a ``course_lib.gan`` trainer on its own
batch, timed alternately with the reference in this process (median of ``--repeats`` calls after
a warm-up that includes tracing); the ratio is its median time over the reference's.

The rows are :data:`ENTRIES`, ``(name, make_trainer, make_batch)`` triples; a new GAN is one more
triple. ``course_lib.gan``'s DCGAN at the course's settings (the same work as the reference:
the ratio is the library's overhead) and at the chapter's CPU settings come first, then the
pix2pix and CycleGAN CPU settings.

Usage: python benchmarks/bench_gan.py [--repeats 5]; ``benchmarks/run.py`` calls :func:`run`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _report import parse_int_options, print_table  # noqa: E402 - beside this file

from course_lib import config  # noqa: E402
from course_lib.gan import cyclegan, dcgan, pix2pix  # noqa: E402
from course_lib.gan.training import GANTrainer  # noqa: E402
from course_lib.perf.benchmark import Comparison, compare  # noqa: E402

WARMUP = 1
OPTIONS = {"repeats": (5, "timed steps per row (and of the reference, alternately)")}
REFERENCE = "TF tutorial's DCGAN step, batch 256"

#: One row: name, a trainer factory, and a factory of one global batch for its ``train_step``.
Entry = tuple[str, Callable[[], GANTrainer], Callable[[np.random.Generator], Any]]


def _uniform(rng: np.random.Generator, *shape: int) -> tf.Tensor:
    return tf.constant(rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))


def _pair(size: int, batch: int) -> Callable[[np.random.Generator], Any]:
    return lambda rng: (_uniform(rng, batch, size, size, 3), _uniform(rng, batch, size, size, 3))


def _cpu_cyclegan() -> cyclegan.CycleGAN:
    s = cyclegan.CPU
    return cyclegan.CycleGAN(s.image_size, s.width, s.dropout, learning_rate=s.learning_rate)


#: The library's DCGAN at the course's settings does the reference's work: at most 20% slower.
LIBRARY_DCGAN = "course_lib DCGAN, course settings (width 64, batch 256)"
GOALS = {LIBRARY_DCGAN: 1.2}

ENTRIES: list[Entry] = [
    (
        LIBRARY_DCGAN,
        lambda: dcgan.DCGAN(dcgan.COURSE),
        lambda rng: _uniform(rng, dcgan.COURSE.batch_size, 28, 28, 1),
    ),
    (
        f"course_lib DCGAN, CPU settings (width {dcgan.CPU.width}, batch {dcgan.CPU.batch_size})",
        lambda: dcgan.DCGAN(dcgan.CPU),
        lambda rng: _uniform(rng, dcgan.CPU.batch_size, 28, 28, 1),
    ),
    (
        f"course_lib pix2pix, CPU settings ({pix2pix.CPU.image_size} px, "
        f"width {pix2pix.CPU.width}, batch {pix2pix.CPU.batch_size})",
        lambda: pix2pix.Pix2Pix(pix2pix.CPU),
        _pair(pix2pix.CPU.image_size, pix2pix.CPU.batch_size),
    ),
    (
        f"course_lib CycleGAN, CPU settings ({cyclegan.CPU.image_size} px, "
        f"width {cyclegan.CPU.width}, batch {cyclegan.CPU.batch_size})",
        _cpu_cyclegan,
        _pair(cyclegan.CPU.image_size, cyclegan.CPU.batch_size),
    ),
]


# --- the tutorial's step, written the tutorial's way ---------------------------------------------


def tutorial_generator() -> keras.Sequential:
    """The tutorial's generator as one Sequential stack: noise [B, 100] -> [B, 28, 28, 1]."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((100,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(
                1, 5, strides=2, padding="same", use_bias=False, activation="tanh"
            ),
        ]
    )


def tutorial_discriminator() -> keras.Sequential:
    """The tutorial's discriminator: [B, 28, 28, 1] -> one logit [B, 1]."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )


def tutorial_step() -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """The tutorial's compiled train step on a batch of real images [B, 28, 28, 1]."""
    generator, discriminator = tutorial_generator(), tutorial_discriminator()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(1e-4)
    discriminator_optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        noise = tf.random.normal([tf.shape(images)[0], 100])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(
            zip(gen_grads, generator.trainable_variables, strict=True)
        )
        discriminator_optimizer.apply_gradients(
            zip(disc_grads, discriminator.trainable_variables, strict=True)
        )
        return gen_loss, disc_loss

    return train_step


# --- measurement -------------------------------------------------------------------------------


def measure(repeats: int = 5, entries: list[Entry] | None = None) -> dict[str, Comparison]:
    """Row name -> its trainer's step (candidate) against the tutorial's step (reference)."""
    config.seed_everything(0)
    rng = np.random.default_rng(0)
    step = tutorial_step()
    images = _uniform(rng, 256, 28, 28, 1)

    def reference() -> None:
        step(images)[0].numpy()

    results = {}
    for name, make_trainer, make_batch in ENTRIES if entries is None else entries:
        trainer, batch = make_trainer(), make_batch(rng)
        results[name] = compare(
            lambda trainer=trainer, batch=batch: trainer.train_step(batch),
            reference,
            warmup=WARMUP,
            repeats=repeats,
        )
    return results


def run() -> list[dict]:
    """The benchmark at its defaults, as rows for ``benchmarks/run.py``."""
    return [
        c.row(f"train step, {name}", REFERENCE, at_most=GOALS.get(name))
        for name, c in measure().items()
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_int_options(__doc__, argv, OPTIONS)
    results = measure(args.repeats)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"GAN train steps on {device}, TensorFlow {tf.__version__}; medians of {args.repeats} "
        f"steps, each row alternating with the reference ({REFERENCE})\n"
    )
    rows = [
        [
            name,
            f"{c.candidate.median_ms:.0f}",
            f"{1000 / c.candidate.median_ms:.2f}",
            f"{c.reference.median_ms:.0f}",
            f"{1000 / c.reference.median_ms:.2f}",
            f"{c.ratio:.3f}",
        ]
        for name, c in results.items()
    ]
    headers = ["train step", "ms", "steps / s", "reference ms", "reference steps / s", "ratio"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
