"""Going big: ``tf.distribute`` on one machine, the way the course's slides use it on many.

- :func:`mirrored_strategy_on_logical_cpus` splits the CPU into ``n`` logical devices and returns
  a ``MirroredStrategy`` over them: data-parallel training with no GPU at all.
- :func:`run_workers` (from :mod:`course_lib.perf.workers`, re-exported here with
  :func:`tf_config`) starts ``n`` local worker processes, each with its own ``TF_CONFIG`` (a
  cluster of ``127.0.0.1`` ports and the worker's index), so that a
  ``MultiWorkerMirroredStrategy`` created inside them forms a real cluster over loopback. The
  same training function runs on a multi-machine cluster when ``TF_CONFIG`` lists the hosts.
- :func:`build_and_compile_under` and :func:`train_with_strategy` put the course's three-layer
  MNIST model (Flatten, Dense 128 relu, Dense 10 softmax) under a strategy; the loop of
  :func:`train_with_strategy` is the custom loop of ``book/part1/02_keras_models`` with
  ``strategy.run`` and works with ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``
  alike (Keras 3's ``fit`` does not accept the latter).
- :func:`course_model_worker` is the training function the chapter runs on every worker.

TensorFlow is imported inside the functions that need it: importing this module never
initializes TensorFlow's devices.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib import checks
from course_lib.perf.workers import (  # noqa: F401 - re-exported: the chapter's names
    HOST,
    POLL_INTERVAL_S,
    STDERR_TAIL_LINES,
    run_workers,
    tf_config,
)

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

#: The course's model: Flatten, Dense(128, relu), Dense(10, softmax).
COURSE_HIDDEN_UNITS = 128


# --- MirroredStrategy on logical CPUs ---------------------------------------------------------


def mirrored_strategy_on_logical_cpus(n: int = 2) -> tf.distribute.MirroredStrategy:
    """A ``MirroredStrategy`` over ``n`` logical devices carved out of the first physical CPU.

    ``tf.config.set_logical_device_configuration`` only works before TensorFlow initializes its
    devices, which happens the first time anything creates a tensor, lists logical devices or
    runs an op. Call this first, right after the imports. Calling it again with the same ``n``
    returns a new strategy over the same devices.

    Args:
        n: number of logical CPU devices (replicas), >= 1.

    Returns:
        A ``tf.distribute.MirroredStrategy`` whose replicas are ``/device:CPU:0`` ..
        ``/device:CPU:{n-1}``.

    Raises:
        TypeError: if ``n`` is not an int.
        ValueError: if ``n`` < 1.
        RuntimeError: if TensorFlow's devices were initialized before with another split.
    """
    import tensorflow as tf

    n = checks.positive_int("n", n)
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != n:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
            )
        except RuntimeError as error:
            have = len(current) if current else 1
            raise RuntimeError(
                f"cannot split the CPU into {n} logical devices: TensorFlow has already "
                f"initialized its devices ({have} logical CPU). Call "
                "mirrored_strategy_on_logical_cpus first, right after importing TensorFlow, "
                "before anything creates a tensor or runs an op (or restart the kernel)."
            ) from error
    devices = [f"/device:CPU:{index}" for index in range(n)]
    return tf.distribute.MirroredStrategy(devices)


# --- The course's model under a strategy ------------------------------------------------------


def build_course_model() -> keras.Model:
    """The course's three-layer MNIST model: Flatten, Dense(128, relu), Dense(10, softmax)."""
    from course_lib.basics import mnist_models

    return mnist_models.build_sequential(hidden_units=COURSE_HIDDEN_UNITS, dropout=0.0)


def build_and_compile_under(
    strategy: tf.distribute.Strategy,
    build_fn: Callable[[], keras.Model] = build_course_model,
    **compile_kwargs: Any,
) -> keras.Model:
    """Builds and compiles a model inside ``strategy.scope()``, as the course's slide does.

    Its variables are then mirrored on every replica and ``model.fit`` splits each batch across
    them (``MirroredStrategy``; Keras 3's ``fit`` does not support
    ``MultiWorkerMirroredStrategy``: use :func:`train_with_strategy`).

    Args:
        strategy: a ``tf.distribute.Strategy``.
        build_fn: returns an uncompiled model; default :func:`build_course_model`.
        **compile_kwargs: ``model.compile`` arguments; default Adam, sparse categorical
            cross-entropy (the model outputs probabilities) and accuracy.

    Returns:
        The compiled model.

    Raises:
        TypeError: if ``strategy`` is not a ``tf.distribute.Strategy`` or ``build_fn`` is not
            callable.
    """
    _check_strategy(strategy)
    if not callable(build_fn):
        raise TypeError(f"build_fn must be callable, got {type(build_fn).__name__}")
    compile_kwargs.setdefault("optimizer", "adam")
    compile_kwargs.setdefault("loss", "sparse_categorical_crossentropy")
    compile_kwargs.setdefault("metrics", ["accuracy"])
    with strategy.scope():
        model = build_fn()
        model.compile(**compile_kwargs)
    return model


