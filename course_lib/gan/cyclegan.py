"""CycleGAN (book/part1/09_cyclegan): unpaired image-to-image translation.

As TensorFlow's CycleGAN tutorial: two generators, ``G: X -> Y`` and ``F: Y -> X``, each
pix2pix's U-Net with instance normalization, and two PatchGAN discriminators, ``D_X`` on X and
``D_Y`` on Y, that see one image (no input to compare with: the domains are unpaired). ``G`` is
trained to fool ``D_Y``, to bring ``x`` back through ``F`` (the cycle loss
``lambda * |x - F(G(x))|``, lambda 10) and to leave images already in Y alone (the identity
loss ``0.5 * lambda * |y - G(y)|``); ``F`` symmetrically. Four Adam optimizers (2e-4, beta_1
0.5), one per network.

- :func:`build_generator`, :func:`build_discriminator`: the networks, for any power-of-two
  image size and base width (the tutorial: 256 pixels, width 64), built by
  :mod:`course_lib.gan.networks` (pix2pix's, with instance normalization, unconditional);
- :class:`CycleGAN`: the :class:`~course_lib.gan.training.GANTrainer` with its step;
- :func:`build_domain_classifier`, :func:`train_domain_classifier`: an independent judge of
  which domain an image looks like, trained on real images only;
- :func:`measure`: the chapter's figure (cycle-consistency error, share of translations the
  judge assigns to the target domain); :func:`train_course` the ``course train cyclegan`` run.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks, config
from course_lib.data.unpaired import UnpairedDomains, make_fill_domains
from course_lib.gan import losses, networks
from course_lib.gan.networks import MAX_IMAGE_SIZE
from course_lib.gan.training import GANTrainer, History, fit, save_samples

#: Learning rate and beta_1 of the four Adam optimizers.
LEARNING_RATE, BETA_1 = 2e-4, 0.5
#: Smallest image side of the generators (a power of two; the discriminators need 32).
MIN_IMAGE_SIZE = 8
MODEL_NAMES = ("generator_g", "generator_f", "discriminator_x", "discriminator_y")


@dataclasses.dataclass(frozen=True)
class Settings(networks.BaseSettings):
    """A CycleGAN run: networks, data and training length."""

    dropout: float
    learning_rate: float
    jitter: bool
    num_train: int
    data: str

    def describe(self) -> str:
        return (
            f"{self.data}, {self.image_size}x{self.image_size} px, width {self.width}, "
            f"batch {self.batch_size}, {self.steps:,} steps, dropout {self.dropout:g}, "
            f"{'random jitter and mirroring' if self.jitter else 'mirroring only'}"
        )


#: The course's (the tutorial's) settings: horse2zebra at 256 px, width 64, batch 1, 40 epochs
#: of the 1,067 horses zipped with as many of the 1,334 zebras.
COURSE = Settings(
    image_size=256,
    width=64,
    batch_size=1,
    steps=40 * 1067,
    dropout=0.5,
    learning_rate=LEARNING_RATE,
    jitter=True,
    num_train=1067,
    data="horse2zebra",
)
#: The chapter's CPU settings: the procedural solid/striped shapes at 32 px, an eighth of the
#: width, batches of 8, no dropout (which slows a short run down), a larger learning rate.
CPU = Settings(
    image_size=32,
    width=8,
    batch_size=8,
    steps=1500,
    dropout=0.0,
    learning_rate=1e-3,
    jitter=False,
    num_train=512,
    data="procedural solid vs striped shapes",
)
#: Held-out images per domain of the CPU settings' data.
CPU_NUM_TEST = 128


def build_generator(
    image_size: int = 256,
    width: int = 64,
    normalization: str = "instance",
    dropout: float = 0.5,
    channels: int = 3,
    name: str = "generator",
) -> keras.Model:
    """pix2pix's U-Net (:func:`networks.build_unet`), instance-normalized by default.

    At 256 pixels and width 64 it is the tutorial's generator (8 down blocks of 64, 128, 256
    and 512 filters, 7 up blocks, a tanh output).

    Args:
        image_size: side ``S`` of the square images, a power of two in 8..512.
        width: filters of the first block, >= 1.
        normalization: ``"instance"`` (CycleGAN) or ``"batch"`` (pix2pix).
        dropout: rate of the three up blocks nearest the bottleneck, in [0, 1).
        channels: image channels ``C``.

    Returns:
        A model ``[B, S, S, C] -> [B, S, S, C]``, images in [-1, 1].
    """
    networks.check_image_size(image_size, MIN_IMAGE_SIZE)
    return networks.build_unet(image_size, width, normalization, dropout, channels, name)


def build_discriminator(
    image_size: int = 256,
    width: int = 64,
    normalization: str = "instance",
    channels: int = 3,
    name: str = "discriminator",
) -> keras.Model:
    """The PatchGAN on one image (:func:`networks.build_patchgan`, unconditional).

    At 256 pixels and width 64 it is the tutorial's (logits ``[B, 30, 30, 1]``, each judging a
    70x70 patch).

    Args:
        image_size: side ``S``, a power of two in 32..512 (the blocks need 4x4 left).
        width: filters of the first block, >= 1 (then 2, 4 and 8 times it).
        normalization: ``"instance"`` or ``"batch"``.
        channels: image channels ``C``.

    Returns:
        A model ``[B, S, S, C] -> [B, S/8 - 2, S/8 - 2, 1]`` logits.
    """
    return networks.build_patchgan(image_size, width, normalization, False, channels, name)


def _adam(learning_rate: float) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate, beta_1=BETA_1)


#: Images in [0, 1] -> [-1, 1], the generators' range.
to_model_range = networks.to_network
#: Images in [-1, 1] -> NumPy in [0, 1].
to_image_range = networks.from_network


class CycleGAN(GANTrainer):
    """Two generators, two discriminators, four optimizers and CycleGAN's step.

    A batch is a pair ``(x, y)`` of ``[B, S, S, 3]`` images in [-1, 1], one of each domain
    (unpaired). :meth:`step` returns ``generator_g``, ``generator_f`` (the adversarial terms),
    ``discriminator_x``, ``discriminator_y``, ``cycle`` (both directions, weighted) and
    ``identity`` (both generators, weighted).

    Args:
        image_size, width, dropout: as :func:`build_generator` (the discriminators share
            ``image_size`` and ``width``).
        cycle_weight: ``lambda`` (10); the identity loss weighs ``0.5 * lambda``.
        learning_rate: of the four Adam optimizers (2e-4; beta_1 is 0.5).
        sample_x, sample_y: ``[N, S, S, 3]`` images in [0, 1] that :meth:`samples` translates.
        strategy: see :class:`~course_lib.gan.training.GANTrainer`.
    """

    def __init__(
        self,
        image_size: int = 256,
        width: int = 64,
        dropout: float = 0.5,
        cycle_weight: float = losses.CYCLE_LAMBDA,
        learning_rate: float = LEARNING_RATE,
        sample_x: np.ndarray | None = None,
        sample_y: np.ndarray | None = None,
        strategy: tf.distribute.Strategy | None = None,
    ) -> None:
        self.image_size = networks.check_image_size(image_size, networks.MIN_PATCHGAN_SIZE)
        self.width = checks.positive_int("width", width)
        self.dropout = checks.real("dropout", dropout, 0.0, 0.99)
        self.cycle_weight = checks.real("cycle_weight", cycle_weight, minimum=0.0)
        self.learning_rate = checks.positive_float("learning_rate", learning_rate)
        self.sample_x, self.sample_y = sample_x, sample_y
        super().__init__(strategy)

    def build(self) -> None:
        size, width = self.image_size, self.width
        self.models = {
            "generator_g": build_generator(size, width, dropout=self.dropout, name="G"),
            "generator_f": build_generator(size, width, dropout=self.dropout, name="F"),
            "discriminator_x": build_discriminator(size, width, name="D_X"),
            "discriminator_y": build_discriminator(size, width, name="D_Y"),
        }
        self.optimizers = {name: _adam(self.learning_rate) for name in MODEL_NAMES}

    def step(self, batch) -> dict[str, tf.Tensor]:
        real_x, real_y = batch
        g, f = self.models["generator_g"], self.models["generator_f"]
        d_x, d_y = self.models["discriminator_x"], self.models["discriminator_y"]
        weight = self.cycle_weight
        with tf.GradientTape(persistent=True) as tape:
            fake_y, fake_x = g(real_x, training=True), f(real_y, training=True)
            cycled_x, cycled_y = f(fake_y, training=True), g(fake_x, training=True)
            same_x, same_y = f(real_x, training=True), g(real_y, training=True)
            fake_x_logits, fake_y_logits = d_x(fake_x, training=True), d_y(fake_y, training=True)
            adversarial_g = losses.generator_loss(fake_y_logits)
            adversarial_f = losses.generator_loss(fake_x_logits)
            cycle = losses.cycle_consistency_loss(
                real_x, cycled_x, weight
            ) + losses.cycle_consistency_loss(real_y, cycled_y, weight)
            identity_g = losses.identity_loss(real_y, same_y, weight)
            identity_f = losses.identity_loss(real_x, same_x, weight)
            # Both generators share the cycle loss of both directions, as in the tutorial.
            total_g = adversarial_g + cycle + identity_g
            total_f = adversarial_f + cycle + identity_f
            # The tutorial halves the discriminators' loss, slowing them against the generators.
            loss_x = 0.5 * losses.discriminator_loss(d_x(real_x, training=True), fake_x_logits)
            loss_y = 0.5 * losses.discriminator_loss(d_y(real_y, training=True), fake_y_logits)
        self.apply(tape, total_g, "generator_g")
        self.apply(tape, total_f, "generator_f")
        self.apply(tape, loss_x, "discriminator_x")
        self.apply(tape, loss_y, "discriminator_y")
        del tape
        return {
            "generator_g": adversarial_g,
            "generator_f": adversarial_f,
            "discriminator_x": loss_x,
            "discriminator_y": loss_y,
            "cycle": cycle,
            "identity": identity_g + identity_f,
        }

    def translate(self, images: np.ndarray, direction: str = "x2y") -> np.ndarray:
        """``G(x)`` (``"x2y"``) or ``F(y)`` (``"y2x"``) of ``[N, S, S, 3]`` images in [0, 1]."""
        checks.one_of("direction", direction, ("x2y", "y2x"))
        model = self.models["generator_g" if direction == "x2y" else "generator_f"]
        outputs = [
            model(to_model_range(images[i : i + 64]), training=False).numpy()
            for i in range(0, len(images), 64)
        ]
        return to_image_range(np.concatenate(outputs))

    def round_trip(self, images: np.ndarray, direction: str = "x2y"):
        """``(translated, reconstructed)``: ``G(x), F(G(x))`` or ``F(y), G(F(y))``, in [0, 1]."""
        translated = self.translate(images, direction)
        back = "y2x" if direction == "x2y" else "x2y"
        return translated, self.translate(translated, back)

    def samples(self) -> np.ndarray:
        """Rows of real, translated and reconstructed images: X -> Y -> X, then Y -> X -> Y."""
        if self.sample_x is None or self.sample_y is None:
            raise ValueError("pass sample_x and sample_y to CycleGAN to take samples")
        rows = []
        for images, direction in ((self.sample_x, "x2y"), (self.sample_y, "y2x")):
            images = np.asarray(images, np.float32)
            rows += [images, *self.round_trip(images, direction)]
        return np.concatenate(rows).astype(np.float32)


# --- data -------------------------------------------------------------------------------------


def make_dataset(domains: UnpairedDomains, batch_size: int, seed: int = 0, jitter: bool = False):
    """Batches ``(x, y)`` in [-1, 1] of the two training sets, each shuffled on its own.

    Images are mirrored at random; with ``jitter`` also enlarged by 30/256 and randomly cropped
    back (the tutorial's 286 -> 256). One pass is as long as the smaller set.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    size = domains.image_size
    enlarged = networks.jitter_size(size)

    def augment(images: tf.Tensor) -> tf.Tensor:
        if jitter:
            images = tf.image.resize(images, [enlarged, enlarged], method="nearest")
            images = tf.image.random_crop(images, [size, size, 3])
        return to_model_range(tf.image.random_flip_left_right(images))

    def one(images: np.ndarray, offset: int) -> tf.data.Dataset:
        data = tf.data.Dataset.from_tensor_slices(images)
        data = data.shuffle(len(images), seed=seed + offset, reshuffle_each_iteration=True)
        return data.map(augment)

    pairs = tf.data.Dataset.zip(one(domains.train_x, 0), one(domains.train_y, 1))
    return pairs.batch(batch_size, drop_remainder=True).prefetch(2)


# --- the judge: a domain classifier trained on real images only -------------------------------


def build_domain_classifier(image_size: int, width: int = 32) -> keras.Model:
    """A small CNN ``[B, S, S, 3]`` in [0, 1] -> ``[B, 1]`` logit that the image is of Y."""
    image_size = checks.integer("image_size", image_size, 16, MAX_IMAGE_SIZE)
    width = checks.positive_int("width", width)
    layers = [keras.Input([image_size, image_size, 3])]
    for filters in (width, 2 * width, 4 * width):
        layers += [keras.layers.Conv2D(filters, 3, padding="same", activation="relu")]
        layers += [keras.layers.MaxPooling2D()]
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)]
    return keras.Sequential(layers, name="domain_classifier")


