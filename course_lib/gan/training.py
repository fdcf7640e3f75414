"""What every GAN of Part 1 shares: models and optimizers under a strategy, a compiled train step,
a training loop with a progress bar and sample grids, checkpoints.

A GAN is a :class:`GANTrainer` subclass that creates its networks and optimizers in
:meth:`~GANTrainer.build` and writes one replica's step in :meth:`~GANTrainer.step`, returning
its losses. The base class runs that step on every replica of its ``tf.distribute`` strategy
(the default strategy: one device) inside one ``tf.function``, averages the losses, and saves
or restores every network and optimizer with one ``tf.train.Checkpoint``. :func:`fit` is the
loop: ``steps`` batches, the losses kept, the generator's samples kept every ``sample_every``
steps (the grid of images over training that the chapters show).

Used by :mod:`course_lib.gan.dcgan`, :mod:`course_lib.gan.pix2pix` and
:mod:`course_lib.gan.cyclegan` (book/part1/07_dcgan, 08_pix2pix, 09_cyclegan).
"""

from __future__ import annotations

import abc
import dataclasses
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks


class GANTrainer(abc.ABC):
    """Networks, optimizers and a compiled, distributed train step.

    Subclasses set ``self.models`` and ``self.optimizers`` (dicts name -> object) in
    :meth:`build` and implement :meth:`step` (one replica's batch -> dict of scalar losses)
    and :meth:`samples`.

    Args:
        strategy: a ``tf.distribute.Strategy`` (``MirroredStrategy`` over devices, or
            ``MultiWorkerMirroredStrategy``); ``None`` is the default one-device strategy.
    """

    def __init__(self, strategy: tf.distribute.Strategy | None = None) -> None:
        if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
            raise TypeError(f"strategy must be a tf.distribute.Strategy, got {type(strategy)}")
        self.strategy = strategy or tf.distribute.get_strategy()
        self.models: dict[str, keras.Model] = {}
        self.optimizers: dict[str, keras.optimizers.Optimizer] = {}
        with self.strategy.scope():
            self.build()
            for name, optimizer in self.optimizers.items():
                optimizer.build(self.models[name].trainable_variables)
        self._compiled = tf.function(self._distributed_step)

    @abc.abstractmethod
    def build(self) -> None:
        """Creates ``self.models`` and ``self.optimizers`` (one optimizer per model name)."""

    @abc.abstractmethod
    def step(self, batch: Any) -> dict[str, tf.Tensor]:
        """One replica's training step on its share of ``batch``: the losses, scalars."""

    @abc.abstractmethod
    def samples(self) -> np.ndarray:
        """Images that show training's progress, ``[N, H, W, C]`` floats in [0, 1]."""

    def apply(self, tape: tf.GradientTape, loss: tf.Tensor, name: str) -> None:
        """Takes ``loss``'s gradient for model ``name`` and lets its optimizer apply it.

        The optimizer sums gradients over replicas, so each replica's (mean) loss is divided by
        the number of replicas: the step is the one of the whole global batch.
        """
        variables = self.models[name].trainable_variables
        scale = 1.0 / self.strategy.num_replicas_in_sync
        gradients = [g * scale for g in tape.gradient(loss, variables)]
        self.optimizers[name].apply_gradients(zip(gradients, variables, strict=True))

    def _distributed_step(self, batch: Any) -> dict[str, tf.Tensor]:
        losses = self.strategy.run(self.step, args=(batch,))
        mean = tf.distribute.ReduceOp.MEAN
        return {
            name: self.strategy.reduce(mean, value, axis=None) for name, value in losses.items()
        }

    def train_step(self, batch: Any) -> dict[str, float]:
        """One compiled step on ``batch`` (the global batch), the replicas' mean losses."""
        return {name: float(value) for name, value in self._compiled(batch).items()}

    def checkpoint(self) -> tf.train.Checkpoint:
        """One checkpoint of every network and optimizer."""
        return tf.train.Checkpoint(
            **self.models, **{f"{k}_optimizer": v for k, v in self.optimizers.items()}
        )

    def save(self, directory: str | Path) -> Path:
        """Writes the checkpoint under ``directory`` (created); returns its path prefix."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return Path(self.checkpoint().write(str(directory / "ckpt")))

    def restore(self, directory: str | Path) -> None:
        """Restores what :meth:`save` wrote under ``directory``.

        Raises:
            FileNotFoundError: if ``directory`` holds no checkpoint.
        """
        prefix = Path(directory) / "ckpt"
        if not Path(f"{prefix}.index").is_file():
            raise FileNotFoundError(f"no checkpoint in {directory} (expected {prefix}.index)")
        self.checkpoint().read(str(prefix)).assert_existing_objects_matched()


@dataclasses.dataclass
class History:
    """What :func:`fit` records: each step's losses and the samples taken along the way."""

    losses: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    sample_steps: list[int] = dataclasses.field(default_factory=list)
    samples: list[np.ndarray] = dataclasses.field(default_factory=list)
    seconds_per_step: float = float("nan")

    def loss(self, name: str) -> np.ndarray:
        """One loss over the steps, ``[steps]``."""
        return np.asarray(self.losses[name])


