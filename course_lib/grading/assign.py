"""Exercise notebooks generated from solution notebooks (``course assign``), and ``course start``.

In every code cell of ``solutions/<name>.ipynb`` the lines from ``### BEGIN SOLUTION`` to
``### END SOLUTION`` (markers included) become ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the marker's indentation; such cells get the tag
``raises-exception``. Outputs and execution counts are cleared (except in unchanged cells marked
``# NBVAL_CHECK_OUTPUT``, whose stored output nbval compares). Notebook metadata is kept, except:

- ``course.exercises`` is written from the solution's ``check("<topic>.<name>", ...)`` calls
  (:func:`exercise_ids_of`). The solution's own ``course.exercises`` must list the same ids in the
  same order, or ``course assign`` (and ``--check``) fails, so the two can never drift.
- ``course.weights`` (``{exercise_id: positive number}``, 1 for unlisted exercises) is validated
  and left out of the exercise: weights are read from the instructor's solutions folder
  (:func:`solution_weights`), never from a learner's notebook, whose metadata anyone can edit.

Nothing anyone wrote is lost: ``exercises/.assign-manifest.json`` records the sha256 of every
notebook generated, and an exercise notebook whose content differs from what was generated last
(or that was never generated) is not overwritten without ``--force``.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import re
import shutil
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
STUB_TAG = "raises-exception"
CHECKED = "NBVAL_CHECK_OUTPUT"
MANIFEST = ".assign-manifest.json"
# Lenient on purpose: a marker written slightly differently must not leak a solution.
_MARKER = re.compile(r"^(?P<indent>[ \t]*)#+[ \t]*(?P<kind>BEGIN|END)[ \t]+SOLUTION\b")


class AssignError(ValueError):
    """A solution notebook cannot be turned into an exercise (unbalanced markers, ...)."""


class AssignConflict(RuntimeError):
    """Exercise notebooks were edited since they were generated; nothing was written.

    Attributes:
        files: the exercise notebooks that would have been overwritten or removed.
    """

    def __init__(self, message: str, files: list[Path]) -> None:
        super().__init__(message)
        self.files = files


def strip_source(source: str) -> tuple[str, bool]:
    """Replaces each solution region of a cell's source by the stub.

    Returns:
        The new source and whether it had a solution region.

    Raises:
        AssignError: for an END without BEGIN, a BEGIN inside a region, or a BEGIN without END
            (the message names the line).
    """
    out: list[str] = []
    inside_from = 0
    found = False
    for number, line in enumerate(source.split("\n"), start=1):
        marker = _MARKER.match(line)
        if marker is None:
            if not inside_from:
                out.append(line)
            continue
        indent, kind = marker["indent"], marker["kind"]
        if kind == "BEGIN":
            if inside_from:
                raise AssignError(
                    f"line {number}: {BEGIN} inside the region opened on line {inside_from} "
                    "(regions cannot nest)"
                )
            inside_from = number
            found = True
            out.extend(indent + text for text in STUB)
        else:
            if not inside_from:
                raise AssignError(f"line {number}: {END} without a {BEGIN} before it")
            inside_from = 0
    if inside_from:
        raise AssignError(f"line {inside_from}: {BEGIN} is never closed by {END}")
    return "\n".join(out), found


def _code(source: object) -> str:
    """A cell's source as one string, without IPython magics and shell escapes."""
    text = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in text.split("\n")
    )


def _check_calls(source: str) -> list[str]:
    """The first arguments of the ``check("...", ...)`` calls in one cell, in source order."""
    try:
        tree = ast.parse(_code(source))
    except (SyntaxError, ValueError, RecursionError):  # ValueError: a null byte
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        callee = node.func
        named = (isinstance(callee, ast.Name) and callee.id == "check") or (
            isinstance(callee, ast.Attribute) and callee.attr == "check"
        )
        first = node.args[0]
        if named and isinstance(first, ast.Constant) and isinstance(first.value, str):
            calls.append((node.lineno, node.col_offset, first.value))
    return [exercise_id for *_, exercise_id in sorted(calls)]


