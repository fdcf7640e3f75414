"""Exercises of the CNN chapter: references pass, typical mistakes get specific feedback.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import keras
import numpy as np

from course_lib import grading
from course_lib.basics import cnn

REFERENCES = {
    "cnn.add_channel_axis_and_scale": cnn.add_channel_axis_and_scale,
    "cnn.count_conv_params": cnn.count_conv_params,
    "cnn.conv_output_shape": cnn.conv_output_shape,
    "cnn.build_cnn": cnn.build_simple_cnn,
}


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
    ("cnn.add_channel_axis_and_scale", _channels_first, "the channel axis goes last"),
    ("cnn.count_conv_params", _no_bias, "the biases are missing"),
    ("cnn.conv_output_shape", _same_padding, "shrinks each side by kernel_size - 1"),
    ("cnn.build_cnn", _no_pooling, "layer 2: expected ('MaxPooling2D', (2, 2))"),
]


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
