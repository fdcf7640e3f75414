"""Runs one notebook in its own kernel process under a time and a memory limit, then grades it.

The kernel is the ``python3`` ipykernel of this Python (``sys.executable``), started by nbclient
in a fresh temporary working directory, in its own process group (session). A
:class:`~course_lib.grading.watchdog.Watchdog` thread enforces the limits on it and its
descendants: over the memory limit (resident memory, RSS) the whole process group is killed at
once; past the time limit the kernel is interrupted (``SIGINT``, as Jupyter's interrupt button)
and, if it has not stopped ``interrupt_grace`` seconds later, killed. Afterwards every process
that carries this run's marker in its environment is killed too
(:func:`~course_lib.grading.watchdog.kill_marked`), so nothing is left behind, not even a daemon
that left the process group.

A run goes in steps (:class:`_Driver`): start the kernel, block the graded exercises'
references in it (:func:`course_lib.grading.inkernel.prepare`), run the notebook's code cells in
order (errors allowed) until one runs past the time limit, then send one call per exercise that
runs the learner's object on the inputs of the hidden cases and writes back what it returned
(:func:`course_lib.grading.inkernel.answer_into`); when the kernel dies on the way, say why
(memory, timeout or crashed). The expected values stay in the grader's process, which judges the
answers (:func:`course_lib.grading.check.judge`).

When the kernel dies in a cell, the notebook runs once more in a fresh kernel without that cell
and the ones after it, so the answers defined before it are still graded; when it dies while
an answer runs, the other exercises are graded in such a second run.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import functools
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course_lib import _processes
from course_lib.grading import transport
from course_lib.grading.exercise import Case
from course_lib.grading.watchdog import (  # noqa: F401 - MARKER_ENV, POLL_S, SCAN_S re-exported
    MARKER_ENV,
    POLL_S,
    SCAN_S,
    Watchdog,
    kill_marked,
)

KERNEL_NAME = "python3"
#: The calls into :mod:`course_lib.grading.inkernel`: before the first cell, and per exercise.
_INKERNEL = "__import__('course_lib.grading.inkernel', fromlist=['_'])"
_PREPARE_CALL = _INKERNEL + ".prepare({!r})"
_ANSWER_CALL = _INKERNEL + ".answer_into({!r}, {!r}, {!r})"
#: Lines of the kernel's output that never explain why it died.
_KERNEL_NOISE = (
    "[IPKernelApp]",
    "Debugger warning",
    "frozen modules",
    "PYDEVD_",
    "-Xfrozen_modules",
)


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
        answers: per exercise, what the kernel wrote back (``answer_into``'s dict), or the
            reason it could not be read (a string).
        grading_timeouts: exercises whose grading ran past ``grade_timeout``.
        reran: how the second run went, e.g. 'graded after running the notebook again without
            cell 4 ("os._exit(1)") and the cells after it' ("" when there was none).
        problem: ``None``, ``"timeout"``, ``"memory"`` or ``"crashed"``.
        detail: what went wrong, in a sentence ("" when nothing did).
        kernel_died: whether the kernel was gone before grading finished.
        error_names: exception names raised by the notebook's cells, in order.
        cells_run: code cells executed.
        peak_rss_mb: the highest RSS seen (kernel and children), in MiB.
        seconds: wall time of the whole run.
    """

    answers: dict[str, dict | str] = dataclasses.field(default_factory=dict)
    grading_timeouts: list[str] = dataclasses.field(default_factory=list)
    reran: str = ""
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


def _cell_label(cell: nbformat.NotebookNode, index: int) -> str:
    text = "; ".join(line.strip() for line in cell.source.splitlines() if line.strip())
    text = text if len(text) <= 48 else text[:45] + "..."
    return f'cell {index + 1} ("{text}")'


