"""Training and evaluating the LSM and the 2D baseline on a multi-view set of shapes.

The data is a :class:`~course_lib.data.shapes3d.MultiViewSet`.

- :func:`voxel_iou`: per-shape intersection over union of thresholded occupancy, averaged;
- :func:`voxel_loss`: sigmoid cross-entropy of logits against the voxels (optional weight on
  the occupied voxels);
- :func:`train`: the custom loop. Each step draws ``batch_size`` shapes and, for each batch,
  a number of views (fixed, or uniform in 1..V) taken in a random order from the shape's views,
  so the recurrent fusion learns to be order-invariant in expectation. The step is one
  ``tf.function`` run on every replica of a ``tf.distribute`` strategy (the machinery of
  :class:`course_lib.gan.training.GANTrainer`: variables under ``strategy.scope()``, gradients
  of the replicas' mean losses summed by the optimizer); it is traced with relaxed shapes, so a
  new number of views costs at most one more trace (then V is a run-time dimension). A tqdm
  progress bar; with ``checkpoint_dir``, a ``tf.train.CheckpointManager`` saves the model, the
  optimizer and the step every ``checkpoint_every`` steps and at the end, and a later call
  resumes from the latest checkpoint. Each step's batch is drawn from ``(seed, step)``, so a
  resumed run sees the batches an uninterrupted one would;
- :func:`evaluate_iou` and :func:`evaluate_depth`: the held-out figures for a number of views;
  :func:`shape_ious`: each shape's IoU through any views in any order.

Batches are the dicts the models take: ``{"images": [B, V, H, W, 3], "K": [B, V, 3, 3],
"R": [B, V, 3, 3], "t": [B, V, 3]}``, with the voxels `[B, R, R, R]` beside them.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.data.shapes3d import MultiViewSet
from course_lib.gan.training import GANTrainer
from course_lib.lsm.models import project_depth


def _as_probs(values: tf.Tensor, from_logits: bool) -> tf.Tensor:
    values = tf.convert_to_tensor(values)
    if not values.dtype.is_floating:
        values = tf.cast(values, tf.float32)
    return tf.sigmoid(values) if from_logits else values


def _check_voxels(name: str, values: tf.Tensor, voxels: tf.Tensor) -> None:
    if values.shape.rank is not None and values.shape.rank != 4:
        raise ValueError(f"{name} must have shape [B, R, R, R], got {tuple(values.shape)}")
    if not values.shape.is_compatible_with(voxels.shape):
        raise ValueError(
            f"voxels must have the shape of {name}, {tuple(values.shape)}, "
            f"got {tuple(voxels.shape)}"
        )


def voxel_iou(
    predictions: tf.Tensor,
    voxels: tf.Tensor,
    threshold: float = 0.5,
    from_logits: bool = True,
    per_shape: bool = False,
) -> tf.Tensor:
    """Intersection over union of the predicted and the true occupied voxels, per shape.

    A voxel is predicted occupied when its probability (the sigmoid of the logit with
    ``from_logits``) is above ``threshold``. A shape whose predicted and true sets are both
    empty has IoU 1.

    Args:
        predictions: `[B, R, R, R]` logits (``from_logits``) or probabilities.
        voxels: `[B, R, R, R]` true occupancy (bool, or numbers: occupied where > 0.5).
        threshold: the probability above which a voxel counts as occupied, in (0, 1).
        from_logits: whether ``predictions`` are logits.
        per_shape: return the `[B]` IoUs instead of their mean.

    Returns:
        The mean IoU, a float32 scalar (or `[B]` with ``per_shape``).

    Raises:
        ValueError: naming the argument, for shapes that are not `[B, R, R, R]` or differ, or a
            threshold outside (0, 1).
    """
    threshold = checks.real("threshold", threshold)
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    from_logits = checks.boolean("from_logits", from_logits)
    per_shape = checks.boolean("per_shape", per_shape)
    probs = _as_probs(predictions, from_logits)
    voxels = tf.convert_to_tensor(voxels)
    _check_voxels("predictions", probs, voxels)
    predicted = probs > threshold
    truth = voxels if voxels.dtype == tf.bool else tf.cast(voxels, tf.float32) > 0.5
    axes = [1, 2, 3]
    intersection = tf.reduce_sum(tf.cast(predicted & truth, tf.float32), axes)
    union = tf.reduce_sum(tf.cast(predicted | truth, tf.float32), axes)
    iou = tf.where(union > 0, intersection / tf.maximum(union, 1.0), 1.0)
    return iou if per_shape else tf.reduce_mean(iou)


def voxel_loss(logits: tf.Tensor, voxels: tf.Tensor, pos_weight: float | None = None) -> tf.Tensor:
    """Mean sigmoid cross-entropy of occupancy logits against the voxels.

    Args:
        logits: `[B, R, R, R]`.
        voxels: `[B, R, R, R]` occupancy (bool or 0/1 numbers).
        pos_weight: weight of the occupied voxels' term (None: 1); > 1 counters the empty
            voxels' majority.

    Returns:
        A scalar of ``logits``' dtype.

    Raises:
        ValueError: naming the argument, for mismatched shapes or a non-positive pos_weight.
    """
    logits = tf.convert_to_tensor(logits)
    voxels = tf.convert_to_tensor(voxels)
    _check_voxels("logits", logits, voxels)
    labels = tf.cast(voxels, logits.dtype)
    if pos_weight is None:
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    else:
        pos_weight = checks.positive_float("pos_weight", pos_weight)
        loss = tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight)
    return tf.reduce_mean(loss)


def batch_inputs(
    data: MultiViewSet, shapes: Any, views: Any | None = None
) -> dict[str, np.ndarray]:
    """The model inputs of some shapes and views of ``data``.

    Args:
        data: the set.
        shapes: `[B]` indices of the shapes.
        views: `[V]` indices of the views (the same for every shape, in this order) or `[B, V]`
            (each shape's own); None: all views in order.

    Returns:
        ``{"images": [B, V, H, W, 3], "K": [B, V, 3, 3], "R": [B, V, 3, 3], "t": [B, V, 3]}``
        float32 arrays.
    """
    shapes = np.asarray(shapes, np.int64)
    if views is None:
        views = np.arange(data.num_views)
    views = np.asarray(views, np.int64)
    if views.ndim == 1:
        views = np.broadcast_to(views, (len(shapes), len(views)))
    rows = shapes[:, None]
    return {
        "images": data.images[rows, views].astype(np.float32),
        "K": data.K[rows, views].astype(np.float32),
        "R": data.R[rows, views].astype(np.float32),
        "t": data.t[rows, views].astype(np.float32),
    }


@dataclasses.dataclass
class TrainHistory:
    """What :func:`train` records.

    Attributes:
        losses: each step's loss (the steps of this call only).
        views: each step's number of views.
        start_step: the step training resumed from (0 when it started afresh).
        seconds_per_step: wall time per step of this call, the first (tracing) step excluded.
    """

    losses: list[float] = dataclasses.field(default_factory=list)
    views: list[int] = dataclasses.field(default_factory=list)
    start_step: int = 0
    seconds_per_step: float = float("nan")

    @property
    def loss(self) -> np.ndarray:
        """The losses as an array, ``[steps]``."""
        return np.asarray(self.losses)


class _Trainer(GANTrainer):
    """One model, one Adam optimizer and a step counter, on :class:`GANTrainer`'s machinery."""

    def __init__(
        self,
        model: keras.Model,
        example: dict[str, np.ndarray],
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
        pos_weight: float | None,
        strategy: tf.distribute.Strategy | None,
    ) -> None:
        self._model, self._example = model, example
        self._learning_rate, self._pos_weight = learning_rate, pos_weight
        super().__init__(strategy)
        self._compiled = tf.function(self._distributed_step, reduce_retracing=True)

    def build(self) -> None:
        if not self._model.trainable_variables:
            self._model(self._example)  # creates the variables under the strategy's scope
        self.models = {"model": self._model}
        self.optimizers = {"model": keras.optimizers.Adam(self._learning_rate)}
        self.step_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

    def step(self, batch: tuple[dict[str, tf.Tensor], tf.Tensor]) -> dict[str, tf.Tensor]:
        inputs, voxels = batch
        with tf.GradientTape() as tape:
            logits = self._model(inputs)
            loss = voxel_loss(logits, voxels, self._pos_weight)
        self.apply(tape, loss, "model")
        return {"loss": loss}

    def samples(self) -> np.ndarray:  # nothing to show: GANTrainer's hook for sample grids
        return np.zeros((0, 1, 1, 3), np.float32)

    def checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(
            model=self._model, optimizer=self.optimizers["model"], step=self.step_counter
        )

    def distribute(self, batch: Any) -> Any:
        """``batch`` split along its first dimension over the replicas (as is for one)."""
        replicas = self.strategy.num_replicas_in_sync
        if replicas == 1:
            return batch

        def part(context: tf.distribute.ValueContext) -> Any:
            index = context.replica_id_in_sync_group
            return tf.nest.map_structure(lambda a: np.array_split(a, replicas)[index], batch)

        return self.strategy.experimental_distribute_values_from_function(part)


def _unbuilt_in_scope(model: keras.Model, strategy: tf.distribute.Strategy) -> None:
    """``ValueError`` naming ``model`` if it was built outside a non-default ``strategy``."""
    outside = [
        v.name
        for v in model.trainable_variables
        if not strategy.extended.variable_created_in_scope(getattr(v, "value", v))
    ]
    if outside:
        raise ValueError(
            "model must be built under strategy.scope() (or passed unbuilt, and train builds it "
            f"there); these variables were made outside it: {outside[:3]}"
        )


def train(
    model: keras.Model,
    data: MultiViewSet,
    steps: int,
    batch_size: int = 8,
    num_views: int | None = None,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 100,
    progress: bool = True,
    pos_weight: float | None = None,
    shuffle_views: bool = True,
) -> TrainHistory:
    """Trains ``model`` (a :class:`~.models.LearntStereoMachine` or :class:`~.models.Baseline2D`)
    on ``data``'s voxels with :func:`voxel_loss` and Adam, up to step ``steps``.

    Step ``s`` (1-based) draws, from ``numpy.random.default_rng([seed, s])``, ``batch_size``
    distinct shapes, its number of views (``num_views``, or uniform in 1..V when None) and,
    for each shape, that many distinct views in a random order (``shuffle_views``; else the
    first ones in order). Without ``checkpoint_dir`` every call starts at step 0 with a fresh
    optimizer (and, for the same ``seed``, the same batches): to train on, resume from a
    checkpoint or pass another seed.

    Args:
        model: the model; unbuilt, or built under ``strategy.scope()``.
        data: the training set.
        steps: the step to train up to (the total, counting the steps of earlier runs restored
            from ``checkpoint_dir``), >= 1.
        batch_size: shapes per step (global, split over the replicas), 1..N.
        num_views: views per step, 1..V; None: random each step.
        learning_rate: Adam's learning rate: a float, or a
            ``keras.optimizers.schedules.LearningRateSchedule`` of the optimizer's step (which a
            resumed run restores, so a schedule continues where it stopped).
        seed: the batches' seed.
        strategy: a ``tf.distribute.Strategy``; None: ``tf.distribute.get_strategy()``.
        checkpoint_dir: where to save and resume (a ``tf.train.CheckpointManager`` keeping the
            latest two); None: no checkpoint.
        checkpoint_every: save every that many steps (and after the last).
        progress: show a tqdm progress bar with the loss.
        pos_weight: see :func:`voxel_loss`.
        shuffle_views: draw each shape's views in a random order.

    Returns:
        The :class:`TrainHistory` of this call (empty if the checkpoint is already at ``steps``).

    Raises:
        ValueError: naming the argument, for out-of-range numbers, a batch size not divisible
            by the number of replicas, or a model built outside the strategy's scope.
        TypeError: for a strategy that is not a ``tf.distribute.Strategy`` or non-integer counts.
    """
    if not isinstance(data, MultiViewSet):
        raise ValueError(f"data must be a MultiViewSet, got {type(data).__name__}")
    steps = checks.positive_int("steps", steps)
    batch_size = checks.integer("batch_size", batch_size, minimum=1, maximum=len(data))
    if num_views is not None:
        num_views = checks.integer("num_views", num_views, minimum=1, maximum=data.num_views)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = checks.positive_float("learning_rate", learning_rate)
    seed = checks.non_negative_int("seed", seed)
    checkpoint_every = checks.positive_int("checkpoint_every", checkpoint_every)
    progress = checks.boolean("progress", progress)
    shuffle_views = checks.boolean("shuffle_views", shuffle_views)
    if pos_weight is not None:
        pos_weight = checks.positive_float("pos_weight", pos_weight)
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy, got {type(strategy)}")
    strategy = strategy or tf.distribute.get_strategy()
    if batch_size % strategy.num_replicas_in_sync:
        raise ValueError(
            f"batch_size must be divisible by the strategy's {strategy.num_replicas_in_sync} "
            f"replicas, got {batch_size}"
        )
    _unbuilt_in_scope(model, strategy)

    def draw(step: int) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
        rng = np.random.default_rng([seed, step])
        shapes = rng.choice(len(data), size=batch_size, replace=False)
        count = num_views if num_views is not None else int(rng.integers(1, data.num_views + 1))
        if shuffle_views:
            views = np.stack([rng.permutation(data.num_views)[:count] for _ in shapes])
        else:
            views = np.arange(count)
        return batch_inputs(data, shapes, views), data.voxels[shapes], count

    example = batch_inputs(data, np.arange(1), np.arange(1))
    trainer = _Trainer(model, example, learning_rate, pos_weight, strategy)
    checkpoint = trainer.checkpoint()
    manager = None
    if checkpoint_dir is not None:
        manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=2)
        if manager.latest_checkpoint:
            checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    start = int(trainer.step_counter.numpy())
    history = TrainHistory(start_step=start)
    bar = None
    if progress and start < steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, file=sys.stdout, mininterval=1.0)
    timed_from = None
    for step in range(start + 1, steps + 1):
        inputs, voxels, count = draw(step)
        loss = trainer.train_step(trainer.distribute((inputs, voxels.astype(np.float32))))["loss"]
        trainer.step_counter.assign(step)
        history.losses.append(loss)
        history.views.append(count)
        if timed_from is None:
            timed_from = (step, time.perf_counter())
        if bar is not None:
            bar.update(1)
            bar.set_postfix({"loss": f"{loss:.4f}", "views": count}, refresh=False)
        if manager is not None and (step % checkpoint_every == 0 or step == steps):
            manager.save(checkpoint_number=step)
    if bar is not None:
        bar.close()
    if timed_from is not None and steps > timed_from[0]:
        history.seconds_per_step = (time.perf_counter() - timed_from[1]) / (steps - timed_from[0])
    return history


