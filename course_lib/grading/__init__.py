"""Auto-grading: ``check`` for learners, the exercises (``define``), batch grading."""

from course_lib.grading.check import (
    Answer,
    CheckResult,
    Status,
    check,
    compare_values,
    draw_cases,
    grade,
    judge,
    run_answer,
)
from course_lib.grading.exercise import Case, Exercise, define, get_exercise, list_exercises

__all__ = [
    "Answer",
    "Case",
    "CheckResult",
    "Exercise",
    "Status",
    "check",
    "compare_values",
    "define",
    "draw_cases",
    "get_exercise",
    "grade",
    "judge",
    "list_exercises",
    "run_answer",
]
