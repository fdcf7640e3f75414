"""The gradebook views: learner ids and table, mistakes, summary page, regrading cache."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import gradebook
from course_lib.grading.cases import mistake_explainer, numeric_compare
from course_lib.grading.check import grade
from course_lib.grading.exercise import Case, Exercise
from course_lib.grading.gradebook import (
    learner_of,
    learner_table,
    mistake_of,
    previous_rows,
    summary_page,
    write_learner_csv,
)

TOPICS = ["tensors_and_gradients", "cnn", "convolution", "mesh_convolution", "transformations"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROTATE_FAILED = (
    "✗ transformations.axis_angle_rotate: 3/5 cases passed\n"
    "  case 2 (axis=[0. 0. 1.], angle=0.3): expected [0.955 0.296 0.], got [0.5 0.2 0.] "
    "(2 of 3 values differ; first at index [0]: expected 0.955, got 0.5) "
    "(the angle is in degrees, not radians)\n"
    "  (1 more case(s) failed.)"
)
SIGN_FAILED = (
    "✗ transformations.quaternion_multiply: 4/5 cases passed\n"
    "  case 3 (q1=[0. 0. 0. 1.], q2=[1. 0. 0. 0.]): expected [1. 0. 0. 0.], got [-1. 0. 0. 0.] "
    "(1 of 4 values differ; first at index [0]: expected 1, got -1)\n"
    "  It looks like the sign is flipped.\n"
    "  (1 more case(s) failed.)"
)
COUNT_ONLY = (
    "✗ transformations.axis_angle_rotate: 4/5 cases passed\n"
    "  case 1 (axis=[1. 0. 0.], angle=1.2): expected [1. 2.], got [1. 3.] "
    "(1 of 2 values differ; first at index [1]: expected 2, got 3)"
)


@dataclasses.dataclass
class FakeRow:
    submission: str
    exercise: str
    score: float
    max_score: float
    status: str
    feedback: str = ""


# --- learner_of -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submission", "learner"),
    [
        ("subs/alice_tensors_and_gradients.ipynb", "alice"),
        ("bob-cnn.ipynb", "bob"),
        ("subs/alice/tensors_and_gradients.ipynb", "alice"),
        ("subs/carol.smith - cnn.ipynb", "carol.smith"),
        ("cnn_dave_v2.ipynb", "dave_v2"),
        ("subs/erin_CNN.ipynb", "erin"),  # topic names match whatever their case
        ("subs/frank_mesh_convolution.ipynb", "frank"),  # longest topic first
        ("subs/vincnnt_cnn.ipynb", "vincnnt"),  # only whole parts are topics
        ("subs/grace_cnn/cnn.ipynb", "grace"),  # the folder, without its topic
        ("subs/heidi/cnn/cnn.ipynb", "heidi"),  # folders that are just a topic are skipped
        ("cnn.ipynb", "cnn"),  # nothing else: the full stem
        ("subs/ivan.ipynb", "ivan"),
    ],
)
def test_learner_of(submission: str, learner: str) -> None:
    assert learner_of(submission, TOPICS) == learner


def test_learner_of_without_topics_is_the_stem() -> None:
    assert learner_of("subs/alice_cnn.ipynb", []) == "alice_cnn"
    assert learner_of("subs/alice_cnn.ipynb", iter(["cnn"])) == "alice"  # any iterable


# --- learner_table / write_learner_csv --------------------------------------------------------


def _table_rows() -> list[FakeRow]:
    return [
        FakeRow("subs/alice_cnn.ipynb", "cnn.a", 1.0, 2.0, "failed"),
        FakeRow("subs/alice_cnn.ipynb", "cnn.b", 3.0, 3.0, "passed"),
        FakeRow("subs/alice_cnn_v2.ipynb", "cnn.a", 2.0, 2.0, "passed"),  # "alice_v2": another
        FakeRow("late/alice-cnn.ipynb", "cnn.a", 2.0, 2.0, "passed"),  # a second submission
        FakeRow("late/alice-cnn.ipynb", "cnn.b", 0.5, 3.0, "failed"),
        FakeRow("subs/bob/cnn.ipynb", "cnn.a", 0.0, 2.0, "not_attempted"),
        FakeRow("subs/bob/transformations.ipynb", "transformations.rotate", 1 / 3, 1.0, "failed"),
        FakeRow("subs/carol_cnn.ipynb", "", 0.0, 0.0, "invalid", "not a notebook"),
    ]


def test_learner_table_keeps_the_best_and_leaves_missing_exercises_empty() -> None:
    header, table = learner_table(_table_rows(), TOPICS)
    assert header == ["learner", "total", "max_total", "cnn.a", "cnn.b", "transformations.rotate"]
    by_learner = {line[0]: line for line in table}
    assert [line[0] for line in table] == sorted(by_learner)
    assert by_learner["alice"] == ["alice", "5", "5", "2", "3", ""]  # best of two submissions
    assert by_learner["alice_v2"] == ["alice_v2", "2", "2", "2", "", ""]
    assert by_learner["bob"] == ["bob", "0.3333", "3", "0", "", "0.3333"]  # 0 is not empty
    assert by_learner["carol"] == ["carol", "0", "0", "", "", ""]  # invalid: listed, no scores


def test_learner_table_takes_batch_rows() -> None:
    from course_lib.grading.batch import Row

    rows = [Row("subs/alice_cnn.ipynb", "cnn.a", 1.5, 2.0, "failed", "✗ ...")]
    assert learner_table(rows, TOPICS) == (
        ["learner", "total", "max_total", "cnn.a"],
        [["alice", "1.5", "2", "1.5"]],
    )


def test_gradebook_does_not_import_batch() -> None:
    code = (
        "import sys, course_lib.grading.gradebook; print('course_lib.grading.batch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_learner_table_empty() -> None:
    assert learner_table([], TOPICS) == (["learner", "total", "max_total"], [])


def test_write_learner_csv_is_atomic_and_replaces(tmp_path: Path) -> None:
    out = tmp_path / "lms" / "learners.csv"
    out.parent.mkdir()
    out.write_text("old contents\n")
    assert write_learner_csv(_table_rows(), TOPICS, out) == out
    with out.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines == [
        list(learner_table(_table_rows(), TOPICS)[0]),
        *learner_table(_table_rows(), TOPICS)[1],
    ]
    assert sorted(p.name for p in out.parent.iterdir()) == ["learners.csv"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_write_learner_csv_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "learners.csv"
    out.write_text("old contents\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gradebook.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_learner_csv(_table_rows(), TOPICS, out)
    assert out.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["learners.csv"]


# --- mistake_of -------------------------------------------------------------------------------


def test_mistake_of_explanation_in_the_case_line() -> None:
    assert mistake_of(ROTATE_FAILED) == "the angle is in degrees, not radians"


def test_mistake_of_it_looks_like_line() -> None:
    assert mistake_of(SIGN_FAILED) == "the sign is flipped"


def test_mistake_of_one_line_feedback() -> None:
    one_line = " | ".join(line.strip() for line in ROTATE_FAILED.splitlines())
    assert mistake_of(one_line) == "the angle is in degrees, not radians"
    one_line = " | ".join(line.strip() for line in SIGN_FAILED.splitlines())
    assert mistake_of(one_line) == "the sign is flipped"


@pytest.mark.parametrize(
    "feedback",
    [
        "",
        "✓ transformations.axis_angle_rotate: 5/5 cases passed",
        COUNT_ONLY,  # only compare_values' count: no explanation
        "✗ cnn.conv: 0/3 cases passed | case 1 (x of shape (2, 3)): expected shape (2, 3) "
        "(float32), got shape (3, 2) (float32)",
        "✗ cnn.conv: 0/3 cases passed | case 1 (x=1): expected dtype float32 (float values), "
        "got dtype int64 (integer values)",
        "✗ cnn.conv: 0/3 cases passed | case 1 (x=1): raised ValueError: bad input "
        "(expected a tensor) (in conv, line 3: raise ValueError('bad input'))",
        "… cnn.conv: not attempted yet. Replace `raise NotImplementedError()` in `conv` with "
        "your code, then run this cell again.",
        "the kernel died (memory) before the grader could grade it",
    ],
)
def test_mistake_of_none(feedback: str) -> None:
    assert mistake_of(feedback) is None


def test_mistake_of_explanations_with_parentheses() -> None:
    nested = ROTATE_FAILED.replace(
        "(the angle is in degrees, not radians)",
        "(only the first layer counts: add every layer's mean (a `return` inside the loop?))",
    )
    assert mistake_of(nested) == (
        "only the first layer counts: add every layer's mean (a `return` inside the loop?)"
    )
    unbalanced = ROTATE_FAILED.replace(
        "(the angle is in degrees, not radians)",
        "(u is missing the 0.5 offset: atan2 is in (-pi, pi], u in [0, 1])",
    )
    assert (
        mistake_of(unbalanced) == "u is missing the 0.5 offset: atan2 is in (-pi, pi], u in [0, 1]"
    )


def test_mistake_of_batch_notes_are_not_mistakes() -> None:
    recorded = (
        f"{COUNT_ONLY} (result of the notebook's own check() call: the kernel died before the "
        "grader could grade it)"
    )
    assert mistake_of(recorded) is None
    then = f"the notebook ran past the 60 s limit. Then: {ROTATE_FAILED}"
    assert mistake_of(then) == "the angle is in degrees, not radians"


def test_mistake_of_real_grader_feedback() -> None:
    def cases(rng: np.random.Generator) -> list[Case]:
        return [
            Case(f"angle={a:g}", args=(np.float64(a),), expected=np.array([np.cos(a), np.sin(a)]))
            for a in (0.3, 1.1)
        ]

    def in_degrees(angle: np.ndarray) -> np.ndarray:
        radians = np.deg2rad(angle)
        return np.stack([np.cos(radians), np.sin(radians)])

    explained = Exercise(
        "demo.direction",
        "direction",
        cases,
        compare=numeric_compare(mistake_explainer({"the angle is in degrees": in_degrees})),
    )
    wrong = grade(explained, lambda a: in_degrees(np.asarray(a)))
    assert mistake_of(wrong.feedback) == "the angle is in degrees"
    plain = Exercise("demo.direction", "direction", cases)
    flipped = grade(plain, lambda a: -np.array([np.cos(a), np.sin(a)]))
    assert mistake_of(flipped.feedback) == "the sign is flipped"


# --- summary_page -----------------------------------------------------------------------------


def _summary_rows() -> list[FakeRow]:
    one_line = " | ".join(line.strip() for line in ROTATE_FAILED.splitlines())
    rotate = "transformations.axis_angle_rotate"
    multiply = "transformations.quaternion_multiply"
    return [
        FakeRow("subs/alice_transformations.ipynb", rotate, 3.0, 5.0, "failed", one_line),
        FakeRow("subs/alice_transformations.ipynb", multiply, 4.0, 5.0, "failed", SIGN_FAILED),
        FakeRow("subs/bob/transformations.ipynb", rotate, 5.0, 5.0, "passed", "✓ ..."),
        FakeRow("subs/bob/transformations.ipynb", multiply, 4.0, 5.0, "failed", SIGN_FAILED),
        FakeRow("subs/carol-transformations.ipynb", rotate, 3.0, 5.0, "failed", ROTATE_FAILED),
        FakeRow("subs/carol-transformations.ipynb", multiply, 0.0, 5.0, "timeout", "ran past"),
        FakeRow("subs/dave-transformations.ipynb", rotate, 1.0, 5.0, "failed", COUNT_ONLY),
        FakeRow("subs/dave-transformations.ipynb", multiply, 0.0, 5.0, "not_attempted", "…"),
        FakeRow("subs/erin.txt", "", 0.0, 0.0, "invalid", "not a notebook"),
    ]


def test_summary_page(tmp_path: Path) -> None:
    rows = _summary_rows()
    md_path, png_path = summary_page(rows, tmp_path / "report", title="Week 3")
    assert (md_path, png_path) == (tmp_path / "report/summary.md", tmp_path / "report/summary.png")
    markdown = md_path.read_text(encoding="utf-8")
    assert markdown.startswith("# Week 3\n")
    assert "Submissions: 5" in markdown
    assert "Learners: 5" in markdown
    for exercise in ("transformations.axis_angle_rotate", "transformations.quaternion_multiply"):
        scores = [r.score for r in rows if r.exercise == exercise]
        mean = f"{round(sum(scores) / len(scores), 4):g}"
        assert f"| {mean} / 5 |" in markdown, (exercise, mean)
    assert "| `transformations.axis_angle_rotate` | 4 | 3 / 5 | 25% | 1 | 3 |" in markdown
    mistakes = markdown.split("## Most common mistakes", 1)[1]
    assert "- 2 × the angle is in degrees, not radians" in mistakes
    assert "- 2 × the sign is flipped" in mistakes
    assert "![score distribution](summary.png)" in markdown
    assert "`timeout`" in markdown and "`passed`: every hidden case passed" in markdown

    data = png_path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 2_000 < len(data) < 500_000
    from PIL import Image

    with Image.open(png_path) as image:
        image.verify()
    with Image.open(png_path) as image:
        width, height = image.size
    assert 600 <= width <= 2000 and 300 <= height <= 4000
    assert sorted(p.name for p in md_path.parent.iterdir()) == ["summary.md", "summary.png"]


def test_summary_page_with_no_rows_and_learner_topics(tmp_path: Path) -> None:
    md_path, png_path = summary_page([], tmp_path)
    assert "No submissions." in md_path.read_text(encoding="utf-8")
    assert png_path.read_bytes().startswith(PNG_SIGNATURE)
    rows = [FakeRow("subs/alice_week3.ipynb", "cnn.a", 1.0, 1.0, "passed")]
    md_path, _ = summary_page(rows, tmp_path, topics=["week3"])
    assert "Learners: 1" in md_path.read_text(encoding="utf-8")


def test_summary_page_keeps_the_callers_matplotlib_backend(tmp_path: Path) -> None:
    import matplotlib

    before = matplotlib.get_backend()
    summary_page(_summary_rows(), tmp_path)
    assert matplotlib.get_backend() == before


# --- Regrading cache --------------------------------------------------------------------------


def test_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.ipynb"
    path.write_bytes(b"abc")
    assert gradebook.content_hash(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    big = tmp_path / "big.ipynb"
    big.write_bytes(b"x" * (3 << 20) + b"y")  # read in chunks
    assert gradebook.content_hash(big) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_source_hash_changes_with_any_source(tmp_path: Path) -> None:
    grading = Path(gradebook.__file__).parent
    copy = tmp_path / "grading"
    shutil.copytree(grading, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = gradebook.source_hash(copy)
    assert len(first) == 16 and int(first, 16) >= 0
    assert gradebook.source_hash(copy) == first
    assert gradebook.source_hash(grading) == first  # bytes and names, not the location
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (copy / "notes.txt").write_text("not a source")
    assert gradebook.source_hash(copy) == first

    exercise = copy / "exercises" / "transformations.py"
    original = exercise.read_bytes()
    exercise.write_bytes(original + b"\n# a change\n")
    assert gradebook.source_hash(copy) != first
    exercise.write_bytes(original)
    assert gradebook.source_hash(copy) == first
    exercise.rename(copy / "exercises" / "renamed.py")
    assert gradebook.source_hash(copy) != first
    assert gradebook.source_hash(grading, extra="seed=2") != first


def test_grader_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_EXERCISE_MODULES", raising=False)
    version = gradebook.grader_version()
    assert len(version) == 16 and version == gradebook.grader_version()
    assert gradebook.grader_version("seed=2") != version
    import course_lib

    monkeypatch.setattr(course_lib, "__version__", "999.0")
    assert gradebook.grader_version() != version
    monkeypatch.undo()
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "no_such_module_for_gradebook")
    assert gradebook.grader_version() != version


def _long_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


LONG_HEADER = [*gradebook.LONG_COLUMNS, *gradebook.CACHE_COLUMNS]


def test_previous_rows_groups_by_submission_hash_and_version(tmp_path: Path) -> None:
    path = _long_csv(
        tmp_path / "grades.csv",
        LONG_HEADER,
        [
            ["subs/a.ipynb", "cnn.a", "1", "2", "failed", "✗ x | case 1 (y): z", "h1", "v1"],
            ["subs/a.ipynb", "cnn.b", "3", "3", "passed", "✓", "h1", "v1"],
            ["subs/b.ipynb", "cnn.a", "2", "2", "passed", "✓", "h2", "v1"],
            ["subs/c.ipynb", "cnn.a", "0", "2", "error", "?", "", ""],  # no hash: left out
        ],
    )
    grouped = previous_rows(path)
    assert set(grouped) == {("subs/a.ipynb", "h1", "v1"), ("subs/b.ipynb", "h2", "v1")}
    first = grouped[("subs/a.ipynb", "h1", "v1")]
    assert [r["exercise"] for r in first] == ["cnn.a", "cnn.b"]
    assert first[0] == dict(
        zip(
            LONG_HEADER,
            ["subs/a.ipynb", "cnn.a", "1", "2", "failed", "✗ x | case 1 (y): z", "h1", "v1"],
            strict=True,
        )
    )


def test_previous_rows_bad_input_gives_nothing(tmp_path: Path) -> None:
    assert previous_rows(tmp_path / "missing.csv") == {}
    assert previous_rows(tmp_path) == {}  # a folder
    old = _long_csv(
        tmp_path / "old.csv",
        list(gradebook.LONG_COLUMNS),
        [["subs/a.ipynb", "cnn.a", "1", "2", "failed", "..."]],
    )
    assert previous_rows(old) == {}
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 8 + b'\xff\xfe\x00\n\x00"')
    assert previous_rows(garbage) == {}
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert previous_rows(empty) == {}
    short = _long_csv(tmp_path / "short.csv", LONG_HEADER, [["subs/a.ipynb", "cnn.a", "1"]])
    assert previous_rows(short) == {}
    not_a_number = _long_csv(
        tmp_path / "nan.csv",
        LONG_HEADER,
        [["subs/a.ipynb", "cnn.a", "x", "2", "failed", "", "h", "v"]],
    )
    assert previous_rows(not_a_number) == {}
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text(",".join(LONG_HEADER) + '\nsubs/a.ipynb,cnn.a,1,2,failed,"never closed')
    assert previous_rows(unclosed) == {}
