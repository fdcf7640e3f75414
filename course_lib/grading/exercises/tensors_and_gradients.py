"""Exercises of the chapter "Tensors and gradients" (book/part1/01_tensors_and_gradients).

- ``pairwise_squared_distances(a, b)``: all squared distances by broadcasting;
- ``squared_error_gradient(x, y, w, b)``: ``(dL/dw, dL/db)`` of the mean squared error;
- ``linear_train_step(model, x, y, learning_rate)``: one gradient-descent step on a linear model.

Expected answers come from ``course_lib.basics`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.basics import linear_regression, tensors
from course_lib.grading.cases import (
    Mistake,
    first_match,
    other_shape,
    reference_cases,
    wrong_answers,
)
from course_lib.grading.exercise import Case, define

TOPIC = "tensors_and_gradients"


def _numpy(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _noisy_line(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` float32 points ``x`` and ``y = 3 x + 2`` plus noise: the chapter's data."""
    x = rng.normal(size=size).astype(np.float32)
    y = (3.0 * x + 2.0 + rng.normal(0.0, 0.5, size)).astype(np.float32)
    return x, y


def _fmt(array: np.ndarray) -> str:
    array = np.asarray(array)
    if np.all(array == np.round(array)):
        return str(array.astype(int).tolist())
    return str(np.round(array, 2).tolist())


# --- pairwise_squared_distances ---------------------------------------------------------------


_PAIRWISE_HINT = (
    "Insert axes so that the shapes broadcast: a[:, tf.newaxis, :] - "
    "b[tf.newaxis, :, :] is [N, M, D]; square it and sum over the last axis."
)


def _pairwise_cases(rng: np.random.Generator) -> list[Case]:
    small = rng.integers(-3, 4, size=(2, 2)).astype(np.float32)
    other = rng.integers(-3, 4, size=(3, 2)).astype(np.float32)
    shapes = [(int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.integers(1, 5)))]
    shapes.append((int(rng.integers(1, 4)), int(rng.integers(5, 9)), 3))
    pairs = [(small, other, f"a={_fmt(small)}, b={_fmt(other)}")]
    for n, m, d in shapes:
        a = rng.normal(size=(n, d)).astype(np.float32)
        b = rng.normal(size=(m, d)).astype(np.float32)
        pairs.append((a, b, f"a: [{n}, {d}], b: [{m}, {d}] random normal"))
    return reference_cases(
        pairs, tensors.pairwise_squared_distances, hint=_PAIRWISE_HINT, rtol=1e-4, atol=1e-4
    )


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a[:, np.newaxis, :] - b[np.newaxis, :, :]) ** 2).sum(-1)


_PAIRWISE_MISTAKES = {
    "your table is transposed: row i must belong to a's point i": (
        lambda a, b: _squared_distances(b, a) if len(a) != len(b) else None
    ),
    "these are distances: do not take the square root": Mistake(
        lambda a, b: np.sqrt(_squared_distances(a, b)),
        match=lambda have, case: (
            not other_shape(have, case) and np.allclose(have**2, case.expected, 1e-4, 1e-4)
        ),
    ),
}


PAIRWISE_SQUARED_DISTANCES = define(
    TOPIC,
    "pairwise_squared_distances",
    _pairwise_cases,
    mistakes=_PAIRWISE_MISTAKES,
    as_floats=False,
    title="All squared distances between two point sets, by broadcasting",
    references=[tensors.pairwise_squared_distances],
)


# --- squared_error_gradient -------------------------------------------------------------------


_GRADIENT_HINT = (
    "Make w and b variables (tf.Variable) or tape.watch them, compute "
    "L = tf.reduce_mean((w * x + b - y) ** 2) inside the tape, then "
    "tape.gradient(L, [w, b])."
)


def _reference_gradient(x: np.ndarray, y: np.ndarray, w: float, b: float) -> tuple:
    dw, db = linear_regression.squared_error_gradient(x, y, w, b)
    return dw.numpy(), db.numpy()


def _gradient_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    for size in (3, int(rng.integers(5, 20)), int(rng.integers(50, 200))):
        x, y = _noisy_line(rng, size)
        w, b = float(np.round(rng.uniform(-4, 6), 2)), float(np.round(rng.uniform(-3, 3), 2))
        settings.append((x, y, w, b, f"N={size} points, w={w}, b={b}"))
    return reference_cases(settings, _reference_gradient, hint=_GRADIENT_HINT, rtol=1e-4, atol=1e-4)


#: Wrong answers ``(dL/dw, dL/db)``: the first wrong part is compared.
_GRADIENT_MISTAKES = {
    "{n} times too large: use the mean of the squared errors, not the sum": Mistake(
        lambda case: tuple(len(case.args[0]) * want for want in case.expected),
        uses="case",
        fields=lambda have, case: {"n": len(case.args[0])},
    ),
    "the sign is flipped: the error is w * x + b - y": Mistake(
        lambda case: tuple(-want for want in case.expected), uses="case"
    ),
    "half the answer: the loss is the mean of squares, not half of it": Mistake(
        lambda case: tuple(want / 2 for want in case.expected), uses="case"
    ),
}


