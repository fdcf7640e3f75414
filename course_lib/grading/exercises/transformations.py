"""Exercises of the chapter "Rotations" (book/part2/01_transformations).

- ``rotate(point, axis, angle)``: Rodrigues' axis-angle rotation, as
  ``course_lib.graphics.geometry.transformation.axis_angle.rotate``;
- ``multiply(quaternion1, quaternion2)``: the Hamilton product of quaternions stored
  ``[x, y, z, w]``, as ``quaternion.multiply``.

Expected answers come from ``course_lib.graphics`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.data import load_cube
from course_lib.grading.cases import Mistake, reference_cases
from course_lib.grading.exercise import Case, define
from course_lib.graphics.geometry.transformation import axis_angle, quaternion

TOPIC = "transformations"
RTOL, ATOL = 1e-4, 1e-5


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    axis = rng.normal(size=(n, 3))
    return (axis / np.linalg.norm(axis, axis=-1, keepdims=True)).astype(np.float32)


def _format(values: Any) -> str:
    return np.array2string(np.asarray(values), precision=3, separator=", ", suppress_small=True)


# --- axis_angle_rotate ------------------------------------------------------------------------

_ROTATE_HINT = (
    "Rodrigues: p' = p cos(a) + (axis x p) sin(a) + axis (axis . p) (1 - cos(a)), with the "
    "angle in radians and the dot product kept as [..., 1] (keepdims) so it broadcasts."
)


def _rotate(point: Any, axis: Any, angle: Any) -> np.ndarray:
    return axis_angle.rotate(point, axis, angle).numpy()


def _rotate_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (load_cube(), np.array([0, 1, 0], np.float32), np.array([np.pi / 4], np.float32),
         "the course's cube, axis=[0, 1, 0], angle=pi/4"),
        (np.array([1, 2, 3], np.float32), np.array([0, 0, 1], np.float32),
         np.array([np.pi / 2], np.float32), "point=[1, 2, 3], axis=[0, 0, 1], angle=pi/2"),
    ]  # fmt: skip
    n = int(rng.integers(4, 9))
    settings.append(
        (
            rng.normal(size=(n, 3)).astype(np.float32),
            _unit(rng, n),
            rng.uniform(-np.pi, np.pi, (n, 1)).astype(np.float32),
            f"{n} points, each with its own random axis and angle",
        )
    )
    n = int(rng.integers(5, 12))
    angle = float(rng.uniform(0.3, 2.5))
    settings.append(
        (
            rng.normal(size=(n, 3)).astype(np.float32),
            _unit(rng, 1)[0],
            np.array([angle], np.float32),
            f"{n} points, one axis and one angle ({angle:.3f} rad) for all of them",
        )
    )
    settings.append(
        (
            rng.normal(size=(3, 3)).astype(np.float32),
            _unit(rng, 3),
            np.array([[np.pi], [-np.pi / 2], [0.0]], np.float32),
            "half a turn, a quarter turn backwards, and no turn at all",
        )
    )
    return reference_cases(settings, _rotate, hint=_ROTATE_HINT, rtol=RTOL, atol=ATOL)


def _rodrigues_without_along(point: np.ndarray, axis: np.ndarray, angle: np.ndarray):
    """``p cos(a) + (axis x p) sin(a)``: Rodrigues' formula without its term along the axis."""
    cross = np.cross(np.broadcast_to(axis, np.broadcast_shapes(axis.shape, point.shape)), point)
    return point * np.cos(angle) + cross * np.sin(angle)


