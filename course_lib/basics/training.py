"""A custom training loop with ``tf.GradientTape``, and evaluation (book/part1/02_keras_models).

The loop is what ``model.fit`` does, written out: for each batch, run the model under a tape,
compute the loss, take its gradient with respect to the trainable variables and let the
optimizer apply it. The step is compiled with ``tf.function``. Models output softmax
probabilities (as the course's listings do), so the loss is
``SparseCategoricalCrossentropy()`` with ``from_logits=False``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.basics._checks import same_length

PROGRESS_MODES = ("epoch", "bar", None)


def default_loss() -> keras.losses.Loss:
    """Cross-entropy of integer labels against predicted probabilities (not logits)."""
    return keras.losses.SparseCategoricalCrossentropy()


def accuracy(probabilities: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Fraction of rows whose most probable class is the label.

    Args:
        probabilities: ``[N, C]`` class scores (probabilities or logits: only the argmax counts).
        labels: ``[N]`` integer labels in 0..C-1.

    Returns:
        A float32 scalar in [0, 1].

    Raises:
        ValueError: if ``probabilities`` is not rank 2, ``labels`` is not rank 1, or their
            lengths differ.
    """
    probabilities = tf.convert_to_tensor(probabilities)
    labels = tf.convert_to_tensor(labels)
    if probabilities.shape.rank != 2:
        raise ValueError(
            f"probabilities must have shape [N, C], got {probabilities.shape.as_list()}"
        )
    if labels.shape.rank != 1:
        raise ValueError(f"labels must have shape [N], got {labels.shape.as_list()}")
    same_length(probabilities=probabilities, labels=labels)
    predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
    correct = tf.equal(predicted, tf.cast(labels, tf.int64))
    return tf.reduce_mean(tf.cast(correct, tf.float32))


