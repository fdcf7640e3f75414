"""Exercises of the chapter "DeepDream" (book/part1/05_deepdream).

- ``dream_objective(activations)``: each layer's mean activation, summed over the layers;
- ``normalize_gradients(gradients)``: the gradient divided by its standard deviation plus 1e-8;
- ``octave_shape(base_shape, octave, scale=1.3)``: the integer size of an octave.

Expected answers come from ``course_lib.dream`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import dream
from course_lib.checks import is_int, is_real
from course_lib.dream.deepdream import EPSILON
from course_lib.grading.cases import (
    Mistake,
    exact_mistake,
    not_finite,
    other_shape,
    reference_cases,
)
from course_lib.grading.exercise import Case, define

TOPIC = "deepdream"

#: The chapter's CPU-sized photograph, (height, width), and the course's octave scale.
CHAPTER_SHAPE = (160, 240)
COURSE_OCTAVE_SCALE = 1.3


# --- dream_objective --------------------------------------------------------------------------

_OBJECTIVE_HINT = (
    "Take tf.reduce_mean of each layer's activations (one number per layer), then add the "
    "numbers: tf.add_n([tf.reduce_mean(a) for a in activations])."
)


def _layer(rng: np.random.Generator, height: int, width: int, channels: int, relu: bool):
    values = rng.normal(0.2, 1.0, size=(1, height, width, channels)).astype(np.float32)
    return tf.constant(np.maximum(values, 0.0) if relu else values)


def _objective_cases(rng: np.random.Generator) -> list[Case]:
    layer_sets = []
    size = (int(rng.integers(3, 7)), int(rng.integers(3, 7)), int(rng.integers(2, 6)))
    layer_sets.append(([_layer(rng, *size, relu=True)], "one layer"))
    first = (int(rng.integers(6, 10)), int(rng.integers(6, 10)), int(rng.integers(3, 6)))
    second = (first[0] // 2, first[1] // 2, int(rng.integers(6, 10)))
    layer_sets.append(
        (
            [_layer(rng, *first, relu=True), _layer(rng, *second, relu=True)],
            "two layers of different sizes, as mixed3 and mixed5",
        )
    )
    shapes = [(int(rng.integers(2, 8)), int(rng.integers(2, 8)), int(rng.integers(1, 6)))]
    shapes += [(shapes[0][0] + 1, shapes[0][1] + 2, int(rng.integers(1, 6)))]
    shapes += [(int(rng.integers(2, 5)), int(rng.integers(2, 5)), int(rng.integers(6, 9)))]
    layer_sets.append(
        ([_layer(rng, *s, relu=False) for s in shapes], "three layers, some values negative")
    )
    settings = [
        (activations, f"{description}: " + ", ".join(str(a.shape.as_list()) for a in activations))
        for activations, description in layer_sets
    ]
    return reference_cases(settings, dream.dream_loss, hint=_OBJECTIVE_HINT, rtol=1e-4, atol=1e-5)


def _layer_means(activations: list) -> np.ndarray:
    return np.array([np.mean(np.asarray(a, np.float64)) for a in activations])


def _several(wrong):
    """``wrong``, a mistake that only several layers show (None for one layer)."""
    return lambda activations: wrong(activations) if len(activations) > 1 else None


_OBJECTIVE_MISTAKES = {
    "these are the layers' means: add them into one number": _layer_means,
    "the objective is a single number, a scalar": Mistake(
        lambda activations: np.reshape(_layer_means(activations).sum(), (1, 1)), match=other_shape
    ),
    "the layers' means were averaged: the objective adds them": _several(
        lambda activations: _layer_means(activations).mean()
    ),
    "the activations were summed: take each layer's mean": (
        lambda activations: sum(np.sum(np.asarray(a, np.float64)) for a in activations)
    ),
    "one mean over all the layers' values together weighs a layer by its size: "
    "take each layer's mean, then add them": _several(
        lambda activations: np.concatenate(
            [np.ravel(np.asarray(a, np.float64)) for a in activations]
        ).mean()
    ),
    "only the first layer counts: add every layer's mean (a `return` inside the loop?)": (
        _several(lambda activations: _layer_means(activations)[0])
    ),
    "only the last layer counts: add every layer's mean": _several(
        lambda activations: _layer_means(activations)[-1]
    ),
}


DREAM_OBJECTIVE = define(
    TOPIC,
    "dream_objective",
    _objective_cases,
    mistakes=_OBJECTIVE_MISTAKES,
    title="The DeepDream objective: each layer's mean activation, summed",
    references=[dream.dream_loss],
)


# --- normalize_gradients ----------------------------------------------------------------------

_NORMALIZE_HINT = (
    "Divide by the standard deviation of all the values, plus a small constant: "
    "gradients / (tf.math.reduce_std(gradients) + 1e-8)."
)


def _normalize_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    shape = (int(rng.integers(4, 9)), int(rng.integers(4, 9)), 3)
    settings.append((rng.normal(0.0, 3e-3, size=shape), "a photograph's gradient"))
    shape = (int(rng.integers(3, 7)), int(rng.integers(3, 7)), 3)
    offset = rng.uniform(1e-3, 2e-3, size=shape)
    settings.append((offset * rng.choice([-1.0, 1.0], size=shape) + 1e-3, "values mostly > 0"))
    shape = (int(rng.integers(4, 8)), int(rng.integers(4, 8)), 3)
    channel_scales = np.array([1.0, 5.0, 20.0])[rng.permutation(3)]
    settings.append(
        (rng.normal(0.0, 1e-4, size=shape) * channel_scales, "channels of different sizes")
    )
    settings.append((np.zeros((int(rng.integers(2, 5)), 5, 3)), "all zero (a flat objective)"))
    shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)), 3)
    settings.append((rng.normal(0.0, 3e-8, size=shape), "tiny values, where the 1e-8 matters"))
    described = [
        (tf.constant(values.astype(np.float32)), f"{description}, shape {list(values.shape)}")
        for values, description in settings
    ]
    return reference_cases(
        described, dream.normalize_gradients, hint=_NORMALIZE_HINT, rtol=1e-4, atol=1e-5
    )


_NORMALIZE_MISTAKES = {
    "NaN or infinity: the standard deviation of an all-zero gradient is 0; "
    "add 1e-8 to it before dividing": Mistake(
        lambda g: g / g.std(),
        match=lambda have, case: not other_shape(have, case) and not_finite(have, case),
    ),
    "divided by the norm: divide by the standard deviation": (
        lambda g: g / (np.sqrt(np.sum(g**2)) + EPSILON)
    ),
    "divided by the mean |gradient|: use the standard deviation": (
        lambda g: g / (np.abs(g).mean() + EPSILON)
    ),
    "divided by the largest |gradient|: use the standard deviation": (
        lambda g: g / (np.abs(g).max() + EPSILON)
    ),
    "divided by the variance: take its square root, the standard deviation": (
        lambda g: g / (g.var() + EPSILON)
    ),
    "the mean was subtracted: only divide, do not centre": (
        lambda g: (g - g.mean()) / (g.std() + EPSILON)
    ),
    "one standard deviation per channel: use a single one over all the values": (
        lambda g: g / (g.std(axis=(0, 1), keepdims=True) + EPSILON)
    ),
    "multiplied by the standard deviation: divide by it": lambda g: g * (g.std() + EPSILON),
    "the 1e-8 is missing: add it to the standard deviation": (
        lambda g: g / g.std() if g.std() > 0 else g
    ),
    "the 1e-8 goes outside the square root: std(g) + 1e-8": (
        lambda g: g / np.sqrt(g.var() + EPSILON)
    ),
}


NORMALIZE_GRADIENTS = define(
    TOPIC,
    "normalize_gradients",
    _normalize_cases,
    mistakes=_NORMALIZE_MISTAKES,
    title="Normalize the gradient by its standard deviation",
    references=[dream.normalize_gradients],
)


# --- octave_shape -----------------------------------------------------------------------------

_OCTAVE_HINT = (
    "Multiply each side by scale ** octave and round to the nearest whole pixel: "
    "(int(round(height * scale**octave)), int(round(width * scale**octave)))."
)


def _octave_size(shape: tuple[int, int], octave: int, scale: float) -> tuple[int, int]:
    return tuple(dream.octave_sizes(shape, scale, [octave])[0])


def _rounds_up_somewhere(shape: tuple[int, int], octave: int, scale: float) -> bool:
    """True when a side's exact size has a fraction in [0.55, 0.95): int() and round() differ."""
    fractions = [(side * scale**octave) % 1.0 for side in shape]
    return any(0.55 <= f < 0.95 for f in fractions)