def _check_strategy(strategy: Any) -> None:
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy, got {type(strategy).__name__}")


def train_with_strategy(
    strategy: tf.distribute.Strategy,
    dataset: tf.data.Dataset,
    epochs: int,
    *,
    build_fn: Callable[[], keras.Model] = build_course_model,
    learning_rate: float = 1e-3,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Trains a model with a custom loop in which every replica takes its share of each batch.

    The model and its Adam optimizer are created inside ``strategy.scope()`` (so their variables
    are mirrored, and with ``MultiWorkerMirroredStrategy`` initialized identically on every
    worker). Each step runs the custom loop's step (``book/part1/02_keras_models``) on every
    replica with ``strategy.run``; the loss is averaged over the global batch
    (``tf.nn.compute_average_loss``) so that the gradients, summed across replicas by the
    optimizer, are those of the whole batch.

    Args:
        strategy: ``MirroredStrategy``, ``MultiWorkerMirroredStrategy`` or the default strategy.
        dataset: batches ``(images [B, ...], labels [B])`` with the *global* batch size; it is
            split across replicas (and shards across workers by data).
        epochs: passes over ``dataset``, >= 1.
        build_fn: returns an uncompiled model with softmax outputs; default
            :func:`build_course_model`.
        learning_rate: Adam's learning rate, > 0.

    Returns:
        ``(model, history)`` with ``history = {"loss": [...], "accuracy": [...]}``, one value per
        epoch: the mean training loss and accuracy over all replicas.

    Raises:
        TypeError: if ``strategy`` or ``dataset`` has the wrong type, ``epochs`` is not an int
            or ``learning_rate`` not a number.
        ValueError: if ``epochs`` < 1 or ``learning_rate`` <= 0.
    """
    import keras
    import tensorflow as tf

    _check_strategy(strategy)
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"dataset must be a tf.data.Dataset, got {type(dataset).__name__}")
    epochs = checks.positive_int("epochs", epochs)
    learning_rate = checks.positive_float("learning_rate", learning_rate)

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    distributed = strategy.experimental_distribute_dataset(dataset.with_options(options))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="none")
    with strategy.scope():
        model = build_fn()
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(model.trainable_variables)

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            per_example = loss_fn(labels, probabilities)
            loss = tf.nn.compute_average_loss(per_example)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        correct = tf.reduce_sum(tf.cast(predicted == tf.cast(labels, tf.int64), tf.float32))
        count = tf.cast(tf.shape(labels)[0], tf.float32)
        return tf.reduce_sum(per_example), correct, count

    @tf.function
    def step(batch):
        sums = strategy.run(replica_step, args=batch)
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, s, axis=None) for s in sums]

    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for _ in range(epochs):
        totals = np.zeros(3)
        for batch in distributed:
            totals += [float(value) for value in step(batch)]
        history["loss"].append(float(totals[0] / max(totals[2], 1.0)))
        history["accuracy"].append(float(totals[1] / max(totals[2], 1.0)))
    return model, history


def course_model_worker(
    epochs: int = 3, batch_size: int = 64, examples: int = 2048, seed: int = 0
) -> dict[str, Any]:
    """The chapter's worker: the course's model trained with ``MultiWorkerMirroredStrategy``.

    Runs inside a process started by :func:`run_workers` (or on a real cluster node): the
    strategy reads the cluster and this worker's index from ``TF_CONFIG``. Every worker loads the
    same MNIST (or its offline substitute, :func:`course_lib.data.load_mnist`), and the dataset is
    sharded by data, so each worker computes the gradients of its half of every global batch.

    Args:
        epochs: passes over the data.
        batch_size: the global batch size (split across all workers' replicas).
        examples: training images used (at most the training set's size).
        seed: seeds Python, NumPy and TensorFlow before the model is built.

    Returns:
        ``{"task_index", "num_replicas", "history", "weights", "pid"}``: the worker's index in
        ``TF_CONFIG``, the replicas in sync, the per-epoch loss and accuracy, the final weights
        (a list of NumPy arrays) and the worker's process id.
    """
    import tensorflow as tf

    from course_lib import config, data

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    config.seed_everything(seed)
    (x_train, y_train), _ = data.load_mnist()
    x_train = (x_train[:examples] / 255.0).astype(np.float32)
    y_train = y_train[:examples].astype(np.int64)
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(batch_size)
    model, history = train_with_strategy(strategy, dataset, epochs)
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    return {
        "task_index": int(task.get("index", 0)),
        "num_replicas": int(strategy.num_replicas_in_sync),
        "history": history,
        "weights": [np.asarray(w) for w in model.get_weights()],
        "pid": os.getpid(),
    }
