"""``check(exercise_id, obj)``: run a learner's answer on hidden cases and explain what is wrong."""

from __future__ import annotations

import collections
import dataclasses
import enum
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from course_lib.grading.exercise import Case, Exercise, get_exercise
from course_lib.grading.reference import watching

#: Seed of the hidden cases ``check`` draws (0 when unset). The batch grader draws its own
#: from a secret seed in its own process.
SEED_ENV = "COURSE_GRADING_SEED"


class Status(enum.StrEnum):
    """Every status a graded answer can get, in ``check``'s results and ``course grade``'s CSV.

    ``check`` gives the first five (:data:`ANSWER_STATUSES`); the batch grader adds what can
    happen to a whole notebook run.
    """

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"
    ERROR = "error"
    USES_REFERENCE = "uses_reference"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    EMPTY = "empty"
    INVALID = "invalid"


#: What each status means, as ``course grade --help`` and the docs say it.
STATUS_MEANINGS = {
    Status.PASSED: "every hidden case passed",
    Status.FAILED: "some hidden cases failed (score proportional to the cases passed)",
    Status.NOT_ATTEMPTED: "the answer is still the stub (raise NotImplementedError())",
    Status.ERROR: "the answer is not defined or not usable, or grading it failed",
    Status.USES_REFERENCE: "the answer calls course_lib's reference implementation (score 0)",
    Status.TIMEOUT: "the notebook (or grading the answer) ran past the time limit",
    Status.MEMORY: "the notebook went over the memory limit or raised MemoryError",
    Status.CRASHED: "the kernel died (os._exit, a segfault, ...)",
    Status.EMPTY: "the notebook has no code",
    Status.INVALID: "not a notebook (not JSON/nbformat/.ipynb) or no known exercise",
}
#: The statuses ``check`` itself gives an answer.
ANSWER_STATUSES = frozenset(
    {Status.PASSED, Status.FAILED, Status.NOT_ATTEMPTED, Status.ERROR, Status.USES_REFERENCE}
)
PASSED, FAILED, NOT_ATTEMPTED, ERROR = (
    Status.PASSED,
    Status.FAILED,
    Status.NOT_ATTEMPTED,
    Status.ERROR,
)
USES_REFERENCE = Status.USES_REFERENCE

#: ``check`` adds an exercise's hint (its formula, sometimes code) to the feedback once the
#: learner has failed it this many times in the session; the batch grader never does.
HINT_AFTER_FAILURES = 2
_failures: collections.Counter[str] = collections.Counter()
#: Set in a kernel that ``course grade`` runs (:func:`course_lib.grading.inkernel.prepare`):
#: ``check`` then does nothing, since the exercises' references are blocked there.
in_batch_kernel = False


class NotAttempted(Exception):
    """Raised inside grading when the learner's object is still the unsolved stub."""


@dataclasses.dataclass
class CheckResult:
    """The outcome of grading one exercise.

    Attributes:
        exercise: the exercise id.
        status: one of :data:`ANSWER_STATUSES` (a :class:`Status`, equal to its string).
        score: points earned, proportional to the cases passed.
        max_score: points available.
        feedback: the text shown to the learner.
        cases_passed: how many hidden cases passed.
        cases_total: how many hidden cases ran.
        hint: the hint for the first failing case (the formula or code), shown in the feedback
            only when grading was asked to (see :func:`grade`); empty when there is none.
    """

    exercise: str
    status: str
    score: float
    max_score: float
    feedback: str
    cases_passed: int = 0
    cases_total: int = 0
    hint: str = ""

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
        try:
            value = value.numpy()  # tf.Tensor, tf.Variable
        except Exception:  # noqa: BLE001 - a symbolic tensor has no value
            return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything NumPy cannot hold is compared otherwise
        return None
    return None if array.dtype == object else array


def _short(array: np.ndarray, limit: int = 6) -> str:
    """The array on one line; only its first ``limit`` values (flattened) when it is larger."""
    flat = np.asarray(array).ravel()
    text = np.array2string(
        np.asarray(array) if flat.size <= limit else flat[:limit],
        precision=4,
        separator=", ",
        max_line_width=10**6,
    )
    text = " ".join(text.split())
    return text if flat.size <= limit else text[:-1] + ", ...]"


def _scalar(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}


def numeric_array(value: Any) -> np.ndarray | None:
    """A learner's numeric or boolean result (tensor, array, number, nested list) as an array of
    its own dtype; ``None`` when it is neither (strings, objects, ragged lists)."""
    array = _as_array(value)
    return array if array is not None and array.dtype.kind in "biuf" else None


