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

and their own tests of the rest.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course_lib import grading
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
