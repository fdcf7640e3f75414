"""Exercises of the chapter "Keras models" (book/part1/02_keras_models).

- ``build_sequential(num_classes)``: the course's Sequential MNIST classifier;
- ``accuracy(probabilities, labels)``: fraction of correct predictions;
- ``custom_train_step(model, optimizer, images, labels)``: one GradientTape training step.

Expected answers come from ``course_lib.basics`` on inputs drawn from the seeded generator.
Models in the cases are small (16 hidden units) so that a check takes a second or two.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from course_lib.basics import mnist_models, training
from course_lib.grading.cases import Mistake, first_match, wrong_answers
from course_lib.grading.check import compare_values, float_array
from course_lib.grading.exercise import Case, define
from course_lib.grading.model_cases import define_classifier

TOPIC = "keras_models"


def _images(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.uniform(0.0, 1.0, size=(count, 28, 28)).astype(np.float32)


# --- build_sequential -------------------------------------------------------------------------


_SEQUENTIAL_HINT = (
    "keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), "
    "keras.layers.Dense(512, activation='relu'), keras.layers.Dropout(0.2), "
    "keras.layers.Dense(num_classes, activation='softmax')])"
)


BUILD_SEQUENTIAL = define_classifier(
    TOPIC,
    "build_sequential",
    mnist_models.build_sequential,
    lambda rng: _images(rng, int(rng.integers(2, 6))),
    title="The course's Sequential MNIST classifier",
    references=[mnist_models.build_sequential],
    hint=_SEQUENTIAL_HINT,
    images_text="random images",
    input_hint="keras.Input(shape=(28, 28))",
    output_hint="flatten the [28, 28] images and end with num_classes units",
)


# --- accuracy ---------------------------------------------------------------------------------


def _accuracy_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for count, classes, dtype in ((4, 3, np.int64), (int(rng.integers(20, 60)), 10, np.uint8)):
        logits = rng.normal(size=(count, classes))
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        labels = rng.integers(0, classes, size=count)
        right = rng.random(count) < 0.6  # make about 60% of the predictions correct
        labels[right] = probabilities[right].argmax(axis=-1)
        probabilities, labels = probabilities.astype(np.float32), labels.astype(dtype)
        cases.append(
            Case(
                description=f"{count} examples, {classes} classes, labels {np.dtype(dtype).name}",
                args=(probabilities, labels),
                expected=training.accuracy(probabilities, labels).numpy(),
                hint=(
                    "tf.argmax(probabilities, axis=-1) is the predicted class of each row; "
                    "compare it with the labels (cast both to the same integer type), cast the "
                    "booleans to float32 and take the mean."
                ),
            )
        )
    return cases


_ACCURACY_MISTAKES = {
    "return a fraction in [0, 1], not a percentage": Mistake(
        lambda case: 100 * case.expected, uses="case"
    ),
}


def _compare_accuracy(got: Any, case: Case) -> str | None:
    value = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    if value.dtype.kind in "biu":
        return (
            f"expected the fraction {float(case.expected):.4g}, got the integer {value!r}: cast "
            "the booleans to float32 before tf.reduce_mean (an integer mean rounds down)"
        )
    message = compare_values(got, case.expected, case.rtol, case.atol)
    if not message:
        return message
    candidates = wrong_answers(_ACCURACY_MISTAKES, case)
    explanation = first_match(float_array(got), candidates, rtol=1e-5, atol=1e-8)
    return f"{message} ({explanation})" if explanation else message


ACCURACY = define(
    TOPIC,
    "accuracy",
    _accuracy_cases,
    _compare_accuracy,
    mistakes=_ACCURACY_MISTAKES,
    title="Accuracy of predicted probabilities",
    references=[training.accuracy],
)


# --- custom_train_step ------------------------------------------------------------------------

_HIDDEN = 16


def _optimizer(spec: tuple[str, float]) -> keras.optimizers.Optimizer:
    name, rate = spec
    return keras.optimizers.SGD(rate) if name == "SGD" else keras.optimizers.Adam(rate)


def _small_model(num_classes: int, weights: list[np.ndarray] | None = None) -> keras.Model:
    """Flatten, Dense(16, relu), Dense(num_classes, softmax) on ``[N, 28, 28]``: the
    ``build_sequential`` exercise's answer, written out because its reference is blocked where
    the batch grader runs the learner's training step (the learner's kernel)."""
    model = keras.Sequential(
        [
            keras.Input(shape=mnist_models.IMAGE_SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(_HIDDEN, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    if weights is not None:
        model.set_weights(weights)
    return model


def _train_step_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    specs = [("SGD", 0.1), ("SGD", float(rng.choice([0.05, 0.2, 0.5]))), ("Adam", 0.01)]
    for name, rate in specs:
        num_classes = int(rng.choice([3, 5, 10]))
        count = int(rng.integers(4, 9))
        shapes = [w.shape for w in _small_model_shapes(num_classes)]
        weights = [rng.normal(0.0, 0.1, size=s).astype(np.float32) for s in shapes]
        images = _images(rng, count)
        labels = rng.integers(0, num_classes, size=count).astype(np.int64)
        reference = _small_model(num_classes, weights)
        loss = training.train_step(reference, _optimizer((name, rate)), images, labels)
        cases.append(
            Case(
                description=(
                    f"{count} images, {num_classes} classes, {name}(learning_rate={rate}), "
                    f"model Flatten/Dense({_HIDDEN})/Dense({num_classes}, softmax)"
                ),
                args=(images, labels),
                kwargs={"num_classes": num_classes, "weights": weights, "optimizer": (name, rate)},
                expected={"loss": float(loss), "weights": reference.get_weights()},
                hint=(
                    "Inside `with tf.GradientTape() as tape:` run predictions = model(images, "
                    "training=True) and loss = loss_fn(labels, predictions) with "
                    "keras.losses.SparseCategoricalCrossentropy() (the model outputs "
                    "probabilities, not logits); then tape.gradient(loss, "
                    "model.trainable_variables) and optimizer.apply_gradients(zip(gradients, "
                    "model.trainable_variables)); return the loss."
                ),
                rtol=1e-4,
                atol=1e-5,
            )
        )
    return cases


def _small_model_shapes(num_classes: int) -> list[np.ndarray]:
    return _small_model(num_classes).get_weights()


def _run_train_step(obj: Any, case: Case) -> dict[str, Any]:
    model = _small_model(case.kwargs["num_classes"], case.kwargs["weights"])
    loss = obj(model, _optimizer(case.kwargs["optimizer"]), *case.args)
    return {"loss": loss, "weights": model.get_weights()}


def _compare_train_step(got: dict[str, Any], case: Case) -> str | None:
    want = case.expected
    pairs = zip(got["weights"], case.kwargs["weights"], strict=True)
    if all(np.array_equal(a, b) for a, b in pairs):
        return "the weights did not change: apply the gradients with optimizer.apply_gradients"
    if got["loss"] is None:
        return "the step returned None: return the loss"
    message = compare_values(got["loss"], np.float32(want["loss"]), case.rtol, case.atol)
    if message:
        return f"loss: {message}"
    names = ["hidden kernel", "hidden bias", "output kernel", "output bias"]
    for name, have, expected in zip(names, got["weights"], want["weights"], strict=True):
        message = compare_values(have, expected, case.rtol, case.atol)
        if message:
            return f"updated {name}: {message}"
    return None


CUSTOM_TRAIN_STEP = define(
    TOPIC,
    "custom_train_step",
    _train_step_cases,
    _compare_train_step,
    run_case=_run_train_step,
    title="One step of a custom training loop with GradientTape",
    references=[training.train_step, training.make_train_step],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (BUILD_SEQUENTIAL, ACCURACY, CUSTOM_TRAIN_STEP)