def _compare_gradient(got: Any, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a pair (dL/dw, dL/db), got {type(got).__name__}"
    if any(g is None for g in got):
        return (
            "a gradient is None: the tape did not watch w or b (plain numbers are constants; "
            "use tf.Variable or tape.watch)"
        )
    names = ("dL/dw", "dL/db")
    for part, (name, g, want) in enumerate(zip(names, got, case.expected, strict=True)):
        have, want = _numpy(g), np.asarray(want, dtype=np.float64)
        if have is None or have.shape != ():
            return f"{name}: expected a scalar, got {type(g).__name__} of shape {np.shape(g)}"
        if np.isclose(have, want, case.rtol, case.atol):
            continue
        text = f"{name}: expected {float(want):.5g}, got {float(have):.5g}"
        candidates = ((wrong[part], t) for wrong, t in wrong_answers(_GRADIENT_MISTAKES, case))
        explanation = first_match(have, candidates, case.rtol, case.atol)
        if explanation is None:
            return text
        return f"{text} ({_GRADIENT_MISTAKES[explanation].explanation(explanation, have, case)})"
    return None


SQUARED_ERROR_GRADIENT = define(
    TOPIC,
    "squared_error_gradient",
    _gradient_cases,
    _compare_gradient,
    mistakes=_GRADIENT_MISTAKES,
    title="Gradient of the mean squared error with GradientTape",
    references=[linear_regression.squared_error_gradient],
)


# --- linear_train_step ------------------------------------------------------------------------


def _train_step_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for size in (4, int(rng.integers(10, 40)), int(rng.integers(100, 300))):
        x, y = _noisy_line(rng, size)
        w0, b0 = float(np.round(rng.uniform(-2, 6), 2)), float(np.round(rng.uniform(-2, 2), 2))
        rate = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
        model = linear_regression.LinearModel(w0, b0)
        loss = linear_regression.train_step(model, x, y, rate)
        cases.append(
            Case(
                description=f"N={size}, start w={w0}, b={b0}, learning_rate={rate}",
                args=(x, y, rate),
                kwargs={"w0": w0, "b0": b0},
                expected={"loss": float(loss), "w": float(model.w), "b": float(model.b)},
                hint=(
                    "Compute the loss under a GradientTape, take the gradient with respect to "
                    "[model.w, model.b], update in place with model.w.assign_sub(learning_rate "
                    "* dw) (same for b) and return the loss."
                ),
                rtol=1e-4,
                atol=1e-5,
            )
        )
    return cases


def _run_train_step(obj: Any, case: Case) -> dict[str, Any]:
    x, y, rate = case.args
    model = linear_regression.LinearModel(case.kwargs["w0"], case.kwargs["b0"])
    loss = obj(model, x, y, rate)
    return {
        "loss": loss,
        "w": model.w,
        "b": model.b,
        "variables": isinstance(model.w, tf.Variable) and isinstance(model.b, tf.Variable),
    }


def _compare_train_step(got: dict[str, Any], case: Case) -> str | None:
    want = case.expected
    if not got["variables"]:
        return (
            "model.w or model.b is no longer a tf.Variable: update the variables in place with "
            "assign_sub instead of assigning a new value"
        )
    w, b = float(got["w"].numpy()), float(got["b"].numpy())
    w0, b0 = case.kwargs["w0"], case.kwargs["b0"]
    if np.isclose(w, w0) and np.isclose(b, b0) and not np.isclose(want["w"], w0):
        return "w and b did not change: the step must update model.w and model.b"
    for name, have in (("w", w), ("b", b)):
        if not np.isclose(have, want[name], case.rtol, case.atol):
            text = f"updated {name}: expected {want[name]:.5g}, got {have:.5g}"
            start = w0 if name == "w" else b0
            if np.isclose(have - start, start - want[name], case.rtol, case.atol):
                text += " (it moved uphill: subtract learning_rate * gradient)"
            return text
    if got["loss"] is None:
        return "the step returned None: return the loss"
    loss = _numpy(got["loss"])
    if loss is None or loss.shape != ():
        return f"expected the loss as a scalar, got {type(got['loss']).__name__}"
    if not np.isclose(float(loss), want["loss"], case.rtol, case.atol):
        x, y, _ = case.args
        after = float(np.mean((want["w"] * x + want["b"] - y) ** 2))
        text = f"returned loss: expected {want['loss']:.5g}, got {float(loss):.5g}"
        if np.isclose(float(loss), after, 1e-3, 1e-4):
            text += " (that is the loss after the update: return the one computed in the tape)"
        return text
    return None


LINEAR_TRAIN_STEP = define(
    TOPIC,
    "linear_train_step",
    _train_step_cases,
    _compare_train_step,
    run_case=_run_train_step,
    title="One step of gradient descent for y = w x + b",
    references=[linear_regression.train_step, linear_regression.squared_error_gradient],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (PAIRWISE_SQUARED_DISTANCES, SQUARED_ERROR_GRADIENT, LINEAR_TRAIN_STEP)
