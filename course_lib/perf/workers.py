"""Local multi-worker clusters: ``train_fn`` on ``n`` worker processes, each with its ``TF_CONFIG``.

:func:`run_workers` starts ``n`` local worker processes, each with its own ``TF_CONFIG`` (a
cluster of ``127.0.0.1`` ports and the worker's index), so that a
``MultiWorkerMirroredStrategy`` created inside them forms a real cluster over loopback. The same
training function runs on a multi-machine cluster when ``TF_CONFIG`` lists the hosts
(:func:`tf_config`). :mod:`course_lib.perf.distribute` re-exports both for the chapter.

The launcher needs no TensorFlow: a worker process starts by importing this module. Worker
processes are POSIX process-group leaders (:mod:`course_lib._processes`): the launcher kills the
groups of those still running and reaps every worker on success, failure, time-out and
``KeyboardInterrupt``, and every worker also exits on its own when its launcher dies or its time
is up.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from course_lib import _processes, checks

#: Address the local workers listen on (loopback only).
HOST = "127.0.0.1"
#: Lines of a crashed worker's stderr quoted in the error.
STDERR_TAIL_LINES = 20
#: Seconds between two looks at the workers while waiting for them.
POLL_INTERVAL_S = 0.1

_WORKER_ENTRY = (
    "import sys; from course_lib.perf.workers import _worker_main; "
    "sys.exit(_worker_main(sys.argv[1]))"
)


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
    ports = [checks.integer(f"ports[{i}]", port, 1, 65535) for i, port in enumerate(ports)]
    if len(set(ports)) != len(ports):
        raise ValueError(f"ports must be distinct, got {ports}")
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
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
        TypeError: if ``train_fn`` is neither callable nor a string, ``num_workers`` is not an
            int, ``timeout_s`` not a number, or ``ports`` holds a non-int.
        ValueError: if ``num_workers`` < 1, ``timeout_s`` <= 0, ``train_fn`` cannot be imported
            by name, or ``ports`` has the wrong length, repeats a port or names a port in use.
        RuntimeError: if a worker exits with a non-zero code (the message names the worker, its
            exit code and the end of its stderr).
        TimeoutError: if the workers are not done after ``timeout_s`` seconds.
    """
    num_workers = checks.positive_int("num_workers", num_workers)
    timeout_s = checks.positive_float("timeout_s", timeout_s)
    reference = _function_reference(train_fn)
    held = _checked_ports(ports, num_workers)

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
                worker_env["COURSE_WORKER_DEADLINE_S"] = str(timeout_s + 5.0)
                worker_env["COURSE_WORKER_RESULT"] = str(workdir / f"worker_{index}.pkl")
                workers.append(
                    _processes.start_in_new_group(
                        [sys.executable, "-c", _WORKER_ENTRY, str(spec_path)],
                        env=worker_env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                    )
                )
            _wait_for(workers, workdir, timeout_s)
            return [_load_result(workdir, index) for index in range(num_workers)]
        finally:
            _processes.stop(workers)  # kills the groups of those still running, reaps them all
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
                _processes.stop(workers)
                raise RuntimeError(
                    f"worker {index} of {len(workers)} {_processes.describe_exit(code)}; the other "
                    f"workers were stopped. End of its stderr:\n{_stderr_tail(workdir, index)}"
                )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            running = [index for index, code in enumerate(codes) if code is None]
            _processes.stop(workers)
            raise TimeoutError(
                f"workers {running} still running after {timeout_s:g} s; all workers were "
                f"stopped. End of worker {running[0]}'s stderr:\n"
                f"{_stderr_tail(workdir, running[0])}"
            )
        time.sleep(POLL_INTERVAL_S)


def _stderr_tail(workdir: Path, index: int) -> str:
    """The last non-blank lines worker ``index`` wrote to its stderr."""
    lines = _processes.last_lines(workdir / f"worker_{index}.err", STDERR_TAIL_LINES)
    if lines is None:
        return "(no stderr)"
    return "\n".join(lines) if lines else "(empty)"


def _load_result(workdir: Path, index: int) -> Any:
    path = workdir / f"worker_{index}.pkl"
    if not path.exists():
        raise RuntimeError(
            f"worker {index} exited with code 0 but wrote no result. End of its stderr:\n"
            f"{_stderr_tail(workdir, index)}"
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
