"""The course's MNIST classifier built three ways (``book/part1/02_keras_models``).

All three compute the same thing, the course's listing
``Flatten -> Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax)`` on ``[N, 28, 28]`` images:

- :func:`build_sequential`: a stack of layers (``keras.Sequential``);
- :func:`build_functional`: the same graph written with the functional API (a DAG of layers);
- :class:`MyModel`: a subclassed ``keras.Model`` whose forward pass is Python code.

``hidden_units`` may be a sequence for deeper stacks, e.g. the course's other listing
``(128, 128)`` with ``dropout=0``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from course_lib import checks

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
#: The course's listing: one hidden layer of 512 units and dropout 0.2.
HIDDEN_UNITS = 512
DROPOUT = 0.2


def normalize_images(images: np.ndarray) -> np.ndarray:
    """uint8 MNIST images scaled to float32 in [0, 1] (``images / 255``).

    Args:
        images: ``[N, 28, 28]`` intensities in 0..255 (any real dtype).

    Returns:
        ``[N, 28, 28]`` float32 in [0, 1].

    Raises:
        ValueError: if ``images`` is not ``[N, 28, 28]`` or holds values outside 0..255.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"images must have shape [N, 28, 28], got {list(images.shape)}")
    if images.dtype.kind not in "uif":
        raise ValueError(f"images must hold numbers, got dtype {images.dtype}")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(
            f"images must hold intensities in 0..255, got {images.min()}..{images.max()}"
        )
    return images.astype(np.float32) / np.float32(255.0)


def _checked_architecture(
    num_classes: int, hidden_units: int | Sequence[int], dropout: float
) -> tuple[int, tuple[int, ...], float]:
    num_classes = checks.positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    units = (hidden_units,) if checks.is_int(hidden_units) else hidden_units
    if isinstance(units, (str, bytes)) or not isinstance(units, Sequence):
        raise TypeError(
            f"hidden_units must be an int or a sequence of ints, got {type(hidden_units).__name__}"
        )
    units = tuple(checks.positive_int("hidden_units", u) for u in units)
    dropout = checks.real("dropout", dropout)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    return num_classes, units, float(dropout)


def _layers(num_classes: int, units: tuple[int, ...], dropout: float) -> list[keras.layers.Layer]:
    """Flatten, then (Dense(relu) [+ Dropout]) per hidden layer, then Dense(softmax)."""
    layers: list[keras.layers.Layer] = [keras.layers.Flatten(name="flatten")]
    for index, n in enumerate(units, start=1):
        layers.append(keras.layers.Dense(n, activation="relu", name=f"dense_{index}"))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{index}"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="classifier"))
    return layers


def build_sequential(
    num_classes: int = NUM_CLASSES,
    hidden_units: int | Sequence[int] = HIDDEN_UNITS,
    dropout: float = DROPOUT,
) -> keras.Sequential:
    """The course's MNIST classifier as a ``keras.Sequential`` stack, built for ``[N, 28, 28]``.

    Returns:
        An uncompiled model mapping ``[N, 28, 28]`` images to ``[N, num_classes]`` softmax
        probabilities.

    Raises:
        TypeError, ValueError: if ``num_classes`` < 2, a hidden layer has < 1 unit, or
            ``dropout`` is outside [0, 1).
    """
    num_classes, units, dropout = _checked_architecture(num_classes, hidden_units, dropout)
    return keras.Sequential(
        [keras.Input(shape=IMAGE_SHAPE), *_layers(num_classes, units, dropout)], name="sequential"
    )


def build_functional(
    num_classes: int = NUM_CLASSES,
    hidden_units: int | Sequence[int] = HIDDEN_UNITS,
    dropout: float = DROPOUT,
) -> keras.Model:
    """The same classifier written with the functional API (inputs -> layers -> outputs).

    Returns and raises as :func:`build_sequential`.
    """
    num_classes, units, dropout = _checked_architecture(num_classes, hidden_units, dropout)
    inputs = keras.Input(shape=IMAGE_SHAPE, name="images")
    x = inputs
    for layer in _layers(num_classes, units, dropout):
        x = layer(x)
    return keras.Model(inputs=inputs, outputs=x, name="functional")


class MyModel(keras.Model):
    """The same classifier as a subclassed model: layers in ``__init__``, the pass in ``call``.

    Args:
        num_classes: number of output classes (>= 2).
        hidden_units: units of the hidden ReLU layer, or a sequence of them.
        dropout: dropout rate after each hidden layer during training, in [0, 1).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``, ...).

    Call: ``[N, 28, 28]`` (any ``[N, ...]``) images -> ``[N, num_classes]`` probabilities.
    """

    def __init__(
        self,
        num_classes: int = NUM_CLASSES,
        hidden_units: int | Sequence[int] = HIDDEN_UNITS,
        dropout: float = DROPOUT,
        **kwargs,
    ):
        kwargs.setdefault("name", "my_model")
        super().__init__(**kwargs)
        self.num_classes, self.hidden_units, self.dropout_rate = _checked_architecture(
            num_classes, hidden_units, dropout
        )
        self.flatten = keras.layers.Flatten(name="flatten")
        self.hidden = [
            keras.layers.Dense(n, activation="relu", name=f"dense_{i}")
            for i, n in enumerate(self.hidden_units, start=1)
        ]
        self.dropouts = [
            keras.layers.Dropout(self.dropout_rate, name=f"dropout_{i}")
            for i in range(1, len(self.hidden_units) + 1)
            if self.dropout_rate > 0
        ]
        self.classifier = keras.layers.Dense(num_classes, activation="softmax", name="classifier")

    def build(self, input_shape: tuple) -> None:
        shape = self.flatten.compute_output_shape(tuple(input_shape))
        for layer in self.hidden:
            layer.build(shape)
            shape = (*shape[:-1], layer.units)
        self.classifier.build(shape)

    def call(self, inputs, training: bool = False):
        x = self.flatten(inputs)
        for index, layer in enumerate(self.hidden):
            x = layer(x)
            if self.dropouts:
                x = self.dropouts[index](x, training=training)
        return self.classifier(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            hidden_units=list(self.hidden_units),
            dropout=self.dropout_rate,
        )
        return config


def describe_layers(model: keras.Model) -> list[tuple]:
    """The model's layers as comparable tuples, e.g. ``("Dense", 512, "relu")``.

    Conv2D -> ``("Conv2D", filters, (kh, kw), activation)``; MaxPooling2D ->
    ``("MaxPooling2D", (ph, pw))``; Dense -> ``("Dense", units, activation)``; Dropout ->
    ``("Dropout", rate)``; any other layer (Flatten, ...) -> ``(class name,)``. Input layers are
    skipped; a subclassed model lists its tracked layers in creation order.
    """
    described = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if isinstance(layer, keras.layers.Conv2D):
            activation = keras.activations.serialize(layer.activation)
            described.append((kind, layer.filters, tuple(layer.kernel_size), activation))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            described.append((kind, tuple(layer.pool_size)))
        elif isinstance(layer, keras.layers.Dense):
            described.append((kind, layer.units, keras.activations.serialize(layer.activation)))
        elif isinstance(layer, keras.layers.Dropout):
            described.append((kind, float(layer.rate)))
        else:
            described.append((kind,))
    return described
