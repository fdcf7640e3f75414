"""Batch grading: a folder of submitted notebooks into a gradebook (``course grade``).

Each notebook runs in its own kernel process (see :mod:`course_lib.grading.sandbox`), in a fresh
temporary folder, with a wall-time and a memory limit, ``jobs`` notebooks at a time; a failing
cell does not stop later cells. The hidden cases are drawn here, once per run, from a secret
seed (:class:`HiddenCases`); the kernel only receives their inputs, runs the object named
``exercise.target`` on them and returns what it gave, which is judged here
(:func:`course_lib.grading.check.judge`). Only these objects count, so a correct notebook gets
full marks whatever other cells the learner added, moved or deleted, and nothing a notebook does
to ``course_lib`` in its kernel can raise its score.

Which exercises a notebook answers: its metadata ``course.exercises``; else the exercises of the
topic in its metadata ``course.topic``, of ``assignment`` when given, of the topic equal to the
file name (``tensors_and_gradients.ipynb``), to its folder's name, or contained in the file name
(``alice_tensors_and_gradients.ipynb``), in that order. Their weights come from the instructor's
solution notebooks (:class:`SolutionWeights`), never from the submission.

One CSV row per submission and exercise, columns :data:`COLUMNS`; statuses as
:data:`STATUSES` says (``course grade --help``). The batch always finishes: no submission can
stop the others from being graded. When the kernel dies in a cell, the answers defined before it
are graded in a second run without it (see :mod:`~course_lib.grading.sandbox`).
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat

from course_lib.grading import assign, gradebook, sandbox
from course_lib.grading.check import (
    ERROR,
    STATUS_MEANINGS,
    Answer,
    CheckResult,
    draw_cases,
    judge,
)
from course_lib.grading.exercise import Case, Exercise, get_exercise, list_exercises, list_topics
from course_lib.grading.sandbox import KernelRun, Limits, run_notebook

COLUMNS = (
    "submission",
    "exercise",
    "score",
    "max_score",
    "status",
    "feedback",
    *gradebook.CACHE_COLUMNS,
)
STATUSES = {str(status): meaning for status, meaning in STATUS_MEANINGS.items()}
#: Larger files are not read at all (reported ``invalid``).
MAX_NOTEBOOK_BYTES = 200 * 2**20


@dataclasses.dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str
    score: float
    max_score: float
    status: str
    feedback: str
    content_hash: str = ""
    grader_version: str = ""

    def as_csv(self) -> list[str]:
        return [
            self.submission,
            self.exercise,
            _number(self.score),
            _number(self.max_score),
            self.status,
            one_line(self.feedback),
            self.content_hash,
            self.grader_version,
        ]

    @classmethod
    def from_csv(cls, record: dict[str, str]) -> Row:
        """A row read back from the CSV (:func:`course_lib.grading.gradebook.previous_rows`)."""
        return cls(
            record["submission"],
            record["exercise"],
            float(record["score"]),
            float(record["max_score"]),
            record["status"],
            record["feedback"],
            record["content_hash"],
            record["grader_version"],
        )


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


class HiddenCases:
    """The hidden cases of a batch, drawn once per exercise in the grader's process from one
    secret seed (:func:`secrets.randbits` unless a seed is given, for tests)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = secrets.randbits(63) if seed is None else seed
        self._cases: dict[str, list[Case]] = {}
        self._lock = threading.Lock()  # submissions graded in parallel share the cases

    def __call__(self, exercise: Exercise) -> list[Case]:
        with self._lock:
            if exercise.id not in self._cases:
                self._cases[exercise.id] = draw_cases(exercise, self.seed)
            return self._cases[exercise.id]


class SolutionWeights:
    """Exercise weights from the instructor's solution notebooks (``course.weights``, see
    :func:`course_lib.grading.assign.solution_weights`), never from a submission; weight 1
    for every exercise when there is no solutions folder or no entry.

    Raises (on first use of an invalid notebook):
        course_lib.grading.assign.AssignError: if a solution notebook's weights are invalid.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self._weights: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, exercise_id: str) -> float:
        topic = exercise_id.split(".", 1)[0]
        if self.folder is None:
            return 1.0
        with self._lock:
            if topic not in self._weights:
                self._weights[topic] = assign.solution_weights(self.folder, topic)
        return float(self._weights[topic].get(exercise_id, 1.0))

    def fingerprint(self) -> str:
        """Every solution notebook's weights, as text (for the grader version)."""
        if self.folder is None or not self.folder.is_dir():
            return ""
        topics = sorted(p.stem for p in self.folder.glob("*.ipynb"))
        weights = {topic: assign.solution_weights(self.folder, topic) for topic in topics}
        return json.dumps(weights, sort_keys=True)


