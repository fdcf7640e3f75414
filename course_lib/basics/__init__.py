"""Part 1 basics: tensors, linear regression from scratch, the MNIST models and training loops.

- :mod:`~course_lib.basics.tensors`: broadcasting examples (pairwise distances).
- :mod:`~course_lib.basics.linear_regression`: ``y = w x + b`` with GradientTape
  (book/part1/01_tensors_and_gradients).
- :mod:`~course_lib.basics.mnist_models`: Sequential, functional, subclassed
  (book/part1/02_keras_models).
- :mod:`~course_lib.basics.training`: the custom GradientTape training loop and evaluation
  (book/part1/02_keras_models).

The two ``train_step`` functions (linear regression, Keras models) live in their modules.
"""

from course_lib.basics.cnn import build_simple_cnn
from course_lib.basics.linear_regression import (
    TRUE_B,
    TRUE_W,
    LinearModel,
    fit,
    make_linear_data,
    squared_error_gradient,
    squared_loss,
)
from course_lib.basics.mnist_models import (
    MyModel,
    build_functional,
    build_sequential,
    describe_layers,
    normalize_images,
)
from course_lib.basics.tensors import pairwise_squared_distances
from course_lib.basics.training import (
    accuracy,
    default_loss,
    evaluate,
    fit_custom,
    make_dataset,
    make_train_step,
)

__all__ = [
    "TRUE_B",
    "TRUE_W",
    "LinearModel",
    "MyModel",
    "accuracy",
    "build_functional",
    "build_simple_cnn",
    "build_sequential",
    "default_loss",
    "describe_layers",
    "evaluate",
    "fit",
    "fit_custom",
    "make_dataset",
    "make_linear_data",
    "make_train_step",
    "normalize_images",
    "pairwise_squared_distances",
    "squared_error_gradient",
    "squared_loss",
]
