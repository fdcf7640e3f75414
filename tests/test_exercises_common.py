"""What every registered exercise must do, whatever its topic.

- The generated stub (``raise NotImplementedError()``) counts as not attempted, with no score.
- A learner's answer that raises is reported as such, with the exception, and scores nothing.
- The hidden cases are drawn from the seed: the same seed gives the same cases, another seed
  other ones (so the batch grader's seed differs from the one learners see).

The topic files (``test_exercises_<topic>.py``) hold what is particular to each exercise, as
tables that the tests below run:

- ``REFERENCES``: exercise id -> the reference answer (graded with the exercise's own
  references allowed: it may be one of them, or call one). Together they name every exercise
  of their topics, each of which has its target (the id's name, or ``TARGETS[id]``);
- ``CORRECT``: exercise id -> an independently written answer, or a list of them;
- ``WRONG``: ``(exercise id, wrong answer, words its feedback must contain)``, typical mistakes;
  with ``MISTAKES_FAIL_EVERY_CASE``, each must also fail every case, the first included;
- ``MIN_CASES`` (default 4) and ``SEEDS`` (default ``assert_answer_passes``'): how many hidden
  cases each seed must draw, and which seeds the answers pass on;
- ``STUBS``: exercise id -> its stub, for targets that the grader calls in a way of its own (a
  factory, a ``tf.function``), so that a plain raising function is not their stub.

and their own tests of the rest. Every mistake an exercise declares (``Exercise.mistakes``) is
proven recognized: an answer that returns its wrong answer fails with its explanation
(:data:`UNSHOWN` lists, with the reason, those that no answer can show on the drawn cases).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course_lib import grading
from course_lib.grading.cases import as_mistake, by_value
from course_lib.grading.check import draw_cases, float_array, numeric_array
from course_lib.grading.reference import reference_name
from course_lib.grading.testing import (
    assert_answer_passes,
    assert_mistake_hinted,
    assert_reference_refused,
)

EXERCISES = grading.list_exercises()
TOPIC_TESTS = {
    path.stem: importlib.import_module(path.stem)
    for path in sorted(Path(__file__).parent.glob("test_exercises_*.py"))
    if path.stem != Path(__file__).stem
}


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _broken(*args, **kwargs):
    raise ValueError("shapes do not match")


STUBS = {
    exercise_id: stub
    for module in TOPIC_TESTS.values()
    for exercise_id, stub in getattr(module, "STUBS", {}).items()
}
REFERENCES = {
    exercise_id: (module, answer)
    for module in TOPIC_TESTS.values()
    for exercise_id, answer in module.REFERENCES.items()
}


def _answers() -> list[Any]:
    params = []
    for module in TOPIC_TESTS.values():
        correct = getattr(module, "CORRECT", {})
        for exercise_id, reference in module.REFERENCES.items():
            others = correct.get(exercise_id, [])
            others = others if isinstance(others, list) else [others]
            for index, answer in enumerate([reference, *others]):
                label = "reference" if index == 0 else f"independent {index}"
                params.append(
                    pytest.param(
                        module, exercise_id, answer, index == 0, id=f"{exercise_id}-{label}"
                    )
                )
    return params


def _mistakes() -> list[Any]:
    return [
        pytest.param(module, exercise_id, wrong, message, id=f"{exercise_id}: {message}")
        for module in TOPIC_TESTS.values()
        for exercise_id, wrong, message in module.WRONG
    ]


def _fingerprint(value: Any, digest: Any) -> None:
    """Feeds ``value`` (nested sequences, dicts, arrays, tensors, numbers) into ``digest``."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            _fingerprint(value[key], digest)
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _fingerprint(item, digest)
    elif hasattr(value, "numpy") and callable(value.numpy):
        _fingerprint(value.numpy(), digest)
    else:
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - objects NumPy cannot hold count by their type
            digest.update(type(value).__name__.encode())
            return
        if array.dtype == object:
            digest.update(repr(value).encode())
        else:
            digest.update(str(array.dtype).encode() + str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())