def train_domain_classifier(
    domains: UnpairedDomains, epochs: int = 15, seed: int = 0
) -> tuple[keras.Model, float]:
    """Trains :func:`build_domain_classifier` on the real training images of X (0) and Y (1).

    Returns:
        ``(classifier, accuracy)``: the accuracy on the real held-out images of both domains.
    """
    epochs = checks.positive_int("epochs", epochs)
    config.seed_everything(seed)
    classifier = build_domain_classifier(domains.image_size)
    images = np.concatenate([domains.train_x, domains.train_y])
    labels = np.r_[np.zeros(len(domains.train_x)), np.ones(len(domains.train_y))]
    order = np.random.default_rng(seed).permutation(len(images))
    classifier.compile(
        keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True)
    )
    classifier.fit(images[order], labels[order], batch_size=32, epochs=epochs, verbose=0)
    accuracy = 0.5 * (
        np.mean(domain_of(classifier, domains.test_x) == 0)
        + np.mean(domain_of(classifier, domains.test_y) == 1)
    )
    return classifier, float(accuracy)


def domain_of(classifier: keras.Model, images: np.ndarray) -> np.ndarray:
    """``[N]`` 0 (X) or 1 (Y): the domain the classifier assigns each image to."""
    logits = classifier.predict(np.asarray(images, np.float32), batch_size=256, verbose=0)
    return (logits[:, 0] > 0.0).astype(np.int64)


