"""Camera exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.graphics.rendering.camera import perspective

REFERENCES = {
    "cameras.perspective_project": perspective.project,
    "cameras.perspective_unproject": perspective.unproject,
}


def _project_numpy(point_3d, focal, principal_point):
    """An independent answer: K @ X in homogeneous coordinates, then divide by the last one."""
    point_3d, focal, principal_point = (np.asarray(a) for a in (point_3d, focal, principal_point))
    homogeneous = np.stack(
        [
            focal[..., 0] * point_3d[..., 0] + principal_point[..., 0] * point_3d[..., 2],
            focal[..., 1] * point_3d[..., 1] + principal_point[..., 1] * point_3d[..., 2],
            point_3d[..., 2],
        ],
        axis=-1,
    )
    return homogeneous[..., :2] / homogeneous[..., 2:]


def _unproject_tf(point_2d, depth, focal, principal_point):
    """An independent answer in TensorFlow, float64 throughout."""
    point_2d, depth, focal, principal_point = (
        tf.cast(a, tf.float64) for a in (point_2d, depth, focal, principal_point)
    )
    xy = (point_2d - principal_point) / focal * depth
    return tf.concat([xy, tf.broadcast_to(depth, tf.concat([tf.shape(xy)[:-1], [1]], 0))], -1)


CORRECT = {
    "cameras.perspective_project": _project_numpy,
    "cameras.perspective_unproject": _unproject_tf,
}


def _with_depth(xy, depth):
    return np.concatenate([xy, np.broadcast_to(depth, xy.shape[:-1] + (1,))], axis=-1)


WRONG = [
    ("cameras.perspective_project", lambda p, f, c: f * p[..., :2] + c, "not divided by z"),
    (
        "cameras.perspective_project",
        lambda p, f, c: f * (p[..., :2] / p[..., 2:] + c),
        "added before scaling",
    ),
    (
        "cameras.perspective_project",
        lambda p, f, c: f[..., ::-1] * p[..., :2] / p[..., 2:] + c,
        "fx and fy are swapped",
    ),
    (
        "cameras.perspective_project",
        lambda p, f, c: f * p[..., :2] / p[..., 2:],
        "the principal point is missing",
    ),
    (
        "cameras.perspective_project",
        lambda p, f, c: np.concatenate(
            [f * p[..., :2] / p[..., 2:] + c, np.ones_like(p[..., 2:])], -1
        ),
        "three coordinates were returned",
    ),
    (
        "cameras.perspective_unproject",
        lambda p, d, f, c: _with_depth((p - c) * f * d, d),
        "multiplied by the focal length instead of dividing",
    ),
    (
        "cameras.perspective_unproject",
        lambda p, d, f, c: _with_depth(p / f * d, d),
        "the principal point was not subtracted",
    ),
    (
        "cameras.perspective_unproject",
        lambda p, d, f, c: (np.asarray(p) - c) / f * d,
        "the depth is missing as the third coordinate",
    ),
    (
        "cameras.perspective_unproject",
        lambda p, d, f, c: _with_depth((p - c) / f, d),
        "not multiplied by the depth",
    ),
    (
        "cameras.perspective_unproject",
        lambda p, d, f, c: _with_depth((p - c) / f[..., ::-1] * d, d),
        "fx and fy are swapped",
    ),
]


def test_a_float32_answer_passes():
    def project_float32(point_3d, focal, principal_point):
        return np.float32(_project_numpy(point_3d, focal, principal_point))

    result = grading.grade(grading.get_exercise("cameras.perspective_project"), project_float32)
    assert result.passed, result.feedback


def test_the_first_case_is_the_course_listing():
    exercise = grading.get_exercise("cameras.perspective_project")
    case = exercise.make_cases(np.random.default_rng(0))[0]
    assert "course" in case.description
    np.testing.assert_allclose(case.expected.min(axis=0), [231.0, 231.0])  # front face at z = 4
    np.testing.assert_allclose(case.expected.max(axis=0), [281.0, 281.0])
