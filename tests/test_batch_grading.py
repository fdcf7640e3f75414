"""Batch grading: every submission gets rows with a clear status, whatever it does."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib import _processes, cli, grading
from course_lib.grading import assign, batch
from course_lib.grading.sandbox import MARKER_ENV, Limits, run_notebook
from course_lib.grading.watchdog import Watchdog

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"
IDS = ["demo.add", "demo.scale"]
ADD = "def add(a, b):\n    return a + b"
SCALE = "def scale(x, factor):\n    return x * factor"
CHECKS = """from course_lib import grading

grading.check("demo.add", add)
grading.check("demo.scale", scale)"""
SOLUTION = """def add(a, b):
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION


def scale(x, factor):
    ### BEGIN SOLUTION
    return x * factor
    ### END SOLUTION"""
# Ignores the interrupt, so it is killed when the grace period is over.
STUBBORN = """import time
while True:
    try:
        time.sleep(1)
    except KeyboardInterrupt:
        pass"""
# A cell that rewrites every part of the grader it can reach in its kernel to say "passed".
MONKEYPATCH = """import sys

import course_lib.grading as grading
import course_lib.grading.inkernel as inkernel
import course_lib.grading.transport as transport
from course_lib.grading import batch

check_module = sys.modules["course_lib.grading.check"]
passed = check_module.CheckResult("demo.add", "passed", 2.0, 2.0, "✓ demo.add: 3/3 cases passed")
check_module.judge = lambda *args, **kwargs: passed
check_module.grade = lambda *args, **kwargs: passed
check_module.compare_values = lambda *args, **kwargs: None
check_module.draw_cases = lambda *args, **kwargs: []
grading.check = lambda *args, **kwargs: passed
batch.judge = check_module.judge
real_answer_into = inkernel.answer_into


def answer_into(exercise_id, inputs_path, outputs_path):
    if exercise_id == "demo.add":
        fake = {"status": "passed", "score": 2.0, "kind": "passed", "outcomes": "all"}
        transport.dump(fake, outputs_path)
    else:
        real_answer_into(exercise_id, inputs_path, outputs_path)


inkernel.answer_into = answer_into
print("✓ demo.add: 3/3 cases passed")
print("correct.ipynb,demo.add,2,2,passed,✓ demo.add: 3/3 cases passed")"""
# A cell that looks for the grader's files, forges results there and reports what it saw.
GRADER_FILES = """import glob, json, os
private = os.path.dirname(os.getcwd())
seen = {{"files": sorted(os.listdir(private)), "env": sorted(os.environ)}}
for name in ("out-0.npz", "graded.jsonl", "checks.jsonl", "grades.csv"):
    with open(os.path.join(private, name), "w") as handle:
        handle.write(json.dumps({{"exercise": "demo.add", "status": "passed", "score": 2.0}}))
json.dump(seen, open({spy!r}, "w"))
print("demo.add passed 2/2")"""
TIMEOUT, GRADE_TIMEOUT, MEMORY_MB = 8, 4, 512
TOKEN_ENV = "COURSE_TEST_BATCH_TOKEN"


def use_demo_exercises(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo exercises, for the grader and for the kernels it starts."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    path = os.pathsep.join(p for p in [str(FIXTURES), os.environ.get("PYTHONPATH", "")] if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises")


def notebook(*sources: str, exercises: list[str] | None = IDS) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(s[3:]) if s.startswith("md:") else new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    if exercises is not None:
        nb.metadata["course"] = {"topic": "demo", "exercises": exercises}
    return nb


