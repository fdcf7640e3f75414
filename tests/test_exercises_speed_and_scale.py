"""Speed-and-scale exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.grading.exercises import speed_and_scale

VECTOR_AND_SCALE = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32)]
SCALAR_INT = [tf.TensorSpec([], tf.int32)]


def make_scaled_sum():
    @tf.function(input_signature=VECTOR_AND_SCALE)
    def scaled_sum(x, scale):
        return scale * tf.reduce_sum(x)

    return scaled_sum


def _collatz_loop(n, steps):
    """Counts the Collatz updates of ``n`` onto ``steps``; a graph loop when ``n`` is a tensor."""
    while n > 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@tf.function(input_signature=SCALAR_INT)
def collatz_steps(n):
    return _collatz_loop(n, tf.constant(0))


def make_scaled_sum_with_einsum():
    """An independent correct answer: a different op, float scale cast inside."""

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32), tf.TensorSpec(None, tf.float32)])
    def scaled_sum(x, scale):
        return tf.einsum("i,->", x, scale)

    return scaled_sum


@tf.function(input_signature=SCALAR_INT)
def collatz_steps_with_while_loop(n):
    """An independent correct answer: tf.while_loop written out, int64 counter."""

    def body(n, steps):
        n = tf.where(n % 2 == 0, n // 2, 3 * n + 1)
        return n, steps + 1

    _, steps = tf.while_loop(lambda n, steps: n > 1, body, [n, tf.constant(0, tf.int64)])
    return steps


MIN_CASES = 3
REFERENCES = {
    "speed_and_scale.make_scaled_sum": make_scaled_sum,
    "speed_and_scale.collatz_steps": collatz_steps,
}
CORRECT = {
    "speed_and_scale.make_scaled_sum": make_scaled_sum_with_einsum,
    "speed_and_scale.collatz_steps": collatz_steps_with_while_loop,
}


def _without_signature():
    return tf.function(lambda x, scale: scale * tf.reduce_sum(x))


def _with_reduce_retracing():
    return tf.function(lambda x, scale: scale * tf.reduce_sum(x), reduce_retracing=True)


def _maker(signature, scaled_sum):
    """A ``make_scaled_sum`` that returns a new ``tf.function`` of ``scaled_sum`` each call."""
    return lambda: tf.function(scaled_sum, input_signature=signature)


def _sum_times_scale(x, scale):
    return scale * tf.reduce_sum(x)


def _sum_alone(x, scale):
    return tf.reduce_sum(x)


def _mean_times_scale(x, scale):
    return scale * tf.reduce_mean(x)


_fixed_length = _maker(
    [tf.TensorSpec([3], tf.float32), tf.TensorSpec([], tf.float32)], _sum_times_scale
)
_float64_signature = _maker(
    [tf.TensorSpec([None], tf.float64), tf.TensorSpec([], tf.float64)], _sum_times_scale
)
_scale_forgotten = _maker(VECTOR_AND_SCALE, _sum_alone)
_mean_instead_of_sum = _maker(VECTOR_AND_SCALE, _mean_times_scale)


def _plain_python():
    return lambda x, scale: scale * tf.reduce_sum(x)


@tf.function
def _collatz_without_signature(n):
    return _collatz_loop(n, 0)


@tf.function(input_signature=SCALAR_INT)
def _collatz_with_numpy(n):
    n = int(n.numpy())
    steps = 0
    while n > 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


@tf.function(input_signature=SCALAR_INT)
def _collatz_counting_values(n):
    return _collatz_loop(n, tf.constant(1))


@tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
def _collatz_float_signature(n):
    return tf.constant(0)


def _collatz_plain_python(n):
    return collatz_steps(n)


WRONG = [
    ("speed_and_scale.make_scaled_sum", _without_signature, "traced 3 times for 3 calls"),
    (
        "speed_and_scale.make_scaled_sum",
        _with_reduce_retracing,
        "give @tf.function an input_signature",
    ),
    ("speed_and_scale.make_scaled_sum", _fixed_length, "fixes x's shape to [3]: use [None]"),
    ("speed_and_scale.make_scaled_sum", _float64_signature, "x dtype float64: use tf.float32"),
    ("speed_and_scale.make_scaled_sum", _scale_forgotten, "that is sum(x): multiply it by scale"),
    ("speed_and_scale.make_scaled_sum", _mean_instead_of_sum, "scale times the mean"),
    ("speed_and_scale.make_scaled_sum", _plain_python, "returned a function, not a tf.function"),
    (
        "speed_and_scale.collatz_steps",
        _collatz_without_signature,
        "each Python int is a new trace",
    ),
    ("speed_and_scale.collatz_steps", _collatz_with_numpy, "no value yet: no .numpy()"),
    ("speed_and_scale.collatz_steps", _collatz_counting_values, "off by one"),
    (
        "speed_and_scale.collatz_steps",
        _collatz_float_signature,
        "TensorSpec(shape=[], dtype=tf.int32)",
    ),
    ("speed_and_scale.collatz_steps", _collatz_plain_python, "not a tf.function"),
]


def _stub_factory():
    raise NotImplementedError()


@tf.function
def _stub_collatz(n):
    raise NotImplementedError()


STUBS = {
    "speed_and_scale.make_scaled_sum": _stub_factory,
    "speed_and_scale.collatz_steps": _stub_collatz,
}


def test_a_correct_function_is_traced_once_for_all_cases():
    exercise = grading.get_exercise("speed_and_scale.collatz_steps")

    @tf.function(input_signature=SCALAR_INT)
    def fresh(n):
        return collatz_steps(n)

    assert grading.grade(exercise, fresh, seed=3).passed
    assert fresh.experimental_get_tracing_count() == 1


def test_the_plain_python_references_match_known_values():
    assert [speed_and_scale.reference_collatz_steps(n) for n in (1, 2, 3, 6, 7, 27)] == [
        0,
        1,
        7,
        8,
        16,
        111,
    ]
    assert speed_and_scale.reference_scaled_sum([1.0, 2.0, 3.0], 0.5) == np.float32(3.0)
