"""The part of batch grading that runs inside a submission's kernel (kept free of heavy imports).

The batch grader sends one call per exercise, e.g.
``__import__("course_lib.grading.inkernel", fromlist=["_"]).grade_into("demo.add", PATH, 1)``,
so the learner's names (``globals``, ``json``, ...) cannot get in the way.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from course_lib.grading.check import ERROR, grade
from course_lib.grading.exercise import get_exercise


def grade_into(exercise_id: str, path: str, seed: int) -> None:
    """Grades the caller's ``exercise.target`` and appends the result to ``path`` (a JSON line).

    The caller's globals are the notebook's namespace. A missing name is an ``error`` result with
    ``"missing": true``. ``KeyboardInterrupt`` (the grader's time limit) propagates.
    """
    namespace = sys._getframe(1).f_globals
    record: dict
    try:
        exercise = get_exercise(exercise_id)
        if exercise.target not in namespace:
            record = {
                "exercise": exercise_id,
                "status": ERROR,
                "score": 0.0,
                "max_score": exercise.max_score,
                "feedback": f"`{exercise.target}` is not defined",
                "missing": True,
            }
        else:
            result = grade(exercise, namespace[exercise.target], seed=seed)
            record = dataclasses.asdict(result)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - reported as this exercise's error
        record = {
            "exercise": exercise_id,
            "status": ERROR,
            "score": 0.0,
            "feedback": f"grading failed: {type(error).__name__}: {error}",
        }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
