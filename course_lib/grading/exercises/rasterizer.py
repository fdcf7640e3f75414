"""Exercises of the chapter "A differentiable rasterizer" (book/part2/06_rasterizer).

- ``barycentric(point, a, b, c)``: screen-space barycentric coordinates ``[..., 3]`` of pixels
  with respect to triangles, the ratios of edge functions to the triangle's doubled area;
- ``edge_function_inside(point, a, b, c)``: the inside test ``[..., 1]`` (bool): all three edge
  functions ``>= 0`` or all ``<= 0``, edges included, for either winding;
- ``perspective_correct(barycentrics_2d, z)``: perspective-correct barycentrics
  ``(b_i / z_i) / sum_j (b_j / z_j)``.

Expected answers come from ``course_lib.graphics.rendering.barycentric`` on inputs drawn from
the seeded generator. Triangles come in both windings, and the inside test's pixels include
some that lie exactly on an edge or a vertex.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading.cases import reference_cases
from course_lib.grading.exercise import Case, define
from course_lib.graphics.rendering import barycentric as reference

TOPIC = "rasterizer"


def _edge(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``(b - a) x (p - a)``, z-component, ``[..., 1]``: the numbers mistakes are built from."""
    return (b[..., :1] - a[..., :1]) * (p[..., 1:] - a[..., 1:]) - (b[..., 1:] - a[..., 1:]) * (
        p[..., :1] - a[..., :1]
    )


def _edges(p, a, b, c):
    return np.concatenate([_edge(b, c, p), _edge(c, a, p), _edge(a, b, p)], axis=-1)


