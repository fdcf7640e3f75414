"""Exercises of the chapter "Interpolation" (book/part2/04_interpolation).

- ``slerp(q1, q2, t)``: spherical linear interpolation of unit quaternions `[..., 4]` with
  `[..., 1]` percents, on the shorter path;
- ``cubic_bspline_weights(t)``: the four uniform cubic B-spline weights `[..., 4]` of a segment
  at local parameters ``t`` in [0, 1).

Expected answers come from ``course_lib.graphics.math.interpolation`` on inputs drawn from the
seeded generator.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading.cases import Mistake, not_finite, other_shape, reference_cases
from course_lib.grading.exercise import Case, define
from course_lib.graphics.math.interpolation import bspline
from course_lib.graphics.math.interpolation import slerp as slerp_lib

TOPIC = "interpolation"


# --- slerp ------------------------------------------------------------------------------------

_SLERP_HINT = (
    "cos(Omega) = q1 . q2 (after flipping q2 when the dot is negative), then "
    "sin((1 - t) Omega) / sin(Omega) * q1 + sin(t Omega) / sin(Omega) * q2; "
    "use (1 - t) q1 + t q2 where sin(Omega) is tiny."
)


def _unit_quaternions(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _with_dot_sign(q1: np.ndarray, q2: np.ndarray, sign: float) -> np.ndarray:
    """``q2`` with its sign chosen so that every ``q1 . q2`` has the sign ``sign``."""
    return q2 * np.where(np.sum(q1 * q2, axis=-1, keepdims=True) * sign < 0, -1.0, 1.0)


def _slerp_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    q1, q2 = _unit_quaternions(rng, 2)
    q2 = _with_dot_sign(q1, q2, 1.0)
    settings.append((q1, q2, np.array([rng.uniform(0.2, 0.8)]), "one pair, positive dot"))
    q1, q2 = _unit_quaternions(rng, 6), _unit_quaternions(rng, 6)
    q2 = _with_dot_sign(q1, q2, 1.0)
    t = rng.uniform(0.0, 1.0, (6, 1))
    settings.append((q1, q2, t, "a batch of 6 pairs, positive dots"))
    q1, q2 = _unit_quaternions(rng, 5), _unit_quaternions(rng, 5)
    q2 = _with_dot_sign(q1, q2, -1.0)
    t = rng.uniform(0.1, 0.9, (5, 1))
    settings.append((q1, q2, t, "5 pairs with NEGATIVE dots (the shorter path flips q2)"))
    q1, q2 = _unit_quaternions(rng, 1), _unit_quaternions(rng, 1)
    q1, q2 = np.repeat(q1, 5, 0), np.repeat(_with_dot_sign(q1, q2, 1.0), 5, 0)
    settings.append((q1, q2, np.linspace(0.0, 1.0, 5)[:, None], "t = 0, 0.25, ..., 1"))
    q1 = _unit_quaternions(rng, 3)
    q2 = np.concatenate([q1[:2], -q1[2:]]) + np.array([[0.0], [2e-9], [0.0]])
    q2 /= np.linalg.norm(q2, axis=-1, keepdims=True)
    settings.append((q1, q2, rng.uniform(0.0, 1.0, (3, 1)), "q2 = q1 (or -q1): sin(Omega) = 0"))
    return reference_cases(settings, slerp_lib.interpolate, hint=_SLERP_HINT, rtol=1e-4, atol=1e-6)


def _slerp_formula(q1: np.ndarray, q2: np.ndarray, t: np.ndarray, omega: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return (np.sin((1.0 - t) * omega) * q1 + np.sin(t * omega) * q2) / np.sin(omega)


def _dot(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    return np.sum(q1 * q2, axis=-1, keepdims=True)


def _shorter(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """``q2``, flipped where the dot is negative: the shorter path."""
    return np.where(_dot(q1, q2) < 0, -q2, q2)


def _angle(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Omega, the angle between ``q1`` and ``q2``, as given (no flip)."""
    return np.arccos(np.clip(_dot(q1, q2), -1.0, 1.0))


def _lerp(q1: np.ndarray, q2: np.ndarray, t: np.ndarray, normalized: bool = False) -> np.ndarray:
    linear = (1.0 - t) * q1 + t * q2
    return linear / np.linalg.norm(linear, axis=-1, keepdims=True) if normalized else linear


def _same_shape_not_finite(have: np.ndarray, case: Case) -> bool:
    return not other_shape(have, case) and not_finite(have, case)


def _slerp_variant(q1, q2, t, shorter: bool = True, angle=lambda omega: omega) -> np.ndarray:
    """The slerp formula (no fallback), on the shorter path or not, with ``angle(Omega)``."""
    target = _shorter(q1, q2) if shorter else q2
    return _slerp_formula(q1, target, t, angle(_angle(q1, target)))


