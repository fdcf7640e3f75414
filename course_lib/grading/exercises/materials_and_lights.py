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

import numpy as np

from course_lib.grading.cases import reference_cases
from course_lib.grading.exercise import Case, define
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


def _random_description(count: int, channels: int) -> str:
    return (
        f"{count} random unit vectors (half of them above the horizon), "
        f"albedo with {channels} channel(s)"
    )


def _blinn_phong_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (
            *_course_listing(),
            np.array([0.5]),
            np.array([1.0, 1.0, 1.0]),
            "the course's listing: normal (0, 1, 0), shininess 0.5, white",
        )
    ]
    for count, channels, top in ((8, 3, 8.0), (12, 3, 60.0), (8, 1, 20.0)):
        incoming, outgoing, normal = _directions(rng, count)
        shininess = rng.uniform(1.0, top, (count, 1))
        albedo = rng.uniform(0.1, 1.0, (count, channels))
        settings.append(
            (incoming, outgoing, normal, shininess, albedo, _random_description(count, channels))
        )
    settings.append(
        (
            *_directions(rng, 4),
            np.array([10.0]),
            np.array([0.9, 0.5, 0.2]),
            "4 configurations sharing one shininess [1] and one albedo [3]",
        )
    )
    return reference_cases(settings, blinn_phong.brdf, hint=_BLINN_PHONG_HINT, rtol=1e-4, atol=1e-6)


def _lobe(cosine: np.ndarray, shininess: np.ndarray) -> np.ndarray:
    return np.maximum(cosine, 0.0) ** shininess


def _normalization(shininess: np.ndarray) -> np.ndarray:
    return (shininess + 8.0) / (8.0 * np.pi)


def _half_lobe(incoming, outgoing, normal, shininess, light_sign=-1.0) -> np.ndarray:
    """``max(n . h, 0)^s`` with ``h = normalize(light_sign * incoming + outgoing)``."""
    return _lobe(_dot(normal, _unit(light_sign * incoming + outgoing)), shininess)


def _phong_lobe(incoming, outgoing, normal, shininess) -> np.ndarray:
    mirror = incoming - 2.0 * _dot(incoming, normal) * normal
    return _lobe(_dot(mirror, outgoing), shininess)


def _where_visible(incoming, outgoing, normal, value) -> np.ndarray:
    return np.where(_visible(incoming, outgoing, normal), value, 0.0)


_BLINN_PHONG_MISTAKES = {
    "the half vector uses the incoming direction: it points toward the surface, so the "
    "direction to the light is l = -direction_incoming_light, and h = normalize(l + v)": (
        lambda i, o, n, s, a: _where_visible(
            i, o, n, a * _normalization(s) * _half_lobe(i, o, n, s, light_sign=1.0)
        )
    ),
    "nothing is zeroed below the horizon: return 0 where n . l <= 0 or n . v <= 0 "
    "(l = -direction_incoming_light)": (
        lambda i, o, n, s, a: a * _normalization(s) * _half_lobe(i, o, n, s)
    ),
    "only the light is checked: the value is also 0 where the viewer is below the "
    "surface (n . v <= 0)": (
        lambda i, o, n, s, a: np.where(
            _dot(n, -i) > 0, a * _normalization(s) * _half_lobe(i, o, n, s), 0.0
        )
    ),
    "that is Phong's lobe (the reflection vector r . v): Blinn-Phong uses n . h with the "
    "half vector h = normalize(l + v)": (
        lambda i, o, n, s, a: _where_visible(
            i, o, n, a * _normalization(s) * _phong_lobe(i, o, n, s)
        )
    ),
    "that is the Phong BRDF: Blinn-Phong uses n . h with the half vector and the factor "
    "(s + 8) / (8 pi)": (
        lambda i, o, n, s, a: _where_visible(
            i, o, n, a * (s + 2.0) / (2.0 * np.pi) * _phong_lobe(i, o, n, s)
        )
    ),
    "the normalization is missing: multiply by (shininess + 8) / (8 pi)": (
        lambda i, o, n, s, a: _where_visible(i, o, n, a * _half_lobe(i, o, n, s))
    ),
}


BLINN_PHONG_BRDF = define(
    TOPIC,
    "blinn_phong_brdf",
    _blinn_phong_cases,
    mistakes=_BLINN_PHONG_MISTAKES,
    title="The energy-normalized Blinn-Phong BRDF",
    references=[blinn_phong.brdf],
)


# --- lambertian_brdf --------------------------------------------------------------------------

_LAMBERTIAN_HINT = (
    "Return albedo / pi where the light and the viewer are both above the surface "
    "(n . l > 0 and n . v > 0, with l = -direction_incoming_light), else 0."
)


def _lambertian_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (
            *_course_listing(),
            np.array([1.0, 1.0, 1.0]),
            "the course's listing: normal (0, 1, 0), albedo (1, 1, 1)",
        )
    ]
    for count, channels in ((8, 3), (10, 3), (6, 2)):
        incoming, outgoing, normal = _directions(rng, count)
        albedo = rng.uniform(0.1, 1.0, (count, channels))
        settings.append((incoming, outgoing, normal, albedo, _random_description(count, channels)))
    return reference_cases(settings, lambertian.brdf, hint=_LAMBERTIAN_HINT, rtol=1e-4, atol=1e-6)


def _everywhere(incoming: np.ndarray, albedo: np.ndarray) -> np.ndarray:
    """``albedo`` at every direction, zeroed nowhere."""
    return np.broadcast_to(
        albedo, np.broadcast_shapes(albedo.shape, _dot(incoming, incoming).shape)
    )


_LAMBERTIAN_MISTAKES = {
    "the 1/pi is missing: the Lambertian BRDF is albedo / pi": (
        lambda i, o, n, a: _where_visible(i, o, n, a)
    ),
    "nothing is zeroed below the horizon: return 0 where n . l <= 0 or n . v <= 0": (
        lambda i, o, n, a: _everywhere(i, a / np.pi)
    ),
    "the 1/pi is missing and nothing is zeroed below the horizon": (
        lambda i, o, n, a: _everywhere(i, a)
    ),
    "only the light is checked: the value is also 0 where the viewer is below the "
    "surface (n . v <= 0)": lambda i, o, n, a: np.where(_dot(n, -i) > 0, a / np.pi, 0.0),
    "the light's side is flipped: direction_incoming_light points toward the surface, "
    "so the light is above when n . (-direction_incoming_light) > 0": (
        lambda i, o, n, a: np.where(_dot(n, i) > 0, a / np.pi, 0.0) * (_dot(n, o) > 0)
    ),
    "the cosine n . l belongs to the shading, not to the BRDF: return albedo / pi": (
        lambda i, o, n, a: _where_visible(i, o, n, a / np.pi * np.maximum(_dot(n, -i), 0.0))
    ),
}


LAMBERTIAN_BRDF = define(
    TOPIC,
    "lambertian_brdf",
    _lambertian_cases,
    mistakes=_LAMBERTIAN_MISTAKES,
    title="The Lambertian BRDF",
    references=[lambertian.brdf],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (BLINN_PHONG_BRDF, LAMBERTIAN_BRDF)