def _no_half(shape: tuple[int, int], octave: int, scale: float) -> bool:
    """No side lands within 1e-6 of a half pixel (where rounding conventions differ)."""
    return all(abs((side * scale**octave) % 1.0 - 0.5) > 1e-6 for side in shape)


def _octave_cases(rng: np.random.Generator) -> list[Case]:
    settings = [(CHAPTER_SHAPE, -2, None), (CHAPTER_SHAPE, 2, None)]
    while True:  # an octave where int() would round down a side whose fraction is >= 0.55
        shape = (int(rng.integers(100, 501)), int(rng.integers(100, 501)))
        octave = int(rng.choice([-3, -1, 1, 3]))
        if _rounds_up_somewhere(shape, octave, COURSE_OCTAVE_SCALE):
            settings.append((shape, octave, None))
            break
    settings.append(((int(rng.integers(50, 300)), int(rng.integers(50, 300))), 0, None))
    while len(settings) < 6:  # another scale, passed by keyword
        shape = (int(rng.integers(60, 400)), int(rng.integers(60, 400)))
        octave, scale = int(rng.choice([-2, -1, 1, 2])), float(rng.choice([1.2, 1.4, 1.5, 2.0]))
        if _no_half(shape, octave, scale):
            settings.append((shape, octave, scale))
    cases = []
    for shape, octave, scale in settings:
        kwargs = {} if scale is None else {"scale": scale}
        shown = f"base_shape={shape}, octave={octave}" + (
            "" if scale is None else f", scale={scale}"
        )
        cases.append(
            Case(
                description=shown,
                args=(shape, octave),
                kwargs=kwargs,
                expected=_octave_size(
                    shape, octave, COURSE_OCTAVE_SCALE if scale is None else scale
                ),
                hint=_OCTAVE_HINT,
            )
        )
    return cases