def submissions(folder: Path, pid_file: Path) -> dict[str, nbformat.NotebookNode | str]:
    stub = assign.make_exercise(notebook("import numpy as np", SOLUTION, CHECKS))
    daemon = (
        "import subprocess\n"
        "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))"
    )
    partly = "def scale(x, factor):\n    return x * factor if len(x) < 4 else x"
    return {
        "correct.ipynb": notebook("md:# Exercises", "import numpy as np", ADD, SCALE, CHECKS),
        "partial.ipynb": notebook(ADD, partly, CHECKS),
        "unsolved.ipynb": stub,
        # No metadata: the exercises come from the file name; cells added, moved and deleted.
        "bob/demo.ipynb": notebook(
            "md:my notes", SCALE, "print('scratch work')", "1 / 0", ADD, exercises=None
        ),
        "raises.ipynb": notebook(
            "raise ValueError('boom')", "def add(a, b):\n    raise ValueError('learner bug')", SCALE
        ),
        "undefined.ipynb": notebook(ADD),
        "loop.ipynb": notebook("while True:\n    pass", ADD, SCALE),
        "grading_loop.ipynb": notebook("def add(a, b):\n    while True:\n        pass", SCALE),
        "sys_exit.ipynb": notebook("import sys\nsys.exit('bye')", ADD, SCALE),
        "os_exit_late.ipynb": notebook(ADD, SCALE, CHECKS, "import os\nos._exit(1)"),
        "os_exit_early.ipynb": notebook("import os\nos._exit(1)", ADD, SCALE),
        "memory.ipynb": notebook("import numpy as np\nx = np.ones((3, 10**9))", ADD, SCALE),
        "daemon.ipynb": notebook(daemon, ADD, SCALE),
        "memory_error.ipynb": notebook("import numpy as np\nx = np.ones(10**14)", ADD),
        "exit_call.ipynb": notebook(ADD, SCALE, CHECKS, "exit()"),
        "stubborn_loop.ipynb": notebook(ADD, SCALE, CHECKS, STUBBORN),
        # Hands the work to the reference: imported under another name, or wrapped.
        "reference.ipynb": notebook("from demo_exercises import reference_add as add", SCALE),
        "reference_wrapper.ipynb": notebook(
            "import functools\nimport demo_exercises as lib\n"
            "add = functools.partial(lib.reference_add)",
            SCALE,
            CHECKS,
        ),
        # Rewrites the grader in its kernel: scoring, comparison, the hidden cases, the call
        # that runs the answers; and prints a result line of its own. Only scale is honest.
        "monkeypatch.ipynb": notebook(
            "def add(a, b):\n    return a - b",
            SCALE,
            MONKEYPATCH,
        ),
        # Writes fake results where the grader's files are, and reads what it can find there.
        "grader_files.ipynb": notebook(
            "def add(a, b):\n    return a * b",
            SCALE,
            GRADER_FILES.format(spy=str(pid_file.with_name("spy.json"))),
        ),
        # Uses the reference outside the answer (blocked for the kernel's whole life).
        "reference_in_a_cell.ipynb": notebook(
            "import demo_exercises\ntry:\n    table = demo_exercises.reference_add(1, 2)\n"
            "except Exception as error:\n    table = repr(error)",
            "import copy, types\nf = demo_exercises.reference_add\n"
            "add = types.FunctionType(f.__code__, f.__globals__)",
            SCALE,
        ),
        "empty.ipynb": notebook("md:nothing here yet", ""),
        "text.ipynb": "this is not a notebook\n",
        "demo_broken.ipynb": '{"cells": [{"cell_type": "code", "source": "def add(a, b',
    }