def _triangles(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Well-shaped random triangles (area bounded away from zero) in a 64-pixel image."""
    centre = rng.uniform(16.0, 48.0, batch + (1, 2))
    angles = rng.uniform(0.0, 2.0 * np.pi, batch + (1,)) + np.array([0.0, 2.1, 4.2])
    radius = rng.uniform(8.0, 16.0, batch + (3, 1))
    corners = centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    flip = rng.uniform(size=batch) < 0.5  # about half of them clockwise on screen
    corners[flip] = corners[flip][..., ::-1, :]
    return corners[..., 0, :], corners[..., 1, :], corners[..., 2, :]


def _points_near(rng: np.random.Generator, a, b, c) -> np.ndarray:
    """Points around the triangles: some inside, some outside."""
    weights = rng.uniform(-0.4, 1.0, a.shape[:-1] + (3,))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights[..., :1] * a + weights[..., 1:2] * b + weights[..., 2:] * c


# --- barycentric -------------------------------------------------------------------------------

_BARYCENTRIC_HINT = (
    "Each weight is the edge function of the opposite edge divided by the edge function of the "
    "whole triangle: w_a = edge(b, c, p) / edge(a, b, c), w_b = edge(c, a, p) / edge(a, b, c), "
    "w_c = edge(a, b, p) / edge(a, b, c), with edge(a, b, p) = (bx - ax)(py - ay) - "
    "(by - ay)(px - ax). Stack them on the last axis: [..., 3]."
)


def _barycentric_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (
            np.array([2.0, 1.0]),
            np.array([0.0, 0.0]),
            np.array([4.0, 0.0]),
            np.array([0.0, 4.0]),
            "point (2, 1) in the triangle (0, 0), (4, 0), (0, 4)",
        )
    ]
    a, b, c = _triangles(rng, (8,))
    settings.append((_points_near(rng, a, b, c), a, b, c, "8 points, 8 triangles of both windings"))
    a, b, c = _triangles(rng, (1,))
    point = rng.uniform(0.0, 64.0, (5, 2))
    settings.append((point, a, b, c, "5 pixels [5, 2] and one triangle [1, 2] (broadcasting)"))
    a, b, c = _triangles(rng, (2, 3))
    settings.append((_points_near(rng, a, b, c), a, b, c, "points and triangles [2, 3, 2]"))
    a, b, c = _triangles(rng, (4,))
    point = _points_near(rng, a, b, c)
    settings.append(
        (
            point.astype(np.float32),
            a.astype(np.float32),
            b.astype(np.float32),
            c.astype(np.float32),
            "float32 inputs, 4 points",
        )
    )
    return reference_cases(
        settings, reference.barycentric_2d, hint=_BARYCENTRIC_HINT, rtol=1e-4, atol=1e-4
    )


_BARYCENTRIC_MISTAKES = {
    "the weights are not divided by the triangle's doubled area edge(a, b, c)": (
        lambda p, a, b, c: _edges(p, a, b, c)
    ),
    "divided by the triangle's area instead of twice it: the edge functions are doubled areas, "
    "so divide by edge(a, b, c) itself, not by half of it": (
        lambda p, a, b, c: _edges(p, a, b, c) / (0.5 * _edge(a, b, c))
    ),
    "divided by the absolute area: for a triangle of the other winding the signs flip; divide "
    "by the signed edge(a, b, c) so either winding gives the same weights": (
        lambda p, a, b, c: _edges(p, a, b, c) / np.abs(_edge(a, b, c))
    ),
    "the weights are in the wrong order: w_a belongs to the edge opposite a, i.e. edge(b, c, p)": (
        lambda p, a, b, c: (_edges(p, a, b, c) / _edge(a, b, c))[..., [2, 0, 1]]
    ),
    "the weights are in the wrong order: w_a = edge(b, c, p), w_b = edge(c, a, p), "
    "w_c = edge(a, b, p)": (lambda p, a, b, c: (_edges(p, a, b, c) / _edge(a, b, c))[..., ::-1]),
    "the weights are in the wrong order: w_a belongs to the edge opposite a, w_c to the edge "
    "opposite c": (lambda p, a, b, c: (_edges(p, a, b, c) / _edge(a, b, c))[..., [1, 2, 0]]),
    "only two weights were returned: the third is 1 - w_a - w_b; return all three": (
        lambda p, a, b, c: (_edges(p, a, b, c) / _edge(a, b, c))[..., :2]
    ),
}


BARYCENTRIC = define(
    TOPIC,
    "barycentric",
    _barycentric_cases,
    mistakes=_BARYCENTRIC_MISTAKES,
    title="Barycentric coordinates of a pixel in a triangle",
    references=[
        reference.barycentric_2d,
        reference.edge_function,
        reference.unchecked_edge_function,
    ],
)


# --- edge_function_inside ----------------------------------------------------------------------

_INSIDE_HINT = (
    "Compute the three edge functions edge(b, c, p), edge(c, a, p), edge(a, b, p). The pixel is "
    "inside when all three are >= 0 or all three are <= 0 (either winding; a pixel exactly on an "
    "edge counts as inside). Return booleans of shape [..., 1] (keepdims=True)."
)


def _grid_cases_on_edges(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Pixel centres of a 12x12 image and a triangle whose edges pass through some of them."""
    ys, xs = np.mgrid[0:12, 0:12] + 0.5
    point = np.stack([xs, ys], axis=-1).reshape(-1, 2)
    # Axis-aligned legs and a diagonal at pixel centres: edge functions exactly zero there.
    x0, y0 = rng.integers(0, 3, 2) + 0.5
    size = float(rng.integers(6, 9))
    a, b, c = np.array([x0, y0]), np.array([x0 + size, y0]), np.array([x0, y0 + size])
    return point, a, b, c


def _inside_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    point, a, b, c = _grid_cases_on_edges(rng)
    settings.append((point, a, b, c, "the 144 pixel centres of a 12x12 image, a right triangle"))
    settings.append((point, a, c, b, "the same pixels and triangle, the other winding"))
    a, b, c = _triangles(rng, (10,))
    settings.append((_points_near(rng, a, b, c), a, b, c, "10 points, 10 triangles"))
    a, b, c = _triangles(rng, (2, 1))
    point = _points_near(rng, *(np.broadcast_to(v, (2, 6, 2)) for v in (a, b, c)))
    settings.append((point, a, b, c, "pixels [2, 6, 2], one triangle per row [2, 1, 2]"))
    a, b, c = _triangles(rng, (6,))
    settings.append(
        (
            _points_near(rng, a, b, c).astype(np.float32),
            a.astype(np.float32),
            b.astype(np.float32),
            c.astype(np.float32),
            "float32 inputs, 6 points",
        )
    )
    return reference_cases(settings, reference.inside, hint=_INSIDE_HINT)


_INSIDE_MISTAKES = {
    "only one winding is accepted: a triangle whose vertices run the other way has all three "
    "edge functions <= 0; accept all >= 0 OR all <= 0": (
        lambda p, a, b, c: np.all(_edges(p, a, b, c) >= 0, axis=-1, keepdims=True)
    ),
    "only one winding is accepted (all <= 0): accept all >= 0 OR all <= 0": (
        lambda p, a, b, c: np.all(_edges(p, a, b, c) <= 0, axis=-1, keepdims=True)
    ),
    "pixels exactly on an edge are left out: use >= 0 and <= 0, not strict inequalities": (
        lambda p, a, b, c: (
            np.all(_edges(p, a, b, c) > 0, axis=-1, keepdims=True)
            | np.all(_edges(p, a, b, c) < 0, axis=-1, keepdims=True)
        )
    ),
    "the shape is [...] rather than [..., 1]: keep the last axis (keepdims=True)": (
        lambda p, a, b, c: reference.inside(p, a, b, c).numpy()[..., 0]
    ),
    "the three edge functions were returned instead of the inside test: reduce them to one "
    "boolean per pixel": (lambda p, a, b, c: _edges(p, a, b, c)),
}


EDGE_FUNCTION_INSIDE = define(
    TOPIC,
    "edge_function_inside",
    _inside_cases,
    mistakes=_INSIDE_MISTAKES,  # booleans expected: 0/1 integers are fine (as_floats)
    title="The inside test with edge functions",
    references=[reference.inside, reference.edge_function, reference.unchecked_edge_function],
)


# --- perspective_correct -----------------------------------------------------------------------

_PERSPECTIVE_HINT = (
    "Divide each screen-space weight by its vertex's depth, then renormalize so the weights sum "
    "to 1: w_i = (b_i / z_i) / sum_j (b_j / z_j) (reduce_sum over the last axis, keepdims=True)."
)


def _perspective_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (
            np.array([0.5, 0.5, 0.0]),
            np.array([1.0, 3.0, 2.0]),
            "halfway along the edge from a vertex at z = 1 to one at z = 3",
        )
    ]

    def weights(shape):
        w = rng.uniform(0.0, 1.0, shape + (3,))
        return w / w.sum(axis=-1, keepdims=True)

    settings.append((weights((8,)), rng.uniform(1.0, 10.0, (8, 3)), "8 pixels"))
    settings.append((weights((2, 4)), rng.uniform(1.0, 10.0, (1, 4, 3)), "[2, 4, 3] and [1, 4, 3]"))
    settings.append((weights(()), rng.uniform(0.5, 20.0, (3,)), "a single pixel of shape [3]"))
    settings.append(
        (
            weights((5,)).astype(np.float32),
            rng.uniform(1.0, 10.0, (5, 3)).astype(np.float32),
            "float32 inputs, 5 pixels",
        )
    )
    return reference_cases(
        settings, reference.perspective_correct, hint=_PERSPECTIVE_HINT, rtol=1e-4, atol=1e-5
    )


def _normalized(w: np.ndarray) -> np.ndarray:
    return w / w.sum(axis=-1, keepdims=True)


_PERSPECTIVE_MISTAKES = {
    "the screen-space weights were returned unchanged: divide each by its vertex's depth": (
        lambda b, z: b
    ),
    "the weights were multiplied by the depths: divide by them, b_i / z_i": (
        lambda b, z: _normalized(b * z)
    ),
    "the weights were not renormalized: divide b_i / z_i by its sum over the three vertices": (
        lambda b, z: b / z
    ),
    "divided by the squared depth: 1 / z is what interpolates linearly on the screen": (
        lambda b, z: _normalized(b / z**2)
    ),
    "renormalized by the sum of the depths instead of the sum of b_j / z_j": (
        lambda b, z: b / z / z.sum(axis=-1, keepdims=True)
    ),
}


PERSPECTIVE_CORRECT = define(
    TOPIC,
    "perspective_correct",
    _perspective_cases,
    mistakes=_PERSPECTIVE_MISTAKES,
    title="Perspective-correct interpolation",
    references=[reference.perspective_correct],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (BARYCENTRIC, EDGE_FUNCTION_INSIDE, PERSPECTIVE_CORRECT)
