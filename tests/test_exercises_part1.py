"""Part 1 exercises: references pass, typical mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib import grading
from course_lib.basics import linear_regression, mnist_models, tensors, training

REFERENCES = {
    "tensors_and_gradients.pairwise_squared_distances": tensors.pairwise_squared_distances,
    "tensors_and_gradients.squared_error_gradient": linear_regression.squared_error_gradient,
    "tensors_and_gradients.linear_train_step": linear_regression.train_step,
    "keras_models.build_sequential": mnist_models.build_sequential,
    "keras_models.accuracy": training.accuracy,
    "keras_models.custom_train_step": training.train_step,
}


def _summed_gradient(x, y, w, b):
    w, b = tf.Variable(w), tf.Variable(b)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum((w * x + b - y) ** 2)
    return tuple(tape.gradient(loss, [w, b]))


def _uphill_step(model, x, y, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    dw, db = tape.gradient(loss, [model.w, model.b])
    model.w.assign_add(learning_rate * dw)
    model.b.assign_add(learning_rate * db)
    return loss


def _no_dropout(num_classes):
    return mnist_models.build_sequential(num_classes, dropout=0.0)


def _integer_accuracy(probabilities, labels):
    correct = tf.argmax(probabilities, axis=-1) == tf.cast(labels, tf.int64)
    return tf.reduce_mean(tf.cast(correct, tf.int32))


def _forgets_to_update(model, optimizer, images, labels):
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    return loss_fn(labels, model(images, training=True))


MIN_CASES = 2
MISTAKES_FAIL_EVERY_CASE = True
WRONG = [
    (
        "tensors_and_gradients.pairwise_squared_distances",
        lambda a, b: tf.sqrt(tensors.pairwise_squared_distances(a, b)),
        "do not take the square root",
    ),
    ("tensors_and_gradients.squared_error_gradient", _summed_gradient, "not the sum"),
    ("tensors_and_gradients.linear_train_step", _uphill_step, "moved uphill"),
    ("keras_models.build_sequential", _no_dropout, "layer 3: expected ('Dropout', 0.2)"),
    ("keras_models.accuracy", _integer_accuracy, "cast the booleans to float32"),
    ("keras_models.custom_train_step", _forgets_to_update, "weights did not change"),
]


def test_wrong_values_show_expected_and_got():
    result = grading.grade(
        grading.get_exercise("tensors_and_gradients.squared_error_gradient"), _summed_gradient
    )
    assert "dL/dw: expected" in result.feedback and ", got " in result.feedback
