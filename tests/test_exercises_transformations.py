"""Transformation exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.graphics.geometry.transformation import axis_angle, quaternion

REFERENCES = {
    "transformations.axis_angle_rotate": axis_angle.rotate,
    "transformations.quaternion_multiply": quaternion.multiply,
}


def _numpy_rodrigues(point, axis, angle):
    point, axis, angle = (np.asarray(a, np.float64) for a in (point, axis, angle))
    along = axis * np.sum(axis * point, axis=-1, keepdims=True)
    cross = np.cross(np.broadcast_to(axis, np.broadcast_shapes(axis.shape, point.shape)), point)
    return point * np.cos(angle) + cross * np.sin(angle) + along * (1.0 - np.cos(angle))


def _tf_hamilton(q1, q2):
    q1, q2 = tf.constant(q1), tf.constant(q2)
    x1, y1, z1, w1 = tf.unstack(q1, axis=-1)
    x2, y2, z2, w2 = tf.unstack(q2, axis=-1)
    return tf.stack(
        [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ],
        axis=-1,
    )


TARGETS = {
    "transformations.axis_angle_rotate": "rotate",
    "transformations.quaternion_multiply": "multiply",
}
CORRECT = {
    "transformations.axis_angle_rotate": _numpy_rodrigues,
    "transformations.quaternion_multiply": _tf_hamilton,
}


def _rodrigues_with(point, axis, angle, *, cross_swapped=False, degrees=False, along_scale=None):
    point, axis, angle = (np.asarray(a, np.float64) for a in (point, axis, angle))
    if degrees:
        angle = np.radians(angle)
    axis_b = np.broadcast_to(axis, np.broadcast_shapes(axis.shape, point.shape))
    cross = np.cross(point, axis_b) if cross_swapped else np.cross(axis_b, point)
    along = axis * np.sum(axis * point, axis=-1, keepdims=True)
    scale = 1.0 - np.cos(angle) if along_scale is None else along_scale
    return point * np.cos(angle) + cross * np.sin(angle) + along * scale


def _hamilton_with(q1, q2, *, cross_swapped=False, plus=False):
    q1, q2 = np.asarray(q1, np.float64), np.asarray(q2, np.float64)
    v1, w1, v2, w2 = q1[..., :3], q1[..., 3:], q2[..., :3], q2[..., 3:]
    cross = np.cross(v2, v1) if cross_swapped else np.cross(v1, v2)
    dot = np.sum(v1 * v2, axis=-1, keepdims=True)
    return np.concatenate([w1 * v2 + w2 * v1 + cross, w1 * w2 + (dot if plus else -dot)], -1)


def _scalar_first(q1, q2):
    q1, q2 = np.asarray(q1, np.float64), np.asarray(q2, np.float64)
    w1, v1, w2, v2 = q1[..., :1], q1[..., 1:], q2[..., :1], q2[..., 1:]
    vector = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    return np.concatenate([w1 * w2 - np.sum(v1 * v2, -1, keepdims=True), vector], -1)


def _scalar_first_output(q1, q2):
    return np.roll(_hamilton_with(q1, q2), 1, axis=-1)


WRONG = [
    (
        "transformations.axis_angle_rotate",
        lambda p, k, a: _rodrigues_with(p, k, a, cross_swapped=True),
        "the cross term is axis x point, not point x axis",
    ),
    (
        "transformations.axis_angle_rotate",
        lambda p, k, a: _rodrigues_with(p, k, a, degrees=True),
        "the angle is already in radians",
    ),
    (
        "transformations.axis_angle_rotate",
        lambda p, k, a: _rodrigues_with(p, k, a, along_scale=1.0),
        "the (1 - cos) factor is missing",
    ),
    (
        "transformations.axis_angle_rotate",
        lambda p, k, a: _rodrigues_with(p, k, a, along_scale=0.0),
        "the component along the axis is lost",
    ),
    (
        "transformations.quaternion_multiply",
        lambda q1, q2: _hamilton_with(q1, q2, cross_swapped=True),
        "the cross term is v1 x v2, not v2 x v1",
    ),
    (
        "transformations.quaternion_multiply",
        lambda q1, q2: _hamilton_with(q1, q2, plus=True),
        "MINUS v1 . v2",
    ),
    ("transformations.quaternion_multiply", _scalar_first, "were read as [w, x, y, z]"),
    (
        "transformations.quaternion_multiply",
        _scalar_first_output,
        "the result is stored [w, x, y, z]",
    ),
]


def test_the_first_rotate_case_is_the_course_cube():
    exercise = grading.get_exercise("transformations.axis_angle_rotate")
    case = exercise.make_cases(np.random.default_rng(0))[0]
    assert case.args[0].shape == (8, 3)
    np.testing.assert_allclose(case.expected[:, 1], case.args[0][:, 1])  # y is kept


def test_float64_inputs_are_graded_too():
    # The library's multiply on float64 copies: the reference itself, so it is allowed here.
    exercise = dataclasses.replace(
        grading.get_exercise("transformations.quaternion_multiply"), references=()
    )
    result = grading.grade(exercise, lambda a, b: quaternion.multiply(np.float64(a), np.float64(b)))
    assert result.status == "passed", result.feedback