def _cells_to_run(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """The notebook's code cells that hold code, with their indices, in order."""
    return [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and cell.source.strip()
    ]


def _exit_description(code: int | None) -> str:
    if code is None:
        return "the kernel stopped answering"
    return f"the kernel {_processes.describe_exit(code)}"


def _last_words(log_path: Path) -> str:
    """The last meaningful line the kernel process wrote to its stdout/stderr."""
    lines = _processes.last_lines(log_path, 1, max_bytes=4096, skip=_KERNEL_NOISE)
    return lines[-1][:200] if lines else ""


def _kernel_environment(marker: str, ipython_dir: Path) -> dict[str, str]:
    """This process's environment for the kernel, with the run's marker (and no grading secret:
    the hidden cases' seed never leaves the grader's process)."""
    env = dict(os.environ)
    env.update(
        {
            MARKER_ENV: marker,
            "IPYTHONDIR": str(ipython_dir),
            "MPLBACKEND": "Agg",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    if env.get("PYTHONPATH"):  # the kernel runs elsewhere: keep relative entries working
        entries = env["PYTHONPATH"].split(os.pathsep)
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(e) for e in entries if e)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return env


@dataclasses.dataclass(frozen=True)
class _Settings:
    """One run's settings: what to grade, its limits, the kernel's environment and the files.

    Attributes:
        exercise_ids: the exercises graded after the notebook's cells.
        limits: time and memory limits.
        env: the kernel's environment (with the run's marker).
        folder: the run's private folder: the inputs of each exercise's cases
            (``in-<k>.npz``) and what the kernel writes back (``out-<k>.npz``).
        workdir: the kernel's working directory (empty at the start).
        log_path: the kernel's stdout and stderr.
    """

    exercise_ids: list[str]
    limits: Limits
    env: dict[str, str]
    folder: Path
    workdir: Path
    log_path: Path

    @classmethod
    def in_folder(
        cls,
        folder: Path,
        inputs: dict[str, list[Case]],
        limits: Limits,
        marker: str,
        attempt: int = 0,
    ) -> _Settings:
        """The settings of a run whose files all live in ``folder`` (private to the run)."""
        workdir = folder / f"work{attempt or ''}"
        workdir.mkdir()
        return cls(
            exercise_ids=list(inputs),
            limits=limits,
            env=_kernel_environment(marker, folder / "ipython"),
            folder=folder,
            workdir=workdir,
            log_path=folder / f"kernel{attempt or ''}.log",
        )

    def _index(self, exercise_id: str) -> int:
        return self.exercise_ids.index(exercise_id)

    def inputs_path(self, exercise_id: str) -> Path:
        return self.folder / f"in-{self._index(exercise_id)}.npz"

    def outputs_path(self, exercise_id: str) -> Path:
        return self.folder / f"out-{self._index(exercise_id)}.npz"


def _read_answer(path: Path) -> dict | str | None:
    """What the kernel wrote back for one exercise: a dict, a reason it is unusable, or None."""
    if not path.exists():
        return None
    try:
        value = transport.load(path)
    except (ValueError, OSError) as error:
        return f"the kernel's answer could not be read ({error})"
    return value if isinstance(value, dict) else "the kernel's answer is not a record"


#: The watchdogs of the runs under way (several when submissions are graded in parallel).
_ACTIVE: set[Watchdog] = set()
_ACTIVE_LOCK = threading.Lock()
#: Set by :func:`stop_all`: runs under way do not run the notebook a second time.
STOPPING = threading.Event()


def stop_all() -> None:
    """Kills the kernels of every run under way (the grader was interrupted); each run then
    returns at once with a dead kernel. Call ``STOPPING.clear()`` before grading again."""
    STOPPING.set()
    with _ACTIVE_LOCK:
        watchdogs = list(_ACTIVE)
    for watchdog in watchdogs:
        watchdog.halt()


def _refuse_when_stopping() -> None:
    """Starts no kernel and runs no cell once the grader is interrupted."""
    if STOPPING.is_set():
        raise RuntimeError("grading was interrupted")


def run_notebook(
    nb: nbformat.NotebookNode,
    inputs: dict[str, list[Case]],
    limits: Limits | None = None,
) -> KernelRun:
    """Runs ``nb``'s code cells (errors allowed) in a fresh kernel, then runs each exercise's
    answer on the inputs of its hidden ``inputs[exercise_id]`` (their ``expected`` never leaves
    this process).

    The notebook object is not modified. Always returns; the kernel and every process it
    started are gone when it does.
    """
    limits = limits or Limits()
    run = KernelRun()
    started = time.monotonic()
    marker = uuid.uuid4().hex
    peak = 0.0
    with tempfile.TemporaryDirectory(prefix="course-grade-") as private:
        cells, ids = None, list(inputs)
        for attempt in range(2):
            settings = _Settings.in_folder(Path(private), inputs, limits, marker, attempt)
            driver_run = KernelRun()
            watchdog = Watchdog(limits.memory_mb * 2**20, limits.interrupt_grace)
            watchdog.start()
            with _ACTIVE_LOCK:
                _ACTIVE.add(watchdog)
            try:
                fatal = _run_sync(_drive(nb, settings, watchdog, driver_run, inputs, cells, ids))
            finally:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(watchdog)
                watchdog.kill_all()
                watchdog.stop()
                kill_marked(marker)
            peak = max(peak, watchdog.peak_rss)
            for exercise_id in ids:
                answer = _read_answer(settings.outputs_path(exercise_id))
                if answer is not None and exercise_id not in driver_run.grading_timeouts:
                    run.answers[exercise_id] = answer
            run.grading_timeouts += driver_run.grading_timeouts
            if attempt == 0:
                for field in ("problem", "detail", "kernel_died", "error_names", "cells_run"):
                    setattr(run, field, getattr(driver_run, field))
            if not driver_run.kernel_died or fatal is None or attempt == 1 or STOPPING.is_set():
                break
            kind, where, label = fatal
            if kind == "cell":
                cells, again = where, "graded after running the notebook again"
                run.reran = f"{again} without {label} and the cells after it"
            else:
                done = set(run.answers) | set(run.grading_timeouts) | {where}
                ids = [i for i in ids if i not in done]
                run.reran = (
                    f"graded after running the notebook again for the exercises after {where}"
                )
                if not ids:
                    break
    run.peak_rss_mb = peak / 2**20
    run.seconds = time.monotonic() - started
    return run


def _run_sync(coroutine):
    """Runs ``coroutine`` to its end and returns its result, also from inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from a running event loop (e.g. a notebook): run in a thread with its own loop.
    results: list = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="course-grading")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


#: Where a kernel died: ``("cell", position among the code cells, label)`` or
#: ``("exercise", exercise id, "")``.
Fatal = tuple[str, object, str]


async def _drive(*args) -> Fatal | None:
    """``_Driver(*args).drive()``, the driver made in the event loop that runs it (its kernel
    client belongs to that loop)."""
    return await _Driver(*args).drive()


class _Driver:
    """One kernel run in steps: start, block the references, run the cells, run the answers,
    and say why the kernel died.

    ``where`` names the step under way ("in cell 3 (...)", "while grading demo.add"), for the
    messages; what happened goes into ``run``; ``fatal`` says where the kernel died.

    Args:
        cells: run only this many of the notebook's code cells (all when None).
        ids: the exercises to grade (all of ``settings.exercise_ids`` when None).
    """

    def __init__(
        self,
        nb: nbformat.NotebookNode,
        settings: _Settings,
        watchdog: Watchdog,
        run: KernelRun,
        inputs: dict[str, list[Case]],
        cells: int | None = None,
        ids: list[str] | None = None,
    ) -> None:
        self.nb = nbformat.from_dict(nb)  # a copy: grading cells are appended to it
        self.settings, self.watchdog, self.run, self.inputs = settings, watchdog, run, inputs
        self.cells = _cells_to_run(self.nb)[:cells]
        self.ids = settings.exercise_ids if ids is None else ids
        specs = KernelSpecManager(kernel_dirs=[kernel_spec_dir()])
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        self.client = _QuietClient(
            self.nb,
            km=self.km,
            kernel_name=KERNEL_NAME,
            allow_errors=True,
            timeout=None,
            record_timing=False,
            startup_timeout=120,
            iopub_timeout=2,
        )
        self.client.on_cell_error = lambda cell, cell_index, execute_reply: run.error_names.append(
            str(execute_reply["content"].get("ename", ""))
        )
        self.where = "while starting"
        self.fatal: Fatal | None = None

    async def drive(self) -> Fatal | None:
        """Runs every step; a kernel that dies on the way is recorded, never raised.

        Returns:
            Where the kernel died (:data:`Fatal`), or None.
        """
        # A file, not a pipe: no reader thread that a leftover child could keep blocked.
        with open(self.settings.log_path, "wb") as log:
            try:
                await self._start(log)
                await self._prepare()
                await self._run_cells()
                await self._grade()
            except Exception as error:  # noqa: BLE001 - whatever stopped the kernel is reported
                task = asyncio.current_task()
                if task is not None and getattr(task, "cancelling", lambda: 0)():
                    # Ctrl-C in the grader (nbclient reports the cancellation as a dead kernel).
                    raise asyncio.CancelledError() from error
                self.run.kernel_died = True
                self.run.problem, self.run.detail = self._failure(error)
            finally:
                self.watchdog.kill_all()
                await _shutdown(self.client, self.km)
        return self.fatal if self.run.kernel_died else None

    async def _start(self, log: IO[bytes]) -> None:
        settings = self.settings
        _refuse_when_stopping()
        await self.client.async_start_new_kernel(
            cwd=str(settings.workdir), env=settings.env, stdout=log, stderr=log
        )
        self.watchdog.attach(self.km.provisioner.process.pid)
        await self.client.async_start_new_kernel_client()

    async def _execute(self, cell: nbformat.NotebookNode, index: int, deadline: float, **kw):
        """Executes one cell, interrupted (then killed) by the watchdog past ``deadline``."""
        _refuse_when_stopping()
        self.watchdog.arm(deadline)
        try:
            await self.client.async_execute_cell(cell, index, **kw)
        finally:
            self.watchdog.disarm()

    async def _call(self, code: str, seconds: float) -> None:
        """Executes one of the grader's own calls in the kernel, under ``seconds``."""
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)
        deadline = time.monotonic() + seconds
        await self._execute(cell, len(self.nb.cells) - 1, deadline, store_history=False)

    async def _prepare(self) -> None:
        """Blocks the references before any of the learner's code runs (a kernel where that
        did not finish is not graded)."""
        self.where = "while preparing the kernel for grading"
        done = self.settings.folder / "prepared"
        done.unlink(missing_ok=True)
        code = f"{_PREPARE_CALL.format(self.settings.exercise_ids)}; open({str(done)!r}, 'w')"
        await self._call(code, self.settings.limits.timeout)
        if not done.exists():
            raise RuntimeError("the kernel could not be prepared for grading (course_lib missing?)")

    async def _run_cells(self) -> None:
        """The notebook's code cells in order, until one runs past the notebook's time limit."""
        limits, run = self.settings.limits, self.run
        deadline = time.monotonic() + limits.timeout
        for position, (index, cell) in enumerate(self.cells):
            label = _cell_label(cell, index)
            self.where = f"in {label}"
            self.fatal = ("cell", position, label)
            await self._execute(cell, index, deadline)
            run.cells_run += 1
            if self.watchdog.fired:
                run.problem = "timeout"
                run.detail = (
                    f"the notebook ran past its {limits.timeout:g} s time limit {self.where} and "
                    "was interrupted; the cells after it did not run"
                )
                return
            if run.error_names and run.error_names[-1] == "MemoryError" and not run.problem:
                run.problem = "memory"
                run.detail = f"{label} raised MemoryError"

    async def _grade(self) -> None:
        """One call per exercise: the answer runs on its cases' inputs (written only now, so
        that no cell of the notebook sees them), under the grading time limit."""
        settings = self.settings
        for exercise_id in self.ids:
            self.where = f"while grading {exercise_id}"
            self.fatal = ("exercise", exercise_id, "")
            inputs, outputs = settings.inputs_path(exercise_id), settings.outputs_path(exercise_id)
            cases = self.inputs[exercise_id]
            public = {"cases": [{"args": list(c.args), "kwargs": dict(c.kwargs)} for c in cases]}
            transport.dump(public, inputs)
            outputs.unlink(missing_ok=True)
            await self._call(
                _ANSWER_CALL.format(exercise_id, str(inputs), str(outputs)),
                settings.limits.grade_timeout,
            )
            inputs.unlink(missing_ok=True)
            if self.watchdog.fired and not outputs.exists():
                self.run.grading_timeouts.append(exercise_id)

    def _failure(self, error: Exception) -> tuple[str, str]:
        """``(problem, detail)`` for a kernel that died: over memory, past time, or crashed."""
        limits, where = self.settings.limits, self.where
        if self.watchdog.memory_killed:
            return "memory", (
                f"the kernel went over the {limits.memory_mb:g} MB memory limit {where} and was "
                "stopped"
            )
        if self.watchdog.timeout_killed:
            limit = limits.timeout if where.startswith("in ") else limits.grade_timeout
            return "timeout", (
                f"the notebook ran past its {limit:g} s time limit {where} and was killed "
                "(it did not stop when interrupted)"
            )
        process = getattr(self.km.provisioner, "process", None)
        code = process.poll() if process is not None else None
        said = _last_words(self.settings.log_path)
        return "crashed", (
            f"{_exit_description(code)} {where}"
            + (f": {said}" if said else "")
            + ("" if isinstance(error, DeadKernelError) else f" ({error})")
        )


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
    if process is not None:  # given 5 s to exit, then killed with its group; always reaped
        _processes.stop([process], grace_s=5.0, ask=None)