def _check_views(data: MultiViewSet, num_views: int, batch_size: int) -> tuple[int, int]:
    if not isinstance(data, MultiViewSet):
        raise ValueError(f"data must be a MultiViewSet, got {type(data).__name__}")
    num_views = checks.integer("num_views", num_views, minimum=1, maximum=data.num_views)
    batch_size = checks.positive_int("batch_size", batch_size)
    return num_views, batch_size


def shape_ious(
    model: keras.Model,
    data: MultiViewSet,
    views: Sequence[int],
    batch_size: int = 16,
    threshold: float = 0.5,
) -> np.ndarray:
    """Each shape's :func:`voxel_iou` when ``model`` sees ``data``'s ``views`` in that order.

    Returns:
        `[N]` float32 IoUs.

    Raises:
        ValueError: naming the argument, for views outside 0..V-1, none, or a non-positive batch.
    """
    views = np.asarray(checks.integers("views", views, minimum=0), np.int64)
    if views.max() >= data.num_views:
        raise ValueError(f"views must be indices below {data.num_views}, got {views.tolist()}")
    batch_size = checks.positive_int("batch_size", batch_size)
    ious = []
    for start in range(0, len(data), batch_size):
        shapes = np.arange(start, min(start + batch_size, len(data)))
        logits = model(batch_inputs(data, shapes, views))
        ious.append(voxel_iou(logits, data.voxels[shapes], threshold, per_shape=True).numpy())
    return np.concatenate(ious)


