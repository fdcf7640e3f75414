"""Exercises of the chapter "Differentiable image parameterizations"
(book/part3/03_differentiable_parameterizations).

- ``gram_matrix(activations)``: the style statistics of one layer, ``[H, W, C]`` to ``[C, C]``,
  ``G = F^T F / (H W)`` with ``F`` the ``[H W, C]`` matrix of positions by channels;
- ``sphere_uv(points)``: texture coordinates of points on the unit sphere, ``[N, 3]`` to
  ``[N, 2]``, ``u = 0.5 + atan2(x, z) / (2 pi)``, ``v = acos(y) / pi``.

Expected answers come from ``course_lib.lucid.misc.style.gram_matrix`` and
``course_lib.lucid.optvis.param.texture.sphere_uv`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.grading.cases import numeric_compare, reference_cases
from course_lib.grading.check import matches
from course_lib.grading.exercise import Case, define
from course_lib.lucid.misc import style
from course_lib.lucid.optvis.param import texture

TOPIC = "differentiable_parameterizations"


# --- gram_matrix -----------------------------------------------------------------------------

_GRAM_HINT = (
    "Reshape the [H, W, C] activations to F of shape [H * W, C] (one row per position), then "
    "G = F^T F / (H * W): a [C, C] matrix, averaged over the positions."
)


def _gram_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [(4, 4, 3, "a small 4x4 layer with 3 channels")]
    shapes.append((int(rng.integers(5, 9)), int(rng.integers(3, 5)), 2, "a wide layer, 2 channels"))
    shapes.append((int(rng.integers(3, 6)), int(rng.integers(6, 10)), int(rng.integers(5, 8)), ""))
    shapes.append((1, int(rng.integers(7, 12)), 4, "a single row of positions"))
    settings = []
    for height, width, channels, description in shapes:
        activations = rng.normal(size=(height, width, channels)).astype(np.float32)
        if description.startswith("a small"):
            activations = np.abs(activations)  # post-ReLU: non-negative, mean far from 0
        shown = f"{description or 'random activations'}: [{height}, {width}, {channels}]"
        settings.append((activations, shown))
    return reference_cases(settings, style.gram_matrix, hint=_GRAM_HINT, rtol=1e-4, atol=1e-5)


def _explain_gram(have: np.ndarray, case: Case) -> str | None:
    (activations,) = case.args
    height, width, channels = activations.shape
    features = activations.reshape(-1, channels).astype(np.float64)
    want = np.asarray(case.expected, dtype=np.float64)
    positions = height * width
    if have.shape == (positions, positions):
        return (
            "that is F F^T, position by position: transpose the other factor, G = F^T F, "
            "to compare channels"
        )
    if have.shape != want.shape:
        return None
    if matches(have, want * positions, case.rtol, case.atol):
        return f"not normalized: divide by the number of positions H * W = {positions}"
    for divisor, what in ((positions * channels, "H * W * C"), (channels, "C")):
        if matches(have, want * positions / divisor, case.rtol, case.atol):
            return f"divided by {what}: divide by the number of positions, H * W"
    if matches(have, want * positions / (positions - 1), case.rtol, case.atol) and positions > 1:
        return "divided by H * W - 1: average over the H * W positions"
    centred = features - features.mean(axis=0)
    if matches(have, centred.T @ centred / positions, case.rtol, case.atol):
        return "the mean was subtracted: a Gram matrix is not a covariance"
    return None


define(
    TOPIC,
    "gram_matrix",
    _gram_cases,
    numeric_compare(_explain_gram),
    title="Style as statistics: the Gram matrix of a layer",
    references=[style.gram_matrix],
)


# --- sphere_uv -------------------------------------------------------------------------------

_SPHERE_HINT = (
    "u = 0.5 + atan2(x, z) / (2 pi) (np.arctan2 takes x first here, then z) and "
    "v = acos(y) / pi; stack them last: [N, 2] with columns (u, v)."
)


def _sphere_points(rng: np.random.Generator, count: int) -> np.ndarray:
    """Unit vectors away from the seam (u = 0 | 1, behind the sphere) and the poles."""
    azimuth = rng.uniform(-math.pi + 0.2, math.pi - 0.2, size=count)
    polar = rng.uniform(0.15, math.pi - 0.15, size=count)
    return np.stack(
        [np.sin(polar) * np.sin(azimuth), np.cos(polar), np.sin(polar) * np.cos(azimuth)], -1
    )


def _sphere_cases(rng: np.random.Generator) -> list[Case]:
    facing = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.6, 0.8], [-0.6, -0.8, 0.0]])
    batches = [(facing, "the front (+z), the right (+x), up and to the left")]
    for count in (int(rng.integers(4, 8)), int(rng.integers(10, 20))):
        batches.append((_sphere_points(rng, count), f"{count} random points on the unit sphere"))
    batches.append((_sphere_points(rng, 3).astype(np.float32), "3 points, float32"))
    return reference_cases(batches, texture.sphere_uv, hint=_SPHERE_HINT, rtol=1e-4, atol=1e-5)


def _explain_sphere(have: np.ndarray, case: Case) -> str | None:
    (points,) = case.args
    x, y, z = np.asarray(points, dtype=np.float64).T
    want = np.asarray(case.expected, dtype=np.float64)
    if have.shape == want.shape[::-1]:
        return "one row per point: stack u and v on the last axis, [N, 2]"
    if have.shape != want.shape:
        return None
    if matches(have, want[:, ::-1], case.rtol, case.atol):
        return "u and v are swapped: u, the azimuth, comes first"
    u, v = want[:, 0], want[:, 1]
    if matches(have[:, 1], v, case.rtol, case.atol):
        if matches(have[:, 0], 0.5 + np.arctan2(z, x) / (2 * math.pi), case.rtol, case.atol):
            return "atan2's arguments are swapped: atan2(x, z), x first"
        if matches(have[:, 0], u - 0.5, case.rtol, case.atol):
            return "u is missing the 0.5 offset: atan2 is in (-pi, pi], u in [0, 1]"
        if matches(have[:, 0], 0.5 + np.arctan2(x, z) / math.pi, case.rtol, case.atol):
            return "divide the azimuth by 2 pi, a full turn, not by pi"
        return None
    if matches(have[:, 0], u, case.rtol, case.atol):
        if matches(have[:, 1], 1.0 - v, case.rtol, case.atol):
            return "v is upside down: v = 0 at the north pole, y = 1, so acos(y)"
        if matches(have[:, 1], np.arccos(y) / (2 * math.pi), case.rtol, case.atol):
            return "the polar angle spans [0, pi]: divide by pi, not 2 pi"
        if matches(have[:, 1], np.degrees(np.arccos(y)) / math.pi, case.rtol, case.atol):
            return "degrees: keep the angles in radians"
    return None


define(
    TOPIC,
    "sphere_uv",
    _sphere_cases,
    numeric_compare(_explain_sphere),
    title="Texture coordinates on a sphere",
    references=[texture.sphere_uv],
)
