"""Runs one notebook in its own kernel process under a time and a memory limit, then grades it.

The kernel is the ``python3`` ipykernel of this Python (``sys.executable``), started by nbclient
in a fresh temporary working directory, in its own process group (session). A watchdog thread
polls the resident memory (RSS) of the kernel and all its descendants every 50 ms:

- over the memory limit, the whole process group (and every descendant seen) is killed at once;
- past the time limit, the kernel is interrupted (``SIGINT``, as Jupyter's interrupt button) and,
  if it has not stopped ``interrupt_grace`` seconds later, killed the same way.

RSS rather than ``RLIMIT_AS``: TensorFlow reserves far more virtual memory than it uses (CUDA
builds tens of GB), so an address-space limit breaks ``import tensorflow`` while an RSS limit
measures what a notebook really takes from the machine (pages a forked child shares with its
parent count for both, which errs on the safe side). Afterwards every process that carries
this run's marker in its environment is killed too, so nothing is left behind, not even a
daemon that left the process group.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course_lib.grading.check import RESULTS_ENV, SEED_ENV

#: Every process of a grading run carries this variable (the run's id) in its environment.
MARKER_ENV = "COURSE_GRADING_RUN"
KERNEL_NAME = "python3"
POLL_S = 0.05
SCAN_S = 0.25


@dataclasses.dataclass
class Limits:
    """Limits for one submission.

    Attributes:
        timeout: seconds for all the notebook's cells together.
        grade_timeout: seconds for grading each exercise (the learner's code on hidden cases).
        memory_mb: resident memory of the kernel and its children together, in MiB.
        interrupt_grace: seconds an interrupted kernel gets to stop before it is killed.
    """

    timeout: float = 600.0
    grade_timeout: float = 60.0
    memory_mb: float = 4096.0
    interrupt_grace: float = 3.0


@dataclasses.dataclass
class KernelRun:
    """What happened when a notebook ran.

    Attributes:
        graded: the grader's result for each exercise graded in the kernel (``grade_into``).
        recorded: the last result the notebook's own ``check()`` calls recorded per exercise.
        grading_timeouts: exercises whose grading ran past ``grade_timeout``.
        problem: ``None``, ``"timeout"``, ``"memory"`` or ``"crashed"``.
        detail: what went wrong, in a sentence ("" when nothing did).
        kernel_died: whether the kernel was gone before grading finished.
        error_names: exception names raised by the notebook's cells, in order.
        cells_run: code cells executed.
        peak_rss_mb: the highest RSS seen (kernel and children), in MiB.
        seconds: wall time of the whole run.
    """

    graded: dict[str, dict] = dataclasses.field(default_factory=dict)
    recorded: dict[str, dict] = dataclasses.field(default_factory=dict)
    grading_timeouts: list[str] = dataclasses.field(default_factory=list)
    problem: str | None = None
    detail: str = ""
    kernel_died: bool = False
    error_names: list[str] = dataclasses.field(default_factory=list)
    cells_run: int = 0
    peak_rss_mb: float = 0.0
    seconds: float = 0.0


class _QuietClient(NotebookClient):
    """Keeps no cell outputs: a notebook printing gigabytes cannot fill the grader's memory."""

    def output(self, outs, msg, display_id, cell_index):
        return None


class _Watchdog(threading.Thread):
    """Enforces the memory limit and the current deadline on a kernel's process tree."""

    def __init__(self, memory_bytes: float, grace: float) -> None:
        super().__init__(name="course-grading-watchdog", daemon=True)
        self._memory_bytes = memory_bytes
        self._grace = grace
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._root: psutil.Process | None = None
        self._pgid: int | None = None
        self._procs: dict[int, psutil.Process] = {}
        self._deadline: float | None = None
        self._interrupted_at: float | None = None
        self.fired = False
        self.timeout_killed = False
        self.memory_killed = False
        self.peak_rss = 0

    def attach(self, pid: int) -> None:
        with self._lock:
            self._root = psutil.Process(pid)
            self._procs = {pid: self._root}
            try:
                self._pgid = os.getpgid(pid)
            except OSError:
                self._pgid = None

    def arm(self, deadline: float) -> None:
        with self._lock:
            self._deadline, self._interrupted_at, self.fired = deadline, None, False

    def disarm(self) -> None:
        with self._lock:
            self._deadline, self._interrupted_at = None, None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        last_scan = 0.0
        while not self._stop_event.wait(POLL_S):
            with self._lock:
                if self._root is None:
                    continue
                now = time.monotonic()
                if now - last_scan >= SCAN_S:
                    self._scan()
                    last_scan = now
                rss = self._rss()
                self.peak_rss = max(self.peak_rss, rss)
                if rss > self._memory_bytes:
                    self.memory_killed = True
                    self._kill()
                elif self._deadline is not None and now > self._deadline and not self.fired:
                    self.fired, self._interrupted_at = True, now
                    self._signal_group(signal.SIGINT)
                elif (
                    self._deadline is not None
                    and self._interrupted_at is not None
                    and now > self._interrupted_at + self._grace
                ):
                    self.timeout_killed = True
                    self._kill()

    def _scan(self) -> None:
        try:
            for child in self._root.children(recursive=True):
                self._procs.setdefault(child.pid, child)
        except psutil.Error:
            pass

    def _rss(self) -> int:
        total = 0
        for pid, proc in list(self._procs.items()):
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                del self._procs[pid]
        return total

    def _signal_group(self, signum: int) -> None:
        if self._pgid is not None and self._pgid != os.getpgid(0):
            try:
                os.killpg(self._pgid, signum)
            except OSError:
                pass

    def _kill(self) -> None:
        self._scan()
        self._signal_group(signal.SIGKILL)
        for proc in self._procs.values():
            try:
                proc.kill()
            except psutil.Error:
                pass
        self._root = None

    def kill_all(self) -> None:
        with self._lock:
            if self._root is not None:
                self._kill()


def kill_marked(marker: str, timeout: float = 5.0, rounds: int = 5) -> list[int]:
    """Kills every process whose environment has ``MARKER_ENV=marker``; returns their pids.

    Repeats (up to ``rounds`` times) while it finds some, for processes forked meanwhile.
    """
    killed: list[int] = []
    for _ in range(rounds):
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.pid != os.getpid() and proc.environ().get(MARKER_ENV) == marker:
                    proc.kill()
                    found.append(proc)
            except psutil.Error:
                continue
        if not found:
            break
        psutil.wait_procs(found, timeout=timeout)
        killed.extend(proc.pid for proc in found)
    return killed


@functools.lru_cache(maxsize=1)
def kernel_spec_dir() -> str:
    """A kernel spec folder whose ``python3`` is this interpreter's ipykernel (made once)."""
    from ipykernel.kernelspec import write_kernel_spec

    root = tempfile.mkdtemp(prefix="course-kernelspec-")
    atexit.register(shutil.rmtree, root, True)
    write_kernel_spec(os.path.join(root, KERNEL_NAME))
    return root


def kernel_argv() -> list[str]:
    """The command line of the kernels the batch grader starts."""
    spec = json.loads(Path(kernel_spec_dir(), KERNEL_NAME, "kernel.json").read_text())
    return list(spec["argv"])


def _read_jsonl(path: Path) -> dict[str, dict]:
    results: dict[str, dict] = {}
    if not path.exists():
        return results
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            results[str(record["exercise"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    return results


def _cell_label(cell: nbformat.NotebookNode, index: int) -> str:
    text = "; ".join(line.strip() for line in cell.source.splitlines() if line.strip())
    text = text if len(text) <= 48 else text[:45] + "..."
    return f'cell {index + 1} ("{text}")'


def _exit_description(code: int | None) -> str:
    if code is None:
        return "the kernel stopped answering"
    if code < 0:
        try:
            return f"the kernel was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the kernel was killed by signal {-code}"
    return f"the kernel exited with code {code}"


def run_notebook(
    nb: nbformat.NotebookNode,
    exercise_ids: list[str],
    limits: Limits | None = None,
    seed: int = 0,
) -> KernelRun:
    """Runs ``nb``'s code cells (errors allowed) in a fresh kernel, then grades ``exercise_ids``.

    The notebook object is not modified. Always returns; the kernel and every process it
    started are gone when it does.
    """
    limits = limits or Limits()
    run = KernelRun()
    started = time.monotonic()
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="course-grade-") as private:
        workdir = Path(private, "work")
        workdir.mkdir()
        graded_path, recorded_path = Path(private, "graded.jsonl"), Path(private, "checks.jsonl")
        env = dict(os.environ)
        env.update(
            {
                MARKER_ENV: marker,
                SEED_ENV: str(seed),
                RESULTS_ENV: str(recorded_path),
                "IPYTHONDIR": str(Path(private, "ipython")),
                "MPLBACKEND": "Agg",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            }
        )
        if env.get("PYTHONPATH"):  # the kernel runs elsewhere: keep relative entries working
            entries = env["PYTHONPATH"].split(os.pathsep)
            env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(e) for e in entries if e)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        watchdog = _Watchdog(limits.memory_mb * 2**20, limits.interrupt_grace)
        watchdog.start()
        try:
            _run_sync(
                _drive(
                    nb,
                    exercise_ids,
                    limits,
                    seed,
                    workdir,
                    env,
                    graded_path,
                    Path(private, "kernel.log"),
                    watchdog,
                    run,
                )
            )
        finally:
            watchdog.kill_all()
            watchdog.stop()
            kill_marked(marker)
        run.graded = _read_jsonl(graded_path)
        run.recorded = _read_jsonl(recorded_path)
    run.peak_rss_mb = watchdog.peak_rss / 2**20
    run.seconds = time.monotonic() - started
    return run


def _run_sync(coroutine) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    # Called from a running event loop (e.g. a notebook): run in a thread with its own loop.
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="course-grading")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _drive(
    nb: nbformat.NotebookNode,
    exercise_ids: list[str],
    limits: Limits,
    seed: int,
    workdir: Path,
    env: dict[str, str],
    graded_path: Path,
    log_path: Path,
    watchdog: _Watchdog,
    run: KernelRun,
) -> None:
    nb = nbformat.from_dict(nb)  # a copy: grading cells are appended to it
    specs = KernelSpecManager(kernel_dirs=[kernel_spec_dir()])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    client = _QuietClient(
        nb,
        km=km,
        kernel_name=KERNEL_NAME,
        allow_errors=True,
        timeout=None,
        record_timing=False,
        startup_timeout=120,
        iopub_timeout=2,
    )
    client.on_cell_error = lambda cell, cell_index, execute_reply: run.error_names.append(
        str(execute_reply["content"].get("ename", ""))
    )
    where = "while starting"
    # A file, not a pipe: no reader thread that a leftover child could keep blocked.
    log = open(log_path, "wb")
    try:
        await client.async_start_new_kernel(cwd=str(workdir), env=env, stdout=log, stderr=log)
        watchdog.attach(km.provisioner.process.pid)
        await client.async_start_new_kernel_client()

        deadline = time.monotonic() + limits.timeout
        for index, cell in enumerate(list(nb.cells)):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            label = _cell_label(cell, index)
            where = f"in {label}"
            watchdog.arm(deadline)
            try:
                await client.async_execute_cell(cell, index)
            finally:
                watchdog.disarm()
            run.cells_run += 1
            if watchdog.fired:
                run.problem = "timeout"
                run.detail = (
                    f"the notebook ran past its {limits.timeout:g} s time limit {where} and was "
                    "interrupted; the cells after it did not run"
                )
                break
            if run.error_names and run.error_names[-1] == "MemoryError" and not run.problem:
                run.problem = "memory"
                run.detail = f"{label} raised MemoryError"

        code = (
            "__import__('course_lib.grading.inkernel', fromlist=['_']).grade_into({!r}, {!r}, {})"
        )
        for exercise_id in exercise_ids:
            where = f"while grading {exercise_id}"
            cell = nbformat.v4.new_code_cell(code.format(exercise_id, str(graded_path), seed))
            nb.cells.append(cell)
            watchdog.arm(time.monotonic() + limits.grade_timeout)
            try:
                await client.async_execute_cell(cell, len(nb.cells) - 1, store_history=False)
            finally:
                watchdog.disarm()
            if watchdog.fired and exercise_id not in _read_jsonl(graded_path):
                run.grading_timeouts.append(exercise_id)
    except Exception as error:  # noqa: BLE001 - whatever stopped the kernel is reported
        task = asyncio.current_task()
        if task is not None and getattr(task, "cancelling", lambda: 0)():
            # Ctrl-C in the grader (nbclient reports the cancellation as a dead kernel).
            raise asyncio.CancelledError() from error
        run.kernel_died = True
        if watchdog.memory_killed:
            run.problem = "memory"
            run.detail = (
                f"the kernel went over the {limits.memory_mb:g} MB memory limit {where} and "
                "was stopped"
            )
        elif watchdog.timeout_killed:
            run.problem = "timeout"
            limit = limits.timeout if where.startswith("in ") else limits.grade_timeout
            run.detail = (
                f"the notebook ran past its {limit:g} s time limit {where} and was killed "
                "(it did not stop when interrupted)"
            )
        else:
            run.problem = "crashed"
            process = getattr(km.provisioner, "process", None)
            code = process.poll() if process is not None else None
            said = _last_words(log_path)
            run.detail = (
                f"{_exit_description(code)} {where}"
                + (f": {said}" if said else "")
                + ("" if isinstance(error, DeadKernelError) else f" ({error})")
            )
    finally:
        watchdog.kill_all()
        await _shutdown(client, km)
        log.close()


def _last_words(log_path: Path) -> str:
    """The last meaningful line the kernel process wrote to its stdout/stderr."""
    with open(log_path, "rb") as handle:
        handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
        text = handle.read().decode("utf-8", errors="replace")
    noise = ("[IPKernelApp]", "Debugger warning", "frozen modules", "PYDEVD_", "-Xfrozen_modules")
    lines = [
        line for line in text.splitlines() if line.strip() and not any(n in line for n in noise)
    ]
    return lines[-1][:200] if lines else ""


async def _shutdown(client: NotebookClient, km: AsyncKernelManager) -> None:
    try:
        await km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001 - already dead: clean up what is left
        try:
            await km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass
    if getattr(client, "kc", None) is not None:
        await ensure_async(client.kc.stop_channels())
        client.kc = None
    process = getattr(km.provisioner, "process", None) if km.provisioner else None
    if process is not None:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
