"""course_lib.basics.cnn: the simple CNN of walkthrough 4, its shape and parameter arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from course_lib import basics, config
from course_lib.basics import cnn, training

TUTORIAL_LAYERS = [
    ("Conv2D", 32, (3, 3), "relu"),
    ("MaxPooling2D", (2, 2)),
    ("Conv2D", 64, (3, 3), "relu"),
    ("MaxPooling2D", (2, 2)),
    ("Conv2D", 64, (3, 3), "relu"),
    ("Flatten",),
    ("Dense", 64, "relu"),
    ("Dense", 10, "softmax"),
]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Twelve uint8 'digits': random strokes inside a 20x20 box centred in 28x28, as MNIST's."""
    rng = np.random.default_rng(5)
    images = np.zeros((12, 28, 28), np.uint8)
    images[:, 4:24, 4:24] = rng.integers(0, 256, size=(12, 20, 20))
    return images, rng.integers(0, 10, size=12).astype(np.uint8)


def test_the_default_model_is_the_tutorials_stack(digits):
    config.seed_everything(0)
    model = basics.build_simple_cnn()
    assert cnn.describe_layers(model) == TUTORIAL_LAYERS
    assert [layer.name for layer in model.layers] == [
        "images",
        "conv_1",
        "pool_1",
        "conv_2",
        "pool_2",
        "conv_3",
        "flatten",
        "dense_1",
        "classifier",
    ]
    assert model.count_params() == 93_322
    probabilities = model(cnn.add_channel_axis_and_scale(digits[0]))
    assert probabilities.shape == (12, 10)
    np.testing.assert_allclose(tf.reduce_sum(probabilities, axis=-1), 1.0, rtol=1e-5)


def test_the_arithmetic_matches_keras(rng):
    for _ in range(5):
        filters = tuple(int(f) for f in rng.integers(1, 9, size=int(rng.integers(1, 4))))
        kernel_size, classes = int(rng.integers(1, 4)), int(rng.integers(2, 6))
        shape = (int(rng.integers(20, 40)), int(rng.integers(20, 40)), int(rng.integers(1, 4)))
        model = cnn.build_simple_cnn(classes, filters, kernel_size, 5, input_shape=shape)
        last_conv = model.get_layer(f"conv_{len(filters)}")
        expected = cnn.conv_output_shape(shape, cnn.layer_specs(filters, kernel_size))
        assert tuple(last_conv.output.shape[1:]) == expected
        channels = (shape[2], *filters)
        for index, count in enumerate(filters, start=1):
            conv = model.get_layer(f"conv_{index}")
            assert conv.count_params() == cnn.count_conv_params(
                kernel_size, channels[index - 1], count
            )


def test_conv_output_shape_of_the_tutorials_stack():
    assert cnn.conv_output_shape((28, 28, 1), cnn.layer_specs()) == (3, 3, 64)
    assert cnn.conv_output_shape((28, 28, 1), [("conv", 32, 3)]) == (26, 26, 32)
    assert cnn.conv_output_shape((7, 9, 3), [("pool", 2)]) == (3, 4, 3)
    assert cnn.conv_output_shape((10, 12, 2), [("conv", 4, (3, 5)), ("pool", (2, 4))]) == (4, 2, 4)
    assert cnn.count_conv_params(3, 1, 32) == 320
    assert cnn.count_conv_params((3, 3), 32, 64) == 18_496


def test_add_channel_axis_and_scale(digits):
    images = digits[0]
    prepared = cnn.add_channel_axis_and_scale(images)
    assert prepared.shape == (12, 28, 28, 1) and prepared.dtype == np.float32
    np.testing.assert_allclose(prepared[..., 0], images / 255.0, rtol=1e-6)
    assert cnn.add_channel_axis(np.zeros((2, 5, 7), np.uint8)).shape == (2, 5, 7, 1)


