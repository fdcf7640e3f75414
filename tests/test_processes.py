"""Process groups (course_lib._processes) against real child processes; nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from course_lib import _processes

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")

# Prints "ready" once its SIGTERM handler is set, then sleeps.
IGNORES_SIGTERM = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(300)
"""
# Starts a grandchild that ignores SIGTERM, prints its pid, then sleeps (and dies on SIGTERM);
# the grandchild's "ready" follows on the same stdout.
WITH_GRANDCHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", {grandchild!r}])
print(grandchild.pid, flush=True)
time.sleep(300)
"""


def python(code: str, **popen_kwargs) -> subprocess.Popen:
    return _processes.start_in_new_group([sys.executable, "-c", code], **popen_kwargs)


def gone(pid: int) -> bool:
    """No such process, or only a zombie left to its new parent (nothing that runs)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


@pytest.fixture
def no_children_left():
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before


@pytest.mark.usefixtures("no_children_left")
def test_a_child_leads_its_own_group_and_its_exit_code_is_described():
    child = python("import sys; sys.exit(3)")
    assert _processes.group_id(child.pid) in (child.pid, None)  # None: exited and reaped already
    assert child.wait(timeout=30) == 3
    assert _processes.describe_exit(child.returncode) == "exited with code 3"


@pytest.mark.usefixtures("no_children_left")
def test_stopping_a_child_that_exited_by_itself_reaps_it_with_its_code():
    child = python("import sys; sys.exit(4)")
    deadline = time.monotonic() + 30
    while not _processes.has_exited(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _processes.has_exited(child) and child.returncode is None  # exited, not reaped
    assert _processes.stop([child], grace_s=1.0) == [4]


@pytest.mark.usefixtures("no_children_left")
def test_a_child_killed_by_a_signal_is_described_by_the_signal_name():
    child = python("import time; time.sleep(300)")
    assert _processes.signal_group(child.pid, signal.SIGTERM)
    assert child.wait(timeout=30) == -signal.SIGTERM
    assert _processes.describe_exit(child.returncode) == "was killed by SIGTERM"
    assert _processes.describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert _processes.describe_exit(-200) == "was killed by signal 200"
    assert not _processes.signal_group(child.pid, signal.SIGTERM)  # reaped: the group is gone


@pytest.mark.usefixtures("no_children_left")
def test_a_child_that_obeys_sigterm_is_not_kept_for_the_whole_grace_period():
    code = "import time; print('ready', flush=True); time.sleep(300)"
    child = python(code, stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    start = time.monotonic()
    assert _processes.stop([child], grace_s=20.0) == [-signal.SIGTERM]
    assert time.monotonic() - start < 10.0
    child.stdout.close()


@pytest.mark.usefixtures("no_children_left")
def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period():
    child = python(IGNORES_SIGTERM, stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    start = time.monotonic()
    assert _processes.stop([child], grace_s=0.5) == [-signal.SIGKILL]
    assert time.monotonic() - start >= 0.5
    assert not psutil.pid_exists(child.pid) or gone(child.pid)
    child.stdout.close()


@pytest.mark.usefixtures("no_children_left")
def test_a_grandchild_dies_with_its_group_even_after_its_parent_exited():
    # The child exits on SIGTERM, its grandchild ignores it: the group's SIGKILL after the grace
    # period reaches the grandchild because the child is not reaped before it is sent.
    code = WITH_GRANDCHILD.format(grandchild=IGNORES_SIGTERM)
    child = python(code, stdout=subprocess.PIPE)
    grandchild = int(child.stdout.readline())
    assert child.stdout.readline().strip() == b"ready"  # the grandchild ignores SIGTERM now
    assert _processes.group_id(grandchild) == child.pid
    assert _processes.stop([child], grace_s=1.0) == [-signal.SIGTERM]
    assert wait_gone(grandchild)
    child.stdout.close()


@pytest.mark.usefixtures("no_children_left")
def test_stop_without_grace_kills_every_group_at_once():
    children = [python("import time; time.sleep(300)") for _ in range(3)]
    start = time.monotonic()
    assert _processes.stop(children) == [-signal.SIGKILL] * 3
    assert time.monotonic() - start < 10.0
    assert _processes.stop(children) == [-signal.SIGKILL] * 3  # reaped: nothing is signalled


@pytest.mark.usefixtures("no_children_left")
def test_a_child_without_a_group_of_its_own_is_signalled_alone():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    assert _processes.group_id(child.pid) == _processes.group_id(0)
    assert not _processes.signal_group(_processes.group_id(child.pid), 0)  # never our own group
    assert _processes.stop([child]) == [-signal.SIGKILL]


def test_signal_group_refuses_this_process_group_and_no_group():
    assert not _processes.signal_group(os.getpgid(0), 0)
    assert not _processes.signal_group(None, 0)
    assert _processes.group_id(2**22 + 12345) is None


def test_last_lines_skips_blank_and_noisy_lines(tmp_path):
    log = tmp_path / "out.log"
    log.write_bytes(b"first\n\n  \nnoise: ignore me\nsecond \xff\nthird\n\n")
    assert _processes.last_lines(log, 2) == ["second \ufffd", "third"]
    assert _processes.last_lines(log, 10, skip=["noise"]) == ["first", "second \ufffd", "third"]
    assert _processes.last_lines(log, 10, max_bytes=7) == ["third"]
    assert _processes.last_lines(log, 0) == []
    assert _processes.last_lines(tmp_path / "missing.log", 3) is None
    (tmp_path / "empty.log").write_text("\n \n")
    assert _processes.last_lines(tmp_path / "empty.log", 3) == []