def grade_submission(
    path: Path,
    limits: Limits | None = None,
    cases: HiddenCases | None = None,
    assignment: str = "",
    weights: Callable[[str], float] | None = None,
) -> list[Row]:
    """Grades one submitted file; always returns at least one row.

    Args:
        path: the notebook.
        limits: its time and memory limits.
        cases: the batch's hidden cases (a new secret seed when None).
        assignment: topic for a notebook that does not say which exercises it answers.
        weights: each exercise's weight (its score and max score are multiplied by it;
            1 when None).
    """
    limits = limits or Limits()
    cases = cases or HiddenCases()
    rows = _grade_submission(path, limits, cases, assignment)
    for row in rows:
        weight = weights(row.exercise) if weights is not None and row.exercise else 1.0
        row.score, row.max_score = row.score * weight, row.max_score * weight
    return rows


#: Held for the grader's own work on a submission (reading it, importing exercise modules,
#: drawing and judging cases), so that parallel submissions never import TensorFlow from two
#: threads at once; only the kernels run in parallel.
_GRADER_LOCK = threading.RLock()


def _grade_submission(path: Path, limits: Limits, cases: HiddenCases, assignment: str) -> list[Row]:
    with _GRADER_LOCK:
        rows, nb, exercises, inputs = _prepare(path, cases, assignment)
    if inputs:
        try:
            run = run_notebook(nb, inputs, limits)
        except Exception as error:  # noqa: BLE001 - one submission never stops the batch
            run = KernelRun(problem="crashed", kernel_died=True)
            run.detail = f"the grader could not run the notebook: {type(error).__name__}: {error}"
        with _GRADER_LOCK:
            for exercise_id, exercise in exercises.items():
                rows[exercise_id] = _row(str(path), exercise, inputs[exercise_id], run, limits)
    return list(rows.values())


_Prepared = tuple[
    dict[str, Row], nbformat.NotebookNode | None, dict[str, Exercise], dict[str, list[Case]]
]


def _prepare(path: Path, cases: HiddenCases, assignment: str) -> _Prepared:
    """What can be said before the notebook runs: ``(rows, nb, exercises, inputs)``, with a row
    for every exercise (in order) that needs no run, and the hidden cases of the others."""
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
        return {"": Row(name, "", 0.0, 0.0, "invalid", why)}, nb, {}, {}
    exercises: dict[str, Exercise] = {}
    rows: dict[str, Row | None] = dict.fromkeys(ids)
    for exercise_id in ids:
        try:
            exercises[exercise_id] = get_exercise(exercise_id)
        except (KeyError, TypeError) as error:
            rows[exercise_id] = Row(name, exercise_id, 0.0, 0.0, "invalid", str(error).strip("\"'"))
    if problem or not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        status, why = ("invalid", problem) if problem else ("empty", "the notebook has no code")
        for exercise_id, exercise in exercises.items():
            rows[exercise_id] = Row(name, exercise_id, 0.0, exercise.max_score, status, why)
        return rows, nb, {}, {}
    return rows, nb, exercises, {i: cases(e) for i, e in exercises.items()}


def _row(name: str, exercise: Exercise, cases: list[Case], run: KernelRun, limits: Limits) -> Row:
    target = exercise.target
    if exercise.id in run.grading_timeouts:
        feedback = (
            f"grading `{target}` ran past the {limits.grade_timeout:g} s limit and was stopped "
            f"(an endless loop in `{target}`?)"
        )
        return Row(name, exercise.id, 0.0, exercise.max_score, "timeout", feedback)
    answer = run.answers.get(exercise.id)
    if answer is None:
        status = (run.problem or "crashed") if run.kernel_died else "error"
        detail = run.detail if run.kernel_died else "the grader got no result"
        return Row(name, exercise.id, 0.0, exercise.max_score, status, detail)
    result = _judged(exercise, cases, answer)
    status, feedback, score = str(result.status), result.feedback, result.score
    if isinstance(answer, dict) and answer.get("missing"):
        feedback = f"`{target}` is not defined"
        if "NotImplementedError" in run.error_names:
            status = "not_attempted"
            feedback = f"not attempted yet ({feedback}; a cell raised NotImplementedError)"
    if run.problem and status != "passed":
        status, feedback = run.problem, f"{run.detail}. Then: {feedback}"
    elif run.problem:
        rerun = f"; {run.reran}" if run.reran else ""
        feedback = f"{feedback} (note: {run.detail}{rerun})"
    return Row(name, exercise.id, score, exercise.max_score, status, feedback)