# --- the figure -------------------------------------------------------------------------------


def cycle_error(trainer: CycleGAN, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """Mean ``|x - F(G(x))|`` and ``|y - G(F(y))|`` over held-out images, in [0, 1] units."""
    errors = []
    for images, direction in ((test_x, "x2y"), (test_y, "y2x")):
        _, reconstructed = trainer.round_trip(images, direction)
        errors.append(np.mean(np.abs(reconstructed - images)))
    return float(np.mean(errors))


def measure(
    trainer: CycleGAN,
    domains: UnpairedDomains,
    classifier: keras.Model,
    start_cycle_error: float,
) -> dict:
    """The chapter's figure on the held-out images.

    Returns:
        ``cycle_error_start``, ``cycle_error``, ``cycle_drop`` (1 - end / start),
        ``to_target_x2y`` and ``to_target_y2x`` (shares of ``G(x)`` the classifier calls Y and
        of ``F(y)`` it calls X), ``to_target`` (their mean), and the baselines
        ``untranslated_x2y`` / ``untranslated_y2x`` (the same shares for the inputs themselves).
    """
    end = cycle_error(trainer, domains.test_x, domains.test_y)
    x2y = np.mean(domain_of(classifier, trainer.translate(domains.test_x, "x2y")) == 1)
    y2x = np.mean(domain_of(classifier, trainer.translate(domains.test_y, "y2x")) == 0)
    return {
        "cycle_error_start": float(start_cycle_error),
        "cycle_error": end,
        "cycle_drop": float(1.0 - end / start_cycle_error),
        "to_target_x2y": float(x2y),
        "to_target_y2x": float(y2x),
        "to_target": float(0.5 * (x2y + y2x)),
        "untranslated_x2y": float(np.mean(domain_of(classifier, domains.test_x) == 1)),
        "untranslated_y2x": float(np.mean(domain_of(classifier, domains.test_y) == 0)),
    }


def format_figure(figure: dict) -> str:
    """Two lines: the cycle error's fall and the judge's verdict on the translations."""
    return (
        f"cycle-consistency error {figure['cycle_error_start']:.3f} -> "
        f"{figure['cycle_error']:.3f} ({figure['cycle_drop']:.0%} lower)\n"
        f"assigned to the target domain: G(x) {figure['to_target_x2y']:.0%}, "
        f"F(y) {figure['to_target_y2x']:.0%} (untranslated inputs: "
        f"{figure['untranslated_x2y']:.0%}, {figure['untranslated_y2x']:.0%})"
    )


@dataclasses.dataclass
class Run:
    """What :func:`run_cpu` returns: the trained networks, the data, the judge and the figure."""

    trainer: CycleGAN
    history: History
    domains: UnpairedDomains
    classifier: keras.Model
    classifier_accuracy: float
    figure: dict
    seconds: float


def run_cpu(
    settings: Settings = CPU,
    steps: int | None = None,
    seed: int = 0,
    progress: bool = True,
    sample_every: int | None = None,
) -> Run:
    """Trains CycleGAN on the procedural domains with ``settings`` and measures the figure.

    Args:
        settings: the run (its ``data`` is always the procedural pair here).
        steps: train steps; ``None``: ``settings.steps``.
        seed: seeds the data, the networks and the judge.
        progress: a progress bar.
        sample_every: keep samples that often (see :func:`~course_lib.gan.training.fit`).
    """
    steps = settings.steps if steps is None else checks.positive_int("steps", steps)
    domains = make_fill_domains(settings.num_train, CPU_NUM_TEST, settings.image_size, seed)
    classifier, accuracy = train_domain_classifier(domains, seed=seed)
    config.seed_everything(seed)
    trainer = CycleGAN(
        settings.image_size,
        settings.width,
        settings.dropout,
        learning_rate=settings.learning_rate,
        sample_x=domains.test_x[:4],
        sample_y=domains.test_y[:4],
    )
    start = cycle_error(trainer, domains.test_x, domains.test_y)
    data = make_dataset(domains, settings.batch_size, seed, settings.jitter)
    began = time.perf_counter()
    history = fit(trainer, data, steps, sample_every=sample_every, progress=progress)
    seconds = time.perf_counter() - began
    figure = measure(trainer, domains, classifier, start)
    figure["classifier_accuracy"] = accuracy
    return Run(trainer, history, domains, classifier, accuracy, figure, seconds)


def train_course(
    out: str | Path, steps: int | None = None, seed: int = 0, progress: bool = True
) -> dict:
    """``course train cyclegan``: the chapter's CPU run, saved under ``out``.

    Writes ``out/checkpoint`` (every network and optimizer) and ``out/samples.npz`` (key
    ``images``: the held-out rows real, translated, reconstructed, both ways, ``[24, 32, 32,
    3]``), and returns the figure of :func:`measure` plus the classifier's held-out accuracy.
    """
    run = run_cpu(CPU, steps=steps, seed=seed, progress=progress)
    out = Path(out)
    run.trainer.save(out / "checkpoint")
    save_samples(out / "samples.npz", run.trainer.samples())
    return dict(run.figure)