def evaluate_iou(
    model: keras.Model,
    data: MultiViewSet,
    num_views: int,
    batch_size: int = 16,
    threshold: float = 0.5,
) -> float:
    """The mean of :func:`shape_ious` over ``data``'s shapes seen through their first
    ``num_views`` views (in order).

    Raises:
        ValueError: naming the argument, for num_views outside 1..V or a non-positive batch.
    """
    num_views, batch_size = _check_views(data, num_views, batch_size)
    return float(np.mean(shape_ious(model, data, range(num_views), batch_size, threshold)))


def evaluate_depth(
    model: keras.Model,
    data: MultiViewSet,
    num_views: int,
    batch_size: int = 16,
    num_samples: int = 64,
) -> float:
    """The depth LSM's error: mean absolute difference between the predicted occupancy projected
    into each input view (:func:`~.models.project_depth`, background 0, as
    :meth:`~.models.LearntStereoMachine.depth`) and the rendered depth, over the pixels the
    shape covers in the first ``num_views`` views. Any model giving occupancy logits will do
    (the baseline's voxels are projected the same way).

    Returns:
        The mean absolute depth error in world units (the unit cube has side 1).

    Raises:
        ValueError: naming the argument, for num_views outside 1..V or a non-positive batch.
    """
    num_views, batch_size = _check_views(data, num_views, batch_size)
    num_samples = checks.positive_int("num_samples", num_samples)
    total, count = 0.0, 0
    for start in range(0, len(data), batch_size):
        shapes = np.arange(start, min(start + batch_size, len(data)))
        views = np.arange(num_views)
        inputs = batch_inputs(data, shapes, views)
        depth = project_depth(
            tf.sigmoid(model(inputs)),
            inputs["K"],
            inputs["R"],
            inputs["t"],
            data.image_size,
            num_samples=num_samples,
            extent=getattr(model, "extent", 1.0),
        ).numpy()
        mask = data.masks[shapes][:, views]
        truth = data.depths[shapes][:, views]
        total += float(np.abs(depth - truth)[mask].sum())
        count += int(mask.sum())
    return total / max(count, 1)
