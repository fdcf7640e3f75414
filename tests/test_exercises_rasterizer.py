"""Rasterizer exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.graphics.rendering import barycentric

REFERENCES = {
    "rasterizer.barycentric": barycentric.barycentric_2d,
    "rasterizer.edge_function_inside": barycentric.inside,
    "rasterizer.perspective_correct": barycentric.perspective_correct,
}


def _barycentric_numpy(point, a, b, c):
    """An independent answer: solve [b - a, c - a] [w_b, w_c]^T = p - a for every point."""
    point, a, b, c = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (point, a, b, c)))
    matrix = np.stack([b - a, c - a], axis=-1)  # [..., 2, 2]
    w_bc = np.linalg.solve(matrix, (point - a)[..., None])[..., 0]
    return np.concatenate([1.0 - w_bc.sum(axis=-1, keepdims=True), w_bc], axis=-1)


def _inside_numpy(point, a, b, c):
    """An independent answer from signed areas (half the edge functions), edges included."""

    def area(u, v, w):
        return 0.5 * (
            (v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1])
            - (v[..., 1] - u[..., 1]) * (w[..., 0] - u[..., 0])
        )

    point, a, b, c = (np.asarray(v, np.float64) for v in (point, a, b, c))
    signs = np.stack(
        [np.sign(area(b, c, point)), np.sign(area(c, a, point)), np.sign(area(a, b, point))], -1
    )
    return (np.all(signs >= 0, axis=-1) | np.all(signs <= 0, axis=-1))[..., None]


def _perspective_tf(barycentrics_2d, z):
    b = tf.cast(barycentrics_2d, tf.float64) / tf.cast(z, tf.float64)
    return b / tf.reduce_sum(b, axis=-1, keepdims=True)


CORRECT = {
    "rasterizer.barycentric": _barycentric_numpy,
    "rasterizer.edge_function_inside": _inside_numpy,
    "rasterizer.perspective_correct": _perspective_tf,
}


def _edges(p, a, b, c):
    def edge(u, v, w):
        return (v[..., :1] - u[..., :1]) * (w[..., 1:] - u[..., 1:]) - (v[..., 1:] - u[..., 1:]) * (
            w[..., :1] - u[..., :1]
        )

    return np.concatenate([edge(b, c, p), edge(c, a, p), edge(a, b, p)], axis=-1)


def _area(a, b, c):
    return _edges(c, a, b, c)[..., 2:]  # edge(a, b, c)


WRONG = [
    ("rasterizer.barycentric", lambda p, a, b, c: _edges(p, a, b, c), "not divided by"),
    (
        "rasterizer.barycentric",
        lambda p, a, b, c: _edges(p, a, b, c) / np.abs(_area(a, b, c)),
        "divided by the absolute area",
    ),
    (
        "rasterizer.barycentric",
        lambda p, a, b, c: _edges(p, a, b, c) / (0.5 * _area(a, b, c)),
        "instead of twice it",
    ),
    (
        "rasterizer.barycentric",
        lambda p, a, b, c: (_edges(p, a, b, c) / _area(a, b, c))[..., ::-1],
        "wrong order",
    ),
    (
        "rasterizer.edge_function_inside",
        lambda p, a, b, c: np.all(_edges(p, a, b, c) >= 0, axis=-1, keepdims=True),
        "only one winding",
    ),
    (
        "rasterizer.edge_function_inside",
        lambda p, a, b, c: (
            np.all(_edges(p, a, b, c) > 0, axis=-1, keepdims=True)
            | np.all(_edges(p, a, b, c) < 0, axis=-1, keepdims=True)
        ),
        "exactly on an edge",
    ),
    (
        "rasterizer.edge_function_inside",
        lambda p, a, b, c: _inside_numpy(p, a, b, c)[..., 0],
        "keepdims=True",
    ),
    (
        "rasterizer.perspective_correct",
        lambda b, z: b * z / np.sum(b * z, -1, keepdims=True),
        "multiplied",
    ),
    ("rasterizer.perspective_correct", lambda b, z: b / z, "not renormalized"),
    ("rasterizer.perspective_correct", lambda b, z: b, "unchanged"),
]


def test_inside_accepts_zero_one_integers():
    def as_int(*args):
        return _inside_numpy(*args).astype(np.int64)

    result = grading.grade(grading.get_exercise("rasterizer.edge_function_inside"), as_int)
    assert result.passed, result.feedback


def test_inside_cases_cover_both_windings_and_edge_pixels():
    cases = grading.get_exercise("rasterizer.edge_function_inside").make_cases(
        np.random.default_rng(0)
    )
    point, a, b, c = cases[0].args
    on_edge = np.any(_edges(point, a, b, c) == 0, axis=-1) & cases[0].expected[..., 0]
    assert on_edge.sum() >= 5
    assert np.sign(_area(a, b, c)) != np.sign(_area(*cases[1].args[1:]))