def _batches(data: Iterable, steps: int) -> Iterator:
    """``steps`` batches from ``data``, starting it over when it runs out."""
    taken = 0
    while taken < steps:
        empty = True
        for batch in data:
            empty = False
            yield batch
            taken += 1
            if taken == steps:
                return
        if empty:
            raise ValueError("data yielded no batch")


def fit(
    trainer: GANTrainer,
    data: Iterable,
    steps: int,
    *,
    sample_every: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    on_sample: Callable[[int, np.ndarray], None] | None = None,
) -> History:
    """Trains ``trainer`` for ``steps`` batches of ``data`` (repeated as needed).

    Args:
        trainer: a :class:`GANTrainer`.
        data: an iterable of batches (a ``tf.data.Dataset``, or a distributed one for a
            strategy with several replicas).
        steps: the number of train steps, >= 1.
        sample_every: keep ``trainer.samples()`` before the first step and every that many
            steps (and after the last); ``None`` keeps none.
        checkpoint_dir: where to save the checkpoint at the end (see :meth:`GANTrainer.save`).
        progress: a tqdm bar with the latest losses.
        on_sample: called with ``(step, images)`` each time samples are kept.

    Returns:
        The :class:`History`.
    """
    steps = checks.positive_int("steps", steps)
    if sample_every is not None:
        sample_every = checks.positive_int("sample_every", sample_every)
    progress = checks.boolean("progress", progress)
    history = History()

    def keep(step: int) -> None:
        images = np.asarray(trainer.samples())
        history.sample_steps.append(step)
        history.samples.append(images)
        if on_sample is not None:
            on_sample(step, images)

    if sample_every is not None:
        keep(0)
    batches = _batches(data, steps)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, file=sys.stdout, mininterval=1.0)
    started = time.perf_counter()
    for step, batch in enumerate(batches, start=1):
        losses = trainer.train_step(batch)
        for name, value in losses.items():
            history.losses.setdefault(name, []).append(value)
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
        if sample_every is not None and (step % sample_every == 0 or step == steps):
            keep(step)
    history.seconds_per_step = (time.perf_counter() - started) / steps
    if bar is not None:
        bar.close()
    if checkpoint_dir is not None:
        trainer.save(checkpoint_dir)
    return history


def save_samples(path: str | Path, images: np.ndarray) -> Path:
    """Writes ``images`` (``[N, H, W, C]`` floats in [0, 1]) to ``path``, ``.npz`` key ``images``.

    Raises:
        ValueError: if ``images`` is not 4-D or has values outside [0, 1].
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
    if images.size and (images.min() < 0.0 or images.max() > 1.0 or not np.isfinite(images).all()):
        raise ValueError("images must be finite and in [0, 1]")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=images)
    return path
