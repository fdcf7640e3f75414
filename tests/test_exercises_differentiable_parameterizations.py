"""Differentiable-parameterization exercises: references pass, mistakes get specific hints.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.lucid.misc import style
from course_lib.lucid.optvis.param import texture

TOPIC = "differentiable_parameterizations"
REFERENCES = {f"{TOPIC}.gram_matrix": style.gram_matrix, f"{TOPIC}.sphere_uv": texture.sphere_uv}


def _numpy_gram(activations):
    features = np.reshape(activations, (-1, np.shape(activations)[-1])).astype(np.float64)
    return features.T @ features / features.shape[0]


def _tf_sphere_uv(points):
    points = tf.convert_to_tensor(points, tf.float64)
    u = 0.5 + tf.math.atan2(points[:, 0], points[:, 2]) / (2 * math.pi)
    v = tf.math.acos(points[:, 1]) / math.pi
    return tf.stack([u, v], axis=1)


CORRECT = {f"{TOPIC}.gram_matrix": _numpy_gram, f"{TOPIC}.sphere_uv": _tf_sphere_uv}


def _uv(points, u_of, v_of):
    x, y, z = np.asarray(points, dtype=np.float64).T
    return np.stack([u_of(x, y, z), v_of(x, y, z)], -1)


def _u(x, y, z):
    return 0.5 + np.arctan2(x, z) / (2 * np.pi)


def _v(x, y, z):
    return np.arccos(y) / np.pi


WRONG = [
    (f"{TOPIC}.gram_matrix", lambda a: _numpy_gram(a) * a.shape[0] * a.shape[1], "not normalized"),
    (f"{TOPIC}.gram_matrix", lambda a: _numpy_gram(a) / a.shape[-1], "divided by H * W * C"),
    (
        f"{TOPIC}.gram_matrix",
        lambda a: (lambda f: f @ f.T / f.shape[0])(a.reshape(-1, a.shape[-1])),
        "that is F F^T",
    ),
    (
        f"{TOPIC}.gram_matrix",
        lambda a: (lambda f: f.T @ f / f.shape[0])(
            a.reshape(-1, a.shape[-1]) - a.reshape(-1, a.shape[-1]).mean(0)
        ),
        "the mean was subtracted",
    ),
    (
        f"{TOPIC}.sphere_uv",
        lambda p: _uv(p, lambda x, y, z: 0.5 + np.arctan2(z, x) / (2 * np.pi), _v),
        "atan2's arguments are swapped",
    ),
    (
        f"{TOPIC}.sphere_uv",
        lambda p: _uv(p, lambda x, y, z: np.arctan2(x, z) / (2 * np.pi), _v),
        "missing the 0.5 offset",
    ),
    (
        f"{TOPIC}.sphere_uv",
        lambda p: _uv(p, lambda x, y, z: 0.5 + np.arctan2(x, z) / np.pi, _v),
        "not by pi",
    ),
    (f"{TOPIC}.sphere_uv", lambda p: _uv(p, _u, lambda x, y, z: 1 - _v(x, y, z)), "upside down"),
    (f"{TOPIC}.sphere_uv", lambda p: _uv(p, _u, _v)[:, ::-1], "u and v are swapped"),
    (f"{TOPIC}.sphere_uv", lambda p: _uv(p, _u, _v).T, "one row per point"),
]


def test_sphere_cases_are_on_the_unit_sphere_away_from_the_seam():
    for case in grading.get_exercise(f"{TOPIC}.sphere_uv").make_cases(np.random.default_rng(3)):
        (points,) = case.args
        np.testing.assert_allclose(np.linalg.norm(points, axis=-1), 1.0, rtol=1e-6)
        assert np.all(np.abs(np.arctan2(points[:, 0], points[:, 2])) < math.pi - 0.1)
