"""Interpolation exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.graphics.math.interpolation import bspline
from course_lib.graphics.math.interpolation import slerp as slerp_lib


def _reference_slerp(q1, q2, t):
    return slerp_lib.interpolate(q1, q2, t)


def _reference_cubic(t):
    return bspline.knot_weights(np.asarray(t, np.float64), 4, 3, cyclical=False)


def _numpy_slerp(q1, q2, t):
    """An independent answer: NumPy, the shorter path, lerp where sin(Omega) is tiny."""
    dot = np.sum(q1 * q2, axis=-1, keepdims=True)
    q2 = np.where(dot < 0, -q2, q2)
    omega = np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
    sin = np.sin(omega)
    tiny = sin < 1e-6
    safe = np.where(tiny, 1.0, sin)
    w1 = np.where(tiny, 1.0 - t, np.sin((1.0 - t) * omega) / safe)
    w2 = np.where(tiny, t, np.sin(t * omega) / safe)
    return w1 * q1 + w2 * q2


def _tf_cubic_matrix(t):
    """An independent answer: the matrix form [1, t, t^2, t^3] M / 6, in float32 TensorFlow."""
    t = tf.cast(t, tf.float32)
    powers = tf.stack([tf.ones_like(t), t, t * t, t * t * t], axis=-1)
    matrix = tf.constant([[1, 4, 1, 0], [-3, 0, 3, 0], [3, -6, 3, 0], [-1, 3, -3, 1]], tf.float32)
    return tf.tensordot(powers, matrix, axes=1) / 6.0


REFERENCES = {
    "interpolation.slerp": _reference_slerp,
    "interpolation.cubic_bspline_weights": _reference_cubic,
}
CORRECT = {
    "interpolation.slerp": _numpy_slerp,
    "interpolation.cubic_bspline_weights": _tf_cubic_matrix,
}


def _no_flip(q1, q2, t):
    dot = np.sum(q1 * q2, axis=-1, keepdims=True)
    return (
        _numpy_slerp(q1, q2, t)
        if np.all(dot >= 0)
        else _formula(q1, q2, t, np.arccos(np.clip(dot, -1, 1)))
    )


def _formula(q1, q2, t, omega):
    with np.errstate(all="ignore"):  # a wrong answer may divide by zero
        return (np.sin((1.0 - t) * omega) * q1 + np.sin(t * omega) * q2) / np.sin(omega)


def _shorter(q1, q2):
    dot = np.sum(q1 * q2, axis=-1, keepdims=True)
    return np.where(dot < 0, -q2, q2), np.arccos(np.clip(np.abs(dot), 0.0, 1.0))


def _lerp(q1, q2, t):
    q2, _ = _shorter(q1, q2)
    return (1.0 - t) * q1 + t * q2


def _nlerp(q1, q2, t):
    q = _lerp(q1, q2, t)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _degrees(q1, q2, t):
    q2, omega = _shorter(q1, q2)
    return _formula(q1, q2, t, np.degrees(omega))


def _no_fallback(q1, q2, t):
    q2, omega = _shorter(q1, q2)
    return _formula(q1, q2, t, omega)


def _flip_q1(q1, q2, t):
    dot = np.sum(q1 * q2, axis=-1, keepdims=True)
    return _numpy_slerp(np.where(dot < 0, -q1, q1), q2, t)


def _rotation_angle(q1, q2, t):
    q2, omega = _shorter(q1, q2)
    return _formula(q1, q2, t, 2.0 * omega)


def _swapped_weights(q1, q2, t):
    return _numpy_slerp(q1, q2, 1.0 - t)


def _bernstein(t):
    s = 1.0 - t
    return np.stack([s**3, 3 * t * s * s, 3 * t * t * s, t**3], axis=-1)


WRONG = [
    ("interpolation.slerp", _no_flip, "the long way round"),
    ("interpolation.slerp", _lerp, "that is lerp"),
    ("interpolation.slerp", _nlerp, "normalized lerp"),
    ("interpolation.slerp", _degrees, "the angle is in degrees"),
    ("interpolation.slerp", _no_fallback, "sin(Omega) is 0"),
    ("interpolation.slerp", _flip_q1, "flip q2, not q1"),
    ("interpolation.slerp", _rotation_angle, "not the rotation angle"),
    ("interpolation.slerp", _swapped_weights, "the weights are swapped"),
    (
        "interpolation.cubic_bspline_weights",
        lambda t: np.asarray(_tf_cubic_matrix(t))[..., ::-1],
        "the order is reversed",
    ),
    (
        "interpolation.cubic_bspline_weights",
        lambda t: 6.0 * np.asarray(_tf_cubic_matrix(t)),
        "must sum to 1",
    ),
    ("interpolation.cubic_bspline_weights", _bernstein, "Bernstein"),
    (
        "interpolation.cubic_bspline_weights",
        lambda t: np.moveaxis(np.asarray(_tf_cubic_matrix(t)), -1, 0),
        "LAST axis",
    ),
]


def test_cubic_weights_at_zero_are_the_textbook_values():
    case = grading.get_exercise("interpolation.cubic_bspline_weights").make_cases(
        np.random.default_rng(0)
    )[0]
    np.testing.assert_allclose(case.expected, [1 / 6, 4 / 6, 1 / 6, 0.0], atol=1e-15)
