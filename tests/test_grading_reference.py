"""An answer that only calls course_lib's reference scores 0 as ``uses_reference``, however it
reaches the reference: directly, an alias, a wrapper, a partial, an import under another name, a
method, a helper, a tf.function. Honest answers are untouched."""

from __future__ import annotations

import dataclasses
import functools
import importlib

import numpy as np
import pytest
import tensorflow as tf

from course_lib import grading
from course_lib.grading import Status
from course_lib.grading.reference import check_reference, reference_name, watching
from course_lib.graphics.geometry.transformation import axis_angle

EXERCISE = "transformations.axis_angle_rotate"


def _honest(point, axis, angle):
    point, axis, angle = (np.asarray(v, np.float64) for v in (point, axis, angle))
    cos, sin = np.cos(angle), np.sin(angle)
    dot = np.sum(axis * point, axis=-1, keepdims=True)
    return point * cos + np.cross(axis, point) * sin + axis * dot * (1 - cos)


class _Rotator:
    def rotate(self, point, axis, angle):
        return axis_angle.rotate(point, axis, angle)


def _helper(point, axis, angle):
    return axis_angle.rotate(point, axis, angle)


def _via_helper(point, axis, angle):
    return _helper(point, axis, angle) + 0.0


rotate_alias = axis_angle.rotate
_renamed = importlib.import_module("course_lib.graphics.geometry.transformation.axis_angle")


def _through_package(point, axis, angle):
    package = importlib.import_module("course_lib.graphics.geometry.transformation")
    return package.axis_angle.rotate(point, axis, angle)


@tf.function
def _compiled(point, axis, angle):
    return axis_angle.rotate(point, axis, angle)


REFUSED = {
    "the reference itself": axis_angle.rotate,
    "an alias": rotate_alias,
    "a lambda wrapper": lambda point, axis, angle: axis_angle.rotate(point, axis, angle),
    "a functools.partial": functools.partial(axis_angle.rotate),
    "an import under another name": _renamed.rotate,
    "a bound method": _Rotator().rotate,
    "a helper function": _via_helper,
    "through the package's re-export": _through_package,
    "a tf.function": _compiled,
}


@pytest.mark.parametrize("answer", list(REFUSED.values()), ids=list(REFUSED))
def test_answers_that_call_the_reference_score_zero(answer):
    result = grading.grade(grading.get_exercise(EXERCISE), answer, seed=0)
    assert result.status == Status.USES_REFERENCE == "uses_reference"
    assert result.score == 0.0 and result.cases_passed == 0
    assert reference_name(axis_angle.rotate) in result.feedback
    assert "Write it yourself" in result.feedback


def test_an_honest_answer_passes_and_the_reference_still_works_afterwards():
    exercise = grading.get_exercise(EXERCISE)
    assert grading.grade(exercise, _honest, seed=0).status == Status.PASSED
    grading.grade(exercise, axis_angle.rotate, seed=0)
    point = np.array([[1.0, 0.0, 0.0]])
    rotated = axis_angle.rotate(point, np.array([[0.0, 0.0, 1.0]]), np.array([[np.pi / 2]]))
    np.testing.assert_allclose(rotated, [[0.0, 1.0, 0.0]], atol=1e-6)
    assert axis_angle.rotate.__code__.co_name == "rotate"


def test_calling_the_reference_in_one_case_only_is_enough():
    calls = {"n": 0}

    def sometimes(point, axis, angle):
        calls["n"] += 1
        if calls["n"] == 2:
            axis_angle.rotate(point, axis, angle)
        return _honest(point, axis, angle)

    result = grading.grade(grading.get_exercise(EXERCISE), sometimes, seed=0)
    assert result.status == Status.USES_REFERENCE


def test_an_answer_that_raises_after_calling_the_reference_is_refused_too():
    def broken(point, axis, angle):
        axis_angle.rotate(point, axis, angle)
        raise ValueError("oops")

    result = grading.grade(grading.get_exercise(EXERCISE), broken, seed=0)
    assert result.status == Status.USES_REFERENCE


def test_without_references_the_reference_passes():
    exercise = dataclasses.replace(grading.get_exercise(EXERCISE), references=())
    assert grading.grade(exercise, axis_angle.rotate, seed=0).status == Status.PASSED


def test_watching_records_calls_and_restores_the_function():
    code, defaults = axis_angle.rotate.__code__, axis_angle.rotate.__defaults__
    with watching([axis_angle.rotate, axis_angle.rotate]) as calls:
        out = axis_angle.rotate(np.ones((1, 3)), np.array([[1.0, 0, 0]]), np.zeros((1, 1)))
        np.testing.assert_allclose(out, np.ones((1, 3)), atol=1e-6)
    assert calls == [reference_name(axis_angle.rotate)]
    assert axis_angle.rotate.__code__ is code and axis_angle.rotate.__defaults__ == defaults
    with pytest.raises(RuntimeError), watching([axis_angle.rotate]):
        raise RuntimeError("the block fails")
    assert axis_angle.rotate.__code__ is code


def test_only_plain_functions_can_be_references():
    def outer():
        x = 1

        def inner():
            return x

        return inner

    with pytest.raises(TypeError, match="closure"):
        check_reference(outer())
    with pytest.raises(TypeError, match="Python function"):
        check_reference(np.sum)
    from course_lib.grading.exercise import define

    with pytest.raises(TypeError, match="Python function"):
        define("nowhere", "thing", lambda rng: [], title="x", references=[len])
    with pytest.raises(KeyError):
        grading.get_exercise("nowhere.thing")


def test_statuses_have_one_home():
    from course_lib.grading.batch import STATUSES

    assert list(STATUSES) == [str(s) for s in Status]
    assert "uses_reference" in STATUSES
