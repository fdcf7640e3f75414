"""Demo exercises for the grader's tests, loaded through ``COURSE_EXERCISE_MODULES``.

Plain NumPy, so that kernels grading them never import TensorFlow.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading import Case, Exercise


def reference_add(a, b):
    """The "library's" implementation of demo.add: answers may not call it."""
    return np.add(a, b)


def _add_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape in [(3,), (2, 3), (4, 1)]:
        a = rng.normal(size=shape).astype(np.float32)
        b = rng.normal(size=shape).astype(np.float32)
        cases.append(
            Case(
                f"a of shape {shape}, b of shape {shape}",
                args=(a, b),
                expected=reference_add(a, b),
                hint="add the arrays element by element",
            )
        )
    return cases


def _scale_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for size in (2, 3, 4, 5):
        x = rng.uniform(-2.0, 2.0, size=(size, 2)).astype(np.float32)
        factor = float(rng.uniform(0.5, 3.0))
        cases.append(
            Case(
                f"x of shape {x.shape}, factor={factor:.3f}",
                args=(x, factor),
                expected=x * np.float32(factor),
            )
        )
    return cases


ADD = Exercise(
    id="demo.add",
    target="add",
    make_cases=_add_cases,
    title="Add two arrays",
    max_score=2.0,
    references=(reference_add,),
)
SCALE = Exercise(
    id="demo.scale",
    target="scale",
    make_cases=_scale_cases,
    title="Scale an array",
    hint="multiply every value by `factor`",
)
#: What this module exports to the exercise registry.
EXERCISES = (ADD, SCALE)