def _judged(exercise: Exercise, cases: list[Case], answer: dict | str) -> CheckResult:
    """The grader's verdict on what the kernel wrote back (an error result when unusable)."""
    if isinstance(answer, dict) and answer.get("missing"):
        return CheckResult(exercise.id, ERROR, 0.0, exercise.max_score, "missing")
    try:
        if isinstance(answer, str):
            raise ValueError(answer)
        return judge(exercise, Answer.from_record(answer), cases)
    except Exception as error:  # noqa: BLE001 - a kernel's garbage is that submission's error
        feedback = f"✗ {exercise.id}: {error}"
        return CheckResult(exercise.id, ERROR, 0.0, exercise.max_score, feedback, 0, len(cases))


def grade_submissions(
    paths: Iterable[str | Path],
    limits: Limits | None = None,
    seed: int | None = None,
    assignment: str = "",
    progress: Callable[[int, int, Path, list[Row]], None] | None = None,
    *,
    jobs: int = 1,
    solutions: str | Path | None = None,
    previous: dict[tuple[str, str, str], list[dict[str, str]]] | None = None,
) -> list[Row]:
    """Grades every submission under ``paths`` (see :func:`collect`), ``jobs`` at a time.

    Args:
        paths: notebook files and folders.
        limits: time and memory limits per submission.
        seed: seed of the hidden cases, the same for every submission (a secret one when
            None: what learners saw in ``check()``'s feedback cannot be hard-coded).
        assignment: topic for notebooks that do not say which exercises they answer.
        progress: called after each submission with (how many are done, total, path, its
            rows), in the order they finish.
        jobs: submissions graded at once, each in its own kernel.
        solutions: the instructor's solutions folder, for the exercise weights.
        previous: rows of an earlier run (:func:`course_lib.grading.gradebook.previous_rows`):
            a submission whose content and grader version are unchanged keeps its rows.

    Returns:
        The rows, submission by submission in the order of :func:`collect`.

    Raises:
        FileNotFoundError: if a path does not exist.
        course_lib.grading.assign.AssignError: if a solution notebook's weights are invalid.
    """
    submissions = collect(paths)
    sandbox.STOPPING.clear()
    sandbox.kernel_spec_dir()  # made once, before the threads
    limits = limits or Limits()
    cases, weights = HiddenCases(seed), SolutionWeights(solutions)
    version = gradebook.grader_version(_settings_text(limits, seed, assignment, weights))
    previous = previous or {}

    def one(path: Path) -> list[Row]:
        try:
            digest = gradebook.content_hash(path)
        except OSError:
            digest = ""
        kept = previous.get((str(path), digest, version)) if digest else None
        if kept:
            return [Row.from_csv(record) for record in kept]
        rows = grade_submission(path, limits, cases, assignment, weights)
        for row in rows:
            row.content_hash, row.grader_version = digest, version
        return rows

    graded: dict[Path, list[Row]] = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs), "course-grade") as pool:
        futures = {pool.submit(one, path): path for path in submissions}
        try:
            for future in concurrent.futures.as_completed(futures):
                path = futures[future]
                graded[path] = future.result()
                if progress is not None:
                    progress(len(graded), len(submissions), path, graded[path])
        except BaseException:  # Ctrl-C: stop the kernels under way, grade nothing more
            pool.shutdown(wait=False, cancel_futures=True)
            sandbox.stop_all()
            raise
    return [row for path in submissions for row in graded[path]]


def _settings_text(
    limits: Limits, seed: int | None, assignment: str, weights: SolutionWeights
) -> str:
    """The settings that can change a grade, for the grader version (a secret seed is not one:
    the same answer passes on any seed's cases)."""
    seed_text = "secret" if seed is None else str(seed)
    return (
        f"limits={dataclasses.astuple(limits)};seed={seed_text};assignment={assignment};"
        f"weights={weights.fingerprint()}"
    )


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