def float_array(value: Any) -> np.ndarray | None:
    """A learner's numeric result (tensor, array, number, nested list) as a float64 array.

    ``None`` when it is not numeric (strings, objects, ragged lists): exercises then let
    :func:`compare_values` explain what was returned.
    """
    array = numeric_array(value)
    return None if array is None else array.astype(np.float64)


def matches(have: np.ndarray | None, want: Any, rtol: float, atol: float) -> bool:
    """True when ``have`` (from :func:`float_array`) has ``want``'s shape and values.

    Values are compared within ``rtol``/``atol``; NaN matches NaN, so that a reference's NaN is
    not held against the learner.
    """
    if have is None:
        return False
    want = np.asarray(want, dtype=np.float64)
    with np.errstate(all="ignore"):
        return have.shape == want.shape and bool(
            np.allclose(have, want, rtol, atol, equal_nan=True)
        )


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
        for index, (g, e) in enumerate(zip(got, expected_items, strict=True)):
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
        return (
            f"expected shape {want.shape} ({want.dtype}), got shape {have.shape} ({have.dtype})"
            + (f": expected {_short(want)}, got {_short(have)}" if want.size == have.size else "")
        )
    if _KINDS.get(have.dtype.kind) != _KINDS.get(want.dtype.kind):
        return (
            f"expected dtype {want.dtype} ({_KINDS.get(want.dtype.kind, want.dtype)} values), "
            f"got dtype {have.dtype} ({_KINDS.get(have.dtype.kind, have.dtype)} values)"
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
        f"expected {_scalar(want[where])}, got {_scalar(have[where])})"
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


def auto_hint(got: Any, expected: Any) -> str:
    """A guess at a common mistake from how ``got`` differs from ``expected`` ("" if none)."""
    if got is None and expected is not None:
        return "your code returned None (is a `return` statement missing?)"
    want, have = _as_array(expected), _as_array(got)
    if (
        want is None
        or have is None
        or want.dtype.kind not in "biufc"
        or have.dtype.kind not in "biufc"
    ):
        return ""
    if have.shape != want.shape:
        if want.ndim >= 2 and have.shape == want.shape[::-1]:
            return "the axes are swapped (a missing transpose, or matmul arguments swapped?)"
        if np.squeeze(have).shape == np.squeeze(want).shape:
            return "an axis of size 1 is extra or missing (tf.squeeze, tf.expand_dims, keepdims?)"
        if have.size == want.size:
            return "the values have the wrong shape (check a reshape)"
        if have.ndim < want.ndim:
            return "an axis was reduced away (check the axis of a sum or mean, or keepdims)"
        return ""
    if _KINDS.get(have.dtype.kind) != _KINDS.get(want.dtype.kind):
        return f"the dtype is wrong (convert it, e.g. tf.cast(x, tf.{want.dtype.name}))"
    if want.dtype.kind not in "fc" or not want.size:
        return ""
    with np.errstate(all="ignore"):
        have, want = have.astype(np.float64), want.astype(np.float64)
        if np.all(np.isfinite(want)) and not np.all(np.isfinite(have)):
            return "NaN or infinite values appear (a division by zero, or a log/sqrt of x <= 0?)"
        if np.allclose(have, -want, rtol=1e-5, atol=1e-6):
            return "the sign is flipped"
        if want.ndim == 2 and want.shape[0] == want.shape[1] and np.allclose(have, want.T):
            return "the result is transposed"
        nonzero = np.abs(want) > 1e-6
        if nonzero.sum() >= 2:
            ratio = have[nonzero] / want[nonzero]
            if np.allclose(ratio, ratio.flat[0], rtol=1e-4) and not np.isclose(ratio.flat[0], 0):
                return f"the result is off by a constant factor of about {ratio.flat[0]:.4g}"
        if want.size >= 2:
            offset = have - want
            if np.allclose(offset, offset.flat[0], rtol=1e-4, atol=1e-6):
                return f"the result is off by a constant of about {offset.flat[0]:+.4g}"
            if np.allclose(np.sort(have, axis=None), np.sort(want, axis=None)):
                return "the right values are in the wrong order"
    return ""


@dataclasses.dataclass
class Outcome:
    """What an answer did on one hidden case: returned ``value``, or raised (``error``)."""

    value: Any = None
    error: str = ""


@dataclasses.dataclass
class Answer:
    """What a learner's object did on an exercise's cases, before anything is compared.

    In batch grading it is made in the learner's kernel (:func:`run_answer`) and judged in the
    grader's process (:func:`judge`), which alone knows the expected values.

    Attributes:
        kind: ``"ran"``; ``"not_attempted"`` (the stub, ``None`` or ``...``);
            ``"not_callable"`` (``what`` says what the object is instead).
        outcomes: one :class:`Outcome` per case, in order (fewer when it stopped early).
        used: the references the answer called (:attr:`Exercise.references`), by name.
        what: the object's description for ``"not_callable"``.
    """

    kind: str
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)
    used: list[str] = dataclasses.field(default_factory=list)
    what: str = ""

    @classmethod
    def from_record(cls, record: dict) -> Answer:
        """The answer a kernel wrote back (``inkernel.answer_into``), checked field by field.

        Raises:
            ValueError: if the record is not such an answer.
        """
        kind, outcomes = record.get("kind"), record.get("outcomes", [])
        if kind not in ("ran", "not_attempted", "not_callable") or not isinstance(outcomes, list):
            raise ValueError("the kernel's answer is not a record of the answer's results")
        answer = cls(str(kind), what=str(record.get("what", ""))[:300])
        for item in outcomes:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError("the kernel's answer holds a malformed result")
            answer.outcomes.append(Outcome(item[0], str(item[1] or "")[:2000]))
        used = record.get("used", [])
        answer.used = [str(name)[:200] for name in used] if isinstance(used, list) else []
        return answer