def test_feature_maps_are_the_first_layer_applied_by_hand(digits):
    config.seed_everything(0)
    model = cnn.build_simple_cnn()
    images = cnn.add_channel_axis_and_scale(digits[0][:2])
    maps = cnn.feature_maps(model, images, "conv_1")
    assert maps.shape == (2, 26, 26, 32)
    kernel, bias = model.get_layer("conv_1").get_weights()
    for f in (0, 17):
        correlated = scipy.signal.correlate2d(images[1, :, :, 0], kernel[:, :, 0, f], "valid")
        expected = np.maximum(correlated + bias[f], 0.0)
        np.testing.assert_allclose(maps[1, :, :, f], expected, rtol=1e-4, atol=1e-5)


def test_shifted_dataset_moves_digits_by_whole_pixels(digits):
    images = cnn.add_channel_axis_and_scale(digits[0])
    labels = digits[1]
    plain = cnn.make_shifted_dataset(images, labels, batch_size=4, max_shift=0, seed=2)
    expected = training.make_dataset(images, labels, batch_size=4, seed=2)
    for (a, la), (b, lb) in zip(plain, expected, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)

    def batches(seed):
        dataset = cnn.make_shifted_dataset(images[..., 0], labels, 4, max_shift=2, seed=seed)
        return [(x.numpy(), y.numpy()) for x, y in dataset]

    first = batches(3)
    for (a, la), (b, lb) in zip(first, batches(3), strict=True):  # the same seed repeats
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(first[0][0], batches(4)[0][0])
    originals = {int(label): [] for label in labels}
    for image, label in zip(images[..., 0], labels, strict=True):
        originals[int(label)].append(image)
    moved = 0
    for shifted_images, shifted_labels in first:
        assert shifted_images.shape[1:] == (28, 28)
        for image, label in zip(shifted_images, shifted_labels, strict=True):
            # The digits have 4 empty pixels around them: a shift of <= 2 is a roll.
            shifts = [
                (dy, dx)
                for original in originals[int(label)]
                for dy in range(-2, 3)
                for dx in range(-2, 3)
                if np.array_equal(np.roll(original, (dy, dx), axis=(0, 1)), image)
            ]
            assert shifts, "a shifted digit is not a whole-pixel shift of an original"
            moved += shifts[0] != (0, 0)
    assert moved >= 6


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"num_classes": 1}, ValueError, "num_classes"),
        ({"filters": ()}, ValueError, "filters"),
        ({"filters": (32, 0)}, ValueError, "filters"),
        ({"kernel_size": 2.5}, TypeError, "kernel_size"),
        ({"dense_units": 0}, ValueError, "dense_units"),
        ({"input_shape": (8, 8, 1)}, ValueError, "input_shape is too small"),
        ({"input_shape": "28x28"}, ValueError, "input_shape"),
    ],
)
def test_build_simple_cnn_rejects_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        cnn.build_simple_cnn(**kwargs)


def test_helpers_reject_bad_arguments(digits):
    with pytest.raises(ValueError, match=r"images must have shape \[N, 28, 28\]"):
        cnn.add_channel_axis_and_scale(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match="images must have shape"):
        cnn.add_channel_axis(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="kernel_size"):
        cnn.count_conv_params((3, 3, 3), 1, 8)
    with pytest.raises(ValueError, match="in_channels"):
        cnn.count_conv_params(3, 0, 8)
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        cnn.conv_output_shape((28, 28, 1), [("conv", 8, 3), ("dense", 10)])
    with pytest.raises(ValueError, match="input_shape"):
        cnn.conv_output_shape((28, 28), [])
    with pytest.raises(ValueError, match="max_shift"):
        cnn.make_shifted_dataset(np.zeros((4, 28, 28)), np.zeros(4), max_shift=-1)
    with pytest.raises(ValueError, match="images and labels"):
        cnn.make_shifted_dataset(np.zeros((4, 28, 28)), np.zeros(3))
    with pytest.raises(ValueError, match="layer_name 'conv_9'.*conv_1"):
        cnn.feature_maps(cnn.build_simple_cnn(), np.zeros((1, 28, 28, 1)), "conv_9")


def test_a_few_steps_of_training_lower_the_loss(digits):
    config.seed_everything(0)
    model = cnn.build_simple_cnn(filters=(8, 8), dense_units=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    images, labels = cnn.add_channel_axis_and_scale(digits[0]), digits[1]
    history = model.fit(images, labels, epochs=8, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
