"""Small models trained for the course, shipped with the package so that they work offline.

Each model's architecture is built in code (functional API, every layer named) and its trained
weights ship in ``course_lib/zoo/weights/<name>.weights.h5``, next to ``<name>.json``: the claimed
test accuracy and everything needed to re-measure it (data source, seeds, sizes, class names) and
to retrain it (``python -m course_lib.zoo.train <name>``).

- ``"shapes_cnn"``: a small Inception-flavoured CNN on the procedural shapes and textures of
  :mod:`course_lib.data.procedural`, the offline stand-in for an ImageNet model in the DeepDream
  and feature-visualization chapters. It takes RGB images in [0, 1] of any size (trained at 48x48)::

      image [N, H, W, 3]
      conv1_pre_relu (3x3, 16) -> conv1 (ReLU) -> pool1 (2x2 max)
      conv2_pre_relu (3x3, 32) -> conv2 (ReLU) -> pool2
      mixed1_1x1 (16) | mixed1_3x3 (32) | mixed1_5x5 (16)
          -> mixed1_pre_relu (concatenate, 64) -> mixed1 (ReLU) -> pool3
      mixed2_1x1 (32) | mixed2_3x3 (48) | mixed2_5x5 (16)
          -> mixed2_pre_relu (concatenate, 96) -> mixed2 (ReLU)
      global_pool (global average) -> logits (dense, 10) -> predictions (softmax)  [N, 10]

  Its first-layer filters are colour-contrast detectors; plain gradient ascent on ``mixed1`` and
  ``mixed2`` channels draws oriented stripes and checks, the textures it learnt to tell apart.

- ``"digits_cnn"``: a small CNN on ``course_lib.data.load_mnist()`` images scaled to [0, 1]
  (``[N, 28, 28]``); the shipped weights were trained offline on scikit-learn's digits resized
  to 28x28 (the loader's substitute), as the JSON's ``data.source`` records::

      image [N, 28, 28] -> add_channel (reshape to [N, 28, 28, 1])
      conv1_pre_relu (3x3, 16) -> conv1 -> pool1 -> conv2_pre_relu (3x3, 32) -> conv2 -> pool2
      conv3_pre_relu (3x3, 64) -> conv3 -> pool3 -> flatten (576) -> dropout (0.3)
      -> logits (dense, 10) -> predictions (softmax)  [N, 10]

Every ``*_pre_relu`` layer is the linear response before its ReLU (what feature visualization
maximizes, as Lucid's ``..._pre_relu`` tensors); the layer without the suffix is after the ReLU.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from course_lib.data import mnist, procedural

#: Folder of the shipped ``<name>.weights.h5`` and ``<name>.json`` files.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

SHAPES_CNN = "shapes_cnn"
DIGITS_CNN = "digits_cnn"

#: ``data.source`` values in a model's JSON.
PROCEDURAL_SHAPES = "procedural_shapes"
#: Dropout rate before the digits_cnn's classifier.
DIGITS_DROPOUT = 0.3


@dataclass(frozen=True)
class TrainingSettings:
    """How ``python -m course_lib.zoo.train`` trains a course model (recorded in its JSON)."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int = 0


@dataclass(frozen=True)
class CourseModelSpec:
    """A course model: how to build it, what it promises and how it is trained.

    Attributes:
        name: the name ``load_course_model`` takes.
        description: one line for listings.
        build: builds the untrained architecture.
        layer_names: the named layers users may address (DeepDream, feature visualization).
        dream_layers: the layers suggested for DeepDream, from lower to higher.
        accuracy_floor: the least test accuracy the shipped weights must reach.
        training: the default training settings.
    """

    name: str
    description: str
    build: Callable[[], keras.Model]
    layer_names: tuple[str, ...]
    dream_layers: tuple[str, ...]
    accuracy_floor: float
    training: TrainingSettings


def _conv_relu(x, filters: int, kernel_size: int, name: str):
    """A ``name``_pre_relu convolution (same padding) followed by its ``name`` ReLU."""
    x = keras.layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_pre_relu")(x)
    return keras.layers.ReLU(name=name)(x)


def _relu_pair(name: str) -> tuple[str, str]:
    """The two layers :func:`_conv_relu` and :func:`_mixed` name: ``name_pre_relu``, ``name``."""
    return f"{name}_pre_relu", name


def _mixed(x, filters: tuple[int, int, int], name: str):
    """An Inception-style block: 1x1, 3x3 and 5x5 convolutions side by side, concatenated."""
    branches = [
        keras.layers.Conv2D(f, k, padding="same", name=f"{name}_{k}x{k}")(x)
        for f, k in zip(filters, (1, 3, 5), strict=True)
    ]
    x = keras.layers.Concatenate(name=f"{name}_pre_relu")(branches)
    return keras.layers.ReLU(name=name)(x)