def _along(point: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return axis * np.sum(axis * point, axis=-1, keepdims=True)


_ROTATE_MISTAKES = {
    "you rotated the wrong way: the cross term is axis x point, not point x axis": (
        lambda point, axis, angle: _rotate(point, axis, -angle)
    ),
    "the angle is already in radians: pass it to cos and sin unchanged": Mistake(
        lambda point, axis, angle: _rotate(point, axis, np.radians(angle)),
        lambda point, axis, angle: _rotate(point, axis, np.degrees(angle)),
    ),
    "the term along the axis is axis (axis . point) (1 - cos(angle)): the (1 - cos) "
    "factor is missing": (
        lambda point, axis, angle: (
            _rodrigues_without_along(point, axis, angle) + _along(point, axis)
        )
    ),
    "the component along the axis is lost: add axis (axis . point) (1 - cos(angle))": (
        _rodrigues_without_along
    ),
}


AXIS_ANGLE_ROTATE = define(
    TOPIC,
    "axis_angle_rotate",
    _rotate_cases,
    mistakes=_ROTATE_MISTAKES,
    title="Rodrigues' formula: rotate points about an axis",
    target="rotate",
    references=[axis_angle.rotate],
)


# --- quaternion_multiply ----------------------------------------------------------------------

_MULTIPLY_HINT = (
    "With q = [v, w] (vector part first, scalar last): q1 q2 = [w1 v2 + w2 v1 + v1 x v2, "
    "w1 w2 - v1 . v2]."
)


def _multiply(q1: Any, q2: Any) -> np.ndarray:
    return quaternion.multiply(q1, q2).numpy()


def _multiply_cases(rng: np.random.Generator) -> list[Case]:
    i, j = np.array([1, 0, 0, 0], np.float32), np.array([0, 1, 0, 0], np.float32)
    settings = [(i, j, "i * j (= k)")]
    q = rng.normal(size=4).astype(np.float32)
    settings.append((np.array([0, 0, 0, 1], np.float32), q, "the identity times a quaternion"))
    n = int(rng.integers(4, 9))
    for description in ("unit quaternions", "quaternions of any length"):
        q1 = rng.normal(size=(n, 4))
        q2 = rng.normal(size=(n, 4))
        if description == "unit quaternions":
            q1 /= np.linalg.norm(q1, axis=-1, keepdims=True)
            q2 /= np.linalg.norm(q2, axis=-1, keepdims=True)
        settings.append((q1.astype(np.float32), q2.astype(np.float32), f"{n} {description}"))
    half = np.array([0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8)], np.float32)
    settings.append((half, half, "45 degrees about z, twice (= 90 degrees about z)"))
    return reference_cases(settings, _multiply, hint=_MULTIPLY_HINT, rtol=RTOL, atol=ATOL)


def _scalar_first_product(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """The product a learner gets by reading (and writing) quaternions as [w, x, y, z]."""
    return np.roll(_multiply(np.roll(q1, -1, axis=-1), np.roll(q2, -1, axis=-1)), 1, axis=-1)


def _plus_dot_product(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """The Hamilton product with ``w1 w2 + v1 . v2`` as its scalar part."""
    v1, w1, v2, w2 = q1[..., :3], q1[..., 3:], q2[..., :3], q2[..., 3:]
    plus_dot = w1 * w2 + np.sum(v1 * v2, axis=-1, keepdims=True)
    return np.concatenate([w1 * v2 + w2 * v1 + np.cross(v1, v2), plus_dot], -1)


_MULTIPLY_MISTAKES = {
    "that is q2 q1: the cross term is v1 x v2, not v2 x v1, because the product is "
    "not commutative": lambda q1, q2: _multiply(q2, q1),
    "the quaternions were read as [w, x, y, z]: here they are stored [x, y, z, w], "
    "scalar last": _scalar_first_product,
    "the result is stored [w, x, y, z]: return [x, y, z, w], scalar last": (
        lambda q1, q2: np.roll(_multiply(q1, q2), 1, axis=-1)
    ),
    "the scalar part is w1 w2 MINUS v1 . v2": _plus_dot_product,
}


QUATERNION_MULTIPLY = define(
    TOPIC,
    "quaternion_multiply",
    _multiply_cases,
    mistakes=_MULTIPLY_MISTAKES,
    title="The Hamilton product of two quaternions [x, y, z, w]",
    target="multiply",
    references=[quaternion.multiply],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (AXIS_ANGLE_ROTATE, QUATERNION_MULTIPLY)
