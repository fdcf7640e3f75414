"""pix2pix: image-to-image translation with a U-Net and a PatchGAN (book/part1/08_pix2pix).

The architecture and constants of TensorFlow's pix2pix tutorial, parameterized by image size
and width; the networks, ranges and jitter live in :mod:`course_lib.gan.networks` (shared with
CycleGAN) and are re-exported here:

- :func:`build_generator`: a U-Net. The encoder halves the image with 4x4, stride-2
  convolutions (BatchNorm except on the first, LeakyReLU 0.2) until it is 1x1, so a 256 px image
  has 8 levels and a 64 px one 6. The decoder doubles it back with 4x4, stride-2 transposed
  convolutions (BatchNorm, Dropout 0.5 on the first three, ReLU), each concatenated with the
  encoder's output of the same size (the skip connections); a last transposed convolution and
  ``tanh`` give the image in [-1, 1]. Filters: ``width * 2**level``, at most ``8 * width``.
- :func:`build_discriminator`: a PatchGAN. It reads the input and an image (the target or the
  generator's) concatenated on channels, downsamples three times, then two 4x4 stride-1
  convolutions give a map of logits, one per overlapping patch (30x30 at 256 px).
- Losses (:mod:`course_lib.gan.losses`): generator ``bce(1, D(x, G(x))) + 100 * |y - G(x)|``,
  discriminator ``bce(1, D(x, y)) + bce(0, D(x, G(x)))``. Adam, learning rate 2e-4, beta_1 0.5.
- :func:`random_jitter`: resize 256 -> 286 (nearest neighbour), random 256 crop, random mirror;
  the same crop and mirror for the input and its target. Scaled with the image size.

:class:`Pix2Pix` is the :class:`~course_lib.gan.training.GANTrainer`; :data:`COURSE` and
:data:`CPU` are the tutorial's settings and the chapter's; :func:`train_course` trains with the
chapter's settings (``course train pix2pix``) and :func:`evaluate` is the chapter's figure.

Images are in [0, 1] outside this module's networks and in [-1, 1] inside them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks, config
from course_lib.gan import losses, networks
from course_lib.gan.networks import (  # noqa: F401  (pix2pix's public names)
    DROPOUT_BLOCKS,
    JITTER_RATIO,
    PATCHGAN_DOWNSAMPLES,
    downsample,
    from_network,
    jitter_size,
    patch_grid_size,
    random_jitter,
    to_network,
    upsample,
)
from course_lib.gan.training import GANTrainer, fit, save_samples

#: The smallest image the networks accept: the PatchGAN needs 32 px for a 2x2 map of patches.
MIN_IMAGE_SIZE = networks.MIN_PATCHGAN_SIZE


@dataclasses.dataclass(frozen=True)
class Settings(networks.BaseSettings):
    """A pix2pix run: image size, network width, batch size, steps and the optimizer."""

    l1_weight: float = losses.PIX2PIX_LAMBDA
    learning_rate: float = 2e-4
    beta_1: float = 0.5


#: The tutorial's: 256 px, width 64, batch 1, 40,000 steps (about 100 epochs of 400 images).
COURSE = Settings(image_size=256, width=64, batch_size=1, steps=40_000)
#: The chapter's on a 2-core CPU: 64 px, width 16, batch 8, 500 steps.
CPU = Settings(image_size=64, width=16, batch_size=8, steps=500)


def unet_depth(image_size: int) -> int:
    """Number of stride-2 levels that bring ``image_size`` down to 1 (8 for 256 px).

    Raises:
        ValueError: naming ``image_size`` unless it is a power of two in 32..512.
    """
    return int(networks.check_image_size(image_size, MIN_IMAGE_SIZE)).bit_length() - 1


def build_generator(
    image_size: int = COURSE.image_size, width: int = COURSE.width, channels: int = 3
) -> keras.Model:
    """The U-Net generator with BatchNorm and dropout 0.5 (:func:`networks.build_unet`):
    ``[B, S, S, channels]`` in [-1, 1] -> the same shape, ``tanh``.

    Args:
        image_size: ``S``, a power of two >= 32; the U-Net has ``log2(S)`` levels.
        width: filters of the first level (64 in the tutorial), doubled per level up to 8x.
        channels: channels of the input and the output.

    Raises:
        ValueError: naming ``image_size``, ``width`` or ``channels`` when invalid.
    """
    unet_depth(image_size)
    return networks.build_unet(image_size, width, "batch", networks.DROPOUT, channels)


def build_discriminator(
    image_size: int = COURSE.image_size, width: int = COURSE.width, channels: int = 3
) -> keras.Model:
    """The conditional PatchGAN with BatchNorm (:func:`networks.build_patchgan`):
    ``[input, image]``, two ``[B, S, S, channels]`` in [-1, 1] -> logits ``[B, P, P, 1]`` with
    ``P = patch_grid_size(S)``, one per patch.

    Raises:
        ValueError: naming ``image_size``, ``width`` or ``channels`` when invalid.
    """
    return networks.build_patchgan(image_size, width, "batch", True, channels)


def make_dataset(
    inputs: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    seed: int = 0,
    jitter: bool = True,
) -> tf.data.Dataset:
    """Endless shuffled, jittered batches ``(input, target)``, each ``[B, S, S, C]`` in [-1, 1].

    Each pass over the pairs has a new order and each pair a new jitter, both determined by
    ``seed``: the same seed gives the same batches.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    seed = checks.non_negative_int("seed", seed)
    jitter = checks.boolean("jitter", jitter)
    inputs = np.asarray(inputs, np.float32)
    targets = np.asarray(targets, np.float32)
    if inputs.shape != targets.shape or inputs.ndim != 4:
        raise ValueError(
            f"inputs and targets must be [N, S, S, C] of one shape, got {inputs.shape} "
            f"and {targets.shape}"
        )
    if len(inputs) < batch_size:
        raise ValueError(f"batch_size {batch_size} is larger than the {len(inputs)} pairs")
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    data = data.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True).repeat()
    if jitter:
        data = tf.data.Dataset.zip((data, tf.data.Dataset.counter())).map(
            lambda pair, index: random_jitter(*pair, tf.stack([tf.cast(seed, tf.int64), index])),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    data = data.map(lambda x, y: (to_network(x), to_network(y)))
    return data.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class Pix2Pix(GANTrainer):
    """pix2pix's U-Net and PatchGAN, their Adam optimizers and the compiled train step.

    A batch is ``(input, target)``, each ``[B, S, S, C]`` in [-1, 1] (:func:`make_dataset`).

    Args:
        settings: image size, width, L1 weight and optimizer (:data:`CPU` by default).
        preview: ``[N, S, S, C]`` inputs in [0, 1] whose translations :meth:`samples` returns.
        strategy: a ``tf.distribute.Strategy``, or ``None`` for the default one.
    """

    def __init__(
        self,
        settings: Settings = CPU,
        preview: np.ndarray | None = None,
        strategy: tf.distribute.Strategy | None = None,
    ) -> None:
        if not isinstance(settings, Settings):
            raise TypeError(f"settings must be a pix2pix.Settings, got {type(settings).__name__}")
        self.settings = settings
        self.preview = None if preview is None else np.asarray(preview, np.float32)
        super().__init__(strategy)

    def build(self) -> None:
        size, width = self.settings.image_size, self.settings.width
        self.models = {
            "generator": build_generator(size, width),
            "discriminator": build_discriminator(size, width),
        }
        self.optimizers = {
            name: keras.optimizers.Adam(self.settings.learning_rate, beta_1=self.settings.beta_1)
            for name in self.models
        }

    def step(self, batch: tuple[tf.Tensor, tf.Tensor]) -> dict[str, tf.Tensor]:
        source, target = batch
        generator, discriminator = self.models["generator"], self.models["discriminator"]
        with tf.GradientTape(persistent=True) as tape:
            generated = generator(source, training=True)
            real_logits = discriminator([source, target], training=True)
            fake_logits = discriminator([source, generated], training=True)
            total, adversarial, l1 = losses.pix2pix_generator_loss(
                fake_logits, target, generated, self.settings.l1_weight
            )
            discriminator_loss = losses.discriminator_loss(real_logits, fake_logits)
        self.apply(tape, total, "generator")
        self.apply(tape, discriminator_loss, "discriminator")
        return {
            "generator": total,
            "adversarial": adversarial,
            "l1": l1,
            "discriminator": discriminator_loss,
        }

    def translate(self, inputs: np.ndarray, batch_size: int = 50) -> np.ndarray:
        """The generator's images for ``inputs``; see :func:`translate`."""
        return translate(self.models["generator"], inputs, batch_size)

    def samples(self) -> np.ndarray:
        """The translations of ``preview``, ``[N, S, S, C]`` in [0, 1]."""
        if self.preview is None:
            raise ValueError("Pix2Pix(preview=...) was not given inputs to show")
        return self.translate(self.preview)


def translate(generator: keras.Model, inputs: np.ndarray, batch_size: int = 50) -> np.ndarray:
    """``[N, S, S, C]`` inputs in [0, 1] -> the generator's images, the same shape in [0, 1].

    Inference mode: BatchNorm uses its moving statistics and Dropout is off, so the result is
    deterministic (the tutorial shows its images in training mode instead).
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    inputs = np.asarray(inputs, np.float32)
    outputs = [
        from_network(generator(to_network(inputs[start : start + batch_size]), training=False))
        for start in range(0, len(inputs), batch_size)
    ]
    return np.concatenate(outputs)


def evaluate(generator: keras.Model, inputs: np.ndarray, targets: np.ndarray) -> dict:
    """The chapter's figure on held-out pairs: L1 and SSIM of the generator's images and of the
    identity baseline (the input returned as the output), images in [0, 1].

    Returns:
        ``{"pairs", "l1", "identity_l1", "l1_ratio", "ssim", "identity_ssim"}``, plain numbers;
        ``l1_ratio`` is ``l1 / identity_l1``. SSIM is scikit-image's, averaged over the images.
    """
    from skimage.metrics import structural_similarity

    inputs = np.asarray(inputs, np.float32)
    targets = np.asarray(targets, np.float32)
    if inputs.shape != targets.shape or inputs.ndim != 4:
        raise ValueError(
            f"inputs and targets must be [N, S, S, C], got {inputs.shape}, {targets.shape}"
        )
    generated = translate(generator, inputs)

    def ssim(images: np.ndarray) -> float:
        return float(
            np.mean(
                [
                    structural_similarity(image, target, channel_axis=-1, data_range=1.0)
                    for image, target in zip(images, targets, strict=True)
                ]
            )
        )

    l1 = float(np.mean(np.abs(generated - targets)))
    identity_l1 = float(np.mean(np.abs(inputs - targets)))
    return {
        "pairs": len(inputs),
        "l1": l1,
        "identity_l1": identity_l1,
        "l1_ratio": l1 / identity_l1,
        "ssim": ssim(generated),
        "identity_ssim": ssim(inputs),
    }


def format_figure(figure: dict) -> str:
    """The figure of :func:`evaluate` (or :func:`train_course`) in two lines."""
    return (
        f"held-out L1 {figure['l1']:.4f} vs identity baseline {figure['identity_l1']:.4f} "
        f"(ratio {figure['l1_ratio']:.2f}, bar 0.70) on {figure['pairs']} pairs\n"
        f"SSIM {figure['ssim']:.3f} vs identity baseline {figure['identity_ssim']:.3f}"
    )


def seconds_per_step(settings: Settings, steps: int = 3, seed: int = 0) -> float:
    """Measured seconds of one compiled train step with ``settings``, on random pairs.

    The first step (tracing) is not counted; the mean of the next ``steps`` is returned.
    """
    import time

    steps = checks.positive_int("steps", steps)
    trainer = Pix2Pix(settings)
    rng = np.random.default_rng(seed)
    shape = (settings.batch_size, settings.image_size, settings.image_size, 3)
    batch = tuple(tf.constant(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(2))
    trainer.train_step(batch)
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(batch)
    return (time.perf_counter() - started) / steps


def train_course(
    out: str | Path, steps: int | None = None, seed: int = 0, progress: bool = True
) -> dict:
    """Trains pix2pix with the chapter's :data:`CPU` settings (``course train pix2pix``).

    Writes ``out/checkpoint`` and ``out/samples.npz`` (key ``images``: the translations of
    the held-out inputs, ``[N, S, S, 3]`` in [0, 1]).

    Args:
        out: output folder (created).
        steps: train steps; ``None``: the chapter's :data:`CPU` ``.steps``.
        seed: seeds TensorFlow, the data and the batches.
        progress: show a progress bar.

    Returns:
        :func:`evaluate`'s figure on the held-out pairs, plus ``steps`` and
        ``seconds_per_step``.
    """
    from course_lib.data.paired import load_paired

    out = Path(out)
    steps = CPU.steps if steps is None else checks.positive_int("steps", steps)
    config.seed_everything(seed)
    data = load_paired(CPU.image_size, seed)
    trainer = Pix2Pix(CPU)
    batches = make_dataset(data.train_inputs, data.train_targets, CPU.batch_size, seed)
    history = fit(trainer, batches, steps, checkpoint_dir=out / "checkpoint", progress=progress)
    save_samples(out / "samples.npz", trainer.translate(data.test_inputs))
    figure = evaluate(trainer.models["generator"], data.test_inputs, data.test_targets)
    return {**figure, "steps": steps, "seconds_per_step": history.seconds_per_step}
