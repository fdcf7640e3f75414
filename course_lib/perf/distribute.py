"""Going big: ``tf.distribute`` on one machine, the way the course's slides use it on many.

- :func:`mirrored_strategy_on_logical_cpus` splits the CPU into ``n`` logical devices and returns
  a ``MirroredStrategy`` over them: data-parallel training with no GPU at all.
- :func:`run_workers` starts ``n`` local worker processes, each with its own ``TF_CONFIG``
  (a cluster of ``127.0.0.1`` ports and the worker's index), so that a
  ``MultiWorkerMirroredStrategy`` created inside them forms a real cluster over loopback. The
  same training function runs on a multi-machine cluster when ``TF_CONFIG`` lists the hosts.
- :func:`build_and_compile_under` and :func:`train_with_strategy` put the course's three-layer
  MNIST model (Flatten, Dense 128 relu, Dense 10 softmax) under a strategy; the loop of
  :func:`train_with_strategy` is walkthrough 3's custom loop with ``strategy.run`` and works with
  ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy`` alike (Keras 3's ``fit`` does not
  accept the latter).
- :func:`course_model_worker` is the training function the chapter runs on every worker.

TensorFlow is imported inside the functions that need it: a worker process starts by importing
this module, and the launcher itself needs no TensorFlow. Importing this module never initializes
TensorFlow's devices.

Worker processes are POSIX process-group leaders (``start_new_session``): the launcher kills the
groups of those still running (``killpg``) and reaps every worker on success, failure, time-out
and ``KeyboardInterrupt``, and every worker also exits on its own when its launcher dies or its
time is up.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

#: Address the local workers listen on (loopback only).
HOST = "127.0.0.1"
#: Lines of a crashed worker's stderr quoted in the error.
STDERR_TAIL_LINES = 20
#: Seconds between two looks at the workers while waiting for them.
POLL_INTERVAL_S = 0.1
#: The course's model: Flatten, Dense(128, relu), Dense(10, softmax).
COURSE_HIDDEN_UNITS = 128

_WORKER_ENTRY = (
    "import sys; from course_lib.perf.distribute import _worker_main; "
    "sys.exit(_worker_main(sys.argv[1]))"
)


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

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    n = int(n)
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
    worker). Each step runs the walkthrough-3 step on every replica with ``strategy.run``; the
    loss is averaged over the global batch (``tf.nn.compute_average_loss``) so that the gradients,
    summed across replicas by the optimizer, are those of the whole batch.

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
        TypeError: if ``strategy`` or ``dataset`` has the wrong type.
        ValueError: if ``epochs`` < 1 or ``learning_rate`` <= 0.
    """
    import keras
    import tensorflow as tf

    from course_lib.basics._checks import positive_int

    _check_strategy(strategy)
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"dataset must be a tf.data.Dataset, got {type(dataset).__name__}")
    epochs = positive_int("epochs", epochs)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")

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


# --- Local multi-worker clusters --------------------------------------------------------------


