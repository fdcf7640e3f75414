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

from course_lib.grading.cases import Mistake, reference_cases
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


def _features(activations: np.ndarray) -> np.ndarray:
    """F, ``[H * W, C]``: one row per position."""
    return activations.reshape(-1, activations.shape[-1])


def _products(activations: np.ndarray) -> np.ndarray:
    """F^T F, ``[C, C]``, not normalized."""
    features = _features(activations)
    return features.T @ features


def _count(activations: np.ndarray) -> int:
    """H * W, the number of positions."""
    return len(_features(activations))


def _centred(activations: np.ndarray) -> np.ndarray:
    features = _features(activations)
    return features - features.mean(axis=0)


_GRAM_MISTAKES = {
    "that is F F^T, position by position: transpose the other factor, G = F^T F, "
    "to compare channels": Mistake(
        lambda a: _features(a) @ _features(a).T / _count(a), match="shape"
    ),
    "not normalized: divide by the number of positions H * W = {positions}": Mistake(
        _products, fields=lambda have, case: {"positions": _count(np.asarray(case.args[0]))}
    ),
    "divided by H * W * C: divide by the number of positions, H * W": (
        lambda a: _products(a) / (_count(a) * a.shape[-1])
    ),
    "divided by C: divide by the number of positions, H * W": (
        lambda a: _products(a) / a.shape[-1]
    ),
    "divided by H * W - 1: average over the H * W positions": (
        lambda a: _products(a) / (_count(a) - 1) if _count(a) > 1 else None
    ),
    "the mean was subtracted: a Gram matrix is not a covariance": (
        lambda a: _centred(a).T @ _centred(a) / _count(a)
    ),
}


GRAM_MATRIX = define(
    TOPIC,
    "gram_matrix",
    _gram_cases,
    mistakes=_GRAM_MISTAKES,
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


def _azimuth(points: np.ndarray, first: int = 0, turn: float = 2 * math.pi) -> np.ndarray:
    """``u = 0.5 + atan2(x, z) / (2 pi)``; ``first=2``: atan2(z, x); ``turn``: the divisor."""
    return 0.5 + np.arctan2(points[:, first], points[:, 2 - first]) / turn


def _polar(points: np.ndarray) -> np.ndarray:
    """``acos(y)``, in radians."""
    return np.arccos(points[:, 1])


def _uv(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([u, v], axis=-1)


_SPHERE_MISTAKES = {
    "one row per point: stack u and v on the last axis, [N, 2]": Mistake(
        lambda p: np.stack([_azimuth(p), _polar(p) / math.pi]), match="shape"
    ),
    "u and v are swapped: u, the azimuth, comes first": (
        lambda p: _uv(_polar(p) / math.pi, _azimuth(p))
    ),
    "atan2's arguments are swapped: atan2(x, z), x first": (
        lambda p: _uv(_azimuth(p, first=2), _polar(p) / math.pi)
    ),
    "u is missing the 0.5 offset: atan2 is in (-pi, pi], u in [0, 1]": (
        lambda p: _uv(_azimuth(p) - 0.5, _polar(p) / math.pi)
    ),
    "divide the azimuth by 2 pi, a full turn, not by pi": (
        lambda p: _uv(_azimuth(p, turn=math.pi), _polar(p) / math.pi)
    ),
    "v is upside down: v = 0 at the north pole, y = 1, so acos(y)": (
        lambda p: _uv(_azimuth(p), 1.0 - _polar(p) / math.pi)
    ),
    "the polar angle spans [0, pi]: divide by pi, not 2 pi": (
        lambda p: _uv(_azimuth(p), _polar(p) / (2 * math.pi))
    ),
    "degrees: keep the angles in radians": (
        lambda p: _uv(_azimuth(p), np.degrees(_polar(p)) / math.pi)
    ),
}


SPHERE_UV = define(
    TOPIC,
    "sphere_uv",
    _sphere_cases,
    mistakes=_SPHERE_MISTAKES,
    title="Texture coordinates on a sphere",
    references=[texture.sphere_uv],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (GRAM_MATRIX, SPHERE_UV)