def exercise_ids_of(nb: nbformat.NotebookNode) -> list[str]:
    """The exercise ids a notebook checks: the string first arguments of its ``check`` calls.

    A call counts when the callee is the name ``check`` or an attribute ``.check``
    (``grading.check("topic.name", answer)``) and its first argument is a string literal. Each code
    cell is parsed with :mod:`ast` after dropping the lines that start with ``%`` or ``!``
    (IPython magics, shell escapes); a cell that still does not parse is skipped.

    Returns:
        The ids in order of first appearance, without duplicates.
    """
    ids: dict[str, None] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            ids.update(dict.fromkeys(_check_calls(cell.get("source", ""))))
    return list(ids)


def _course(nb: nbformat.NotebookNode, name: str) -> dict:
    course = nb.get("metadata", {}).get("course", {})
    if not isinstance(course, dict):
        raise AssignError(f"{name}: metadata course must be a mapping, not {course!r}")
    return course


def _listed_exercises(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """The notebook's own metadata ``course.exercises`` ([] when absent)."""
    listed = _course(nb, name).get("exercises", [])
    if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
        raise AssignError(
            f"{name}: metadata course.exercises must be a list of exercise ids, not {listed!r}"
        )
    return listed


def validate_exercises(nb: nbformat.NotebookNode, name: str = "") -> list[str]:
    """The notebook's exercise ids, after checking that its metadata lists exactly those.

    Returns:
        :func:`exercise_ids_of` ``(nb)``.

    Raises:
        AssignError: naming ``name`` and the difference (ids missing from or extra in metadata
            ``course.exercises``, or the same ids in another order) when the metadata's list is
            not the list of ids the ``check(...)`` calls use.
    """
    ids, listed = exercise_ids_of(nb), _listed_exercises(nb, name)
    if listed == ids:
        return ids
    missing = [i for i in ids if i not in listed]
    extra = [i for i in listed if i not in ids]
    problems = []
    if missing:
        problems.append(f"missing (checked but not listed): {', '.join(missing)}")
    if extra:
        problems.append(f"extra (listed but never checked): {', '.join(extra)}")
    if not problems:
        repeated = sorted({i for i in listed if listed.count(i) > 1})
        problems.append(
            f"listed more than once: {', '.join(repeated)}"
            if repeated
            else "the same ids in another order (list them in the order of the check() calls)"
        )
    raise AssignError(
        f"{name}: metadata course.exercises {listed} differs from the ids of its check() calls "
        f"{ids}: {'; '.join(problems)}"
    )


def weights_of(nb: nbformat.NotebookNode, name: str = "") -> dict[str, float]:
    """Every exercise's weight, from metadata ``course.weights`` (1 for unlisted exercises).

    Args:
        nb: a solution notebook (a learner's copy is not to be trusted for weights).
        name: how error messages name the notebook.

    Returns:
        ``{exercise_id: weight}`` for every id of :func:`exercise_ids_of`, in that order.

    Raises:
        AssignError: naming ``name`` and the entry when ``course.weights`` is not a mapping, names
            an id that is not one of the notebook's exercises, or gives a weight that is not a
            positive finite number.
    """
    ids = exercise_ids_of(nb)
    weights = _course(nb, name).get("weights", {})
    if not isinstance(weights, dict):
        raise AssignError(
            f"{name}: metadata course.weights must map exercise ids to numbers, not {weights!r}"
        )
    for exercise_id, weight in weights.items():
        if exercise_id not in ids:
            raise AssignError(
                f"{name}: metadata course.weights names {exercise_id!r}, which is not one of its "
                f"exercises ({', '.join(ids) or 'none'})"
            )
        number = isinstance(weight, (int, float)) and not isinstance(weight, bool)
        if not number or not math.isfinite(weight) or weight <= 0:
            raise AssignError(
                f"{name}: metadata course.weights[{exercise_id!r}] must be a positive number, "
                f"not {weight!r}"
            )
    return {exercise_id: float(weights.get(exercise_id, 1)) for exercise_id in ids}


def _read_solution(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable notebook is reported
        raise AssignError(f"{path}: not a readable notebook ({error})") from None


def solution_weights(solutions_dir: Path, topic: str) -> dict[str, float]:
    """The exercise weights of ``solutions_dir/<topic>.ipynb``: what batch grading should use.

    Read from the instructor's solution notebook, never from a submission (a learner can edit
    its metadata).

    Returns:
        ``{exercise_id: weight}`` for every exercise the solution checks (see :func:`weights_of`);
        an empty dict when there is no such solution notebook (or ``topic`` is not a plain file
        name), so callers use weight 1 for ids it lacks.

    Raises:
        AssignError: if the notebook is unreadable, its ``course.exercises`` differs from its
            ``check(...)`` calls, or its ``course.weights`` is invalid.
    """
    topic = str(topic).removesuffix(".ipynb")
    path = Path(solutions_dir) / f"{topic}.ipynb"
    if not topic or Path(topic).name != topic or topic.startswith(".") or not path.is_file():
        return {}
    nb = _read_solution(path)
    validate_exercises(nb, str(path))
    return weights_of(nb, str(path))


def make_exercise(solution: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook (the argument is not modified).

    Its metadata ``course.exercises`` is written from the ``check(...)`` calls, and
    ``course.weights`` is left out (see the module docstring).

    Raises:
        AssignError: naming ``name`` and the cell when a cell's markers are unbalanced or a
            marker appears outside a code cell; naming ``name`` when metadata
            ``course.exercises`` differs from the ``check(...)`` calls or ``course.weights`` is
            invalid.
    """
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells):
        where = f"{name}: cell {index}" + (f" (id {cell['id']})" if cell.get("id") else "")
        if cell.cell_type != "code":
            if any(_MARKER.match(line) for line in cell.source.split("\n")):
                raise AssignError(f"{where}: solution markers are only allowed in code cells")
            continue
        try:
            cell.source, stubbed = strip_source(cell.source)
        except AssignError as error:
            raise AssignError(f"{where}: {error}") from None
        if stubbed:
            tags = list(cell.metadata.get("tags", []))
            if STUB_TAG not in tags:
                tags.append(STUB_TAG)
            cell.metadata["tags"] = tags
        if stubbed or CHECKED not in cell.source:
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    ids = validate_exercises(solution, name)
    weights_of(solution, name)
    if "course" in nb.metadata:  # without it, validate_exercises found no check() calls
        nb.metadata["course"]["exercises"] = ids
        nb.metadata["course"].pop("weights", None)
    if (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        for index, cell in enumerate(nb.cells):
            if not cell.get("id"):
                cell["id"] = hashlib.sha256(f"{name}:{index}".encode()).hexdigest()[:8]
    return nb


def render(nb: nbformat.NotebookNode) -> bytes:
    """The notebook as stored: nbformat's JSON, UTF-8, with a trailing newline."""
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _solutions(solutions_dir: Path) -> list[Path]:
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"no solutions folder at {solutions_dir}")
    found = sorted(solutions_dir.glob("*.ipynb"))
    if not found:  # most likely the wrong folder: generating nothing would remove every exercise
        raise FileNotFoundError(f"no solution notebooks (*.ipynb) in {solutions_dir}")
    return found


def generate(solutions_dir: Path) -> dict[str, bytes]:
    """The exercise notebooks for every ``solutions_dir/*.ipynb``: file name -> content.

    Raises:
        FileNotFoundError: if ``solutions_dir`` does not exist or holds no notebook.
        AssignError: if a solution notebook is unreadable, its markers are unbalanced, its
            ``course.exercises`` differs from its ``check(...)`` calls or its ``course.weights``
            is invalid.
    """
    generated = {}
    for path in _solutions(Path(solutions_dir)):
        solution = _read_solution(path)
        generated[path.name] = render(make_exercise(solution, str(path)))
    return generated


def read_manifest(exercises_dir: Path) -> dict[str, str]:
    """File name -> sha256 of the exercise notebooks ``course assign`` wrote last."""
    path = Path(exercises_dir) / MANIFEST
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("files", {}))


def _manifest_bytes(files: dict[str, str]) -> bytes:
    data = {"generated_by": "course assign", "files": dict(sorted(files.items()))}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def stale_files(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Exercise notebooks that are out of date with ``solutions_dir``.

    That is: missing, different from what ``course assign`` would write now, or generated
    earlier from a solution notebook that no longer exists.

    Raises:
        FileNotFoundError: if ``solutions_dir`` does not exist or holds no notebook.
        AssignError: if a solution notebook cannot be turned into an exercise.
    """
    exercises_dir = Path(exercises_dir)
    generated = generate(Path(solutions_dir))
    stale = [
        exercises_dir / name
        for name, data in generated.items()
        if not (exercises_dir / name).exists() or (exercises_dir / name).read_bytes() != data
    ]
    orphans = [
        exercises_dir / name
        for name in read_manifest(exercises_dir)
        if name not in generated and (exercises_dir / name).exists()
    ]
    return sorted(stale + orphans)


def assign(solutions_dir: Path, exercises_dir: Path, force: bool = False) -> dict[str, list[Path]]:
    """Writes ``exercises_dir/<name>.ipynb`` for every ``solutions_dir/<name>.ipynb``.

    Exercise notebooks generated earlier from a solution that is gone are removed. Without
    ``force``, nothing is written when an exercise notebook that would be replaced or removed
    differs from what was generated last, or exists without having been generated.

    Returns:
        ``{"written": [...], "unchanged": [...], "removed": [...]}``.

    Raises:
        FileNotFoundError: if ``solutions_dir`` does not exist or holds no notebook.
        AssignError: if a solution notebook cannot be turned into an exercise.
        AssignConflict: if edited exercise notebooks would be overwritten (nothing written).
    """
    exercises_dir = Path(exercises_dir)
    generated = generate(Path(solutions_dir))
    manifest = read_manifest(exercises_dir)
    written, unchanged, removed, conflicts = [], [], [], []
    for name, data in generated.items():
        path = exercises_dir / name
        current = path.read_bytes() if path.exists() else None
        if current == data:
            unchanged.append(path)
            continue
        if current is not None and _sha256(current) != manifest.get(name):
            reason = "edited since it was generated" if name in manifest else "not generated"
            conflicts.append((path, reason))
        written.append(path)
    for name, digest in manifest.items():
        path = exercises_dir / name
        if name in generated or not path.exists():
            continue
        if _sha256(path.read_bytes()) != digest:
            conflicts.append((path, "edited since it was generated; its solution is gone"))
        removed.append(path)
    if conflicts and not force:
        lines = "\n".join(f"  {path} ({reason})" for path, reason in conflicts)
        stem = conflicts[0][0].stem
        raise AssignConflict(
            "course assign: refusing to overwrite exercise notebooks that were not generated "
            f"from the current solutions, or were edited since (nothing was written):\n{lines}\n"
            f"Learners: work on a personal copy instead, e.g. `course start {stem}`.\n"
            "Instructors: make the change in solutions/, then run `course assign --force` "
            "to regenerate (this discards the edits above).",
            [path for path, _ in conflicts],
        )
    exercises_dir.mkdir(parents=True, exist_ok=True)
    for path in written:
        _write_atomic(path, generated[path.name])
    for path in removed:
        path.unlink()
    files = {name: _sha256(data) for name, data in generated.items()}
    manifest_path = exercises_dir / MANIFEST
    if not manifest_path.exists() or manifest_path.read_bytes() != _manifest_bytes(files):
        _write_atomic(manifest_path, _manifest_bytes(files))
    return {"written": written, "unchanged": unchanged, "removed": removed}


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def available(exercises_dir: Path) -> list[str]:
    """Names of the exercise notebooks in ``exercises_dir`` (without ``.ipynb``)."""
    return sorted(p.stem for p in Path(exercises_dir).glob("*.ipynb"))


def start(name: str, exercises_dir: Path, work_dir: Path) -> Path:
    """Copies ``exercises_dir/<name>.ipynb`` to ``work_dir/<name>.ipynb`` for a learner.

    Returns:
        The new copy.

    Raises:
        LookupError: if there is no such exercise notebook (the message lists them).
        FileExistsError: if the copy exists already (it is left untouched).
    """
    name = name.removesuffix(".ipynb")
    source = Path(exercises_dir) / f"{name}.ipynb"
    if not name or Path(name).name != name or not source.is_file():
        names = ", ".join(available(exercises_dir)) or "none"
        raise LookupError(f"no exercise notebook {name!r} in {exercises_dir}/; available: {names}")
    target = Path(work_dir) / source.name
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as reader, target.open("xb") as writer:
            shutil.copyfileobj(reader, writer)
    except FileExistsError:
        raise FileExistsError(
            f"{target} exists already: it is your copy, open it to continue (it was not "
            f"changed), or start afresh in another folder with --dir"
        ) from None
    return target
