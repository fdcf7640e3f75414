"""Materials-and-lights exercises: references pass, mistakes get specific hints, stubs noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian, phong


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a, b):
    return np.sum(a * b, axis=-1, keepdims=True)


def numpy_blinn_phong(incoming, outgoing, normal, shininess, albedo, half_from=-1.0, clamp=True):
    incoming, outgoing, normal = (np.asarray(a, np.float64) for a in (incoming, outgoing, normal))
    to_light = -incoming
    half = _unit(half_from * incoming + outgoing)
    value = (
        albedo * (shininess + 8.0) / (8.0 * np.pi) * np.maximum(_dot(normal, half), 0) ** shininess
    )
    if not clamp:
        return value
    above = (_dot(normal, to_light) > 0) & (_dot(normal, outgoing) > 0)
    return np.where(above, value, 0.0)


def numpy_lambertian(incoming, outgoing, normal, albedo, scale=1.0 / np.pi, clamp=True):
    incoming, outgoing, normal = (np.asarray(a, np.float64) for a in (incoming, outgoing, normal))
    albedo = np.asarray(albedo, np.float64)
    value = np.broadcast_to(
        albedo * scale, np.broadcast_shapes(albedo.shape, normal.shape[:-1] + (1,))
    )
    if not clamp:
        return value
    above = (_dot(normal, -incoming) > 0) & (_dot(normal, outgoing) > 0)
    return np.where(above, value, 0.0)


def tf_blinn_phong(incoming, outgoing, normal, shininess, albedo):
    """An independent TensorFlow answer returning float32 tensors."""
    incoming, outgoing, normal, shininess, albedo = (
        tf.constant(a, tf.float32) for a in (incoming, outgoing, normal, shininess, albedo)
    )
    half = tf.math.l2_normalize(outgoing - incoming, -1)
    lobe = tf.maximum(tf.reduce_sum(normal * half, -1, keepdims=True), 0.0) ** shininess
    above = (tf.reduce_sum(-normal * incoming, -1, keepdims=True) > 0) & (
        tf.reduce_sum(normal * outgoing, -1, keepdims=True) > 0
    )
    return tf.where(above, albedo * (shininess + 8.0) / (8.0 * np.pi) * lobe, 0.0)


SEEDS = (0, 5)
REFERENCES = {
    "materials_and_lights.blinn_phong_brdf": blinn_phong.brdf,
    "materials_and_lights.lambertian_brdf": lambertian.brdf,
}
CORRECT = {
    "materials_and_lights.blinn_phong_brdf": [numpy_blinn_phong, tf_blinn_phong],
    "materials_and_lights.lambertian_brdf": [numpy_lambertian],
}

BP = "materials_and_lights.blinn_phong_brdf"
LA = "materials_and_lights.lambertian_brdf"
WRONG = [
    (
        BP,
        lambda i, o, n, s, a: numpy_blinn_phong(i, o, n, s, a, half_from=1.0),
        "the half vector uses the incoming direction",
    ),
    (
        BP,
        lambda i, o, n, s, a: numpy_blinn_phong(i, o, n, s, a, clamp=False),
        "nothing is zeroed below the horizon",
    ),
    (
        BP,
        lambda i, o, n, s, a: (
            phong.brdf(i, o, n, s, a).numpy() * (np.asarray(s) + 8.0) / (np.asarray(s) + 2.0) / 4.0
        ),
        "that is Phong's lobe",
    ),
    (BP, phong.brdf, "that is the Phong BRDF"),
    (
        BP,
        lambda i, o, n, s, a: numpy_blinn_phong(i, o, n, s, a) * 8.0 * np.pi / (np.asarray(s) + 8),
        "the normalization is missing",
    ),
    (LA, lambda i, o, n, a: numpy_lambertian(i, o, n, a, scale=1.0), "the 1/pi is missing"),
    (LA, lambda i, o, n, a: numpy_lambertian(i, o, n, a, clamp=False), "nothing is zeroed"),
    (
        LA,
        lambda i, o, n, a: (
            numpy_lambertian(i, o, n, a) * np.maximum(_dot(np.asarray(n), -np.asarray(i)), 0.0)
        ),
        "the cosine n . l belongs to the shading",
    ),
]


def _crash(*args, **kwargs):
    return np.asarray(args[0])[..., 5]


def test_the_first_blinn_phong_case_is_the_course_listing():
    cases = grading.get_exercise(BP).make_cases(np.random.default_rng(0))
    np.testing.assert_allclose(cases[0].expected, np.full(3, 8.5 / (8.0 * np.pi)), rtol=1e-6)
