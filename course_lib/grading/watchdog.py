"""The batch grader's watch over a kernel's processes: memory and time limits, then cleanup.

:class:`Watchdog` polls the resident memory (RSS) of a kernel and all its descendants every
:data:`POLL_S` seconds (looking for new descendants every :data:`SCAN_S`):

- over the memory limit, the kernel's process group (and every descendant seen) is killed at once;
- past the current deadline, the group is interrupted (``SIGINT``, as Jupyter's interrupt button)
  and, if the kernel has not stopped ``grace`` seconds later, killed the same way.

RSS rather than ``RLIMIT_AS``: TensorFlow reserves far more virtual memory than it uses (CUDA
builds tens of GB), so an address-space limit breaks ``import tensorflow`` while an RSS limit
measures what a notebook really takes from the machine (pages a forked child shares with its
parent count for both, which errs on the safe side).

:func:`kill_marked` is the last sweep: every process of a grading run carries :data:`MARKER_ENV`
in its environment, so even a daemon that left the process group is found and killed.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil

from course_lib import _processes

#: Every process of a grading run carries this variable (the run's id) in its environment.
MARKER_ENV = "COURSE_GRADING_RUN"
#: Seconds between two looks at the kernel's memory and deadline.
POLL_S = 0.05
#: Seconds between two searches for the kernel's new descendants.
SCAN_S = 0.25


class Watchdog(threading.Thread):
    """Enforces the memory limit and the current deadline on a kernel's process tree.

    ``attach`` names the kernel; ``arm``/``disarm`` set and clear the deadline around each cell.
    Afterwards ``fired`` (interrupted past a deadline since the last ``arm``),
    ``timeout_killed``, ``memory_killed`` and ``peak_rss`` (bytes) say what happened.
    """

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
        self._halted = False

    def attach(self, pid: int) -> None:
        """Watches process ``pid`` (the kernel), its group and its descendants (killed at once
        after :meth:`halt`)."""
        with self._lock:
            self._root = psutil.Process(pid)
            self._procs = {pid: self._root}
            self._pgid = _processes.group_id(pid)
            if self._halted:
                self._kill()

    def halt(self) -> None:
        """Kills the kernel now, and a kernel attached later as soon as it is (the grader was
        interrupted while the kernel was still starting)."""
        with self._lock:
            self._halted = True
            if self._root is not None:
                self._kill()

    def arm(self, deadline: float) -> None:
        """Interrupts the kernel at ``deadline`` (``time.monotonic()`` seconds)."""
        with self._lock:
            self._deadline, self._interrupted_at, self.fired = deadline, None, False

    def disarm(self) -> None:
        with self._lock:
            self._deadline, self._interrupted_at = None, None

    def stop(self) -> None:
        """Ends the thread (the processes are left as they are: see :meth:`kill_all`)."""
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
                    _processes.signal_group(self._pgid, signal.SIGINT)
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

    def _kill(self) -> None:
        self._scan()
        _processes.signal_group(self._pgid, signal.SIGKILL)
        for proc in self._procs.values():
            try:
                proc.kill()
            except psutil.Error:
                pass
        self._root = None

    def kill_all(self) -> None:
        """Kills the kernel's group and every descendant seen, if not done already."""
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
