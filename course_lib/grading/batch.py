"""Batch grading: a folder of submitted notebooks into a gradebook CSV (``course grade``).

Each notebook runs in its own kernel process (see :mod:`course_lib.grading.sandbox`), in a fresh
temporary folder, with a wall-time and a memory limit; a failing cell does not stop later cells.
Then the grader grades every exercise of the notebook on the kernel's namespace: the object named
``exercise.target`` goes through :func:`course_lib.grading.grade`. Only these objects count, so a
correct notebook gets full marks whatever other cells the learner added, moved or deleted.

Which exercises a notebook answers: its metadata ``course.exercises``; else the exercises of the
topic in its metadata ``course.topic``, of ``assignment`` when given, of the topic equal to the
file name (``tensors_and_gradients.ipynb``), to its folder's name, or contained in the file name
(``alice_tensors_and_gradients.ipynb``), in that order.

One CSV row per submission and exercise, columns ``submission,exercise,score,max_score,status,
feedback``. Statuses:

- ``passed``: every hidden case passed.
- ``failed``: some hidden cases failed; the score is proportional to the cases passed.
- ``not_attempted``: the answer is still the stub (``raise NotImplementedError()``).
- ``error``: the answer's name is not defined in the notebook, is not usable (e.g. not a
  function), or grading it failed.
- ``timeout``: the notebook ran past ``--timeout`` before the answer was defined, or grading the
  answer ran past ``--grade-timeout`` (an endless loop).
- ``memory``: the notebook went over ``--memory-mb`` (it is stopped) or raised ``MemoryError``.
- ``crashed``: the kernel died (``os._exit``, a segfault, ...).
- ``empty``: the notebook has no code.
- ``invalid``: not a notebook (not JSON, not nbformat, not ``.ipynb``), or it names no known
  exercise.

When the kernel dies (timeout, memory, crash) before the grader could grade an exercise, the
result the notebook's own ``grading.check(...)`` call recorded for it is used, and the feedback
says so. The batch always finishes: no submission can stop the others from being graded.

Grading runs inside the learner's own kernel, so it guards against mistakes and accidents, not
against a determined cheat (who could, say, replace ``grade`` from a cell): read surprising rows.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat

from course_lib.grading.check import ANSWER_STATUSES, STATUS_MEANINGS, Status
from course_lib.grading.exercise import Exercise, get_exercise, list_exercises, list_topics
from course_lib.grading.sandbox import KernelRun, Limits, run_notebook

COLUMNS = ("submission", "exercise", "score", "max_score", "status", "feedback")
STATUSES = {str(status): meaning for status, meaning in STATUS_MEANINGS.items()}
#: Larger files are not read at all (reported ``invalid``).
MAX_NOTEBOOK_BYTES = 200 * 2**20
#: The default seed of the hidden cases in batch grading; learners' ``check`` uses 0, so
#: answers hard-coded to the cases feedback showed them do not pass.
DEFAULT_SEED = 1


@dataclasses.dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str
    score: float
    max_score: float
    status: str
    feedback: str

    def as_csv(self) -> list[str]:
        return [
            self.submission,
            self.exercise,
            _number(self.score),
            _number(self.max_score),
            self.status,
            one_line(self.feedback),
        ]


def _number(value: float) -> str:
    return f"{round(float(value), 4):g}"


def one_line(text: str) -> str:
    """Feedback on one line: its non-blank lines joined with `` | ``."""
    return " | ".join(line.strip() for line in str(text).splitlines() if line.strip())


def collect(paths: Iterable[str | Path]) -> list[Path]:
    """The submissions named by ``paths``: files as given, folders' ``*.ipynb`` recursively.

    Hidden files and folders (``.ipynb_checkpoints``) are skipped inside folders; a file named
    explicitly is kept whatever its extension (it is reported ``invalid`` if not a notebook).

    Raises:
        FileNotFoundError: if a path does not exist.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*.ipynb")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Reads a submission as an nbformat-4 notebook.

    Raises:
        ValueError: if it is not a notebook (the message says why).
    """
    if path.suffix != ".ipynb":
        raise ValueError(f"not a notebook (a {path.suffix or 'extension-less'} file)")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - whatever it is, it is not a readable notebook
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"not a readable notebook: {reason[:200]}") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw") for c in cells
    ):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    for cell in cells:
        cell.setdefault("metadata", {})
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
    return nb


def exercise_ids(path: Path, nb: nbformat.NotebookNode | None, assignment: str = "") -> list[str]:
    """The exercise ids a submission answers (see the module docstring); [] when unknown."""
    course = nb.get("metadata", {}).get("course", {}) if nb is not None else {}
    course = course if isinstance(course, dict) else {}
    listed = course.get("exercises")
    if isinstance(listed, list) and listed:
        return [str(i) for i in listed]
    stem = path.stem
    contained = sorted((t for t in list_topics() if t in stem), key=len, reverse=True)
    for topic in [course.get("topic"), assignment, stem, path.parent.name, *contained]:
        if isinstance(topic, str) and topic and list_exercises(topic):
            return list_exercises(topic)
    return []


def grade_submission(
    path: Path, limits: Limits | None = None, seed: int = DEFAULT_SEED, assignment: str = ""
) -> list[Row]:
    """Grades one submitted file; always returns at least one row."""
    limits = limits or Limits()
    name = str(path)
    try:
        nb: nbformat.NotebookNode | None = read_notebook(path)
        problem = ""
    except (ValueError, OSError) as error:
        nb, problem = None, str(error)
    ids = exercise_ids(path, nb, assignment)
    if not ids:
        why = problem or (
            "no exercises: the notebook has no metadata course.exercises and its name matches "
            f"no topic (known: {', '.join(list_topics()) or 'none'}); pass --assignment TOPIC"
        )
        return [Row(name, "", 0.0, 0.0, "invalid", why)]
    exercises: dict[str, Exercise] = {}
    rows: dict[str, Row] = {}
    for exercise_id in ids:
        try:
            exercises[exercise_id] = get_exercise(exercise_id)
        except (KeyError, TypeError) as error:
            rows[exercise_id] = Row(name, exercise_id, 0.0, 0.0, "invalid", str(error).strip("\"'"))
    if problem:
        for exercise_id, exercise in exercises.items():
            rows[exercise_id] = Row(name, exercise_id, 0.0, exercise.max_score, "invalid", problem)
    elif not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        for exercise_id, exercise in exercises.items():
            feedback = "the notebook has no code"
            rows[exercise_id] = Row(name, exercise_id, 0.0, exercise.max_score, "empty", feedback)
    elif exercises:
        try:
            run = run_notebook(nb, list(exercises), limits, seed)
        except Exception as error:  # noqa: BLE001 - one submission never stops the batch
            run = KernelRun(problem="crashed", kernel_died=True)
            run.detail = f"the grader could not run the notebook: {type(error).__name__}: {error}"
        for exercise_id, exercise in exercises.items():
            rows[exercise_id] = _row(name, exercise, run, limits)
    return [rows[i] for i in ids]


def _row(name: str, exercise: Exercise, run: KernelRun, limits: Limits) -> Row:
    graded = run.graded.get(exercise.id)
    target = exercise.target
    if exercise.id in run.grading_timeouts:
        feedback = (
            f"grading `{target}` ran past the {limits.grade_timeout:g} s limit and was stopped "
            f"(an endless loop in `{target}`?)"
        )
        return Row(name, exercise.id, 0.0, exercise.max_score, "timeout", feedback)
    if graded is not None:
        status, feedback = _status(graded), str(graded.get("feedback", ""))
        score = _score(graded, exercise)
        if graded.get("missing") and "NotImplementedError" in run.error_names:
            status = "not_attempted"
            feedback = (
                f"not attempted yet (`{target}` is not defined; a cell raised NotImplementedError)"
            )
        if run.problem and status != "passed":
            status, feedback = run.problem, f"{run.detail}. Then: {feedback}"
        elif run.problem:
            feedback = f"{feedback} (note: {run.detail})"
        return Row(name, exercise.id, score, exercise.max_score, status, feedback)
    recorded = run.recorded.get(exercise.id)
    if run.kernel_died and recorded is not None:
        feedback = (
            f"{recorded.get('feedback', '')} (result of the notebook's own check() call: "
            f"{run.detail} before the grader could grade it)"
        )
        status, score = _status(recorded), _score(recorded, exercise)
        return Row(name, exercise.id, score, exercise.max_score, status, feedback)
    if run.kernel_died:
        status = run.problem or "crashed"
        return Row(name, exercise.id, 0.0, exercise.max_score, status, run.detail)
    return Row(name, exercise.id, 0.0, exercise.max_score, "error", "the grader got no result")


def _status(result: dict) -> str:
    status = str(result.get("status", "error"))
    return status if status in ANSWER_STATUSES else str(Status.ERROR)


def _score(result: dict, exercise: Exercise) -> float:
    try:
        return min(max(float(result.get("score", 0.0)), 0.0), exercise.max_score)
    except (TypeError, ValueError):
        return 0.0


def grade_submissions(
    paths: Iterable[str | Path],
    limits: Limits | None = None,
    seed: int = DEFAULT_SEED,
    assignment: str = "",
    progress: Callable[[int, int, Path, list[Row]], None] | None = None,
) -> list[Row]:
    """Grades every submission under ``paths`` (see :func:`collect`), one after the other.

    Args:
        paths: notebook files and folders.
        limits: time and memory limits per submission.
        seed: seed of the hidden cases (the same for every submission).
        assignment: topic for notebooks that do not say which exercises they answer.
        progress: called after each submission with (number, total, path, its rows).

    Raises:
        FileNotFoundError: if a path does not exist.
    """
    submissions = collect(paths)
    rows: list[Row] = []
    for number, path in enumerate(submissions, start=1):
        graded = grade_submission(path, limits, seed, assignment)
        rows.extend(graded)
        if progress is not None:
            progress(number, len(submissions), path, graded)
    return rows


def write_csv(rows: Iterable[Row], out: str | Path, force: bool = False) -> Path:
    """Writes the gradebook atomically: a temporary file in the same folder, then renamed.

    Without ``force`` an existing file is never replaced (also not one that appears while the
    file is written: the rename is a hard link, which fails if the name is taken).

    Raises:
        FileExistsError: if ``out`` exists and ``force`` is false (the message names the
            temporary file holding the grades when it was already written).
    """
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists already: pass --force to replace it, or another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(row.as_csv() for row in rows)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    kept = f"{out} appeared while grading and was left alone; the grades are in {temporary}"
    try:
        if force:
            os.replace(temporary, out)
            return out
        try:
            os.link(temporary, out)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if out.exists():
                raise FileExistsError(kept) from None
            os.replace(temporary, out)
            return out
        os.unlink(temporary)
    except FileExistsError:
        raise FileExistsError(kept) from None  # the grades stay in the temporary file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def summary(rows: Iterable[Row]) -> str:
    """A short table: each submission's total score and its statuses."""
    table: dict[str, list[Row]] = {}
    for row in rows:
        table.setdefault(row.submission, []).append(row)
    lines = []
    for submission, its_rows in table.items():
        score = sum(r.score for r in its_rows)
        total = sum(r.max_score for r in its_rows)
        counts: dict[str, int] = {}
        for r in its_rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        statuses = ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in counts.items())
        lines.append((submission, f"{_number(score)}/{_number(total)}", statuses))
    width = max([len("submission")] + [len(s) for s, _, _ in lines])
    out = [f"{'submission':<{width}}  {'score':>9}  status", "-" * (width + 20)]
    out += [f"{s:<{width}}  {score:>9}  {statuses}" for s, score, statuses in lines]
    return "\n".join(out)
