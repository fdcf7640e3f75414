"""Exercises of the chapter "The building blocks of interpretability" (book/part3/02).

- ``attribution_map(activations, gradients)``: gradient × activation summed over channels,
  ``[h, w, C]`` twice to ``[h, w]``;
- ``top_channels(activations, k)``: the semantic dictionary's lookup, the indices of the ``k``
  largest channels at every position, ``[..., C]`` to ``[..., k]``, largest first.

Expected answers come from ``course_lib.lucid.misc`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.grading.cases import reference_cases
from course_lib.grading.check import compare_values, matches, numeric_array
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


def _compare_map(got: Any, case: Case) -> str | None:
    have = numeric_array(got)
    message = compare_values(got if have is None else have, case.expected, case.rtol, case.atol)
    if message is None or have is None:
        return message
    acts, grads = (np.asarray(a, dtype=np.float64) for a in case.args)
    product = acts * grads
    if have.shape == product.shape[-1:] and matches(
        have, product.sum((0, 1)), case.rtol, case.atol
    ):
        return message + (
            " (you summed over the positions: that is the channel attribution; the map sums "
            "over the channels, axis=-1)"
        )
    if have.shape in {product.shape[1:], product.shape[::2]} and have.shape != (4, 4):
        return message + " (summed over a spatial axis: the channels are the last axis)"
    if have.shape == product.shape:
        return message + " (the channels must be summed away: the map is [h, w])"
    if matches(have, grads.sum(-1), case.rtol, case.atol):
        return message + (
            " (that is the gradient alone: multiply by the activations, gradient × activation)"
        )
    if matches(have, np.abs(product).sum(-1), case.rtol, case.atol) or matches(
        have, np.abs(product.sum(-1)), case.rtol, case.atol
    ):
        return message + " (no absolute value: negative evidence counts against the class)"
    if matches(have, product.mean(-1), case.rtol, case.atol):
        return message + " (that is the mean over channels: sum them, so the map adds up)"
    if have.shape == (4, 4) and (
        matches(have, product.sum(0), case.rtol, case.atol)
        or matches(have, product.sum(1), case.rtol, case.atol)
    ):
        return message + " (summed over a spatial axis: the channels are the last axis)"
    return message


define(
    TOPIC,
    "attribution_map",
    _map_cases,
    _compare_map,
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


def _compare_top(got: Any, case: Case) -> str | None:
    have = numeric_array(got)
    want = case.expected
    if have is not None and have.dtype.kind == "f" and np.all(have == np.round(have)):
        # float-valued indices are fine as long as they are the right integers
        have = have.astype(np.int64)
    message = compare_values(got if have is None else have, want)
    if message is None or have is None:
        return message
    acts, k = case.args
    order = np.argsort(acts, axis=-1, kind="stable")
    if have.shape == want.shape and np.array_equal(have, order[..., -k:]):
        return message + " (ascending order: the largest channel comes first)"
    if have.shape == want.shape and np.array_equal(have, order[..., :k]):
        return message + " (those are the k smallest: sort by -activations, or reverse)"
    if have.shape == want.shape and np.allclose(have, np.sort(acts, axis=-1)[..., ::-1][..., :k]):
        return message + " (those are the activations: return the channel indices, argsort)"
    for axis in range(acts.ndim - 1):
        wrong = np.argsort(-acts, axis=axis, kind="stable")
        if np.array_equal(have, wrong[..., :k]) or np.array_equal(have, wrong[:k]):
            return message + " (sorted along a spatial axis: the channels are the last, axis=-1)"
    if acts.ndim > 1 and have.shape != want.shape:
        return message + " (keep every position: sort along the last axis only, [..., :k])"
    return message


define(
    TOPIC,
    "top_channels",
    _top_cases,
    _compare_top,
    title="Semantic dictionary: the k strongest channels at each position",
    references=[semantic_dictionary.top_channels],
)
