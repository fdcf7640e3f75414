"""Linear regression from scratch: ``y = w * x + b`` fitted by gradient descent.

Used by ``book/part1/01_tensors_and_gradients``.

The data is the course's noisy line ``y = 3 x + 2``; the model holds two ``tf.Variable``s, the
loss is the mean squared error and each step takes the gradient with ``tf.GradientTape`` and
moves the variables against it by hand (no optimizer object).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.basics._checks import float_tensor, same_length

#: The line the data is drawn from (the course's TRUE_W and TRUE_B).
TRUE_W = 3.0
TRUE_B = 2.0
#: The model's starting point in the course's tutorial.
INITIAL_W = 5.0
INITIAL_B = 0.0
#: The course's data: 1,000 points with unit-variance noise. Its least-squares estimates of w
#: and b wander by about 1/sqrt(1000) = 0.03 from seed to seed.
COURSE_NUM_EXAMPLES = 1000
COURSE_NOISE_STDDEV = 1.0
#: Our defaults: twice the points and half the noise, so the estimates stay within about 0.01
#: (0.035 at worst over 200 seeds) and a 0.05 tolerance holds for any seed.
NUM_EXAMPLES = 2000
NOISE_STDDEV = 0.5


def make_linear_data(
    num_examples: int = NUM_EXAMPLES,
    w: float = TRUE_W,
    b: float = TRUE_B,
    noise_stddev: float = NOISE_STDDEV,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of the line ``y = w * x + b``.

    ``x`` is standard normal and the noise is normal with standard deviation ``noise_stddev``,
    both drawn from ``np.random.default_rng(seed)`` (first ``x``, then the noise).

    Returns:
        ``(x, y)``, two float32 arrays of shape ``[num_examples]``.

    Raises:
        TypeError, ValueError: if ``num_examples`` is not an int >= 1 or ``noise_stddev`` < 0.
    """
    num_examples = checks.positive_int("num_examples", num_examples)
    if not noise_stddev >= 0:
        raise ValueError(f"noise_stddev must be >= 0, got {noise_stddev}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(num_examples)
    noise = rng.normal(0.0, noise_stddev, num_examples)
    y = w * x + b + noise
    return x.astype(np.float32), y.astype(np.float32)


class LinearModel(tf.Module):
    """``y = w * x + b`` with a scalar weight ``w`` and bias ``b`` (both ``tf.Variable``)."""

    def __init__(self, w: float = INITIAL_W, b: float = INITIAL_B, name: str | None = None):
        super().__init__(name=name)
        self.w = tf.Variable(float(w), dtype=tf.float32, name="w")
        self.b = tf.Variable(float(b), dtype=tf.float32, name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Predictions of the same shape as ``x``."""
        return self.w * x + self.b


def squared_loss(predicted: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean squared error ``mean((predicted - target) ** 2)``, a float32 scalar.

    Raises:
        ValueError: if ``predicted`` and ``target`` have different shapes.
    """
    predicted = float_tensor("predicted", predicted)
    target = float_tensor("target", target)
    if predicted.shape != target.shape:
        raise ValueError(
            f"predicted and target must have the same shape, got {predicted.shape.as_list()} "
            f"and {target.shape.as_list()}"
        )
    return tf.reduce_mean(tf.square(predicted - target))


def _checked_xy(x: object, y: object) -> tuple[tf.Tensor, tf.Tensor]:
    x = float_tensor("x", x, ndim=1)
    y = float_tensor("y", y, ndim=1)
    same_length(x=x, y=y)
    if x.shape[0] == 0:
        raise ValueError("x and y must hold at least one example")
    return x, y


def squared_error_gradient(
    x: tf.Tensor, y: tf.Tensor, w: float, b: float
) -> tuple[tf.Tensor, tf.Tensor]:
    """Gradient of ``mean((w * x + b - y) ** 2)`` with respect to ``w`` and ``b``.

    Args:
        x: ``[N]`` inputs.
        y: ``[N]`` targets.
        w: the weight (a number or scalar tensor).
        b: the bias (a number or scalar tensor).

    Returns:
        ``(dL/dw, dL/db)``, two float32 scalars; in closed form
        ``2/N * sum((w x + b - y) * x)`` and ``2/N * sum(w x + b - y)``.

    Raises:
        ValueError: if ``x`` or ``y`` is not 1-D or their lengths differ.
    """
    x, y = _checked_xy(x, y)
    w = tf.convert_to_tensor(w, dtype=tf.float32)
    b = tf.convert_to_tensor(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([w, b])
        loss = squared_loss(w * x + b, y)
    dw, db = tape.gradient(loss, [w, b])
    return dw, db


def train_step(model: LinearModel, x: tf.Tensor, y: tf.Tensor, learning_rate: float) -> tf.Tensor:
    """One step of gradient descent on the mean squared error; updates ``model`` in place.

    ``w <- w - learning_rate * dL/dw`` and ``b <- b - learning_rate * dL/db``.

    Args:
        model: a :class:`LinearModel` (anything with ``tf.Variable`` attributes ``w`` and ``b``).
        x: ``[N]`` inputs.
        y: ``[N]`` targets.
        learning_rate: the step size, > 0.

    Returns:
        The loss before the update, a float32 scalar.

    Raises:
        ValueError, TypeError: on mismatched ``x``/``y`` or a non-positive ``learning_rate``.
    """
    x, y = _checked_xy(x, y)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    with tf.GradientTape() as tape:
        loss = squared_loss(model(x), y)
    dw, db = tape.gradient(loss, [model.w, model.b])
    model.w.assign_sub(learning_rate * dw)
    model.b.assign_sub(learning_rate * db)
    return loss


def fit(
    model: LinearModel,
    x: tf.Tensor,
    y: tf.Tensor,
    epochs: int = 50,
    learning_rate: float = 0.1,
) -> np.ndarray:
    """Full-batch gradient descent for ``epochs`` steps.

    Returns:
        ``[epochs]`` float32 array: the loss before each step.

    Raises:
        ValueError, TypeError: on mismatched ``x``/``y``, ``epochs`` < 1 or a non-positive
            ``learning_rate``.
    """
    x, y = _checked_xy(x, y)
    epochs = checks.positive_int("epochs", epochs)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    history = [float(train_step(model, x, y, learning_rate)) for _ in range(epochs)]
    return np.asarray(history, dtype=np.float32)
