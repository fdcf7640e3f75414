"""Asserts for testing exercise definitions: the course's own, and instructors' modules.

An exercise module is tested by answering it: the reference (graded with
``allow_reference=True``) and an independently written answer must pass on several seeds, an
answer that calls the reference must be refused, and each typical mistake must fail with its
own hint::

    assert_answer_passes("cameras.perspective_project", my_project)
    assert_reference_refused("cameras.perspective_project", perspective.project)
    assert_mistake_hinted("cameras.perspective_project", forgot_divide, "divide by z")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from course_lib.grading.check import USES_REFERENCE, CheckResult, grade
from course_lib.grading.exercise import get_exercise


def assert_answer_passes(
    exercise_id: str,
    answer: Any,
    seeds: Sequence[int] = (0, 7),
    min_cases: int = 3,
    allow_reference: bool = False,
) -> None:
    """``answer`` gets full marks on the hidden cases of every seed, and there are enough.

    ``allow_reference=True`` grades without watching the exercise's references: for the
    reference itself (or an adapter around it), which a learner's answer may not call.
    """
    exercise = get_exercise(exercise_id)
    if allow_reference:
        exercise = dataclasses.replace(exercise, references=())
    for seed in seeds:
        result = grade(exercise, answer, seed=seed)
        assert result.status == "passed", result.feedback
        assert result.score == exercise.max_score, result.feedback
        assert result.cases_total >= min_cases, f"only {result.cases_total} cases"


def assert_mistake_hinted(exercise_id: str, wrong: Any, message: str, seed: int = 0) -> CheckResult:
    """``wrong`` fails with less than full marks; its feedback names a case and contains
    ``message`` (the mistake-specific part) but not the hint, which the result carries for
    ``check`` to add after repeated failures. Returns the result for further checks."""
    exercise = get_exercise(exercise_id)
    result = grade(exercise, wrong, seed=seed)
    assert result.status == "failed" and result.score < exercise.max_score, result.feedback
    assert message in result.feedback, result.feedback
    assert "case " in result.feedback and "Hint:" not in result.feedback, result.feedback
    assert result.hint, f"no hint for {exercise_id}"
    return result


def assert_reference_refused(exercise_id: str, answer: Any, seed: int = 0) -> CheckResult:
    """``answer`` (one that calls a reference of the exercise) scores 0 as ``uses_reference``
    and its feedback names the reference. Returns the result for further checks."""
    exercise = get_exercise(exercise_id)
    result = grade(exercise, answer, seed=seed)
    assert result.status == USES_REFERENCE and result.score == 0.0, result.feedback
    assert "course_lib" in result.feedback, result.feedback
    return result
