"""Exercises of the chapter "Materials and lights" (book/part2/03_materials_and_lights).

- ``blinn_phong_brdf(direction_incoming_light, direction_outgoing_light, surface_normal,
  shininess, albedo)``: the energy-normalized Blinn-Phong BRDF,
  ``albedo (s + 8) / (8 pi) max(n . h, 0)^s``, zero below the horizon;
- ``lambertian_brdf(direction_incoming_light, direction_outgoing_light, surface_normal,
  albedo)``: ``albedo / pi``, zero below the horizon.

Expected answers come from ``course_lib.graphics.rendering.reflectance`` on unit vectors drawn
from the seeded generator; half of each batch has the light and the viewer above the surface, the
other half has one of them below (so below-horizon mistakes show).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.grading.check import compare_values, float_array, matches
from course_lib.grading.exercise import Case, Exercise, register
from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian

TOPIC = "materials_and_lights"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1, keepdims=True)


def _directions(rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
    """Unit (incoming, outgoing, normal): half with the light and the viewer above the surface,
    a quarter with the light below (viewer above), a quarter with the viewer below."""
    normal = _unit(rng.normal(size=(count, 3)))
    to_light = _unit(rng.normal(size=(count, 3)))
    outgoing = _unit(rng.normal(size=(count, 3)))
    light_side = np.ones((count, 1))
    view_side = np.ones((count, 1))
    light_side[count // 2 : 3 * count // 4] = -1.0
    view_side[3 * count // 4 :] = -1.0
    to_light *= np.sign(_dot(normal, to_light)) * light_side
    outgoing *= np.sign(_dot(normal, outgoing)) * view_side
    return -to_light, outgoing, normal


def _course_listing() -> tuple[np.ndarray, ...]:
    """The course's listing, corrected: the camera in the mirror direction of the light."""
    incoming = _unit(np.array([100.0, -100.0, 0.0]))
    outgoing = _unit(np.array([256.0, 256.0, 0.0]))
    return incoming, outgoing, np.array([0.0, 1.0, 0.0])


def _visible(incoming: np.ndarray, outgoing: np.ndarray, normal: np.ndarray) -> np.ndarray:
    return (_dot(normal, -incoming) > 0) & (_dot(normal, outgoing) > 0)


# --- blinn_phong_brdf -------------------------------------------------------------------------

_BLINN_PHONG_HINT = (
    "l = -direction_incoming_light is the direction TO the light; h = (l + v) / |l + v|; "
    "return albedo * (s + 8) / (8 pi) * max(n . h, 0) ** s, and 0 where n . l <= 0 or n . v <= 0."
)


def _blinn_phong_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    incoming, outgoing, normal = _course_listing()
    cases.append(
        Case(
            description="the course's listing: normal (0, 1, 0), shininess 0.5, white",
            args=(incoming, outgoing, normal, np.array([0.5]), np.array([1.0, 1.0, 1.0])),
        )
    )
    for count, channels, top in ((8, 3, 8.0), (12, 3, 60.0), (8, 1, 20.0)):
        incoming, outgoing, normal = _directions(rng, count)
        shininess = rng.uniform(1.0, top, (count, 1))
        albedo = rng.uniform(0.1, 1.0, (count, channels))
        cases.append(
            Case(
                description=f"{count} random unit vectors (half of them above the horizon), "
                f"albedo with {channels} channel(s)",
                args=(incoming, outgoing, normal, shininess, albedo),
            )
        )
    incoming, outgoing, normal = _directions(rng, 4)
    cases.append(
        Case(
            description="4 configurations sharing one shininess [1] and one albedo [3]",
            args=(incoming, outgoing, normal, np.array([10.0]), np.array([0.9, 0.5, 0.2])),
        )
    )
    for case in cases:
        case.expected = blinn_phong.brdf(*case.args).numpy()
        case.hint = _BLINN_PHONG_HINT
        case.rtol, case.atol = 1e-4, 1e-6
    return cases


