"""The part of batch grading that runs inside a submission's kernel (kept free of heavy imports).

The batch grader (:mod:`course_lib.grading.sandbox`) sends calls such as
``__import__("course_lib.grading.inkernel", fromlist=["_"]).answer_into("demo.add", IN, OUT)``,
so the learner's names (``globals``, ``json``, ...) cannot get in the way:

- :func:`prepare`, before the notebook's first cell: the references of the exercises being
  graded are blocked for the kernel's whole life and ``check()`` stands aside;
- :func:`answer_into`, after the last cell, once per exercise: the learner's object runs on the
  inputs of the hidden cases that the grader drew, and what it returned is written back as data
  (:mod:`course_lib.grading.transport`). The expected values never enter the kernel, and the
  comparison and the score happen in the grader's process.
"""

from __future__ import annotations

import importlib
import sys

from course_lib.grading import transport
from course_lib.grading.exercise import Case, get_exercise
from course_lib.grading.reference import block

# The module, not the function ``course_lib.grading.check`` that the package exports.
_check = importlib.import_module("course_lib.grading.check")
#: The names of the blocked references called since the last :func:`answer_into` started.
_blocked_calls: list[str] = []


def prepare(exercise_ids: list[str]) -> None:
    """Blocks the references of ``exercise_ids`` (see :func:`~.reference.block`) and turns
    ``check()`` into a note that the grader grades after the last cell."""
    for exercise_id in exercise_ids:
        try:
            block(get_exercise(exercise_id).references, _blocked_calls)
        except (KeyError, TypeError) as error:  # the grader reports the unknown exercise
            print(f"course grade: {exercise_id}: {error}", file=sys.stderr)
    _check.in_batch_kernel = True


def answer_into(exercise_id: str, inputs_path: str, outputs_path: str) -> None:
    """Runs the caller's ``exercise.target`` on the cases in ``inputs_path`` and writes what it
    did (an :class:`~course_lib.grading.check.Answer`, as a dict) to ``outputs_path``.

    The caller's globals are the notebook's namespace. A missing name is written as
    ``{"missing": True}``. ``KeyboardInterrupt`` (the grader's time limit) propagates and
    nothing is written.
    """
    namespace = sys._getframe(1).f_globals
    exercise = get_exercise(exercise_id)
    if exercise.target not in namespace:
        transport.dump({"missing": True}, outputs_path)
        return
    cases = [
        Case("", args=tuple(case["args"]), kwargs=dict(case["kwargs"]))
        for case in transport.load(inputs_path)["cases"]
    ]
    del _blocked_calls[:]
    answer = _check.run_answer(exercise, namespace[exercise.target], cases, watch=())
    answer.used.extend(_blocked_calls)
    transport.dump(
        {
            "kind": answer.kind,
            "what": answer.what,
            "used": answer.used,
            "outcomes": [(o.value, o.error) for o in answer.outcomes],
        },
        outputs_path,
    )
