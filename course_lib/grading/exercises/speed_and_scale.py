"""Exercises of the chapter "Speed and scale" (book/part1/10_speed_and_scale).

- ``make_scaled_sum()``: returns a ``tf.function`` ``scaled_sum(x, scale) = scale * sum(x)`` that
  is traced once, whatever the vector's length and the Python float ``scale`` (an
  ``input_signature``);
- ``collatz_steps(n)``: a Python ``while`` loop with an ``if`` inside, written so that AutoGraph
  turns it into a graph loop (``tf.while_loop``): the number of Collatz steps from ``n`` to 1,
  traced once for every scalar int32 input.

Both checks count traces with ``tf.function.experimental_get_tracing_count()``. Expected values
come from the plain-Python references below, on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.grading.check import compare_values
from course_lib.grading.exercise import Case, define

TOPIC = "speed_and_scale"


def reference_scaled_sum(x: Any, scale: float) -> np.float32:
    """``scale * sum(x)`` in float32, the value ``scaled_sum`` must return."""
    return np.float32(np.float32(scale) * np.sum(np.asarray(x, dtype=np.float32)))


def reference_collatz_steps(n: int) -> int:
    """Steps of ``n -> n / 2`` (even) or ``n -> 3n + 1`` (odd) until ``n`` is 1 (0 for n <= 1)."""
    steps = 0
    while n > 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def _tracing_count(function: Any) -> int | None:
    """How many times a ``tf.function`` was traced; ``None`` for anything else."""
    counter = getattr(function, "experimental_get_tracing_count", None)
    return int(counter()) if callable(counter) else None


def _signature(function: Any) -> list[tuple[str | None, list | None]] | None:
    """A ``tf.function``'s ``input_signature`` as data: ``(dtype name, shape)`` per spec (shape
    ``None`` when the rank is unknown); ``None`` when it has none. Computed where the function
    runs (the learner's kernel), compared by the grader."""
    try:
        specs = getattr(function, "input_signature", None)
        if specs is None:
            return None
        described = []
        for spec in specs:
            dtype, shape = getattr(spec, "dtype", None), getattr(spec, "shape", None)
            known = shape is not None and shape.rank is not None
            described.append((getattr(dtype, "name", None), shape.as_list() if known else None))
        return described
    except Exception:  # noqa: BLE001 - only used to word the feedback
        return None


def _call_all(function: Any, calls: list[tuple]) -> dict[str, Any]:
    """Calls a ``tf.function`` once per argument tuple; records values, traces and any error."""
    before = _tracing_count(function)
    if before is None:
        return {"not_tf_function": type(function).__name__, "signature": None}
    values = []
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the retracing warning: the feedback says it better
    try:
        for index, args in enumerate(calls):
            try:
                values.append(function(*args))
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - a learner's error is feedback
                text = " ".join(str(error).split())[:300]
                signature = _signature(function)
                return {"error": (index, type(error).__name__, text), "signature": signature}
    finally:
        logger.setLevel(level)
    traces = _tracing_count(function) - before
    return {"values": values, "traces": traces, "signature": _signature(function)}


def _scalar_value(value: Any) -> tuple[np.ndarray | None, str]:
    """The learner's return value as a NumPy scalar, or None and what it was instead."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - described in the message
        return None, type(value).__name__
    if array.dtype.kind not in "biuf":
        return None, f"{type(value).__name__} {value!r:.60}"
    if array.shape != ():
        return None, f"an array of shape {array.shape} (return a scalar)"
    return array, ""


# --- make_scaled_sum --------------------------------------------------------------------------

_SCALED_SUM_HINT = (
    "Return a tf.function with a fixed signature: @tf.function(input_signature="
    "[tf.TensorSpec(shape=[None], dtype=tf.float32), tf.TensorSpec(shape=[], dtype=tf.float32)]) "
    "on def scaled_sum(x, scale): return scale * tf.reduce_sum(x). The signature turns Python "
    "floats into tensors and accepts vectors of any length, so one graph serves every call."
)


def _scaled_sum_cases(rng: np.random.Generator) -> list[Case]:
    def vector(length: int) -> np.ndarray:
        return rng.normal(size=length).astype(np.float32)

    length = int(rng.integers(3, 9))
    scales = [round(float(s), 3) for s in rng.uniform(-3.0, 3.0, size=3)]
    settings = [
        (
            f"one length ({length}), three Python float scales {scales}",
            [(vector(length), scale) for scale in scales],
        )
    ]
    lengths = sorted(int(n) for n in rng.choice(np.arange(2, 40), size=3, replace=False))
    scale = round(float(rng.uniform(0.5, 2.0)), 3)
    settings.append(
        (f"vectors of lengths {lengths}, scale {scale}", [(vector(n), scale) for n in lengths])
    )
    lengths = [int(n) for n in rng.integers(1, 20, size=4)]
    calls = [
        (tf.constant(vector(n)), float(rng.uniform(-2.0, 2.0)) if i % 2 else tf.constant(1.5))
        for i, n in enumerate(lengths)
    ]
    settings.append((f"tensors and floats mixed, lengths {lengths}", calls))
    return [
        Case(
            description=description,
            args=(calls,),
            expected=[reference_scaled_sum(np.asarray(x), float(s)) for x, s in calls],
            hint=_SCALED_SUM_HINT,
            rtol=1e-4,
            atol=1e-5,
        )
        for description, calls in settings
    ]


def _run_scaled_sum(obj: Any, case: Case) -> dict[str, Any]:
    return _call_all(obj(), case.args[0])


def _signature_problem(signature: list | None) -> str:
    """What is wrong with the input_signature (:func:`_signature`) for this exercise ("" if
    nothing is seen)."""
    if not signature:
        return ""
    if len(signature) != 2:
        return f" (the input_signature lists {len(signature)} specs: it needs two, for x and scale)"
    for name, (dtype, shape), want in zip(("x", "scale"), signature, ([None], []), strict=True):
        if dtype is not None and dtype != "float32":
            return f" (the signature gives {name} dtype {dtype}: use tf.float32)"
        if shape is not None and list(shape) != want:
            return f" (the signature fixes {name}'s shape to {list(shape)}: use {want})"
    return ""


def _compare_scaled_sum(got: dict[str, Any], case: Case) -> str | None:
    if "not_tf_function" in got:
        return (
            f"make_scaled_sum() returned a {got['not_tf_function']}, not a tf.function: decorate "
            "the inner function with @tf.function(input_signature=[...])"
        )
    calls = case.args[0]
    if "error" in got:
        index, kind, text = got["error"]
        x, scale = calls[index]
        return (
            f"call {index + 1} (x of shape [{np.asarray(x).size}], scale {float(scale):.3g}) "
            f"raised {kind}: {text}{_signature_problem(got['signature'])}"
        )
    for index, (value, want, (x, scale)) in enumerate(
        zip(got["values"], case.expected, calls, strict=True)
    ):
        have, what = _scalar_value(value)
        if have is None:
            return f"call {index + 1} returned {what}, expected the float {float(want):.6g}"
        message = compare_values(have.astype(np.float32), want, case.rtol, case.atol)
        if message is None:
            continue
        text = f"call {index + 1}: {message}"
        total = float(np.sum(np.asarray(x, dtype=np.float32)))
        if np.isclose(float(have), total, rtol=1e-4, atol=1e-5):
            return text + " (that is sum(x): multiply it by scale)"
        if np.isclose(float(have), total / np.asarray(x).size * float(scale), rtol=1e-4):
            return text + " (that is scale times the mean: use tf.reduce_sum)"
        return text
    if got["traces"] > 1:
        text = (
            f"the values are right, but the function was traced {got['traces']} times for "
            f"{len(calls)} calls: every new Python float or vector length made a new graph"
        )
        if got["signature"] is None:
            return text + " (give @tf.function an input_signature)"
        return text + _signature_problem(got["signature"])
    return None


MAKE_SCALED_SUM = define(
    TOPIC,
    "make_scaled_sum",
    _scaled_sum_cases,
    _compare_scaled_sum,
    run_case=_run_scaled_sum,
    title="A tf.function that is traced once: input_signature",
)


# --- collatz_steps ----------------------------------------------------------------------------

_COLLATZ_HINT = (
    "Decorate with @tf.function(input_signature=[tf.TensorSpec(shape=[], dtype=tf.int32)]) and "
    "keep n a tensor: steps = tf.constant(0); while n > 1: if n % 2 == 0: n = n // 2 / else: "
    "n = 3 * n + 1; steps += 1. AutoGraph turns the while and the if into tf.while_loop and "
    "tf.cond because their conditions are tensors."
)


def _collatz_cases(rng: np.random.Generator) -> list[Case]:
    small = [int(n) for n in rng.choice(np.arange(2, 30), size=3, replace=False)]
    large = [int(n) for n in rng.choice(np.arange(100, 10_000), size=3, replace=False)]
    python_ints = [int(n) for n in rng.choice(np.arange(30, 100), size=3, replace=False)]
    settings = [
        ("int32 tensors, n = 1, 27 and small values", [1, 27, *small], "tensor"),
        ("int32 tensors, larger n", large, "tensor"),
        ("Python ints", python_ints, "int"),
    ]
    cases = []
    for description, values, kind in settings:
        calls = [(tf.constant(n, tf.int32) if kind == "tensor" else n,) for n in values]
        cases.append(
            Case(
                description=f"{description}: n = {values}",
                args=(calls,),
                kwargs={"python_ints": kind == "int"},
                expected=[np.int32(reference_collatz_steps(n)) for n in values],
                hint=_COLLATZ_HINT,
            )
        )
    return cases


def _run_collatz(obj: Any, case: Case) -> dict[str, Any]:
    return _call_all(obj, case.args[0])


def _compare_collatz(got: dict[str, Any], case: Case) -> str | None:
    if "not_tf_function" in got:
        return (
            f"collatz_steps is a {got['not_tf_function']}, not a tf.function: decorate it with "
            "@tf.function (AutoGraph converts the loop only inside a tf.function)"
        )
    calls = case.args[0]
    if "error" in got:
        index, kind, text = got["error"]
        message = f"collatz_steps({int(calls[index][0])}) raised {kind}: {text}"
        if text.startswith("Binding inputs") or "Can not cast" in text:
            message += " (the input_signature must be tf.TensorSpec(shape=[], dtype=tf.int32))"
        elif ".numpy()" in text or "'numpy'" in text or "OperatorNotAllowedInGraph" in kind:
            message += (
                " (inside a tf.function n is a symbolic tensor with no value yet: no .numpy(); "
                "compare and compute with tensors and let AutoGraph build the loop)"
            )
        return message
    for (args,), value, want in zip(calls, got["values"], case.expected, strict=True):
        have, what = _scalar_value(value)
        n = int(args)
        if have is None:
            return f"collatz_steps({n}) returned {what}, expected the int {int(want)}"
        message = compare_values(have, want)
        if message is None:
            continue
        text = f"collatz_steps({n}): {message}"
        if have.dtype.kind in "iu" and abs(int(have) - int(want)) == 1:
            text += (
                " (off by one: count the updates of n, not the values visited; "
                "collatz_steps(1) is 0)"
            )
        return text
    if got["traces"] > 1:
        text = f"the values are right, but collatz_steps was traced {got['traces']} times for "
        text += f"{len(calls)} calls"
        if case.kwargs.get("python_ints"):
            text += (
                ": each Python int is a new trace, and with a Python int the while loop runs in "
                "Python while tracing (unrolled into the graph)"
            )
        if got["signature"] is None:
            return text + " (give @tf.function an input_signature)"
        return text
    return None


COLLATZ_STEPS = define(
    TOPIC,
    "collatz_steps",
    _collatz_cases,
    _compare_collatz,
    run_case=_run_collatz,
    title="A Python loop that AutoGraph turns into a graph loop",
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (MAKE_SCALED_SUM, COLLATZ_STEPS)