def train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    images: tf.Tensor,
    labels: tf.Tensor,
    loss_fn: Callable | None = None,
) -> tf.Tensor:
    """One optimization step on one batch (runs eagerly; see :func:`make_train_step`).

    Args:
        model: a Keras model returning ``[B, C]`` probabilities.
        optimizer: a Keras optimizer; its state and the model's weights are updated in place.
        images: ``[B, ...]`` inputs.
        labels: ``[B]`` integer labels.
        loss_fn: ``loss_fn(labels, predictions)``; default :func:`default_loss`.

    Returns:
        The batch's loss before the update, a float32 scalar.
    """
    loss_fn = loss_fn or default_loss()
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_fn(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss


def make_train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    loss_fn: Callable | None = None,
) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """:func:`train_step` compiled with ``tf.function``, bound to one model and optimizer.

    Returns:
        ``step(images, labels) -> (loss, predictions)``. The model and the optimizer are built
        eagerly on the first call, so that no variable is created while tracing.
    """
    loss_fn = loss_fn or default_loss()

    @tf.function(reduce_retracing=True)
    def compiled(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_fn(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss, predictions

    def step(images, labels):
        if not model.built:
            model(images[:1])
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        return compiled(images, labels)

    return step


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of ``(images, labels)``, reshuffled every epoch (seeded) when ``shuffle``.

    Raises:
        ValueError, TypeError: if the lengths differ or ``batch_size`` < 1.
    """
    count = same_length(images=images, labels=labels)
    batch_size = checks.positive_int("batch_size", batch_size)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size)


def _as_dataset(name, images, labels, batch_size, shuffle, seed) -> tf.data.Dataset:
    if isinstance(images, tf.data.Dataset):
        if labels is not None:
            raise ValueError(f"{name}: pass labels inside the dataset, not as labels")
        return images
    if labels is None:
        raise ValueError(f"{name}: labels are required when images is an array")
    return make_dataset(images, labels, batch_size, shuffle, seed)


def evaluate(
    model: keras.Model,
    images: np.ndarray | tf.data.Dataset,
    labels: np.ndarray | None = None,
    batch_size: int = 256,
    loss_fn: Callable | None = None,
) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on arrays or a dataset of ``(images, labels)``.

    Returns:
        ``{"loss": float, "accuracy": float}``.

    Raises:
        ValueError: if arrays are given without ``labels``, or their lengths differ.
    """
    loss_fn = loss_fn or default_loss()
    dataset = _as_dataset("images", images, labels, batch_size, shuffle=False, seed=0)
    mean_loss, mean_accuracy = keras.metrics.Mean(), keras.metrics.SparseCategoricalAccuracy()
    for batch_images, batch_labels in dataset:
        predictions = model(batch_images, training=False)
        count = tf.shape(batch_labels)[0]
        mean_loss.update_state(loss_fn(batch_labels, predictions), sample_weight=count)
        mean_accuracy.update_state(batch_labels, predictions)
    return {"loss": float(mean_loss.result()), "accuracy": float(mean_accuracy.result())}


def fit_custom(
    model: keras.Model,
    images: np.ndarray | tf.data.Dataset,
    labels: np.ndarray | None = None,
    epochs: int = 5,
    batch_size: int = 32,
    optimizer: keras.optimizers.Optimizer | None = None,
    validation_data: tuple | tf.data.Dataset | None = None,
    seed: int = 0,
    progress: str | None = "epoch",
) -> dict[str, list[float]]:
    """Trains ``model`` with a GradientTape loop (what ``model.fit`` does, written out).

    Args:
        model: a Keras model returning ``[B, C]`` probabilities.
        images: ``[N, ...]`` inputs, or a ``tf.data.Dataset`` of ``(images, labels)`` batches.
        labels: ``[N]`` integer labels (``None`` with a dataset).
        epochs: passes over the data, >= 1.
        batch_size: examples per step when arrays are given.
        optimizer: default ``keras.optimizers.Adam()``, as the course compiles with ``"adam"``.
        validation_data: ``(images, labels)`` or a dataset, evaluated after each epoch.
        seed: seed of the per-epoch shuffling of arrays.
        progress: ``"epoch"`` prints one line per epoch, ``"bar"`` a tqdm bar per epoch (on
            stdout), ``None`` nothing.

    Returns:
        ``{"loss": [...], "accuracy": [...]}`` per epoch, plus ``"val_loss"`` and
        ``"val_accuracy"`` with ``validation_data``.

    Raises:
        ValueError, TypeError: on ``epochs`` or ``batch_size`` < 1, mismatched lengths, missing
            labels or an unknown ``progress``.
    """
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress must be one of {PROGRESS_MODES}, got {progress!r}")
    dataset = _as_dataset("images", images, labels, batch_size, shuffle=True, seed=seed)
    if validation_data is not None and not isinstance(validation_data, tf.data.Dataset):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be (images, labels) or a tf.data.Dataset")
        same_length(validation_images=validation_data[0], validation_labels=validation_data[1])
    optimizer = optimizer or keras.optimizers.Adam()
    step = make_train_step(model, optimizer)
    steps_per_epoch = int(dataset.cardinality())

    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    mean_loss, mean_accuracy = keras.metrics.Mean(), keras.metrics.SparseCategoricalAccuracy()
    for epoch in range(1, epochs + 1):
        mean_loss.reset_state()
        mean_accuracy.reset_state()
        batches = dataset
        if progress == "bar":
            from tqdm.auto import tqdm

            total = steps_per_epoch if steps_per_epoch > 0 else None
            batches = tqdm(dataset, total=total, desc=f"epoch {epoch}/{epochs}", file=sys.stdout)
        for batch_images, batch_labels in batches:
            loss, predictions = step(batch_images, batch_labels)
            mean_loss.update_state(loss, sample_weight=tf.shape(batch_labels)[0])
            mean_accuracy.update_state(batch_labels, predictions)
        history["loss"].append(float(mean_loss.result()))
        history["accuracy"].append(float(mean_accuracy.result()))
        if validation_data is not None:
            if isinstance(validation_data, tf.data.Dataset):
                scores = evaluate(model, validation_data)
            else:
                scores = evaluate(model, *validation_data)
            history.setdefault("val_loss", []).append(scores["loss"])
            history.setdefault("val_accuracy", []).append(scores["accuracy"])
        if progress == "epoch":
            text = ", ".join(f"{key} {values[-1]:.4f}" for key, values in history.items())
            print(f"epoch {epoch}/{epochs}: {text}", flush=True)
    return history