def _as_sizes(value: Any) -> list | None:
    """The learner's result as a list of Python numbers, None if it is not two of them."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    items = [v.item() if isinstance(v, np.generic) else v for v in value]
    if not all(is_real(v) for v in items):
        return None
    return items


_OCTAVE_MISTAKES = {
    "int() rounds toward zero: round to the nearest pixel first, int(round(...))": (
        lambda shape, octave, scale=COURSE_OCTAVE_SCALE: tuple(
            int(side * scale**octave) for side in shape
        )
    ),
    "the octave's sign is flipped: a negative octave shrinks the image, scale ** octave < 1": (
        lambda shape, octave, scale=COURSE_OCTAVE_SCALE: (
            _octave_size(shape, -octave, scale) if octave else None
        )
    ),
    "scale * octave: the factor is the power scale ** octave": (
        lambda shape, octave, scale=COURSE_OCTAVE_SCALE: tuple(
            round(side * scale * octave) for side in shape
        )
    ),
    "height first, then width, as in base_shape": (
        lambda shape, octave, scale=COURSE_OCTAVE_SCALE: _octave_size(shape, octave, scale)[::-1]
    ),
    "the scale argument was ignored: use it instead of 1.3": (
        lambda shape, octave, scale=None: (
            None if scale is None else _octave_size(shape, octave, COURSE_OCTAVE_SCALE)
        )
    ),
}


def _compare_octave(got: Any, case: Case) -> str | None:
    want = tuple(case.expected)
    sizes = _as_sizes(got)
    if sizes is None:
        return f"expected a pair (height, width) like {want}, got {got!r}"[:200]
    text = f"expected {want}, got {tuple(sizes)}"
    if not all(is_int(v) for v in sizes):
        if all(float(v).is_integer() for v in sizes) and tuple(int(v) for v in sizes) == want:
            return text + (
                " (the right sizes as floats: return ints, as tf.image.resize needs whole pixels)"
            )
        return text + " (sizes are whole pixels: return ints)"
    if tuple(int(v) for v in sizes) == want:
        return None
    explanation = exact_mistake(sizes, _OCTAVE_MISTAKES, case)
    return f"{text} ({explanation})" if explanation else text


OCTAVE_SHAPE = define(
    TOPIC,
    "octave_shape",
    _octave_cases,
    _compare_octave,
    mistakes=_OCTAVE_MISTAKES,
    title="The size of an octave",
    references=[dream.octave_sizes],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (DREAM_OBJECTIVE, NORMALIZE_GRADIENTS, OCTAVE_SHAPE)
