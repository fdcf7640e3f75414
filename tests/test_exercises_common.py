"""What every registered exercise must do, whatever its topic.

- The generated stub (``raise NotImplementedError()``) counts as not attempted, with no score.
- A learner's answer that raises is reported as such, with the exception, and scores nothing.
- The hidden cases are drawn from the seed: the same seed gives the same cases, another seed
  other ones (so the batch grader's seed differs from the one learners see).

The topic files (``test_exercises_<topic>.py``) test what is particular to each exercise: that
the reference passes, and that typical mistakes get their hint.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from course_lib import grading

EXERCISES = grading.list_exercises()

#: Exercises whose target the grader calls in a way of its own (a factory, a generator), so that
#: a plain raising function is not their stub; their topic files test their stubs.
OWN_STUBS = {"speed_and_scale.make_scaled_sum", "speed_and_scale.collatz_steps"}


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _broken(*args, **kwargs):
    raise ValueError("shapes do not match")


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


@pytest.mark.parametrize("exercise_id", [e for e in EXERCISES if e not in OWN_STUBS])
def test_the_stub_is_not_attempted(exercise_id):
    result = grading.grade(grading.get_exercise(exercise_id), _stub, seed=0)
    assert result.status == "not_attempted" and result.score == 0.0


@pytest.mark.parametrize("exercise_id", [e for e in EXERCISES if e not in OWN_STUBS])
def test_a_raising_answer_is_reported_and_scores_nothing(exercise_id):
    result = grading.grade(grading.get_exercise(exercise_id), _broken, seed=0)
    assert result.status in ("failed", "error") and result.score == 0.0
    assert "ValueError" in result.feedback and "shapes do not match" in result.feedback


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_cases_are_drawn_from_the_seed(exercise_id):
    assert _drawn(exercise_id, 1) == _drawn(exercise_id, 1)
    assert _drawn(exercise_id, 1) != _drawn(exercise_id, 2)
