"""Auto-grading: ``check`` for learners, the exercise registry, batch grading for instructors."""

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
from course_lib.grading.exercise import Case, Exercise, get_exercise, list_exercises, register

__all__ = [
    "Answer",
    "Case",
    "CheckResult",
    "Exercise",
    "Status",
    "check",
    "compare_values",
    "draw_cases",
    "get_exercise",
    "grade",
    "judge",
    "list_exercises",
    "register",
    "run_answer",
]
