"""Auto-grading: ``check`` for learners, the exercise registry, batch grading for instructors."""

from course_lib.grading.check import CheckResult, Status, check, compare_values, grade
from course_lib.grading.exercise import Case, Exercise, get_exercise, list_exercises, register

__all__ = [
    "Case",
    "CheckResult",
    "Exercise",
    "Status",
    "check",
    "compare_values",
    "get_exercise",
    "grade",
    "list_exercises",
    "register",
]
