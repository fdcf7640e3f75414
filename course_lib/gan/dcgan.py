"""DCGAN on digits (book/part1/07_dcgan): TensorFlow's DCGAN tutorial as builders and a trainer.

The tutorial's networks, for 28x28 greyscale digits in [-1, 1]:

- generator: noise ``[B, 100]`` -> Dense ``7*7*256`` (no bias) + batch norm + LeakyReLU ->
  ``[B, 7, 7, 256]`` -> Conv2DTranspose 128 (5x5, stride 1) -> 64 (5x5, stride 2) -> 1 (5x5,
  stride 2, tanh) -> ``[B, 28, 28, 1]``; every layer but the last without bias, followed by batch
  norm and LeakyReLU;
- discriminator: Conv2D 64 (5x5, stride 2) + LeakyReLU + Dropout 0.3 -> Conv2D 128 (same) ->
  Dense 1: one *logit* per image.

Both are built here for any image size divisible by 4 (the two stride-2 layers) and any
``width``: the channel counts are ``4 * width``, ``2 * width``, ``width`` in the generator and
``width``, ``2 * width`` in the discriminator, so ``width=64`` is the tutorial. :class:`DCGAN`
trains them with the losses of :mod:`course_lib.gan.losses`, one Adam per network, in the
compiled, distributable step of :class:`~course_lib.gan.training.GANTrainer`.

:data:`COURSE` holds the tutorial's settings (batch 256, Adam 1e-4, 50 epochs of MNIST);
:data:`CPU` the chapter's, which train in about a minute here. :func:`train_course` is what
``course train dcgan`` runs; :func:`evaluate` computes the chapter's figure with
:mod:`course_lib.gan.metrics`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks, config
from course_lib.gan import metrics
from course_lib.gan.losses import discriminator_loss, generator_loss
from course_lib.gan.training import GANTrainer, fit, save_samples

#: The tutorial's dropout rate in the discriminator.
DROPOUT = 0.3
#: Side of the convolution kernels.
KERNEL = 5
#: Samples drawn from the fixed noise that the chapter classifies and ``samples.npz`` holds.
NUM_SAMPLES = 100
#: MNIST's training images (what the tutorial's 50 epochs run over).
MNIST_TRAIN_SIZE = 60_000


@dataclasses.dataclass(frozen=True)
class Settings:
    """A DCGAN's size and training schedule.

    Attributes:
        image_size: side of the square images, divisible by 4.
        width: channel scale (64: the tutorial's 256/128/64 generator, 64/128 discriminator).
        noise_dim: length of the generator's noise vector.
        batch_size: images per step.
        learning_rate: Adam's step, both networks.
        beta_1: Adam's first-moment decay.
        steps: train steps (for the course: 50 epochs of MNIST at ``batch_size``).
    """

    image_size: int = 28
    width: int = 64
    noise_dim: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-4
    beta_1: float = 0.9
    steps: int = 50 * math.ceil(MNIST_TRAIN_SIZE / 256)


#: The tutorial's settings: 50 epochs of 235 batches of 256 MNIST digits (11,750 steps).
COURSE = Settings()
#: The chapter's CPU settings: a quarter of the channels, batches of 64, Adam's beta_1 = 0.5 (the
#: DCGAN paper's, steadier than 0.9 in few steps), 1,000 steps.
CPU = Settings(width=16, batch_size=64, learning_rate=1e-4, beta_1=0.5, steps=1000)


def _check_size(image_size: object, width: object) -> tuple[int, int]:
    image_size = checks.positive_int("image_size", image_size)
    if image_size % 4:
        raise ValueError(
            f"image_size must be divisible by 4 (two stride-2 layers), got {image_size}"
        )
    return image_size, checks.positive_int("width", width)


def build_generator(
    image_size: int = 28, width: int = 64, noise_dim: int = 100, channels: int = 1
) -> keras.Model:
    """The tutorial's generator: noise ``[B, noise_dim]`` -> images ``[B, S, S, channels]``.

    Images are in [-1, 1] (tanh). ``width=64`` and ``image_size=28`` are the tutorial's.

    Raises:
        ValueError: if ``image_size`` is not a positive multiple of 4, or ``width``,
            ``noise_dim`` or ``channels`` is below 1.
        TypeError: if one of them is not an int.
    """
    image_size, width = _check_size(image_size, width)
    noise_dim = checks.positive_int("noise_dim", noise_dim)
    channels = checks.positive_int("channels", channels)
    start = image_size // 4
    noise = keras.Input(shape=(noise_dim,), name="noise")
    x = keras.layers.Dense(start * start * 4 * width, use_bias=False, name="project")(noise)
    x = keras.layers.BatchNormalization(name="project_bn")(x)
    x = keras.layers.LeakyReLU(name="project_lrelu")(x)
    x = keras.layers.Reshape((start, start, 4 * width), name="reshape")(x)
    for index, (filters, stride) in enumerate([(2 * width, 1), (width, 2)], start=1):
        x = keras.layers.Conv2DTranspose(
            filters, KERNEL, strides=stride, padding="same", use_bias=False, name=f"up{index}"
        )(x)
        x = keras.layers.BatchNormalization(name=f"up{index}_bn")(x)
        x = keras.layers.LeakyReLU(name=f"up{index}_lrelu")(x)
    image = keras.layers.Conv2DTranspose(
        channels, KERNEL, strides=2, padding="same", use_bias=False, activation="tanh", name="image"
    )(x)
    return keras.Model(noise, image, name="generator")


def build_discriminator(image_size: int = 28, width: int = 64, channels: int = 1) -> keras.Model:
    """The tutorial's discriminator: images ``[B, S, S, channels]`` -> logits ``[B, 1]``.

    Raises:
        ValueError: if ``image_size`` is not a positive multiple of 4, or ``width`` or
            ``channels`` is below 1.
        TypeError: if one of them is not an int.
    """
    image_size, width = _check_size(image_size, width)
    channels = checks.positive_int("channels", channels)
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    x = image
    for index, filters in enumerate([width, 2 * width], start=1):
        x = keras.layers.Conv2D(filters, KERNEL, strides=2, padding="same", name=f"conv{index}")(x)
        x = keras.layers.LeakyReLU(name=f"conv{index}_lrelu")(x)
        x = keras.layers.Dropout(DROPOUT, name=f"conv{index}_dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(image, keras.layers.Dense(1, name="logit")(x), name="discriminator")


class DCGAN(GANTrainer):
    """The tutorial's DCGAN: generator and discriminator, one Adam each, a compiled step.

    Args:
        settings: sizes and optimizer (:data:`COURSE` by default; ``steps`` and ``batch_size``
            are for the caller's loop, not used here).
        strategy: a ``tf.distribute.Strategy``, or ``None`` for the default one.
        sample_seed: seed of the fixed noise behind :meth:`samples`.
    """

    def __init__(
        self,
        settings: Settings = COURSE,
        strategy: tf.distribute.Strategy | None = None,
        sample_seed: int = 0,
    ) -> None:
        if not isinstance(settings, Settings):
            raise TypeError(f"settings must be a dcgan.Settings, got {type(settings).__name__}")
        _check_size(settings.image_size, settings.width)
        self.settings = settings
        rng = np.random.default_rng(checks.integer("sample_seed", sample_seed))
        self.sample_noise = tf.constant(
            rng.standard_normal((NUM_SAMPLES, settings.noise_dim)), tf.float32
        )
        super().__init__(strategy)

    def build(self) -> None:
        s = self.settings
        self.models = {
            "generator": build_generator(s.image_size, s.width, s.noise_dim),
            "discriminator": build_discriminator(s.image_size, s.width),
        }
        self.optimizers = {
            name: keras.optimizers.Adam(s.learning_rate, beta_1=s.beta_1, name=f"{name}_adam")
            for name in self.models
        }

    @property
    def generator(self) -> keras.Model:
        return self.models["generator"]

    @property
    def discriminator(self) -> keras.Model:
        return self.models["discriminator"]

    def step(self, batch: tf.Tensor) -> dict[str, tf.Tensor]:
        """One replica's step on real images ``[B, S, S, 1]`` in [-1, 1]: both networks move."""
        noise = tf.random.normal([tf.shape(batch)[0], self.settings.noise_dim])
        with tf.GradientTape(persistent=True) as tape:
            fake = self.generator(noise, training=True)
            real_logits = self.discriminator(batch, training=True)
            fake_logits = self.discriminator(fake, training=True)
            g_loss = generator_loss(fake_logits)
            d_loss = discriminator_loss(real_logits, fake_logits)
        self.apply(tape, g_loss, "generator")
        self.apply(tape, d_loss, "discriminator")
        del tape
        return {"generator": g_loss, "discriminator": d_loss}

    def generate(self, noise: tf.Tensor) -> np.ndarray:
        """Images ``[N, S, S, 1]`` in [0, 1] from noise ``[N, noise_dim]`` (inference mode)."""
        images = self.generator(tf.convert_to_tensor(noise, tf.float32), training=False)
        return np.clip((images.numpy() + 1.0) / 2.0, 0.0, 1.0)

    def samples(self) -> np.ndarray:
        """The :data:`NUM_SAMPLES` images of the fixed noise, ``[100, S, S, 1]`` in [0, 1]."""
        return self.generate(self.sample_noise)

    def random_samples(self, count: int, seed: int = 1) -> np.ndarray:
        """``count`` images from fresh seeded noise, ``[count, S, S, 1]`` in [0, 1]."""
        count = checks.positive_int("count", count)
        rng = np.random.default_rng(checks.integer("seed", seed))
        return self.generate(rng.standard_normal((count, self.settings.noise_dim)))


# --- data -----------------------------------------------------------------------------------------


def load_digits(split: str = "train") -> np.ndarray:
    """``load_mnist()``'s images as ``[N, 28, 28, 1]`` float32 in [-1, 1], the GAN's range.

    Offline (and in CI) these are scikit-learn's digits at 28x28 (1,437 train / 360 test);
    online, MNIST (60,000 / 10,000).
    """
    from course_lib import data

    split = checks.one_of("split", split, ("train", "test"))
    (x_train, _), (x_test, _) = data.load_mnist()
    images = x_train if split == "train" else x_test
    return (images.astype(np.float32)[..., None] / 127.5) - 1.0


def dataset(images: np.ndarray, batch_size: int, seed: int = 0) -> tf.data.Dataset:
    """Shuffled, repeated batches ``[batch_size, S, S, C]`` of ``images`` (the last partial one
    dropped, so that every step sees a full batch)."""
    batch_size = checks.positive_int("batch_size", batch_size)
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or len(images) < batch_size:
        raise ValueError(
            f"images must be [N, S, S, C] with N >= batch_size, got shape {images.shape}"
        )
    data = tf.data.Dataset.from_tensor_slices(images)
    data = data.shuffle(
        len(images), seed=checks.integer("seed", seed), reshuffle_each_iteration=True
    )
    return data.repeat().batch(batch_size, drop_remainder=True).prefetch(2)


# --- the chapter's figure -------------------------------------------------------------------------


def evaluate(trainer: DCGAN, seed: int = 0) -> dict:
    """The chapter's figure: the classifier score of the :data:`NUM_SAMPLES` fixed samples, and
    the Fréchet distance to the training digits of generated, held-out real and baseline images.

    Every Fréchet distance compares :data:`metrics.FRECHET_SAMPLES` images with the same
    reference (:func:`metrics.reference_features`: training digits), so that they are
    comparable; the held-out real digits are what a perfect generator would score; an untrained
    generator of the same architecture and uniform noise are what no training scores.

    Returns:
        Plain floats and ints: ``confidence``, ``classes_covered``, ``frechet``,
        ``frechet_real``, ``frechet_untrained``, ``frechet_noise``.
    """
    seed = checks.integer("seed", seed)
    score = metrics.classifier_score(trainer.samples())
    count = metrics.FRECHET_SAMPLES
    reference = metrics.reference_features((load_digits("train") + 1.0) / 2.0)
    held_out = (load_digits("test")[:count] + 1.0) / 2.0
    untrained = DCGAN(trainer.settings, sample_seed=seed)
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.0, 1.0, size=held_out.shape).astype(np.float32)
    distances = {
        key: metrics.frechet_distance(metrics.features(images), reference)
        for key, images in (
            ("frechet", trainer.random_samples(count, seed=seed + 1)),
            ("frechet_real", held_out),
            ("frechet_untrained", untrained.random_samples(count, seed=seed + 1)),
            ("frechet_noise", noise),
        )
    }
    return {
        "confidence": score.confidence,
        "classes_covered": score.classes_covered,
        **distances,
    }


def format_figure(figure: dict) -> str:
    """The figure in two printed lines."""
    return (
        f"{NUM_SAMPLES} samples: mean top-class confidence {figure['confidence']:.3f}, "
        f"{figure['classes_covered']} of 10 classes covered\n"
        f"Fréchet distance to training digits: generated {figure['frechet']:.1f}, "
        f"held-out real {figure['frechet_real']:.1f}, untrained generator "
        f"{figure['frechet_untrained']:.1f}, uniform noise {figure['frechet_noise']:.1f}"
    )


def train_course(
    out: str | Path, steps: int | None = None, seed: int = 0, progress: bool = True
) -> dict:
    """Trains the chapter's DCGAN (:data:`CPU` settings), saves it and returns its figure.

    Writes ``out/checkpoint`` (:meth:`DCGAN.save`) and ``out/samples.npz`` (key ``images``:
    the 100 fixed-noise digits ``[100, 28, 28, 1]`` in [0, 1]).

    Args:
        out: output folder (created).
        steps: train steps; ``None``: the chapter's ``CPU.steps``.
        seed: seeds TensorFlow, NumPy and the data order.
        progress: show a progress bar.

    Returns:
        :func:`evaluate`'s figure, plus ``steps`` and ``seconds_per_step``.
    """
    out = Path(out)
    steps = CPU.steps if steps is None else checks.positive_int("steps", steps)
    seed = checks.integer("seed", seed)
    config.seed_everything(seed)
    trainer = DCGAN(CPU, sample_seed=seed)
    history = fit(
        trainer,
        dataset(load_digits("train"), CPU.batch_size, seed=seed),
        steps,
        progress=checks.boolean("progress", progress),
        checkpoint_dir=out / "checkpoint",
    )
    save_samples(out / "samples.npz", trainer.samples())
    figure = evaluate(trainer, seed=seed)
    return {**figure, "steps": steps, "seconds_per_step": float(history.seconds_per_step)}
