"""Test helpers for graphics ops: Jacobians against finite differences, finite gradients.

Used by the project's tests (and benchmarks: :func:`peak_memory`) and usable by anyone writing
an op in the same style::

    assert_jacobian_matches(axis_angle.rotate, [point, axis, angle])
    assert_gradient_finite(axis_angle.rotate, [[1.0, 2.0, 3.0]], [[0.0, 0.0, 1.0]], [[0.0]])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf


def assert_jacobian_matches(
    fn: Callable[..., tf.Tensor],
    args: Sequence[Any],
    wrt: Sequence[int] | None = None,
    delta: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Checks ``fn``'s Jacobian against central finite differences, in float64.

    Args:
        fn: the op; called as ``fn(*args)``.
        args: its arguments (converted to float64 arrays).
        wrt: indices of the arguments to differentiate (default: all).
    """
    values = [np.asarray(a, dtype=np.float64) for a in args]
    wrt = range(len(values)) if wrt is None else wrt
    for index in wrt:

        def partial(x: tf.Tensor, index: int = index) -> tf.Tensor:
            return fn(*values[:index], x, *values[index + 1 :])

        theoretical, numerical = tf.test.compute_gradient(partial, [values[index]], delta=delta)
        np.testing.assert_allclose(
            theoretical[0],
            numerical[0],
            atol=atol,
            rtol=rtol,
            err_msg=f"Jacobian of argument {index} differs from finite differences",
        )


def gradients(fn: Callable[..., tf.Tensor], *args: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """``fn(*args)`` and the gradients of its sum with respect to every argument."""
    variables = [tf.Variable(np.asarray(a, dtype=np.float32)) for a in args]
    with tf.GradientTape() as tape:
        output = fn(*variables)
        total = tf.reduce_sum(output)
    grads = tape.gradient(total, variables, unconnected_gradients="zero")
    return np.asarray(output), [np.asarray(g) for g in grads]


def assert_gradient_finite(fn: Callable[..., tf.Tensor], *args: Any) -> None:
    """Asserts that ``fn(*args)`` and its gradients (float32) contain no NaN or Inf."""
    output, grads = gradients(fn, *args)
    assert np.all(np.isfinite(output)), f"output is not finite: {output}"
    for index, grad in enumerate(grads):
        assert np.all(np.isfinite(grad)), f"gradient of argument {index} is not finite: {grad}"


def peak_memory(function: Callable[[], Any], interval_s: float = 0.001) -> tuple[Any, int, int]:
    """Runs ``function()`` while a thread samples this process's resident memory (RSS).

    TensorFlow has no allocator statistics on the CPU, hence the sampling (every
    ``interval_s`` seconds, and once more after the call). Needs ``psutil``.

    Returns:
        ``(result, before, peak)``: what ``function`` returned, the RSS in bytes just before
        the call and the highest RSS seen during it.
    """
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(interval_s)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        result = function()
    finally:
        done.set()
        thread.join()
    return result, before, max(peak[0], process.memory_info().rss)
