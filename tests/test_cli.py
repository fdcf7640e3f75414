"""The `course` command: assign, start, grade --help, list and doctor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_lib import cli
from course_lib.grading.batch import STATUSES

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"
SOLUTION = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
CHECK = 'from course_lib.grading import check\n\ncheck("demo.add", add)'


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises")


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "solutions").mkdir()
    nb = new_notebook(cells=[new_code_cell(SOLUTION), new_code_cell(CHECK)])
    nb.metadata["course"] = {"topic": "demo", "exercises": ["demo.add"]}
    nbformat.write(nb, tmp_path / "solutions" / "demo.ipynb")
    return tmp_path


def test_the_console_script_shows_grade_help_with_every_status():
    script = Path(sys.executable).with_name("course")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "course_lib.cli"]
    result = subprocess.run(
        [*command, "grade", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for status in STATUSES:
        assert f"  {status} " in result.stdout
    for option in ("--out", "--timeout", "--memory-mb", "--force"):
        assert option in result.stdout


def test_assign_check_then_assign_then_check(course, capsys):
    assert cli.main(["assign", "--check"]) == 1
    out = capsys.readouterr().out
    assert "exercises/ is out of date" in out and "exercises/demo.ipynb" in out

    assert cli.main(["assign"]) == 0
    assert "wrote exercises/demo.ipynb" in capsys.readouterr().out
    assert cli.main(["assign", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_assign_refuses_to_overwrite_an_edited_exercise(course, capsys):
    cli.main(["assign"])
    exercise = course / "exercises" / "demo.ipynb"
    exercise.write_text(exercise.read_text().replace("# YOUR CODE HERE", "# mine"))
    edited = exercise.read_bytes()
    (course / "solutions" / "demo.ipynb").write_text(
        (course / "solutions" / "demo.ipynb").read_text().replace("a + b", "b + a")
    )
    assert cli.main(["assign"]) == 1
    err = capsys.readouterr().err
    assert "exercises/demo.ipynb" in err and "course start demo" in err and "--force" in err
    assert exercise.read_bytes() == edited
    assert cli.main(["assign", "--force"]) == 0
    assert "# YOUR CODE HERE" in exercise.read_text()


def test_assign_reports_unbalanced_markers_and_missing_folders(course, capsys):
    (course / "solutions" / "demo.ipynb").write_text(
        (course / "solutions" / "demo.ipynb").read_text().replace("### END SOLUTION", "")
    )
    assert cli.main(["assign"]) == 1
    assert "solutions/demo.ipynb: cell 0" in capsys.readouterr().err
    assert cli.main(["assign", "--solutions", "nowhere"]) == 2
    assert "no solutions folder" in capsys.readouterr().err


def test_start_copies_once(course, capsys):
    cli.main(["assign"])
    assert cli.main(["start", "demo"]) == 0
    assert (course / "work" / "demo.ipynb").read_bytes() == (
        course / "exercises" / "demo.ipynb"
    ).read_bytes()
    assert "work/demo.ipynb" in capsys.readouterr().out
    assert cli.main(["start", "demo"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["start", "demo", "--dir", "elsewhere"]) == 0
    assert cli.main(["start", "nope"]) == 2
    assert "available: demo" in capsys.readouterr().err


def test_list_shows_ids_and_titles(demo, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "demo.add" in out and "Add two arrays" in out
    assert "demo.scale" in out and "Scale an array" in out


def test_doctor_reports_the_environment(demo, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for label in ("python", "tensorflow", "keras", "network", "grading kernel", "exercises"):
        assert label in out
    assert "offline" in out
    assert sys.executable in out or Path(sys.executable).resolve().as_posix() in out
    assert "COURSE_EXERCISE_MODULES=demo_exercises" in out


def test_ctrl_c_stops_the_batch_without_a_csv_or_a_leftover_kernel(tmp_path):
    nb = new_notebook(cells=[new_code_cell("while True:\n    pass")])
    nb.metadata["course"] = {"exercises": ["demo.add"]}
    for name in ("a.ipynb", "b.ipynb"):
        nbformat.write(nb, tmp_path / name)
    env = dict(os.environ, PYTHONPATH=str(FIXTURES), COURSE_EXERCISE_MODULES="demo_exercises")
    command = [sys.executable, "-m", "course_lib.cli", "grade", "a.ipynb", "b.ipynb"]
    # Ctrl-C reaches the grader even when this test runs in the background (where SIGINT is
    # ignored and a child would inherit that).
    grader = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        kernels = []
        deadline = time.monotonic() + 60
        while not kernels and time.monotonic() < deadline:
            time.sleep(0.2)
            kernels = psutil.Process(grader.pid).children(recursive=True)
        assert kernels, "the kernel never started"
        time.sleep(1.0)
        grader.send_signal(signal.SIGINT)
        _, err = grader.communicate(timeout=60)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 130
    assert "interrupted" in err
    assert not (tmp_path / "grades.csv").exists()
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


def test_grade_without_the_grade_extra_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    real_version = cli.importlib.metadata.version

    def version(name):
        if name == "jupyter_client":
            return "6.1.12"  # Colab's
        return real_version(name)

    monkeypatch.setattr(cli.importlib.metadata, "version", version)
    assert cli._missing_grade_extra() == ["jupyter_client 6.1.12 (needs >= 8.0)"]
    code = cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "grades.csv")])
    err = capsys.readouterr().err
    assert code != 0 and "pip install 'course_lib[grade]'" in err and "jupyter_client 6.1.12" in err
    assert not (tmp_path / "grades.csv").exists()
    monkeypatch.setattr(cli.importlib.metadata, "version", real_version)
    assert cli._missing_grade_extra() == []


def test_train_refuses_bad_steps_and_a_folder_with_a_trained_model(tmp_path, capsys):
    assert cli.main(["train", "dcgan", "--out", str(tmp_path), "--steps", "0"]) == cli.EXIT_USAGE
    assert "--steps must be positive" in capsys.readouterr().err
    (tmp_path / "samples.npz").write_bytes(b"")
    assert cli.main(["train", "pix2pix", "--out", str(tmp_path)]) == cli.EXIT_USAGE
    assert "--force" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        cli.main(["train", "stylegan", "--out", str(tmp_path)])
    assert raised.value.code == 2


def test_train_saves_the_checkpoint_and_samples_and_prints_the_figure(tmp_path, capsys):
    out = tmp_path / "dcgan"
    assert cli.main(["train", "dcgan", "--out", str(out), "--steps", "2"]) == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert "of 10 classes covered" in printed and f"samples: {out / 'samples.npz'}" in printed
    assert (out / "checkpoint" / "ckpt.index").is_file()
    with np.load(out / "samples.npz") as saved:
        assert saved["images"].shape == (100, 28, 28, 1)