def draw_cases(exercise: Exercise, seed: int | None = None) -> list[Case]:
    """The exercise's hidden cases for ``seed`` (``COURSE_GRADING_SEED``, else 0, when None)."""
    if seed is None:
        seed = int(os.environ.get(SEED_ENV, "0"))
    rng = np.random.default_rng([seed, _stable_hash(exercise.id)])
    return list(exercise.make_cases(rng))


def run_answer(
    exercise: Exercise,
    obj: Any,
    cases: Sequence[Case],
    watch: Iterable[Callable] | None = None,
) -> Answer:
    """Runs ``obj`` on each case (``exercise.run_case``, else ``obj(*args, **kwargs)``).

    Only the cases' ``args`` and ``kwargs`` are used. Calls of ``watch`` (default: the
    exercise's references) are recorded in ``used``. A learner's exception (``SystemExit``
    included) becomes that case's error; ``NotImplementedError`` anywhere means "not attempted";
    ``KeyboardInterrupt`` propagates (the batch grader interrupts code past its time limit).
    """
    watch = exercise.references if watch is None else tuple(watch)
    if obj is None or obj is Ellipsis:
        return Answer("not_attempted")
    if exercise.run_case is None and not callable(obj):
        return Answer("not_callable", what=_describe(obj))
    run = exercise.run_case or (lambda o, c: o(*c.args, **c.kwargs))
    answer = Answer("ran")
    for case in cases:
        try:
            with watching(watch) as calls:
                try:
                    answer.outcomes.append(Outcome(run(obj, case)))
                finally:
                    answer.used.extend(calls)
        except (NotImplementedError, NotAttempted):
            return dataclasses.replace(answer, kind="not_attempted", outcomes=[])
        except (Exception, SystemExit) as error:  # noqa: BLE001 - a learner's error is feedback
            text = f"raised {type(error).__name__}: {error}{_learner_frame(error)}"
            answer.outcomes.append(Outcome(error=text))
    return answer