_SLERP_MISTAKES = {
    "NaN or Inf: when q1 and q2 are (nearly) the same rotation, sin(Omega) is 0 and "
    "the division blows up; fall back to (1 - t) q1 + t q2 when sin(Omega) is tiny": Mistake(
        _slerp_variant, match=_same_shape_not_finite
    ),
    "the long way round: when q1 . q2 < 0, flip q2 (q2 = -q2, dot = -dot) to take the "
    "shorter path; q2 and -q2 are the same rotation": (
        lambda q1, q2, t: _slerp_variant(q1, q2, t, shorter=False)
    ),
    "the sign is flipped: flip q2, not q1, when the dot is negative, so that t = 0 "
    "gives q1 itself": Mistake(lambda case: -case.expected, uses="case"),
    "that is lerp, the straight chord: its points are not unit quaternions; slerp "
    "weighs q1 and q2 with sin((1 - t) Omega) / sin(Omega) and sin(t Omega) / "
    "sin(Omega)": Mistake(
        lambda q1, q2, t: _lerp(q1, _shorter(q1, q2), t), lambda q1, q2, t: _lerp(q1, q2, t)
    ),
    "that is normalized lerp: the right path but not at constant speed; use the "
    "sin weights of slerp": Mistake(
        lambda q1, q2, t: _lerp(q1, _shorter(q1, q2), t, normalized=True),
        lambda q1, q2, t: _lerp(q1, q2, t, normalized=True),
    ),
    "the angle is in degrees: np.arccos returns radians and np.sin expects them, so "
    "do not convert": Mistake(
        lambda q1, q2, t: _slerp_variant(q1, q2, t, angle=np.degrees),
        lambda q1, q2, t: _slerp_variant(q1, q2, t, shorter=False, angle=np.degrees),
    ),
    "Omega is the angle between the quaternions, arccos(q1 . q2), not the rotation "
    "angle 2 arccos(q1 . q2)": (
        lambda q1, q2, t: _slerp_variant(q1, q2, t, angle=lambda omega: 2.0 * omega)
    ),
    "the weights are swapped: t = 0 must give q1 and t = 1 give q2": (
        lambda q1, q2, t: _slerp_variant(q1, q2, 1.0 - t)
    ),
}


SLERP = define(
    TOPIC,
    "slerp",
    _slerp_cases,
    mistakes=_SLERP_MISTAKES,
    title="Spherical linear interpolation of rotations, on the shorter path",
    references=[slerp_lib.interpolate, slerp_lib.quaternion_weights],
)


# --- cubic_bspline_weights --------------------------------------------------------------------

_CUBIC_HINT = (
    "The weights of knots s, s + 1, s + 2, s + 3 are (1 - t)^3 / 6, (3t^3 - 6t^2 + 4) / 6, "
    "(-3t^3 + 3t^2 + 3t + 1) / 6 and t^3 / 6, stacked on a new last axis."
)


def _cubic_expected(t: np.ndarray) -> np.ndarray:
    # On the first segment of a 4-knot open cubic spline, the knot weights are the local ones.
    return bspline.knot_weights(np.asarray(t, np.float64), 4, 3, cyclical=False).numpy()


def _cubic_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (np.float64(0.0), "t = 0 (a scalar): the weights are [1/6, 4/6, 1/6, 0]"),
        (np.float64(rng.uniform(0.1, 0.9)), "one t (a scalar)"),
        (rng.uniform(0.0, 1.0, 7), "7 values of t, shape [7]"),
        (rng.uniform(0.0, 1.0, (3, 4)), "a grid of t, shape [3, 4]"),
        (np.linspace(0.0, 0.95, 5), "t = 0, ..., 0.95, shape [5]"),
    ]
    return reference_cases(settings, _cubic_expected, hint=_CUBIC_HINT, rtol=1e-4, atol=1e-6)


def _bernstein(t: np.ndarray) -> np.ndarray:
    s = 1.0 - t
    return np.stack([s**3, 3.0 * t * s * s, 3.0 * t * t * s, t**3], axis=-1)


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """The hint's four weights, ``[..., 4]``."""
    return (
        np.stack(
            [(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3], axis=-1
        )
        / 6.0
    )


def _sums_not_one(have: np.ndarray, case: Case) -> bool:
    return not other_shape(have, case) and not np.allclose(
        have.sum(axis=-1), 1.0, rtol=1e-4, atol=1e-6
    )


def _first_sum(have: np.ndarray, case: Case) -> dict[str, float]:
    return {"sum": float(have.sum(axis=-1).ravel()[0])}


_CUBIC_MISTAKES = {
    "the four weights go on the LAST axis: np.stack(..., axis=-1)": Mistake(
        lambda t: np.moveaxis(_cubic_weights(t), -1, 0), match="shape"
    ),
    "the order is reversed: the first weight, (1 - t)^3 / 6, belongs to the first knot "
    "of the segment and the last, t^3 / 6, to the fourth": lambda t: _cubic_weights(t)[..., ::-1],
    "those are the Bernstein weights of a Bezier curve; the B-spline's are the "
    "(1 - t)^3 / 6, ... of the hint": _bernstein,
    "the weights must sum to 1 for every t, but yours sum to {sum:.4g}: every weight is "
    "divided by 6": Mistake(
        lambda t: 6.0 * _cubic_weights(t),
        match=lambda have, case: (
            _sums_not_one(have, case)
            and np.allclose(have, 6.0 * case.expected, rtol=1e-4, atol=1e-6)
        ),
        fields=_first_sum,
    ),
    "the weights must sum to 1 for every t, but yours sum to {sum:.4g}": Mistake(
        lambda t: _cubic_weights(t) * [6.0, 1.0, 1.0, 1.0], match=_sums_not_one, fields=_first_sum
    ),
}


CUBIC_BSPLINE_WEIGHTS = define(
    TOPIC,
    "cubic_bspline_weights",
    _cubic_cases,
    mistakes=_CUBIC_MISTAKES,
    title="The four weights of a uniform cubic B-spline segment",
    references=[bspline.knot_weights, bspline.basis],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (SLERP, CUBIC_BSPLINE_WEIGHTS)
