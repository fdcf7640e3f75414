"""Part 1 exercises (tensors and gradients, Keras models, the CNN): references pass, typical
mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.basics import cnn, linear_regression, mnist_models, tensors, training

REFERENCES = {
    "tensors_and_gradients.pairwise_squared_distances": tensors.pairwise_squared_distances,
    "tensors_and_gradients.squared_error_gradient": linear_regression.squared_error_gradient,
    "tensors_and_gradients.linear_train_step": linear_regression.train_step,
    "keras_models.build_sequential": mnist_models.build_sequential,
    "keras_models.accuracy": training.accuracy,
    "keras_models.custom_train_step": training.train_step,
    "cnn.add_channel_axis_and_scale": cnn.add_channel_axis_and_scale,
    "cnn.count_conv_params": cnn.count_conv_params,
    "cnn.conv_output_shape": cnn.conv_output_shape,
    "cnn.build_cnn": cnn.build_simple_cnn,
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
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def _integer_accuracy(probabilities, labels):
    correct = tf.argmax(probabilities, axis=-1) == tf.cast(labels, tf.int64)
    return tf.reduce_mean(tf.cast(correct, tf.int32))


def _forgets_to_update(model, optimizer, images, labels):
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    return loss_fn(labels, model(images, training=True))


def _channels_first(images):
    return (np.asarray(images, np.float32) / 255.0)[:, np.newaxis]


def _no_bias(kernel_size, in_channels, filters):
    return kernel_size * kernel_size * in_channels * filters


def _same_padding(input_shape, layers):
    height, width, channels = input_shape
    for layer in layers:
        if layer[0] == "conv":
            channels = layer[1]
        else:
            height, width = height // layer[1], width // layer[1]
    return height, width, channels


def _no_pooling(num_classes):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


MIN_CASES = 2
MISTAKES_FAIL_EVERY_CASE = True
WRONG = [
    (
        "tensors_and_gradients.pairwise_squared_distances",
        lambda a, b: tf.norm(a[:, tf.newaxis, :] - b[tf.newaxis, :, :], axis=-1),
        "do not take the square root",
    ),
    ("tensors_and_gradients.squared_error_gradient", _summed_gradient, "not the sum"),
    ("tensors_and_gradients.linear_train_step", _uphill_step, "moved uphill"),
    ("keras_models.build_sequential", _no_dropout, "layer 3: expected ('Dropout', 0.2)"),
    ("keras_models.accuracy", _integer_accuracy, "cast the booleans to float32"),
    ("keras_models.custom_train_step", _forgets_to_update, "weights did not change"),
    ("cnn.add_channel_axis_and_scale", _channels_first, "the channel axis goes last"),
    ("cnn.count_conv_params", _no_bias, "the biases are missing"),
    ("cnn.conv_output_shape", _same_padding, "shrinks each side by kernel_size - 1"),
    ("cnn.build_cnn", _no_pooling, "layer 2: expected ('MaxPooling2D', (2, 2))"),
]


def test_wrong_values_show_expected_and_got():
    result = grading.grade(
        grading.get_exercise("tensors_and_gradients.squared_error_gradient"), _summed_gradient
    )
    assert "dL/dw: expected" in result.feedback and ", got " in result.feedback


def test_more_mistakes_are_named():
    def grade(exercise_id, wrong):
        return grading.grade(grading.get_exercise(exercise_id), wrong, seed=0).feedback

    unscaled = grade(
        "cnn.add_channel_axis_and_scale", lambda x: np.asarray(x, np.float32)[..., None]
    )
    assert "divide by 255" in unscaled
    float64 = grade("cnn.add_channel_axis_and_scale", lambda x: (x / 255.0)[..., None])
    assert "expected dtype float32, got float64" in float64
    one_channel = grade("cnn.count_conv_params", lambda k, c, f: k * k * f + f)
    assert "spans all in_channels" in one_channel
    keeps_depth = grade("cnn.conv_output_shape", lambda s, layers: (*_depth_kept(s, layers),))
    assert "output depth is its number of filters" in keeps_depth


def _depth_kept(shape, layers):
    height, width, channels = shape
    for layer in layers:
        if layer[0] == "conv":
            height, width = height - layer[2] + 1, width - layer[2] + 1
        else:
            height, width = height // layer[1], width // layer[1]
    return height, width, channels