def _drawn(exercise_id: str, seed: int) -> str:
    cases = grading.get_exercise(exercise_id).make_cases(np.random.default_rng(seed))
    digest = hashlib.sha256()
    for case in cases:
        _fingerprint([case.description, case.args, case.kwargs], digest)
    return digest.hexdigest()


def test_there_are_exercises_for_every_solutions_notebook(repo_root):
    topics = {path.stem for path in (repo_root / "solutions").glob("*.ipynb")}
    assert topics == {exercise_id.split(".", 1)[0] for exercise_id in EXERCISES}


def test_every_exercise_has_a_reference_in_a_topic_file():
    assert sorted(REFERENCES) == EXERCISES


@pytest.mark.parametrize("name", sorted(TOPIC_TESTS))
def test_a_topic_file_covers_its_topics_and_their_targets(name):
    module = TOPIC_TESTS[name]
    topics = sorted({exercise_id.split(".", 1)[0] for exercise_id in module.REFERENCES})
    ids = [exercise_id for topic in topics for exercise_id in grading.list_exercises(topic)]
    assert sorted(ids) == sorted(module.REFERENCES)
    targets = getattr(module, "TARGETS", {})
    for exercise_id in ids:
        want = targets.get(exercise_id, exercise_id.split(".")[1])
        assert grading.get_exercise(exercise_id).target == want


@pytest.mark.parametrize(("module", "exercise_id", "answer", "is_reference"), _answers())
def test_reference_and_independent_answers_pass_every_case(
    module, exercise_id, answer, is_reference
):
    seeds = {"seeds": module.SEEDS} if hasattr(module, "SEEDS") else {}
    min_cases = getattr(module, "MIN_CASES", 4)
    assert_answer_passes(
        exercise_id, answer, min_cases=min_cases, allow_reference=is_reference, **seeds
    )


@pytest.mark.parametrize(
    ("exercise_id", "reference"),
    [
        pytest.param(e, r, id=f"{e}-{reference_name(r)}")
        for e in EXERCISES
        for r in grading.get_exercise(e).references
    ],
)
def test_an_answer_that_calls_a_reference_is_refused(exercise_id, reference):
    def wrapper(*args, **kwargs):  # a learner's answer that hands the work to the library
        return reference(*args, **kwargs)

    result = assert_reference_refused(exercise_id, wrapper)
    assert reference_name(reference) in result.feedback


@pytest.mark.parametrize(("module", "exercise_id", "wrong", "message"), _mistakes())
def test_typical_mistake_gets_specific_feedback(module, exercise_id, wrong, message):
    result = assert_mistake_hinted(exercise_id, wrong, message)
    if getattr(module, "MISTAKES_FAIL_EVERY_CASE", False):
        assert result.score == 0.0
        assert "case 1 (" in result.feedback


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_check_prints_the_feedback(exercise_id, capsys, monkeypatch):
    monkeypatch.setattr(grading.get_exercise(exercise_id), "references", ())
    result = grading.check(exercise_id, REFERENCES[exercise_id][1])
    assert result.passed
    assert capsys.readouterr().out.startswith(f"✓ {exercise_id}")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_stub_is_not_attempted(exercise_id):
    result = grading.grade(grading.get_exercise(exercise_id), STUBS.get(exercise_id, _stub), seed=0)
    assert result.status == "not_attempted" and result.score == 0.0


@pytest.mark.parametrize("exercise_id", [e for e in EXERCISES if e not in STUBS])
def test_a_raising_answer_is_reported_and_scores_nothing(exercise_id):
    result = grading.grade(grading.get_exercise(exercise_id), _broken, seed=0)
    assert result.status in ("failed", "error") and result.score == 0.0
    assert "ValueError" in result.feedback and "shapes do not match" in result.feedback


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_cases_are_drawn_from_the_seed(exercise_id):
    assert _drawn(exercise_id, 1) == _drawn(exercise_id, 1)
    assert _drawn(exercise_id, 1) != _drawn(exercise_id, 2)


