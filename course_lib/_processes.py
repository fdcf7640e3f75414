"""Child processes in process groups of their own: start, signal, stop and reap, describe the end.

A child started by :func:`start_in_new_group` leads a new session, so whatever it starts (unless
that calls ``setsid`` itself) is in its process group and one ``killpg`` reaches them all. The
worker launcher (:mod:`course_lib.perf.workers`) and the batch grader's kernels
(:mod:`course_lib.grading.sandbox`, :mod:`course_lib.grading.watchdog`) use these.

A group is signalled only while its leader is not reaped: until then the leader's pid, which is
the group's id, cannot be reused by an unrelated process. POSIX only for the groups; elsewhere the
process alone is signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: Seconds between two looks at processes given a grace period.
POLL_S = 0.02


def start_in_new_group(args: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(args, **popen_kwargs)`` as the leader of a new session and group."""
    return subprocess.Popen(list(args), start_new_session=True, **popen_kwargs)


def group_id(pid: int) -> int | None:
    """The process group of process ``pid``; None if there is no such process (or no groups)."""
    if not hasattr(os, "getpgid"):
        return None
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def signal_group(pgid: int | None, signum: int) -> bool:
    """Sends ``signum`` to every process of group ``pgid``; returns whether it was sent.

    Never signals this process's own group (that of a child that got no group of its own). A
    group that is gone, or not ours to signal, is not an error.
    """
    if pgid is None or not hasattr(os, "killpg") or pgid == group_id(0):
        return False
    try:
        os.killpg(pgid, signum)
    except OSError:
        return False
    return True


def signal_process(process: subprocess.Popen, signum: int) -> None:
    """Sends ``signum`` to ``process``'s group if it leads one, else to ``process`` alone.

    Does nothing once ``process`` is reaped (its pid may belong to another process by then).
    """
    if process.returncode is not None:
        return
    if group_id(process.pid) == process.pid and signal_group(process.pid, signum):
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)


def has_exited(process: subprocess.Popen) -> bool:
    """Whether ``process`` has exited, without reaping it (so its group may still be signalled)."""
    if process.returncode is not None:
        return True
    if not hasattr(os, "waitid"):
        return process.poll() is not None
    try:
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, process.pid, flags) is not None
    except ChildProcessError:  # reaped by someone else
        return True


def stop(
    processes: Iterable[subprocess.Popen],
    grace_s: float = 0.0,
    ask: int | None = signal.SIGTERM,
) -> list[int]:
    """Stops every process with its group, reaps them all and returns their exit codes.

    With ``grace_s`` > 0, each process still running first gets ``ask`` (to its group; ``None``:
    no signal, they are only waited for) and up to ``grace_s`` seconds to exit. Then every group
    whose leader is not reaped yet gets ``SIGKILL``, so what a leader left behind in its group
    dies too, and every process is reaped. A process that exited already is reaped as it is.

    Args:
        processes: children, each ideally started by :func:`start_in_new_group`.
        grace_s: seconds they get to exit after ``ask``; 0 kills at once.
        ask: the signal that asks them to exit.

    Returns:
        Their return codes, in order (negative: killed by that signal).
    """
    processes = list(processes)
    if grace_s > 0:
        if ask is not None:
            for process in processes:
                if not has_exited(process):
                    signal_process(process, ask)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and not all(has_exited(p) for p in processes):
            time.sleep(POLL_S)
    for process in processes:
        signal_process(process, signal.SIGKILL)
    return [process.wait() for process in processes]


def describe_exit(code: int) -> str:
    """How a process ended, from its return code: ``"exited with code 3"``,
    ``"was killed by SIGKILL"`` (a negative code is a signal, as in ``Popen.returncode``)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"was killed by {name}"


def last_lines(
    path: str | Path, count: int, *, max_bytes: int | None = None, skip: Sequence[str] = ()
) -> list[str] | None:
    """The last ``count`` non-blank lines of the file at ``path`` that contain none of ``skip``.

    Args:
        path: a text file (a process's output); undecodable bytes are replaced.
        count: lines kept at most.
        max_bytes: read only the file's last ``max_bytes`` bytes (default: all of it).
        skip: substrings of lines to leave out (noise).

    Returns:
        The lines, oldest first; None if the file cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            if max_bytes is not None:
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - max_bytes))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    kept = [line for line in text.splitlines() if line.strip() and not any(s in line for s in skip)]
    return kept[-count:] if count > 0 else []
