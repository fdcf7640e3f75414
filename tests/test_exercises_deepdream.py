"""DeepDream exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import dream, grading


def _reference_octave_shape(base_shape, octave, scale=1.3):
    return dream.octave_sizes(base_shape, scale, [octave])[0]


MIN_CASES = 3
REFERENCES = {
    "deepdream.dream_objective": dream.dream_loss,
    "deepdream.normalize_gradients": dream.normalize_gradients,
    "deepdream.octave_shape": _reference_octave_shape,
}


def _numpy_objective(activations):
    """A correct answer in NumPy, float64, returning a Python float."""
    return float(sum(np.mean(np.asarray(a, dtype=np.float64)) for a in activations))


def _numpy_normalize(gradients):
    values = np.asarray(gradients, dtype=np.float64)
    return values / (values.std() + 1e-8)


def _tf_octave_shape(base_shape, octave, scale=1.3):
    """A correct answer with TensorFlow ops, returning an int32 tensor (round half to even)."""
    size = tf.constant(base_shape, tf.float64) * scale**octave
    return tf.cast(tf.round(size), tf.int32)


CORRECT = {
    "deepdream.dream_objective": _numpy_objective,
    "deepdream.normalize_gradients": _numpy_normalize,
    "deepdream.octave_shape": _tf_octave_shape,
}


def _summed(activations):
    return tf.add_n([tf.reduce_sum(a) for a in activations])


def _mean_of_means(activations):
    return tf.reduce_mean([tf.reduce_mean(a) for a in activations])


def _pooled_mean(activations):
    return tf.reduce_mean(tf.concat([tf.reshape(a, [-1]) for a in activations], axis=0))


def _return_in_loop(activations):
    total = 0.0
    for activation in activations:
        total += tf.reduce_mean(activation)
        return total


def _last_layer_only(activations):
    return tf.reduce_mean(activations[-1])


def _per_layer(activations):
    return tf.stack([tf.reduce_mean(a) for a in activations])


def _no_epsilon(gradients):
    return gradients / tf.math.reduce_std(gradients)


def _mean_absolute(gradients):
    return gradients / (tf.reduce_mean(tf.abs(gradients)) + 1e-8)


def _norm(gradients):
    return gradients / (tf.norm(gradients) + 1e-8)


def _per_channel(gradients):
    return gradients / (tf.math.reduce_std(gradients, axis=(0, 1), keepdims=True) + 1e-8)


def _standardized(gradients):
    return (gradients - tf.reduce_mean(gradients)) / (tf.math.reduce_std(gradients) + 1e-8)


def _epsilon_inside(gradients):
    return gradients / tf.sqrt(tf.math.reduce_variance(gradients) + 1e-8)


def _truncated(base_shape, octave, scale=1.3):
    return tuple(int(side * scale**octave) for side in base_shape)


def _floats(base_shape, octave, scale=1.3):
    return tuple(float(round(side * scale**octave)) for side in base_shape)


def _sign_flipped(base_shape, octave, scale=1.3):
    return tuple(round(side * scale**-octave) for side in base_shape)


def _times_octave(base_shape, octave, scale=1.3):
    return tuple(round(side * scale * octave) for side in base_shape)


def _width_first(base_shape, octave, scale=1.3):
    return tuple(round(side * scale**octave) for side in base_shape[::-1])


def _fixed_scale(base_shape, octave, scale=1.3):
    return tuple(round(side * 1.3**octave) for side in base_shape)


WRONG = [
    ("deepdream.dream_objective", _summed, "the activations were summed"),
    ("deepdream.dream_objective", _mean_of_means, "the layers' means were averaged"),
    ("deepdream.dream_objective", _pooled_mean, "weighs a layer by its size"),
    ("deepdream.dream_objective", _return_in_loop, "only the first layer counts"),
    ("deepdream.dream_objective", _last_layer_only, "only the last layer counts"),
    ("deepdream.dream_objective", _per_layer, "add them into one number"),
    ("deepdream.normalize_gradients", _no_epsilon, "NaN or infinity"),
    ("deepdream.normalize_gradients", _mean_absolute, "divided by the mean |gradient|"),
    ("deepdream.normalize_gradients", _norm, "divided by the norm"),
    ("deepdream.normalize_gradients", _per_channel, "one standard deviation per channel"),
    ("deepdream.normalize_gradients", _standardized, "the mean was subtracted"),
    ("deepdream.normalize_gradients", _epsilon_inside, "outside the square root"),
    ("deepdream.octave_shape", _truncated, "int() rounds toward zero"),
    ("deepdream.octave_shape", _floats, "return ints"),
    ("deepdream.octave_shape", _sign_flipped, "the octave's sign is flipped"),
    ("deepdream.octave_shape", _times_octave, "the factor is the power scale ** octave"),
    ("deepdream.octave_shape", _width_first, "height first"),
    ("deepdream.octave_shape", _fixed_scale, "the scale argument was ignored"),
]


def test_the_first_octave_cases_are_the_chapter_photograph():
    exercise = grading.get_exercise("deepdream.octave_shape")
    cases = exercise.make_cases(np.random.default_rng(0))
    chapter = dream.octave_sizes((160, 240), 1.3, [-2, 2])
    assert [tuple(case.expected) for case in cases[:2]] == [tuple(size) for size in chapter]


def test_the_zero_gradient_case_expects_zeros():
    exercise = grading.get_exercise("deepdream.normalize_gradients")
    cases = exercise.make_cases(np.random.default_rng(0))
    zero = [case for case in cases if not np.any(case.args[0].numpy())]
    assert len(zero) == 1 and not np.any(zero[0].expected)