def judge(
    exercise: Exercise, answer: Answer, cases: Sequence[Case], hint: bool = False
) -> CheckResult:
    """Compares an :class:`Answer` with the cases' expected values: the result and feedback.

    The feedback of a failure names the first failing case, what was expected and what came
    back, and which mistake it looks like; ``hint=True`` adds the exercise's hint (the formula
    or code that solves it), which ``check`` gives only after repeated failures.
    """
    total = len(cases)
    if answer.kind == "not_attempted":
        return _not_attempted(exercise, total)
    if answer.kind != "ran":
        feedback = (
            f"✗ {exercise.id}: `{exercise.target}` should be a function, but it is {answer.what}"
        )
        return CheckResult(exercise.id, ERROR, 0.0, exercise.max_score, feedback, 0, total)
    if answer.used:
        return _uses_reference(exercise, answer.used, total)
    compare = exercise.compare or (lambda g, c: compare_values(g, c.expected, c.rtol, c.atol))
    failures: list[tuple[int, Case, str, str]] = []
    for index, case in enumerate(cases, start=1):
        outcome = answer.outcomes[index - 1] if index <= len(answer.outcomes) else None
        message, guess = _compare_one(exercise, compare, outcome, case)
        if message:
            failures.append((index, case, message, guess))
    passed = total - len(failures)
    score = exercise.max_score * passed / total if total else 0.0
    if not failures:
        feedback = f"✓ {exercise.id}: {passed}/{total} cases passed"
        return CheckResult(exercise.id, PASSED, score, exercise.max_score, feedback, passed, passed)
    index, case, message, guess = failures[0]
    lines = [
        f"✗ {exercise.id}: {passed}/{total} cases passed",
        f"  case {index} ({case.description}): {message}",
    ]
    if guess:
        lines.append(f"  It looks like {guess}.")
    if hint and (case.hint or exercise.hint):
        lines.append(f"  Hint: {case.hint or exercise.hint}")
    if len(failures) > 1:
        lines.append(f"  ({len(failures) - 1} more case(s) failed.)")
    return CheckResult(
        exercise.id,
        FAILED,
        score,
        exercise.max_score,
        "\n".join(lines),
        passed,
        total,
        hint=case.hint or exercise.hint,
    )


def _compare_one(
    exercise: Exercise,
    compare: Callable[[Any, Case], str | None],
    outcome: Outcome | None,
    case: Case,
) -> tuple[str, str]:
    """``(message, guess)`` for one case: ``("", "")`` when the outcome matches."""
    if outcome is None:
        return "no result came back for this case", ""
    if outcome.error:
        return outcome.error, ""
    try:
        message = compare(outcome.value, case)
    except (NotImplementedError, NotAttempted):
        return "the result could not be checked (it raised NotImplementedError)", ""
    except Exception as error:  # noqa: BLE001 - an unexpected result is the learner's to fix
        return (
            f"returned {_describe(outcome.value)}, which could not be checked "
            f"({type(error).__name__}: {error})"
        ), ""
    if not message:
        return "", ""
    guess = auto_hint(outcome.value, case.expected) if exercise.compare is None else ""
    return message, guess


def grade(exercise: Exercise, obj: Any, seed: int | None = None, hint: bool = False) -> CheckResult:
    """Grades ``obj`` against ``exercise``'s hidden cases without printing anything.

    :func:`draw_cases`, :func:`run_answer` and :func:`judge` in one process (self-check); the
    batch grader runs the middle step in the learner's kernel and the others in its own.
    """
    cases = draw_cases(exercise, seed)
    return judge(exercise, run_answer(exercise, obj, cases), cases, hint)


def _uses_reference(exercise: Exercise, used: list[str], total: int) -> CheckResult:
    names = ", ".join(f"`{name}`" for name in dict.fromkeys(used))
    feedback = (
        f"✗ {exercise.id}: `{exercise.target}` calls {names}, course_lib's own version of "
        f"this exercise (the reference it is checked against), so it cannot be graded and "
        f"scores 0. Write it yourself with NumPy or TensorFlow; the library's version is there "
        f"to compare with once yours passes."
    )
    return CheckResult(exercise.id, USES_REFERENCE, 0.0, exercise.max_score, feedback, 0, total)


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

    The first failures name the case, what was expected and what came back, and which mistake
    it looks like; from the ``HINT_AFTER_FAILURES + 1``-th failed try at the same exercise in
    this session the exercise's hint (its formula or code) is added. While ``course grade``
    runs the notebook it checks nothing (the grader grades every answer after the last cell)
    and says so.

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
    if in_batch_kernel:
        feedback = (
            f"… {exercise.id}: not checked here: `course grade` grades `{exercise.target}` "
            "after the notebook's last cell."
        )
        print(feedback, flush=True)
        return CheckResult(exercise.id, NOT_ATTEMPTED, 0.0, exercise.max_score, feedback)
    earlier = _failures[exercise.id]
    result = grade(exercise, obj, hint=earlier >= HINT_AFTER_FAILURES)
    if result.status == FAILED:
        _failures[exercise.id] += 1
        later = HINT_AFTER_FAILURES - earlier
        if later > 0 and result.hint:
            tries = "1 more try" if later == 1 else f"{later} more tries"
            result = dataclasses.replace(
                result,
                feedback=f"{result.feedback}\n  (Fix what the case shows and check again; "
                f"after {tries}, check() adds a hint with the formula.)",
            )
    elif result.status == PASSED:
        _failures.pop(exercise.id, None)
    print(result.feedback, flush=True)
    return result