def build_shapes_cnn(num_classes: int = procedural.NUM_SHAPE_CLASSES) -> keras.Model:
    """The untrained ``shapes_cnn``: RGB ``[N, H, W, 3]`` in [0, 1] -> probabilities ``[N, 10]``.

    Any ``H, W`` >= 8 works (convolutions and pooling, then a global average); it is trained
    at 48x48.
    """
    image = keras.Input(shape=(None, None, 3), name="image")
    x = _conv_relu(image, 16, 3, "conv1")
    x = keras.layers.MaxPooling2D(2, padding="same", name="pool1")(x)
    x = _conv_relu(x, 32, 3, "conv2")
    x = keras.layers.MaxPooling2D(2, padding="same", name="pool2")(x)
    x = _mixed(x, (16, 32, 16), "mixed1")
    x = keras.layers.MaxPooling2D(2, padding="same", name="pool3")(x)
    x = _mixed(x, (32, 48, 16), "mixed2")
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(image, keras.layers.Softmax(name="predictions")(x), name=SHAPES_CNN)


def build_digits_cnn(num_classes: int = 10) -> keras.Model:
    """Untrained ``digits_cnn``: ``[N, 28, 28]`` images in [0, 1] -> probabilities ``[N, 10]``.

    The dropout layer is active only in training.
    """
    size = mnist.IMAGE_SIZE
    image = keras.Input(shape=(size, size), name="image")
    x = keras.layers.Reshape((size, size, 1), name="add_channel")(image)
    x = _conv_relu(x, 16, 3, "conv1")
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = _conv_relu(x, 32, 3, "conv2")
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = _conv_relu(x, 64, 3, "conv3")
    x = keras.layers.MaxPooling2D(2, name="pool3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(DIGITS_DROPOUT, name="dropout")(x)
    x = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(image, keras.layers.Softmax(name="predictions")(x), name=DIGITS_CNN)


_SPECS: dict[str, CourseModelSpec] = {
    spec.name: spec
    for spec in (
        CourseModelSpec(
            name=SHAPES_CNN,
            description="small Inception-style CNN on procedural shapes and textures (48x48 RGB)",
            build=build_shapes_cnn,
            layer_names=(
                "image",
                *_relu_pair("conv1"),
                "pool1",
                *_relu_pair("conv2"),
                "pool2",
                *_relu_pair("mixed1"),
                "pool3",
                *_relu_pair("mixed2"),
                "global_pool",
                "logits",
                "predictions",
            ),
            dream_layers=("mixed1", "mixed2"),
            accuracy_floor=0.9,
            training=TrainingSettings(epochs=14, batch_size=64, learning_rate=3e-3),
        ),
        CourseModelSpec(
            name=DIGITS_CNN,
            description="small CNN on load_mnist() digits (28x28 greyscale)",
            build=build_digits_cnn,
            layer_names=(
                "image",
                "add_channel",
                *_relu_pair("conv1"),
                "pool1",
                *_relu_pair("conv2"),
                "pool2",
                *_relu_pair("conv3"),
                "pool3",
                "flatten",
                "dropout",
                "logits",
                "predictions",
            ),
            dream_layers=("conv2", "conv3"),
            accuracy_floor=0.97,
            training=TrainingSettings(epochs=25, batch_size=32, learning_rate=2e-3),
        ),
    )
}


def list_course_models() -> tuple[str, ...]:
    """The names ``load_course_model`` accepts, e.g. ``("shapes_cnn", "digits_cnn")``."""
    return tuple(_SPECS)


def course_model_spec(name: str) -> CourseModelSpec:
    """The :class:`CourseModelSpec` of a course model.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not a course model (the message lists the known names).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _SPECS:
        raise ValueError(
            f"unknown course model {name!r}; choose one of: {', '.join(list_course_models())}"
        )
    return _SPECS[name]


def build_course_model(name: str) -> keras.Model:
    """A course model's architecture with fresh (untrained) weights.

    Raises:
        TypeError, ValueError: as :func:`course_model_spec`.
    """
    return course_model_spec(name).build()


def shipped_file(name: str, suffix: str, directory: str | Path | None = None) -> Path:
    """``<directory>/<name><suffix>``, ``directory`` defaulting to the shipped ``WEIGHTS_DIR``:
    where every checkpoint of the course (these models, the LSM's, the synthesis models') and
    the JSON of its claims live. Names are not checked here; each owner checks its own."""
    return Path(directory or WEIGHTS_DIR) / f"{name}{suffix}"


def existing_shipped_file(
    name: str, suffix: str, directory: str | Path | None, script: str
) -> Path:
    """:func:`shipped_file`, or ``FileNotFoundError`` naming the ``script`` that makes it."""
    path = shipped_file(name, suffix, directory)
    if not path.exists():
        raise FileNotFoundError(f"no {path.name} in {path.parent}: train it with {script}")
    return path


def weights_path(name: str, directory: str | Path | None = None) -> Path:
    """Where ``<name>.weights.h5`` lives (the shipped ``WEIGHTS_DIR`` unless ``directory``)."""
    course_model_spec(name)
    return shipped_file(name, ".weights.h5", directory)


def info_path(name: str, directory: str | Path | None = None) -> Path:
    """Where ``<name>.json`` (claims and settings) lives (``WEIGHTS_DIR`` unless ``directory``)."""
    course_model_spec(name)
    return shipped_file(name, ".json", directory)


def course_model_info(name: str, directory: str | Path | None = None) -> dict:
    """The JSON shipped beside a model's weights, as a dict.

    Keys: ``name``, ``description``, ``test_accuracy`` (the claim), ``accuracy_floor``,
    ``class_names``, ``input_shape``, ``value_range``, ``layer_names``, ``dream_layers``, ``data``
    (``source`` and what regenerates the held-out test set: seeds, sizes), ``training``
    (epochs, batch size, learning rate, seed, seconds), ``versions`` and ``command``.

    Raises:
        ValueError: for an unknown ``name``.
        FileNotFoundError: if the JSON is missing (train the model first).
    """
    path = info_path(name, directory)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; train the model with `python -m course_lib.zoo.train {name}`"
        )
    return json.loads(path.read_text())


def course_test_set(
    name: str, directory: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The held-out test set a model's claimed accuracy was measured on, regenerated.

    ``shapes_cnn``: ``make_shapes_dataset`` with the JSON's test seed, size and count.
    ``digits_cnn``: the test split of the data source named in the JSON (``"sklearn_digits"``:
    the offline substitute, whatever the network; ``"mnist"``: the real MNIST test set).

    Returns:
        ``(images, labels)`` ready for the model: float32 ``[N, 48, 48, 3]`` or ``[N, 28, 28]``
        in [0, 1], and int64 labels ``[N]``.

    Raises:
        ValueError: for an unknown ``name``.
        FileNotFoundError: if the model's JSON is missing.
        RuntimeError: if the JSON names real MNIST and only the substitute can be loaded.
    """
    data = course_model_info(name, directory)["data"]
    return held_out_set(name, data)


def held_out_set(name: str, data: dict) -> tuple[np.ndarray, np.ndarray]:
    """The held-out test set described by a JSON's ``data`` block (see :func:`course_test_set`)."""
    course_model_spec(name)
    if name == SHAPES_CNN:
        return procedural.make_shapes_dataset(
            data["test_per_class"], image_size=data["image_size"], seed=data["test_seed"]
        )
    if data["source"] == mnist.DIGITS:
        _, (x_test, y_test) = mnist._digits_as_mnist()  # the substitute, even when online
    else:
        (_, (x_test, y_test)), source = mnist.load_mnist(return_source=True)
        if source != data["source"]:
            raise RuntimeError(
                f"{name} was measured on {data['source']!r} but only {source!r} is available"
            )
    return x_test.astype(np.float32) / np.float32(255.0), y_test.astype(np.int64)


def load_course_model(name: str, compile: bool = True) -> keras.Model:
    """A course model with its shipped, trained weights (works offline).

    The architecture is rebuilt in code (:func:`build_course_model`) and the weights are read from
    ``course_lib/zoo/weights/<name>.weights.h5``. Layers are addressable by name
    (``model.get_layer("mixed1")``, see ``course_model_spec(name).layer_names``). The output is
    class probabilities ``[N, 10]`` (the ``"logits"`` layer holds the scores before the softmax).

    Args:
        name: one of :func:`list_course_models` (``"shapes_cnn"``, ``"digits_cnn"``).
        compile: compile the model (Adam, sparse categorical cross-entropy, accuracy) so that
            ``evaluate`` and ``fit`` work at once; ``False`` returns it uncompiled.

    Returns:
        The trained ``keras.Model``.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not a course model (the message lists the known names).
        FileNotFoundError: if the weights file is missing.
    """
    spec = course_model_spec(name)
    path = weights_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; train the model with `python -m course_lib.zoo.train {name}`"
        )
    model = spec.build()
    model.load_weights(path)
    if compile:
        compile_course_model(model, spec.training.learning_rate)
    return model


def compile_course_model(model: keras.Model, learning_rate: float) -> None:
    """Compiles for training and evaluation: Adam, sparse categorical cross-entropy, accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of ``model`` on ``images`` ``[N, ...]`` with int labels ``[N]``."""
    probabilities = model.predict(images, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=-1) == np.asarray(labels)))


@functools.cache
def _measured_accuracy(name: str) -> float:
    return accuracy(load_course_model(name, compile=False), *course_test_set(name))


def measure_course_model(name: str) -> float:
    """Re-measures a shipped model's test accuracy on its regenerated test set.

    Compare with ``course_model_info(name)["test_accuracy"]``, the claim. Cached per process.
    """
    course_model_spec(name)
    return _measured_accuracy(name)
