"""course_lib.basics: tensors, linear regression, the three MNIST models and the custom loop."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import basics, config
from course_lib.basics import linear_regression as lr
from course_lib.basics import training

# --- tensors ----------------------------------------------------------------------------------


def test_pairwise_squared_distances_matches_a_loop(rng):
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    expected = [[np.sum((p - q) ** 2) for q in b] for p in a]
    got = basics.pairwise_squared_distances(a, b)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_pairwise_squared_distances_rejects_mismatched_points():
    with pytest.raises(ValueError, match="last dimension"):
        basics.pairwise_squared_distances(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="b must have rank 2"):
        basics.pairwise_squared_distances(np.zeros((2, 3)), np.zeros(3))


# --- linear regression ------------------------------------------------------------------------


def test_linear_data_is_seeded_and_follows_the_line():
    x, y = lr.make_linear_data(num_examples=500, seed=3)
    x2, y2 = lr.make_linear_data(num_examples=500, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == y.shape == (500,) and x.dtype == np.float32
    residual = y - (lr.TRUE_W * x + lr.TRUE_B)
    assert abs(residual.std() - lr.NOISE_STDDEV) < 0.05
    assert not np.array_equal(lr.make_linear_data(num_examples=500, seed=4)[0], x)


def test_fit_recovers_the_line():
    x, y = lr.make_linear_data(seed=0)
    model = lr.LinearModel()
    history = lr.fit(model, x, y, epochs=50, learning_rate=0.1)
    assert history.shape == (50,) and np.all(np.diff(history) <= 1e-6)
    assert abs(float(model.w) - 3.0) < 0.05 and abs(float(model.b) - 2.0) < 0.05
    np.testing.assert_allclose([model.w, model.b], np.polyfit(x, y, 1), atol=1e-3)


def test_gradient_matches_closed_form_and_finite_differences(rng):
    x = rng.normal(size=50).astype(np.float32)
    y = (3 * x + 2 + rng.normal(size=50)).astype(np.float32)
    w, b = 0.7, -1.3
    dw, db = lr.squared_error_gradient(x, y, w, b)
    error = w * x + b - y
    np.testing.assert_allclose(dw, 2 / len(x) * np.sum(error * x), rtol=1e-5)
    np.testing.assert_allclose(db, 2 / len(x) * np.sum(error), rtol=1e-5)

    def loss(w_b):
        return lr.squared_loss(w_b[0] * x + w_b[1], y)

    theoretical, numerical = tf.test.compute_gradient(loss, [tf.constant([w, b])])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(theoretical[0].ravel(), [dw, db], rtol=1e-5)


def test_train_step_matches_a_numpy_update():
    x = np.array([0.0, 1.0, 2.0], np.float32)
    y = np.array([1.0, 3.0, 7.0], np.float32)
    model = lr.LinearModel(w=1.0, b=0.5)
    loss = lr.train_step(model, x, y, learning_rate=0.1)
    error = 1.0 * x + 0.5 - y
    np.testing.assert_allclose(loss, np.mean(error**2), rtol=1e-6)
    np.testing.assert_allclose(model.w, 1.0 - 0.1 * 2 * np.mean(error * x), rtol=1e-6)
    np.testing.assert_allclose(model.b, 0.5 - 0.1 * 2 * np.mean(error), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda m: lr.fit(m, np.zeros(3), np.zeros(4)), ValueError, "x and y"),
        (lambda m: lr.fit(m, np.zeros(3), np.zeros(3), epochs=0), ValueError, "epochs"),
        (lambda m: lr.fit(m, np.zeros(3), np.zeros(3), epochs=2.5), TypeError, "epochs"),
        (lambda m: lr.train_step(m, np.zeros(3), np.zeros(3), -0.1), ValueError, "learning_rate"),
        (lambda m: lr.train_step(m, np.zeros((3, 1)), np.zeros(3), 0.1), ValueError, "x must"),
        (lambda m: lr.squared_loss(np.zeros(3), np.zeros(2)), ValueError, "predicted and target"),
        (lambda m: lr.make_linear_data(num_examples=0), ValueError, "num_examples"),
    ],
)
def test_linear_regression_rejects_bad_arguments(call, error, argument):
    with pytest.raises(error, match=argument):
        call(lr.LinearModel())


# --- MNIST models -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).uniform(size=(6, 28, 28)).astype(np.float32)


def test_normalize_images_scales_and_checks():
    images = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    out = basics.normalize_images(images)
    assert out.dtype == np.float32 and out.min() == 0.0 and out.max() == 1.0
    with pytest.raises(ValueError, match=r"images must have shape \[N, 28, 28\]"):
        basics.normalize_images(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match="0..255"):
        basics.normalize_images(np.full((1, 28, 28), 300.0))


def test_three_ways_give_the_same_architecture(images):
    config.seed_everything(0)
    sequential = basics.build_sequential()
    functional = basics.build_functional()
    subclassed = basics.MyModel()
    outputs = [m(images) for m in (sequential, functional, subclassed)]
    for model, out in zip((sequential, functional, subclassed), outputs, strict=True):
        assert out.shape == (6, 10)
        np.testing.assert_allclose(tf.reduce_sum(out, axis=-1), 1.0, rtol=1e-5)
        assert model.count_params() == 28 * 28 * 512 + 512 + 512 * 10 + 10
    expected = [("Flatten",), ("Dense", 512, "relu"), ("Dropout", 0.2), ("Dense", 10, "softmax")]
    assert basics.describe_layers(sequential) == expected
    assert basics.describe_layers(functional) == expected
    assert basics.describe_layers(subclassed) == expected


def test_same_weights_give_the_same_predictions(images):
    sequential = basics.build_sequential(num_classes=4, hidden_units=(8, 6), dropout=0.1)
    subclassed = basics.MyModel(num_classes=4, hidden_units=(8, 6), dropout=0.1)
    subclassed.build((None, 28, 28))
    subclassed.set_weights(sequential.get_weights())
    np.testing.assert_allclose(subclassed(images), sequential(images), rtol=1e-5, atol=1e-6)


def test_subclassed_model_config_round_trip(images):
    model = basics.MyModel(num_classes=3, hidden_units=(16, 8), dropout=0.0, name="small")
    model(images)
    config_ = model.get_config()
    assert config_["num_classes"] == 3 and config_["hidden_units"] == [16, 8]
    clone = basics.MyModel.from_config(config_)
    clone.build((None, 28, 28))
    clone.set_weights(model.get_weights())
    assert clone.name == "small" and clone.get_config() == config_
    np.testing.assert_allclose(clone(images), model(images), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"num_classes": 1}, "num_classes"),
        ({"hidden_units": 0}, "hidden_units"),
        ({"hidden_units": "512"}, "hidden_units"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_models_reject_bad_arguments(kwargs, argument):
    for build in (basics.build_sequential, basics.build_functional, basics.MyModel):
        with pytest.raises((ValueError, TypeError), match=argument):
            build(**kwargs)


# --- training ---------------------------------------------------------------------------------


def test_accuracy_counts_the_argmax():
    probabilities = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([1, 0, 0, 1], np.uint8)
    assert float(basics.accuracy(probabilities, labels)) == 0.5
    with pytest.raises(ValueError, match="probabilities and labels"):
        basics.accuracy(probabilities, labels[:3])
    with pytest.raises(ValueError, match="labels must have shape"):
        basics.accuracy(probabilities, labels[:, None])


def _toy_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes told apart by the brightness of three image bands."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=96)
    images = rng.uniform(0.0, 0.2, size=(96, 28, 28)).astype(np.float32)
    for index, label in enumerate(labels):
        images[index, 9 * label : 9 * label + 9] += 0.8
    return images, labels.astype(np.uint8)


def test_train_step_matches_a_hand_written_sgd_step(images):
    model = basics.build_sequential(num_classes=3, hidden_units=8, dropout=0.0)
    before = model.get_weights()
    labels = np.array([0, 1, 2, 1, 0, 2])
    loss = training.train_step(model, keras.optimizers.SGD(0.5), images, labels)
    copy = basics.build_sequential(num_classes=3, hidden_units=8, dropout=0.0)
    copy.set_weights(before)
    with tf.GradientTape() as tape:
        expected_loss = keras.losses.sparse_categorical_crossentropy(labels, copy(images))
        expected_loss = tf.reduce_mean(expected_loss)
    gradients = tape.gradient(expected_loss, copy.trainable_variables)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    for updated, start, gradient in zip(model.get_weights(), before, gradients, strict=True):
        np.testing.assert_allclose(updated, start - 0.5 * gradient.numpy(), rtol=1e-4, atol=1e-6)


def test_custom_loop_reduces_the_loss(capsys):
    config.seed_everything(0)
    images, labels = _toy_problem()
    model = basics.MyModel(num_classes=3, hidden_units=16, dropout=0.0)
    before = training.evaluate(model, images, labels)
    history = basics.fit_custom(
        model, images, labels, epochs=3, batch_size=16, validation_data=(images, labels)
    )
    after = training.evaluate(model, images, labels)
    assert after["loss"] < before["loss"] and history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] == pytest.approx(after["accuracy"])
    assert after["accuracy"] > 0.9
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("epoch ") == 3


def test_custom_loop_takes_a_dataset_and_draws_its_bar_on_stdout(capsys):
    images, labels = _toy_problem(1)
    dataset = basics.make_dataset(images, labels, batch_size=32)
    model = basics.build_functional(num_classes=3, hidden_units=8, dropout=0.0)
    history = basics.fit_custom(model, dataset, epochs=2, progress="bar")
    assert len(history["loss"]) == 2 and "val_loss" not in history
    out = capsys.readouterr()
    assert out.err == "" and "epoch 2/2" in out.out


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"progress": "dots"}, ValueError, "progress"),
        ({"labels": np.zeros(5)}, ValueError, "images and labels"),
        ({"labels": None}, ValueError, "labels are required"),
        ({"validation_data": (np.zeros((2, 28, 28)), np.zeros(3))}, ValueError, "validation"),
    ],
)
def test_custom_loop_rejects_bad_arguments(kwargs, error, argument, images):
    arguments = {"labels": np.zeros(6, np.uint8), **kwargs}
    model = basics.build_sequential(num_classes=3, hidden_units=4)
    with pytest.raises(error, match=argument):
        basics.fit_custom(model, images, **arguments)