# (submission, exercise) -> (status, score)
EXPECTED = {
    ("correct.ipynb", "demo.add"): ("passed", 2.0),
    ("correct.ipynb", "demo.scale"): ("passed", 1.0),
    ("partial.ipynb", "demo.add"): ("passed", 2.0),
    ("partial.ipynb", "demo.scale"): ("failed", 0.5),
    ("unsolved.ipynb", "demo.add"): ("not_attempted", 0.0),
    ("unsolved.ipynb", "demo.scale"): ("not_attempted", 0.0),
    ("bob/demo.ipynb", "demo.add"): ("passed", 2.0),
    ("bob/demo.ipynb", "demo.scale"): ("passed", 1.0),
    ("raises.ipynb", "demo.add"): ("failed", 0.0),
    ("raises.ipynb", "demo.scale"): ("passed", 1.0),
    ("undefined.ipynb", "demo.add"): ("passed", 2.0),
    ("undefined.ipynb", "demo.scale"): ("error", 0.0),
    ("loop.ipynb", "demo.add"): ("timeout", 0.0),
    ("loop.ipynb", "demo.scale"): ("timeout", 0.0),
    ("grading_loop.ipynb", "demo.add"): ("timeout", 0.0),
    ("grading_loop.ipynb", "demo.scale"): ("passed", 1.0),
    ("sys_exit.ipynb", "demo.add"): ("passed", 2.0),
    ("sys_exit.ipynb", "demo.scale"): ("passed", 1.0),
    ("os_exit_late.ipynb", "demo.add"): ("passed", 2.0),
    ("os_exit_late.ipynb", "demo.scale"): ("passed", 1.0),
    ("os_exit_early.ipynb", "demo.add"): ("crashed", 0.0),
    ("os_exit_early.ipynb", "demo.scale"): ("crashed", 0.0),
    ("memory.ipynb", "demo.add"): ("memory", 0.0),
    ("memory.ipynb", "demo.scale"): ("memory", 0.0),
    ("memory_error.ipynb", "demo.add"): ("passed", 2.0),
    ("memory_error.ipynb", "demo.scale"): ("memory", 0.0),
    ("exit_call.ipynb", "demo.add"): ("passed", 2.0),
    ("exit_call.ipynb", "demo.scale"): ("passed", 1.0),
    ("stubborn_loop.ipynb", "demo.add"): ("passed", 2.0),
    ("stubborn_loop.ipynb", "demo.scale"): ("passed", 1.0),
    ("daemon.ipynb", "demo.add"): ("passed", 2.0),
    ("daemon.ipynb", "demo.scale"): ("passed", 1.0),
    ("reference.ipynb", "demo.add"): ("uses_reference", 0.0),
    ("reference.ipynb", "demo.scale"): ("passed", 1.0),
    ("reference_wrapper.ipynb", "demo.add"): ("uses_reference", 0.0),
    ("reference_wrapper.ipynb", "demo.scale"): ("passed", 1.0),
    ("monkeypatch.ipynb", "demo.add"): ("error", 0.0),
    ("monkeypatch.ipynb", "demo.scale"): ("passed", 1.0),
    ("grader_files.ipynb", "demo.add"): ("failed", 0.0),
    ("grader_files.ipynb", "demo.scale"): ("passed", 1.0),
    ("reference_in_a_cell.ipynb", "demo.add"): ("failed", 0.0),
    ("reference_in_a_cell.ipynb", "demo.scale"): ("passed", 1.0),
    ("empty.ipynb", "demo.add"): ("empty", 0.0),
    ("empty.ipynb", "demo.scale"): ("empty", 0.0),
    ("text.ipynb", ""): ("invalid", 0.0),
    ("demo_broken.ipynb", "demo.add"): ("invalid", 0.0),
    ("demo_broken.ipynb", "demo.scale"): ("invalid", 0.0),
    ("notes.txt", ""): ("invalid", 0.0),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    """Grades the whole folder once through ``course grade``: (exit code, rows, stdout, paths)."""
    root = tmp_path_factory.mktemp("batch")
    token = uuid.uuid4().hex
    folder, pid_file = root / "submissions", root / "daemon.pid"
    for name, content in submissions(folder, pid_file).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
    notes = root / "notes.txt"
    notes.write_text("my answers are in my head\n")
    out = root / "grades.csv"
    argv = ["grade", str(folder), str(notes), "--out", str(out), "--timeout", str(TIMEOUT)]
    argv += ["--grade-timeout", str(GRADE_TIMEOUT), "--memory-mb", str(MEMORY_MB)]
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_demo_exercises(monkeypatch)
        monkeypatch.setenv(TOKEN_ENV, token)  # every process of this batch inherits it
        capture = root / "stdout.txt"
        with open(capture, "w") as handle, contextlib.redirect_stdout(handle):
            code = cli.main(argv)
    with open(out, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    rows = {}
    for submission, exercise, score, max_score, status, feedback, *_ in table[1:]:
        name = Path(submission).relative_to(folder) if folder in Path(submission).parents else None
        key = (str(name) if name else Path(submission).name, exercise)
        rows[key] = {
            "score": float(score),
            "max": float(max_score),
            "status": status,
            "fb": feedback,
        }
    return {
        "code": code,
        "header": table[0],
        "raw": out.read_text(encoding="utf-8"),
        "rows": rows,
        "stdout": capture.read_text(),
        "pid_file": pid_file,
        "root": root,
        "token": token,
    }


def test_the_batch_completes_with_exit_code_0(graded):
    assert graded["code"] == 0


def test_the_csv_has_the_exact_header_and_one_row_per_submission_and_exercise(graded):
    assert graded["header"] == [
        "submission",
        "exercise",
        "score",
        "max_score",
        "status",
        "feedback",
        "content_hash",
        "grader_version",
    ]
    assert graded["raw"].startswith(
        "submission,exercise,score,max_score,status,feedback,content_hash,grader_version\n"
    )
    assert set(graded["rows"]) == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}:{k[1]}")
def test_each_row_has_the_expected_status_and_score(graded, key):
    row = graded["rows"][key]
    status, score = EXPECTED[key]
    assert (row["status"], row["score"]) == (status, pytest.approx(score)), row["fb"]
    if key[1]:
        assert row["max"] == {"demo.add": 2.0, "demo.scale": 1.0}[key[1]]


def test_feedback_says_what_happened(graded):
    rows = graded["rows"]
    assert "`scale` is not defined" in rows["undefined.ipynb", "demo.scale"]["fb"]
    assert "ValueError: learner bug" in rows["raises.ipynb", "demo.add"]["fb"]
    assert "2/4 cases passed" in rows["partial.ipynb", "demo.scale"]["fb"]
    assert "not attempted" in rows["unsolved.ipynb", "demo.add"]["fb"]
    assert f"{TIMEOUT} s time limit" in rows["loop.ipynb", "demo.add"]["fb"]
    assert "while True" in rows["loop.ipynb", "demo.add"]["fb"]
    assert "endless loop in `add`" in rows["grading_loop.ipynb", "demo.add"]["fb"]
    assert "without cell 4" in rows["os_exit_late.ipynb", "demo.add"]["fb"]
    assert "exited with code 1" in rows["os_exit_early.ipynb", "demo.add"]["fb"]
    assert f"{MEMORY_MB} MB memory limit" in rows["memory.ipynb", "demo.add"]["fb"]
    assert "raised MemoryError" in rows["memory_error.ipynb", "demo.add"]["fb"]
    assert "`scale` is not defined" in rows["memory_error.ipynb", "demo.scale"]["fb"]
    assert "did not stop when interrupted" in rows["stubborn_loop.ipynb", "demo.add"]["fb"]
    assert "without cell 4" in rows["stubborn_loop.ipynb", "demo.add"]["fb"]
    assert "no code" in rows["empty.ipynb", "demo.add"]["fb"]
    for name in ("reference.ipynb", "reference_wrapper.ipynb"):
        assert "demo_exercises.reference_add" in rows[name, "demo.add"]["fb"]
    assert "not a readable notebook" in rows["text.ipynb", ""]["fb"]
    assert "not a notebook" in rows["notes.txt", ""]["fb"]


def test_a_notebook_cannot_rewrite_the_grader_or_forge_its_results(graded):
    rows = graded["rows"]
    assert "not a record of the answer's results" in rows["monkeypatch.ipynb", "demo.add"]["fb"]
    forged = rows["grader_files.ipynb", "demo.add"]["fb"]
    assert forged.startswith("✗ demo.add: 0/3 cases passed")
    # While the cells ran, the kernel saw no inputs of the hidden cases and no seed.
    spy = json.loads(graded["pid_file"].with_name("spy.json").read_text())
    assert not [name for name in spy["files"] if name.startswith(("in-", "out-"))], spy
    assert "COURSE_GRADING_SEED" not in spy["env"]
    # A copy of the reference's code runs the blocked code.
    copied = rows["reference_in_a_cell.ipynb", "demo.add"]["fb"]
    assert "0/3 cases passed" in copied and "raised" in copied


def test_one_row_per_learner_and_a_summary_page_are_written(graded):
    root = graded["root"]
    with open(root / "grades_learners.csv", newline="", encoding="utf-8") as handle:
        learners = list(csv.DictReader(handle))
    by_name = {row["learner"]: row for row in learners}
    assert by_name["correct"]["total"] == "3" and by_name["correct"]["max_total"] == "3"
    assert by_name["bob"]["demo.add"] == "2"
    page = (root / "grades_summary" / "summary.md").read_text(encoding="utf-8")
    assert "demo.add" in page and "summary.png" in page
    assert (root / "grades_summary" / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_feedback_is_on_one_line(graded):
    lines = graded["raw"].splitlines()
    assert len(lines) == 1 + len(EXPECTED)
    assert all("\n" not in row["fb"] for row in graded["rows"].values())


def test_a_summary_table_is_printed(graded):
    out = graded["stdout"]
    assert "submission" in out and "score" in out
    assert "correct.ipynb" in out and "3/3" in out
    assert "grades.csv" in out


def test_no_process_is_left_behind(graded):
    assert psutil.Process().children(recursive=True) == []
    daemon = int(graded["pid_file"].read_text())
    if psutil.pid_exists(daemon):
        assert psutil.Process(daemon).status() == psutil.STATUS_ZOMBIE
    left = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(TOKEN_ENV) == graded["token"]:
                left.append((proc, proc.status(), proc.environ().get(MARKER_ENV)))
        except psutil.Error:
            continue
    assert [p for p in left if p[1] != psutil.STATUS_ZOMBIE] == []


def test_an_existing_csv_is_not_replaced_without_force(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    nbformat.write(notebook(ADD, SCALE), tmp_path / "alice.ipynb")
    out = tmp_path / "grades.csv"
    out.write_text("the instructor's own notes\n")
    assert cli.main(["grade", str(tmp_path / "alice.ipynb"), "--out", str(out)]) == 2
    assert out.read_text() == "the instructor's own notes\n"

    assert cli.main(["grade", str(tmp_path / "alice.ipynb"), "--out", str(out), "--force"]) == 0
    assert out.read_text().count(",passed,") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "alice.ipynb",
        "grades.csv",
        "grades_learners.csv",
        "grades_summary",
    ]


def test_regrading_skips_unchanged_submissions_and_force_regrades_all(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(notebook(ADD, SCALE), folder / "alice_demo.ipynb")
    nbformat.write(notebook(ADD), folder / "bob_demo.ipynb")
    out = tmp_path / "grades.csv"
    ran: list[str] = []
    real = batch.run_notebook

    def counting(nb, inputs, limits):
        ran.append(nb.cells[-1].source)
        return real(nb, inputs, limits)

    monkeypatch.setattr(batch, "run_notebook", counting)
    argv = ["grade", str(folder), "--out", str(out), "--timeout", str(TIMEOUT)]
    assert cli.main(argv) == 0 and len(ran) == 2
    first = out.read_text()
    assert cli.main(argv) == 0 and len(ran) == 2  # nothing changed: nothing ran
    assert out.read_text() == first
    nbformat.write(notebook(ADD, SCALE), folder / "bob_demo.ipynb")  # bob hands in scale too
    assert cli.main(argv) == 0 and len(ran) == 3 and ran[-1] == SCALE
    assert out.read_text().count(",passed,") == 4
    assert cli.main([*argv, "--force"]) == 0 and len(ran) == 5


def test_weights_come_from_the_solution_notebook_not_the_submission(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    solution = notebook(SOLUTION, CHECKS)
    solution.metadata["course"]["weights"] = {"demo.scale": 3}
    nbformat.write(solution, solutions / "demo.ipynb")
    submission = notebook(ADD, SCALE)
    submission.metadata["course"]["weights"] = {"demo.add": 100}  # a learner's edit
    nbformat.write(submission, tmp_path / "alice.ipynb")
    rows = batch.grade_submissions(
        [tmp_path / "alice.ipynb"], Limits(timeout=TIMEOUT), solutions=solutions
    )
    assert [(r.exercise, r.score, r.max_score) for r in rows] == [
        ("demo.add", 2.0, 2.0),
        ("demo.scale", 3.0, 3.0),
    ]


def test_parallel_grading_gives_the_rows_of_one_at_a_time(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    partly = "def scale(x, factor):\n    return x * factor if len(x) < 4 else x"
    sources = [(ADD, SCALE), (ADD, partly), ("import os\nos._exit(3)", ADD), (SCALE,)]
    for index, cells in enumerate(sources):
        nbformat.write(notebook(*cells), tmp_path / f"learner{index}_demo.ipynb")

    def table(jobs: int) -> list[tuple]:
        rows = batch.grade_submissions([tmp_path], Limits(timeout=TIMEOUT), seed=5, jobs=jobs)
        return [(r.submission, r.exercise, r.score, r.status) for r in rows]

    assert table(jobs=3) == table(jobs=1)


def test_write_csv_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    out = tmp_path / "grades.csv"
    out.write_text("old\n")
    rows = [batch.Row("a.ipynb", "demo.add", 1.0, 2.0, "failed", "line one\nline two")]

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        batch.write_csv(rows, out, force=True)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_write_csv_never_clobbers_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    out = tmp_path / "grades.csv"
    rows = [batch.Row("a.ipynb", "demo.add", 1.0, 2.0, "failed", "line one\nline two")]
    real_link = os.link

    def racing_link(src, dst):
        Path(dst).write_text("someone else's\n")
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(FileExistsError, match="the grades are in") as error:
        batch.write_csv(rows, out)
    assert out.read_text() == "someone else's\n"
    kept = Path(str(error.value).rsplit(" ", 1)[1])
    assert kept.read_text().splitlines() == [
        "submission,exercise,score,max_score,status,feedback,content_hash,grader_version",
        "a.ipynb,demo.add,1,2,failed,line one | line two,,",
    ]


def test_usage_errors_exit_2(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "g.csv")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path), "--timeout", "0"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["grade"])
    assert exit_info.value.code == 2


def test_the_kernel_gets_only_the_inputs_and_writes_back_what_the_answer_returned(monkeypatch):
    use_demo_exercises(monkeypatch)
    cases = batch.HiddenCases(seed=3)
    inputs = {i: cases(grading.get_exercise(i)) for i in IDS}
    run = run_notebook(notebook(ADD, SCALE, CHECKS), inputs, Limits(timeout=TIMEOUT))
    assert run.problem is None and not run.kernel_died and not run.reran
    assert set(run.answers) == set(IDS)
    for exercise_id in IDS:
        answer = grading.Answer.from_record(run.answers[exercise_id])
        assert answer.kind == "ran" and answer.used == []
        returned = [o.value for o in answer.outcomes]
        for value, case in zip(returned, inputs[exercise_id], strict=True):
            np.testing.assert_allclose(value, case.expected, rtol=1e-6)
    assert 0 < run.peak_rss_mb < MEMORY_MB


def test_which_exercises_a_notebook_answers(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    assert batch.exercise_ids(tmp_path / "x.ipynb", notebook(exercises=["demo.add"])) == [
        "demo.add"
    ]
    bare = notebook(exercises=None)
    assert batch.exercise_ids(tmp_path / "demo.ipynb", bare) == IDS
    assert batch.exercise_ids(tmp_path / "demo" / "alice.ipynb", bare) == IDS
    assert batch.exercise_ids(tmp_path / "alice-demo-v2.ipynb", bare) == IDS
    assert batch.exercise_ids(tmp_path / "alice.ipynb", bare, assignment="demo") == IDS
    assert batch.exercise_ids(tmp_path / "alice.ipynb", bare) == []
    nbformat.write(bare, tmp_path / "alice.ipynb")
    rows = batch.grade_submission(tmp_path / "alice.ipynb")
    assert [(r.exercise, r.status) for r in rows] == [("", "invalid")]
    assert "--assignment" in rows[0].feedback


def test_an_unknown_exercise_id_in_the_metadata_is_reported(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    path = tmp_path / "alice.ipynb"
    nbformat.write(notebook(ADD, exercises=["demo.add", "demo.nope"]), path)
    rows = batch.grade_submission(path, Limits(timeout=TIMEOUT))
    assert [(r.exercise, r.status) for r in rows] == [
        ("demo.add", "passed"),
        ("demo.nope", "invalid"),
    ]
    assert "unknown exercise 'demo.nope'" in rows[1].feedback


def test_a_grader_failure_on_one_submission_does_not_stop_the_batch(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    for name in ("a.ipynb", "b.ipynb"):
        nbformat.write(notebook(ADD, SCALE), tmp_path / name)
    real = batch.run_notebook

    def flaky(nb, inputs, limits):
        if "a.ipynb" in calls:
            return real(nb, inputs, limits)
        calls.append("a.ipynb")
        raise RuntimeError("no kernel for you")

    calls: list[str] = []
    monkeypatch.setattr(batch, "run_notebook", flaky)
    rows = batch.grade_submissions([tmp_path], Limits(timeout=TIMEOUT))
    assert [(Path(r.submission).name, r.status) for r in rows] == [
        ("a.ipynb", "crashed"),
        ("a.ipynb", "crashed"),
        ("b.ipynb", "passed"),
        ("b.ipynb", "passed"),
    ]
    assert "could not run the notebook: RuntimeError: no kernel for you" in rows[0].feedback


def _watched(code: str, memory_mb: float, grace: float):
    """A child in its own group running ``code`` (which prints "ready"), and its watchdog."""
    child = _processes.start_in_new_group(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert child.stdout.readline().strip() == b"ready"
    dog = Watchdog(memory_mb * 2**20, grace)
    dog.attach(child.pid)
    dog.start()
    return child, dog


def test_the_watchdog_interrupts_then_kills_a_process_past_its_deadline():
    code = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True)\ntime.sleep(300)"
    )
    child, dog = _watched(code, memory_mb=4096, grace=0.3)
    try:
        dog.arm(time.monotonic() + 0.2)
        assert child.wait(timeout=30) == -signal.SIGKILL
        assert dog.fired and dog.timeout_killed and not dog.memory_killed
    finally:
        dog.stop()
        _processes.stop([child])
        child.stdout.close()


def test_the_watchdog_kills_a_process_over_the_memory_limit():
    code = "x = b'x' * (160 * 2**20)\nprint('ready', flush=True)\nimport time\ntime.sleep(300)"
    child, dog = _watched(code, memory_mb=64, grace=0.3)
    try:
        assert child.wait(timeout=30) == -signal.SIGKILL
        assert dog.memory_killed and not dog.fired
        assert dog.peak_rss > 64 * 2**20
    finally:
        dog.stop()
        _processes.stop([child])
        child.stdout.close()


def test_an_answer_that_kills_the_kernel_costs_only_its_own_exercise(tmp_path, monkeypatch):
    use_demo_exercises(monkeypatch)
    path = tmp_path / "alice_demo.ipynb"
    nbformat.write(notebook("def add(a, b):\n    import os\n    os._exit(7)", SCALE), path)
    rows = batch.grade_submission(path, Limits(timeout=TIMEOUT), batch.HiddenCases(seed=2))
    add, scale = rows
    assert (add.status, add.score) == ("crashed", 0.0)
    assert "exited with code 7 while grading demo.add" in add.feedback
    # The second run graded the exercise after it.
    assert (scale.status, scale.score) == ("passed", 1.0)
    assert "graded after running the notebook again" in scale.feedback