def _blinn_phong_mistakes(args: tuple) -> list[tuple[np.ndarray, str]]:
    incoming, outgoing, normal, shininess, albedo = (np.asarray(a, np.float64) for a in args)
    visible = _visible(incoming, outgoing, normal)
    norm = (shininess + 8.0) / (8.0 * np.pi)

    def lobe(cosine: np.ndarray) -> np.ndarray:
        return np.maximum(cosine, 0.0) ** shininess

    right = albedo * norm * lobe(_dot(normal, _unit(-incoming + outgoing)))
    wrong_half = albedo * norm * lobe(_dot(normal, _unit(incoming + outgoing)))
    mirror = incoming - 2.0 * _dot(incoming, normal) * normal
    phong_lobe = albedo * norm * lobe(_dot(mirror, outgoing))
    phong_normalized = albedo * (shininess + 2.0) / (2.0 * np.pi) * lobe(_dot(mirror, outgoing))
    return [
        (
            np.where(visible, wrong_half, 0.0),
            "the half vector uses the incoming direction: it points toward the surface, so the "
            "direction to the light is l = -direction_incoming_light, and h = normalize(l + v)",
        ),
        (
            right,
            "nothing is zeroed below the horizon: return 0 where n . l <= 0 or n . v <= 0 "
            "(l = -direction_incoming_light)",
        ),
        (
            np.where(_dot(normal, -incoming) > 0, right, 0.0),
            "only the light is checked: the value is also 0 where the viewer is below the "
            "surface (n . v <= 0)",
        ),
        (
            np.where(visible, phong_lobe, 0.0),
            "that is Phong's lobe (the reflection vector r . v): Blinn-Phong uses n . h with the "
            "half vector h = normalize(l + v)",
        ),
        (
            np.where(visible, phong_normalized, 0.0),
            "that is the Phong BRDF: Blinn-Phong uses n . h with the half vector and the factor "
            "(s + 8) / (8 pi)",
        ),
        (
            np.where(visible, albedo * lobe(_dot(normal, _unit(-incoming + outgoing))), 0.0),
            "the normalization is missing: multiply by (shininess + 8) / (8 pi)",
        ),
    ]


def _compare_blinn_phong(got: Any, case: Case) -> str | None:
    have = float_array(got)
    message = compare_values(got if have is None else have, case.expected, case.rtol, case.atol)
    if message is None or have is None:
        return message
    for candidate, hint in _blinn_phong_mistakes(case.args):
        if matches(have, candidate, case.rtol, case.atol):
            return f"{message} ({hint})"
    return message


register(
    Exercise(
        id=f"{TOPIC}.blinn_phong_brdf",
        target="blinn_phong_brdf",
        make_cases=_blinn_phong_cases,
        compare=_compare_blinn_phong,
        title="The energy-normalized Blinn-Phong BRDF",
    )
)


# --- lambertian_brdf --------------------------------------------------------------------------

_LAMBERTIAN_HINT = (
    "Return albedo / pi where the light and the viewer are both above the surface "
    "(n . l > 0 and n . v > 0, with l = -direction_incoming_light), else 0."
)


def _lambertian_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    incoming, outgoing, normal = _course_listing()
    cases.append(
        Case(
            description="the course's listing: normal (0, 1, 0), albedo (1, 1, 1)",
            args=(incoming, outgoing, normal, np.array([1.0, 1.0, 1.0])),
        )
    )
    for count, channels in ((8, 3), (10, 3), (6, 2)):
        incoming, outgoing, normal = _directions(rng, count)
        albedo = rng.uniform(0.1, 1.0, (count, channels))
        cases.append(
            Case(
                description=f"{count} random unit vectors (half of them above the horizon), "
                f"albedo with {channels} channel(s)",
                args=(incoming, outgoing, normal, albedo),
            )
        )
    for case in cases:
        case.expected = lambertian.brdf(*case.args).numpy()
        case.hint = _LAMBERTIAN_HINT
        case.rtol, case.atol = 1e-4, 1e-6
    return cases


def _compare_lambertian(got: Any, case: Case) -> str | None:
    have = float_array(got)
    message = compare_values(got if have is None else have, case.expected, case.rtol, case.atol)
    if message is None or have is None:
        return message
    incoming, outgoing, normal, albedo = (np.asarray(a, np.float64) for a in case.args)
    visible = _visible(incoming, outgoing, normal)
    cosine = np.maximum(_dot(normal, -incoming), 0.0)
    mistakes = [
        (np.where(visible, albedo, 0.0), "the 1/pi is missing: the Lambertian BRDF is albedo / pi"),
        (
            np.broadcast_to(albedo / np.pi, case.expected.shape),
            "nothing is zeroed below the horizon: return 0 where n . l <= 0 or n . v <= 0",
        ),
        (
            np.broadcast_to(albedo, case.expected.shape),
            "the 1/pi is missing and nothing is zeroed below the horizon",
        ),
        (
            np.where(_dot(normal, -incoming) > 0, albedo / np.pi, 0.0),
            "only the light is checked: the value is also 0 where the viewer is below the "
            "surface (n . v <= 0)",
        ),
        (
            np.where(_dot(normal, incoming) > 0, albedo / np.pi, 0.0)
            * (_dot(normal, outgoing) > 0),
            "the light's side is flipped: direction_incoming_light points toward the surface, "
            "so the light is above when n . (-direction_incoming_light) > 0",
        ),
        (
            np.where(visible, albedo / np.pi * cosine, 0.0),
            "the cosine n . l belongs to the shading, not to the BRDF: return albedo / pi",
        ),
    ]
    for candidate, hint in mistakes:
        if matches(have, candidate, case.rtol, case.atol):
            return f"{message} ({hint})"
    return message


register(
    Exercise(
        id=f"{TOPIC}.lambertian_brdf",
        target="lambertian_brdf",
        make_cases=_lambertian_cases,
        compare=_compare_lambertian,
        title="The Lambertian BRDF",
    )
)
