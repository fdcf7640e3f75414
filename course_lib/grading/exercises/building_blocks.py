"""Exercises of the chapter "The building blocks of interpretability" (book/part3/02).

- ``attribution_map(activations, gradients)``: gradient × activation summed over channels,
  ``[h, w, C]`` twice to ``[h, w]``;
- ``top_channels(activations, k)``: the semantic dictionary's lookup, the indices of the ``k``
  largest channels at every position, ``[..., C]`` to ``[..., k]``, largest first.

Expected answers come from ``course_lib.lucid.misc`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading.cases import Mistake, mistake_args, other_shape, reference_cases
from course_lib.grading.check import matches
from course_lib.grading.exercise import Case, define
from course_lib.lucid.misc import attribution, semantic_dictionary

TOPIC = "building_blocks"


# --- attribution_map --------------------------------------------------------------------------

_MAP_HINT = (
    "Multiply the activations by their gradients element by element, then sum over the LAST "
    "axis (the channels): np.sum(activations * gradients, axis=-1), one value per position."
)


def _map_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [(10, 15, 96), (int(rng.integers(3, 8)), int(rng.integers(3, 8)), 16)]
    shapes.append((int(rng.integers(2, 6)), int(rng.integers(6, 10)), int(rng.integers(3, 9))))
    shapes.append((4, 4, 4))  # square and as many channels as positions: the axis must be right
    settings = []
    for height, width, channels in shapes:
        # post-ReLU activations (half zeros) and gradients of both signs, as in a real network
        acts = np.maximum(rng.normal(0.2, 1.0, (height, width, channels)), 0.0).astype(np.float32)
        grads = rng.normal(0.0, 0.1, (height, width, channels)).astype(np.float32)
        settings.append((acts, grads, f"activations and gradients [{height}, {width}, {channels}]"))
    return reference_cases(
        settings, attribution.attribution_map, hint=_MAP_HINT, rtol=1e-4, atol=1e-5
    )


def _spatial_sums(acts: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (acts * grads).sum(0), (acts * grads).sum(1)


def _summed_a_spatial_axis(have: np.ndarray, case: Case) -> bool:
    """A sum over a spatial axis: its shape, or (for a square map) its values."""
    sums = _spatial_sums(*mistake_args(case))
    if other_shape(have, case):
        return any(have.shape == wrong.shape for wrong in sums)
    return any(matches(have, wrong, case.rtol, case.atol) for wrong in sums)


_MAP_MISTAKES = {
    "you summed over the positions: that is the channel attribution; the map sums over the "
    "channels, axis=-1": lambda acts, grads: (acts * grads).sum((0, 1)),
    "summed over a spatial axis: the channels are the last axis": Mistake(
        lambda acts, grads: _spatial_sums(acts, grads)[0],
        lambda acts, grads: _spatial_sums(acts, grads)[1],
        match=_summed_a_spatial_axis,
    ),
    "the channels must be summed away: the map is [h, w]": Mistake(
        lambda acts, grads: acts * grads, match="shape"
    ),
    "that is the gradient alone: multiply by the activations, gradient × activation": (
        lambda acts, grads: grads.sum(-1)
    ),
    "no absolute value: negative evidence counts against the class": Mistake(
        lambda acts, grads: np.abs(acts * grads).sum(-1),
        lambda acts, grads: np.abs((acts * grads).sum(-1)),
    ),
    "that is the mean over channels: sum them, so the map adds up": (
        lambda acts, grads: (acts * grads).mean(-1)
    ),
}


ATTRIBUTION_MAP = define(
    TOPIC,
    "attribution_map",
    _map_cases,
    mistakes=_MAP_MISTAKES,
    as_floats=False,
    title="Spatial attribution: gradient × activation summed over channels",
    references=[attribution.attribution_map],
)


# --- top_channels -----------------------------------------------------------------------------

_TOP_HINT = (
    "At each position, sort the channels (the last axis) by activation, largest first, and "
    "keep the first k indices: np.argsort(-activations, axis=-1)[..., :k]."
)


def _top_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        ((96,), 4, "one position of mixed2: [96]"),
        ((10, 15, 96), 4, "mixed2: [10, 15, 96]"),
    ]
    height, width = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    channels = int(rng.integers(6, 12))
    settings.append(((height, width, channels), int(rng.integers(2, 5)), "random sizes"))
    settings.append(((3, 3, 3), 2, "as many channels as positions per axis: [3, 3, 3]"))
    settings.append(((5, 6, 8), 1, "k = 1: the strongest channel"))
    # distinct values (no ties), activations mostly positive as after a ReLU
    drawn = [
        (rng.gamma(2.0, 1.0, size=shape).astype(np.float32), k, f"{description}, k={k}")
        for shape, k, description in settings
    ]
    return reference_cases(
        drawn, lambda acts, k: semantic_dictionary.top_channels(acts, k)[0], hint=_TOP_HINT
    )


def _ascending(acts: np.ndarray) -> np.ndarray:
    return np.argsort(acts, axis=-1, kind="stable")


def _sorted_along(axis: int, first: bool):
    """A wrong answer: the k first of ``-acts`` sorted along the spatial ``axis``, taken on
    the last axis (or on the first, ``first``)."""

    def wrong(acts: np.ndarray, k: int) -> np.ndarray | None:
        if axis >= acts.ndim - 1:
            return None
        order = np.argsort(-acts, axis=axis, kind="stable")
        return order[:k] if first else order[..., :k]

    return wrong


_TOP_MISTAKES = {
    "ascending order: the largest channel comes first": (
        lambda acts, k: _ascending(acts)[..., -k:]
    ),
    "those are the k smallest: sort by -activations, or reverse": (
        lambda acts, k: _ascending(acts)[..., :k]
    ),
    "those are the activations: return the channel indices, argsort": (
        lambda acts, k: np.sort(acts, axis=-1)[..., ::-1][..., :k]
    ),
    "sorted along a spatial axis: the channels are the last, axis=-1": Mistake(
        *(_sorted_along(axis, first) for axis in (0, 1) for first in (False, True))
    ),
    "keep every position: sort along the last axis only, [..., :k]": Mistake(
        lambda acts, k: np.argsort(-acts, axis=None)[:k] if acts.ndim > 1 else None,
        match=lambda have, case: np.ndim(case.args[0]) > 1 and other_shape(have, case),
    ),
}


TOP_CHANNELS = define(
    TOPIC,
    "top_channels",
    _top_cases,
    mistakes=_TOP_MISTAKES,  # whole floats are fine as indices (as_floats)
    title="Semantic dictionary: the k strongest channels at each position",
    references=[semantic_dictionary.top_channels],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (ATTRIBUTION_MAP, TOP_CHANNELS)
