"""``check(exercise_id, obj)``: run a learner's answer on hidden cases and explain what is wrong."""

from __future__ import annotations

import dataclasses
import json
import os
import traceback
from typing import Any

import numpy as np

from course_lib.grading.exercise import Case, Exercise, get_exercise

#: When set, every ``check`` appends its result as one JSON line to this file (batch grading).
RESULTS_ENV = "COURSE_GRADING_RESULTS"
#: Seed of the hidden cases; the batch grader sets it per run, learners get a fixed default.
SEED_ENV = "COURSE_GRADING_SEED"

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not_attempted", "error"


class NotAttempted(Exception):
    """Raised inside grading when the learner's object is still the unsolved stub."""


@dataclasses.dataclass
class CheckResult:
    """The outcome of grading one exercise.

    Attributes:
        exercise: the exercise id.
        status: ``"passed"``, ``"failed"``, ``"not_attempted"`` or ``"error"``.
        score: points earned, proportional to the cases passed.
        max_score: points available.
        feedback: the text shown to the learner.
        cases_passed: how many hidden cases passed.
        cases_total: how many hidden cases ran.
    """

    exercise: str
    status: str
    score: float
    max_score: float
    feedback: str
    cases_passed: int = 0
    cases_total: int = 0

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        return self.feedback

    def _ipython_display_(self) -> None:
        # ``check`` already printed the feedback; do not show it twice as the cell's value.
        pass


def _as_array(value: Any) -> np.ndarray | None:
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything NumPy cannot hold is compared otherwise
        return None
    return None if array.dtype == object else array


def _short(array: np.ndarray, limit: int = 6) -> str:
    flat = np.asarray(array).ravel()
    text = np.array2string(
        np.asarray(array) if flat.size <= limit else flat[:limit], precision=4, separator=", "
    )
    return text if flat.size <= limit else text[:-1] + ", ...]"


def compare_values(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6) -> str | None:
    """Compares a learner's value with the reference; ``None`` when they match.

    Numbers, arrays and tensors are compared by shape, then dtype kind (integer vs float vs
    bool), then values within ``rtol``/``atol``; tuples and lists element by element; anything
    else with ``==``. The message names the first difference.
    """
    if isinstance(expected, (tuple, list)) and not isinstance(_as_array(expected), np.ndarray):
        expected_items = list(expected)
        if not isinstance(got, (tuple, list)) or len(got) != len(expected_items):
            return f"expected a sequence of {len(expected_items)} items, got {_describe(got)}"
        for index, (g, e) in enumerate(zip(got, expected_items)):
            message = compare_values(g, e, rtol, atol)
            if message:
                return f"item {index}: {message}"
        return None
    want = _as_array(expected)
    if want is None or want.dtype.kind in "USO":
        return None if got == expected else f"expected {expected!r}, got {got!r}"
    have = _as_array(got)
    if have is None:
        return f"expected an array-like of shape {want.shape}, got {_describe(got)}"
    if have.shape != want.shape:
        return f"expected shape {want.shape}, got shape {have.shape}"
    kinds = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
    if kinds.get(have.dtype.kind) != kinds.get(want.dtype.kind):
        return (
            f"expected {kinds.get(want.dtype.kind, want.dtype)} values ({want.dtype}), "
            f"got {kinds.get(have.dtype.kind, have.dtype)} values ({have.dtype})"
        )
    if want.dtype.kind in "biu":
        bad = have != want
    else:
        with np.errstate(invalid="ignore"):
            bad = ~np.isclose(have, want, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0]) if want.ndim else ()
    at = f" at index {list(where)}" if where else ""
    return (
        f"expected {_short(want)}, got {_short(have)} "
        f"({int(bad.sum())} of {bad.size} values differ; first{at}: "
        f"expected {want[where]!r}, got {have[where]!r})"
    )


def _describe(value: Any) -> str:
    array = _as_array(value)
    if array is not None and array.ndim:
        return f"{type(value).__name__} of shape {array.shape}"
    return f"{type(value).__name__} {value!r}"[:120]


def _learner_frame(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    outside = [f for f in frames if "course_lib" not in f.filename]
    if not outside:
        return ""
    frame = outside[-1]
    return f" (in {frame.name}, line {frame.lineno}: {frame.line})" if frame.line else ""


def grade(exercise: Exercise, obj: Any, seed: int | None = None) -> CheckResult:
    """Grades ``obj`` against ``exercise``'s hidden cases without printing anything."""
    if seed is None:
        seed = int(os.environ.get(SEED_ENV, "0"))
    rng = np.random.default_rng([seed, _stable_hash(exercise.id)])
    cases = list(exercise.make_cases(rng))
    run = exercise.run_case or (lambda o, c: o(*c.args, **c.kwargs))
    compare = exercise.compare or (lambda g, c: compare_values(g, c.expected, c.rtol, c.atol))

    if obj is None or obj is Ellipsis:
        return _not_attempted(exercise, len(cases))
    failures: list[tuple[int, Case, str]] = []
    for index, case in enumerate(cases, start=1):
        try:
            got = run(obj, case)
            message = compare(got, case)
        except (NotImplementedError, NotAttempted):
            return _not_attempted(exercise, len(cases))
        except Exception as error:  # noqa: BLE001 - a learner's error is feedback, not a crash
            message = f"raised {type(error).__name__}: {error}{_learner_frame(error)}"
        if message:
            failures.append((index, case, message))
    passed = len(cases) - len(failures)
    score = exercise.max_score * passed / len(cases) if cases else 0.0
    if not failures:
        feedback = f"✓ {exercise.id}: {passed}/{len(cases)} cases passed"
        return CheckResult(exercise.id, PASSED, score, exercise.max_score, feedback, passed, passed)
    index, case, message = failures[0]
    lines = [
        f"✗ {exercise.id}: {passed}/{len(cases)} cases passed",
        f"  case {index} ({case.description}): {message}",
    ]
    if case.hint:
        lines.append(f"  Hint: {case.hint}")
    if len(failures) > 1:
        lines.append(f"  ({len(failures) - 1} more case(s) failed.)")
    return CheckResult(
        exercise.id, FAILED, score, exercise.max_score, "\n".join(lines), passed, len(cases)
    )


def _not_attempted(exercise: Exercise, total: int) -> CheckResult:
    feedback = (
        f"… {exercise.id}: not attempted yet. Replace `raise NotImplementedError()` in "
        f"`{exercise.target}` with your code, then run this cell again."
    )
    return CheckResult(exercise.id, NOT_ATTEMPTED, 0.0, exercise.max_score, feedback, 0, total)


def _stable_hash(text: str) -> int:
    value = 0
    for char in text.encode():
        value = (value * 131 + char) % (2**31 - 1)
    return value


def check(exercise_id: str, obj: Any) -> CheckResult:
    """Checks a learner's answer and prints specific feedback.

    Args:
        exercise_id: ``"<topic>.<name>"``, as written in the exercise notebook.
        obj: the learner's function, class or value.

    Returns:
        A :class:`CheckResult` (``passed``, ``score``, ``feedback``, ...).

    Raises:
        TypeError: if ``exercise_id`` is not a string.
        KeyError: if the exercise id is unknown.
    """
    exercise = get_exercise(exercise_id)
    result = grade(exercise, obj)
    print(result.feedback, flush=True)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dataclasses.asdict(result)) + "\n")
    return result