def tf_config(ports: Sequence[int], index: int, host: str = HOST) -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers at ``host:port``.

    On a real cluster each entry names another machine, e.g.
    ``{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker",
    "index": 0}}`` on host1 and ``"index": 1`` on host2.
    """
    return {
        "cluster": {"worker": [f"{host}:{port}" for port in ports]},
        "task": {"type": "worker", "index": int(index)},
    }


def _function_reference(train_fn: str | Callable) -> str:
    """``"module:qualified.name"`` for ``train_fn``, checked to be importable as such."""
    if isinstance(train_fn, str):
        module, _, name = train_fn.partition(":")
        if not module or not name:
            raise ValueError(f"train_fn must look like 'module:function', got {train_fn!r}")
        reference = train_fn
    elif callable(train_fn):
        module = getattr(train_fn, "__module__", None)
        name = getattr(train_fn, "__qualname__", "")
        if not module or module == "__main__" or "<" in name:
            raise ValueError(
                f"train_fn must be a function defined at the top level of an importable module, "
                f"got {name or train_fn!r} from {module!r}: the workers import it by name, so a "
                "function defined in a notebook or inside another function cannot be used "
                "(move it to a .py file)"
            )
        reference = f"{module}:{name}"
    else:
        raise TypeError(f"train_fn must be callable or 'module:function', got {train_fn!r}")
    try:
        _resolve(reference)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"train_fn {reference!r} cannot be imported: {error}") from error
    return reference


def _resolve(reference: str) -> Callable:
    module, _, name = reference.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise AttributeError(f"{reference} is not callable")
    return target


def _checked_ports(ports: Sequence[int] | None, num_workers: int) -> list[socket.socket] | None:
    """Validates explicit ports; returns None for them, else sockets holding free ports."""
    if ports is None:
        sockets = []
        for _ in range(num_workers):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return sockets
    ports = list(ports)
    if len(ports) != num_workers:
        raise ValueError(f"ports must list one port per worker ({num_workers}), got {ports}")
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, (int, np.integer)):
            raise TypeError(f"ports must hold ints, got {port!r}")
        if not 1 <= port <= 65535:
            raise ValueError(f"ports must be in 1..65535, got {port}")
    if len(set(ports)) != len(ports):
        raise ValueError(f"ports must be distinct, got {ports}")
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, int(port)))
            except OSError as error:
                raise ValueError(
                    f"ports: {HOST}:{port} is already in use ({error.strerror}); choose another "
                    "port or leave ports=None to pick free ones"
                ) from error
    return None


def run_workers(
    train_fn: str | Callable,
    num_workers: int = 2,
    *,
    timeout_s: float = 120.0,
    args: Sequence[Any] = (),
    ports: Sequence[int] | None = None,
    hide_gpus: bool = True,
) -> list[Any]:
    """Runs ``train_fn(*args)`` on ``num_workers`` local processes forming a TF cluster.

    Each worker is a fresh Python (``sys.executable``) in its own process group, started with
    ``TF_CONFIG`` naming every worker at ``127.0.0.1:<port>`` and its own index, so a
    ``tf.distribute.MultiWorkerMirroredStrategy()`` created in ``train_fn`` connects them. Their
    stdout and stderr go to temporary files (never to the caller's streams); each result is
    pickled to a temporary file and read back.

    Every worker is stopped and reaped before this function returns or raises: when all finish,
    when one fails (the others would wait forever for it), on time-out and on
    ``KeyboardInterrupt``. A worker also exits by itself if its launcher dies.

    Args:
        train_fn: a function defined at the top level of an importable module, or
            ``"module:function"``; it must return something picklable (NumPy arrays, numbers,
            lists, dicts).
        num_workers: number of worker processes, >= 1.
        timeout_s: seconds the whole run may take, > 0.
        args: positional arguments for ``train_fn`` (picklable).
        ports: one port per worker; default: free ports chosen just before the launch.
        hide_gpus: start the workers with ``CUDA_VISIBLE_DEVICES=-1`` so that local workers do
            not compete for one GPU.

    Returns:
        The workers' results, in worker-index order.

    Raises:
        TypeError: if ``train_fn`` is neither callable nor a string, or ``ports`` holds a
            non-int.
        ValueError: if ``num_workers`` < 1, ``timeout_s`` <= 0, ``train_fn`` cannot be imported
            by name, or ``ports`` has the wrong length, repeats a port or names a port in use.
        RuntimeError: if a worker exits with a non-zero code (the message names the worker, its
            exit code and the end of its stderr).
        TimeoutError: if the workers are not done after ``timeout_s`` seconds.
    """
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"num_workers must be an int, got {type(num_workers).__name__}")
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    reference = _function_reference(train_fn)
    held = _checked_ports(ports, int(num_workers))

    with tempfile.TemporaryDirectory(prefix="course_workers_") as folder:
        workdir = Path(folder)
        spec_path = workdir / "spec.pkl"
        with spec_path.open("wb") as handle:
            pickle.dump({"function": reference, "args": tuple(args)}, handle)
        if held is not None:
            ports = [sock.getsockname()[1] for sock in held]
            for sock in held:  # released just before the workers bind them
                sock.close()
        env = _worker_environment(hide_gpus)
        workers: list[subprocess.Popen] = []
        logs: list[tuple[Any, Any]] = []
        try:
            for index in range(num_workers):
                out = (workdir / f"worker_{index}.out").open("wb")
                err = (workdir / f"worker_{index}.err").open("wb")
                logs.append((out, err))
                worker_env = dict(env, TF_CONFIG=json.dumps(tf_config(ports, index)))
                worker_env["COURSE_WORKER_DEADLINE_S"] = str(float(timeout_s) + 5.0)
                worker_env["COURSE_WORKER_RESULT"] = str(workdir / f"worker_{index}.pkl")
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _WORKER_ENTRY, str(spec_path)],
                        env=worker_env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                    )
                )
            _wait_for(workers, workdir, timeout_s)
            return [_load_result(workdir, index) for index in range(num_workers)]
        finally:
            _stop(workers)
            for out, err in logs:
                out.close()
                err.close()


def _worker_environment(hide_gpus: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    path = [p for p in sys.path if p]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    env["COURSE_WORKER_PARENT"] = str(os.getpid())
    if hide_gpus:
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    return env


def _wait_for(workers: list[subprocess.Popen], workdir: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        codes = [worker.poll() for worker in workers]
        for index, code in enumerate(codes):
            if code not in (None, 0):
                _stop(workers)
                raise RuntimeError(
                    f"worker {index} of {len(workers)} exited with code {code}"
                    f"{_signal_name(code)}; the other workers were stopped. End of its stderr:\n"
                    f"{_tail(workdir / f'worker_{index}.err')}"
                )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            running = [index for index, code in enumerate(codes) if code is None]
            _stop(workers)
            raise TimeoutError(
                f"workers {running} still running after {timeout_s:g} s; all workers were "
                f"stopped. End of worker {running[0]}'s stderr:\n"
                f"{_tail(workdir / f'worker_{running[0]}.err')}"
            )
        time.sleep(POLL_INTERVAL_S)


def _signal_name(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f" (killed by {signal.Signals(-code).name})"
    return ""


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no stderr)"
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept) if kept else "(empty)"


def _stop(workers: list[subprocess.Popen]) -> None:
    """Kills the process group of every worker still running, then reaps them all.

    Only groups whose leader has not been reaped are signalled: a reaped worker's pid may be
    reused by an unrelated process. (Until it is reaped, an exited worker keeps its pid.)
    """
    for worker in workers:
        if worker.returncode is None:
            _signal_group(worker, signal.SIGKILL)
    for worker in workers:
        worker.wait()


def _signal_group(worker: subprocess.Popen, signum: int) -> None:
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signum)
    else:
        worker.kill()


def _load_result(workdir: Path, index: int) -> Any:
    path = workdir / f"worker_{index}.pkl"
    if not path.exists():
        raise RuntimeError(
            f"worker {index} exited with code 0 but wrote no result. End of its stderr:\n"
            f"{_tail(workdir / f'worker_{index}.err')}"
        )
    with path.open("rb") as handle:
        return pickle.load(handle)


def _exit_when_orphaned_or_late(parent: int, deadline_s: float) -> None:
    """Runs in a worker: exits the process if its launcher dies or its time is up."""
    start = time.monotonic()
    while True:
        if os.getppid() != parent or time.monotonic() - start > deadline_s:
            os._exit(124)
        time.sleep(0.5)


def _worker_main(spec_path: str) -> int:
    """Entry point of a worker process (see :func:`run_workers`); returns the exit code."""
    parent = int(os.environ.get("COURSE_WORKER_PARENT", os.getppid()))
    deadline_s = float(os.environ.get("COURSE_WORKER_DEADLINE_S", "3600"))
    threading.Thread(
        target=_exit_when_orphaned_or_late, args=(parent, deadline_s), daemon=True
    ).start()
    with open(spec_path, "rb") as handle:
        spec = pickle.load(handle)
    try:
        result = _resolve(spec["function"])(*spec["args"])
    except Exception:  # noqa: BLE001 - reported to the launcher through stderr and the exit code
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    result_path = Path(os.environ["COURSE_WORKER_RESULT"])
    partial = result_path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(result, handle)
    os.replace(partial, result_path)
    sys.stdout.flush()
    return 0
