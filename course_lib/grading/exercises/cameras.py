"""Exercises of the chapter "Cameras" (book/part2/02_cameras).

- ``perspective_project(point_3d, focal, principal_point)``: the pinhole camera,
  ``x' = fx * x / z + cx``, ``y' = fy * y / z + cy``;
- ``perspective_unproject(point_2d, depth, focal, principal_point)``: its inverse, a pixel and a
  depth back to the 3-D point ``[(x' - cx) / fx * z, (y' - cy) / fy * z, z]``.

Expected answers come from ``course_lib.graphics.rendering.camera.perspective`` on inputs drawn
from the seeded generator.
"""

from __future__ import annotations

import numpy as np

from course_lib.data import load_cube
from course_lib.grading.cases import reference_cases
from course_lib.grading.exercise import Case, define
from course_lib.graphics.rendering.camera import perspective

TOPIC = "cameras"


def _intrinsics(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Focal lengths with fx != fy and principal points away from zero, so mistakes show."""
    fx = rng.uniform(200.0, 700.0, batch + (1,))
    fy = fx * rng.uniform(0.6, 0.9, batch + (1,))
    focal = np.concatenate([fx, fy], axis=-1)
    principal_point = rng.uniform(120.0, 400.0, batch + (2,))
    return focal, principal_point


def _points(rng: np.random.Generator, batch: tuple[int, ...]) -> np.ndarray:
    xy = rng.uniform(-2.0, 2.0, batch + (2,))
    z = rng.uniform(2.0, 8.0, batch + (1,))
    return np.concatenate([xy, z], axis=-1)


# --- perspective_project -----------------------------------------------------------------------

_PROJECT_HINT = (
    "Divide x and y by z first, then scale by the focal lengths and shift by the principal "
    "point: x' = fx * x / z + cx and y' = fy * y / z + cy; point_3d[..., :2] / point_3d[..., 2:] "
    "keeps the shapes broadcasting."
)


def _project_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (
            load_cube().astype(np.float64) + (0.0, 0.0, 5.0),
            np.array([100.0, 100.0]),
            np.array([256.0, 256.0]),
            "the course's cube moved to z = 5, focal (100, 100), principal point (256, 256)",
        )
    ]
    focal, principal_point = _intrinsics(rng, ())
    settings.append((_points(rng, (6,)), focal, principal_point, "6 points, one camera"))
    focal, principal_point = _intrinsics(rng, (2, 1))
    settings.append(
        (_points(rng, (2, 4)), focal, principal_point, "points [2, 4, 3], one camera per row")
    )
    focal, principal_point = _intrinsics(rng, ())
    settings.append((_points(rng, ()), focal, principal_point, "a single point of shape [3]"))
    focal, principal_point = _intrinsics(rng, ())
    settings.append(
        (
            _points(rng, (5,)).astype(np.float32),
            focal.astype(np.float32),
            principal_point.astype(np.float32),
            "float32 inputs, 5 points",
        )
    )
    return reference_cases(settings, perspective.project, hint=_PROJECT_HINT, rtol=1e-4, atol=1e-3)


_PROJECT_MISTAKES = {
    "the pixels are not divided by z: a pinhole camera divides x and y by the depth": (
        lambda p, f, c: f * p[..., :2] + c
    ),
    "the principal point was added before scaling by the focal length: it is in pixels, add it "
    "after, fx * x / z + cx": lambda p, f, c: f * (p[..., :2] / p[..., 2:] + c),
    "fx and fy are swapped: fx scales x and fy scales y": (
        lambda p, f, c: f[..., ::-1] * p[..., :2] / p[..., 2:] + c
    ),
    "the principal point is missing: add (cx, cy) after scaling": (
        lambda p, f, c: f * p[..., :2] / p[..., 2:]
    ),
    "the principal point was subtracted: add it": lambda p, f, c: f * p[..., :2] / p[..., 2:] - c,
    "the points were multiplied by z instead of divided by it": (
        lambda p, f, c: f * p[..., :2] * p[..., 2:] + c
    ),
    "three coordinates were returned: keep only the pixel (x', y'), drop the homogeneous 1 or z": (
        lambda p, f, c: np.concatenate(
            [f * p[..., :2] / p[..., 2:] + c, np.ones_like(p[..., 2:])], axis=-1
        )
    ),
}

PERSPECTIVE_PROJECT = define(
    TOPIC,
    "perspective_project",
    _project_cases,
    mistakes=_PROJECT_MISTAKES,
    title="The pinhole camera: project 3-D points to pixels",
    references=[perspective.project],
)


# --- perspective_unproject ---------------------------------------------------------------------

_UNPROJECT_HINT = (
    "Undo the projection step by step: subtract the principal point, divide by the focal "
    "length, multiply by the depth, and append the depth as z: "
    "[(x' - cx) / fx * z, (y' - cy) / fy * z, z] (tf.concat or np.concatenate on the last axis)."
)


def _unproject_cases(rng: np.random.Generator) -> list[Case]:
    cube = load_cube().astype(np.float64) + (0.0, 0.0, 5.0)
    focal, principal_point = np.array([100.0, 100.0]), np.array([256.0, 256.0])
    settings = [
        (
            perspective.project(cube, focal, principal_point).numpy(),
            cube[:, 2:],
            focal,
            principal_point,
            "the course's cube, projected with focal (100, 100), principal point (256, 256)",
        )
    ]
    focal, principal_point = _intrinsics(rng, ())
    pixel = rng.uniform(0.0, 640.0, (6, 2))
    settings.append((pixel, rng.uniform(1.0, 9.0, (6, 1)), focal, principal_point, "6 pixels"))
    focal, principal_point = _intrinsics(rng, (2, 1))
    pixel = rng.uniform(0.0, 640.0, (2, 3, 2))
    depth = rng.uniform(1.0, 9.0, (2, 3, 1))
    settings.append((pixel, depth, focal, principal_point, "pixels [2, 3, 2], one camera per row"))
    focal, principal_point = _intrinsics(rng, ())
    pixel = rng.uniform(0.0, 640.0, (2,))
    settings.append(
        (pixel, rng.uniform(1.0, 9.0, (1,)), focal, principal_point, "a single pixel of shape [2]")
    )
    focal, principal_point = _intrinsics(rng, ())
    settings.append(
        (
            rng.uniform(0.0, 640.0, (5, 2)).astype(np.float32),
            rng.uniform(1.0, 9.0, (5, 1)).astype(np.float32),
            focal.astype(np.float32),
            principal_point.astype(np.float32),
            "float32 inputs, 5 pixels",
        )
    )
    return reference_cases(
        settings, perspective.unproject, hint=_UNPROJECT_HINT, rtol=1e-4, atol=1e-4
    )


def _with_depth(xy: np.ndarray, depth: np.ndarray) -> np.ndarray:
    return np.concatenate([xy, np.broadcast_to(depth, xy.shape[:-1] + (1,))], axis=-1)


_UNPROJECT_MISTAKES = {
    "the depth is missing as the third coordinate: append it, [x, y, z]": (
        lambda p, d, f, c: (p - c) / f * d
    ),
    "multiplied by the focal length instead of dividing by it: projecting multiplies by f, "
    "so unprojecting divides": lambda p, d, f, c: _with_depth((p - c) * f * d, d),
    "the principal point was not subtracted: (x' - cx) / fx * z": (
        lambda p, d, f, c: _with_depth(p / f * d, d)
    ),
    "x and y are not multiplied by the depth: (x' - cx) / fx is the ray at z = 1": (
        lambda p, d, f, c: _with_depth((p - c) / f, d)
    ),
    "divided by the depth instead of multiplying by it: projecting divides by z, so "
    "unprojecting multiplies": lambda p, d, f, c: _with_depth((p - c) / f / d, d),
    "the principal point was subtracted after dividing by the focal length: subtract it first, "
    "(x' - cx) / fx": lambda p, d, f, c: _with_depth((p / f - c) * d, d),
    "fx and fy are swapped: x' goes with fx and y' with fy": (
        lambda p, d, f, c: _with_depth((p - c) / f[..., ::-1] * d, d)
    ),
}

PERSPECTIVE_UNPROJECT = define(
    TOPIC,
    "perspective_unproject",
    _unproject_cases,
    mistakes=_UNPROJECT_MISTAKES,
    title="Back from pixels: unproject with a known depth",
    references=[perspective.unproject, perspective.ray],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (PERSPECTIVE_PROJECT, PERSPECTIVE_UNPROJECT)