# --- declared mistakes ------------------------------------------------------------------------

#: ``(exercise id, start of a declared mistake's explanation)`` -> why no answer shows it on the
#: cases of seed 0 (its wrong answer is the right one on every case): the mistake stays declared
#: for other seeds and for the docs, and the test below skips it, and fails once it shows.
UNSHOWN: dict[tuple[str, str], str] = {}


def _declared_mistakes() -> list[Any]:
    return [
        pytest.param(exercise_id, text, index, id=f"{exercise_id}: {text[:60]} [{index}]")
        for exercise_id in EXERCISES
        for text, declared in grading.get_exercise(exercise_id).mistakes.items()
        for index in range(len(as_mistake(declared).wrongs))
    ]


def _as_returned(value: Any, expected: Any) -> Any:
    """A wrong answer as a learner would return it: in the expected value's dtype where that
    keeps its values (float64 to float32, whole floats to integers, 0/1 to booleans), a Python
    number where a Python number is expected."""
    if isinstance(value, (tuple, list)) and isinstance(expected, (tuple, list)):
        if len(value) == len(expected):
            return type(value)(_as_returned(v, e) for v, e in zip(value, expected, strict=True))
    array, want = numeric_array(value), numeric_array(expected)
    if array is None or want is None:
        return value
    judged = np.asarray(by_value(array, want))
    if judged.dtype.kind != want.dtype.kind:
        return judged
    judged = judged.astype(want.dtype)
    python_number = type(expected) in (int, float) and judged.shape == ()
    return judged.item() if python_number else judged


def _returning(values: list[Any]) -> Any:
    """An answer that returns ``values`` one call after the other (one call per case)."""
    calls = iter(values)
    return lambda *args, **kwargs: next(calls)


def _unshown_reason(exercise_id: str, text: str) -> str | None:
    for (listed, start), reason in UNSHOWN.items():
        if listed == exercise_id and text.startswith(start):
            return reason
    return None


@pytest.mark.parametrize(("exercise_id", "text", "index"), _declared_mistakes())
def test_every_declared_mistake_is_recognized(exercise_id, text, index):
    exercise = grading.get_exercise(exercise_id)
    mistake = as_mistake(exercise.mistakes[text])
    cases = draw_cases(exercise, seed=0)
    with np.errstate(all="ignore"):  # wrong answers may divide by zero
        wrongs = [mistake.answer(index, case) for case in cases]
    right = [case.expected for case in cases]
    returned = [
        want if wrong is None else _as_returned(wrong, want)
        for wrong, want in zip(wrongs, right, strict=True)
    ]
    # The answer's values as the exercise gets them, whatever its own way of calling it.
    plain = dataclasses.replace(exercise, run_case=None, references=())
    result = grading.grade(plain, _returning(returned), seed=0)
    reason = _unshown_reason(exercise_id, text)
    if result.passed:
        assert reason, f"the wrong answer is right on every case: list it in UNSHOWN ({text})"
        pytest.skip(reason)
    assert reason is None, f"UNSHOWN lists a mistake that shows: {text}"
    explanations = {
        mistake.explanation(text, float_array(value), case)
        for value, wrong, case in zip(returned, wrongs, cases, strict=True)
        if wrong is not None and float_array(value) is not None
    } or {text}
    if any(explanation in result.feedback for explanation in explanations):
        return
    # The feedback explains the first failing case only: where another mistake gives that one
    # the same value, this one shows on a case where the answer alone is wrong.
    for k in range(len(cases)):
        alone = [returned[k] if i == k else want for i, want in enumerate(right)]
        feedback = grading.grade(plain, _returning(alone), seed=0).feedback
        if any(explanation in feedback for explanation in explanations):
            return
    pytest.fail(f"no case shows the mistake {text!r}; the first gives:\n{result.feedback}")
