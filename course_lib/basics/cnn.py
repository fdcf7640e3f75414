"""A simple convolutional network for MNIST (``book/part1/04_cnn``).

The course's listing (TensorFlow's "Convolutional Neural Network" tutorial) stacks three 3x3
convolutions with 2x2 max pooling between them, then a small dense classifier:

``Conv2D(32) -> MaxPool -> Conv2D(64) -> MaxPool -> Conv2D(64) -> Flatten -> Dense(64) ->
Dense(10, softmax)``

on ``[N, 28, 28, 1]`` images: convolutions need a channel axis, which MNIST's ``[N, 28, 28]``
arrays lack (:func:`add_channel_axis_and_scale` adds it). Every layer has a name
(``conv_1``, ``pool_1``, ..., ``classifier``) so that its activations can be read back
(feature maps, DeepDream).

The shape and parameter arithmetic of the stack is written out in :func:`conv_output_shape` and
:func:`count_conv_params`, so that ``model.summary()`` can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.basics._checks import same_length
from course_lib.basics.mnist_models import (
    describe_layers,  # noqa: F401 - cnn.describe_layers
    normalize_images,
)
from course_lib.basics.training import make_dataset

#: MNIST images with their channel axis, as the convolutions expect them.
INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
#: The course's listing: filters of the three 3x3 convolutions and units of the hidden layer.
FILTERS = (32, 64, 64)
KERNEL_SIZE = 3
POOL_SIZE = 2
DENSE_UNITS = 64

LayerSpec = tuple  # ("conv", filters, kernel_size) or ("pool", pool_size)


def add_channel_axis(images: np.ndarray) -> np.ndarray:
    """``[N, H, W]`` images as ``[N, H, W, 1]`` (``images[..., np.newaxis]``), dtype unchanged.

    Raises:
        ValueError: if ``images`` is not rank 3.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape [N, H, W], got {list(images.shape)}")
    return images[..., np.newaxis]


def add_channel_axis_and_scale(images: np.ndarray) -> np.ndarray:
    """uint8 MNIST images as the CNN's input: float32 in [0, 1] with a channel axis.

    Args:
        images: ``[N, 28, 28]`` intensities in 0..255.

    Returns:
        ``[N, 28, 28, 1]`` float32 in [0, 1].

    Raises:
        ValueError: if ``images`` is not ``[N, 28, 28]`` or holds values outside 0..255.
    """
    return add_channel_axis(normalize_images(images))


def make_shifted_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 32,
    max_shift: int = 0,
    seed: int = 0,
) -> tf.data.Dataset:
    """Shuffled batches of ``(images, labels)``, each image shifted at random every epoch.

    A cheap way to get more training data from few images (data augmentation): a digit moved by
    a pixel or two is still the same digit. Shifts are whole pixels drawn uniformly in
    ``[-max_shift, max_shift]`` along each axis, the uncovered border is filled with zeros (MNIST's
    background). ``max_shift=0`` gives :func:`~course_lib.basics.training.make_dataset`'s batches.

    Args:
        images: ``[N, H, W]`` or ``[N, H, W, C]`` float images.
        labels: ``[N]`` integer labels.
        batch_size: examples per batch.
        max_shift: largest shift in pixels, >= 0.
        seed: seed of the shuffling and of the shifts.

    Returns:
        A ``tf.data.Dataset`` of ``([B, ...], [B])`` batches, reshuffled every epoch.

    Raises:
        TypeError, ValueError: naming the argument, if the lengths differ, ``images`` is not rank 3
            or 4, ``batch_size`` < 1 or ``max_shift`` < 0.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be [N, H, W] or [N, H, W, C], got {list(images.shape)}")
    max_shift = checks.non_negative_int("max_shift", max_shift)
    if max_shift == 0:
        return make_dataset(images, labels, batch_size, shuffle=True, seed=seed)
    count = same_length(images=images, labels=labels)
    batch_size = checks.positive_int("batch_size", batch_size)
    height, width = images.shape[1:3]
    padding = [[max_shift, max_shift], [max_shift, max_shift]] + [[0, 0]] * (images.ndim - 3)
    offsets = tf.random.Generator.from_seed(seed)

    def shifted(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # Pad with zeros, then cut the original size at a random offset: a whole-pixel shift.
        top, left = tf.unstack(offsets.uniform([2], 0, 2 * max_shift + 1, dtype=tf.int32))
        return tf.pad(image, padding)[top : top + height, left : left + width], label

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.map(shifted).batch(batch_size)


def _pair(name: str, value: object) -> tuple[int, int]:
    """An int or a pair of ints as a pair of positive ints."""
    if checks.is_int(value):
        value = (value, value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return checks.positive_int(name, value[0]), checks.positive_int(name, value[1])


def count_conv_params(kernel_size: int | Sequence[int], in_channels: int, filters: int) -> int:
    """Trainable parameters of a ``Conv2D`` layer with a bias.

    Each of the ``filters`` kernels spans the full input depth, ``kh * kw * in_channels``
    weights, and has one bias: ``kh * kw * in_channels * filters + filters``. The count does not
    depend on the image size, which is why a convolution is so much smaller than a dense layer.

    Raises:
        TypeError, ValueError: if a size is not a positive int (``kernel_size`` may be a pair).
    """
    height, width = _pair("kernel_size", kernel_size)
    in_channels = checks.positive_int("in_channels", in_channels)
    filters = checks.positive_int("filters", filters)
    return height * width * in_channels * filters + filters


def conv_output_shape(
    input_shape: Sequence[int], layers: Sequence[LayerSpec]
) -> tuple[int, int, int]:
    """Shape of one image after a stack of 'valid' convolutions and max poolings.

    A ``("conv", filters, kernel_size)`` layer (stride 1, no padding) maps ``(H, W, C)`` to
    ``(H - kh + 1, W - kw + 1, filters)``; a ``("pool", pool_size)`` layer (stride = pool size,
    as Keras's default) maps it to ``(H // ph, W // pw, C)``.

    Args:
        input_shape: ``(H, W, C)`` of one image (no batch axis).
        layers: the stack, e.g. ``[("conv", 32, 3), ("pool", 2), ("conv", 64, 3)]``; sizes are
            ints or ``(height, width)`` pairs.

    Returns:
        ``(H, W, C)`` after the last layer.

    Raises:
        ValueError: if ``input_shape`` is not three positive ints, a layer is not one of the two
            forms, or the image becomes empty.
    """
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(f"input_shape must be (H, W, C), got {input_shape!r}")
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C), got {tuple(input_shape)}")
    height, width, channels = (checks.positive_int("input_shape", n) for n in input_shape)
    for index, spec in enumerate(layers):
        if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in ("conv", "pool"):
            raise ValueError(
                f"layers[{index}] must be ('conv', filters, kernel_size) or ('pool', size), "
                f"got {spec!r}"
            )
        if spec[0] == "conv":
            if len(spec) != 3:
                raise ValueError(f"layers[{index}] must be ('conv', filters, kernel_size)")
            channels = checks.positive_int("filters", spec[1])
            kh, kw = _pair("kernel_size", spec[2])
            height, width = height - kh + 1, width - kw + 1
        else:
            if len(spec) != 2:
                raise ValueError(f"layers[{index}] must be ('pool', pool_size)")
            ph, pw = _pair("pool_size", spec[1])
            height, width = height // ph, width // pw
        if height < 1 or width < 1:
            raise ValueError(
                f"layers[{index}] {spec!r} leaves an empty image ({height} x {width}): "
                "input_shape is too small for this stack"
            )
    return height, width, channels


def _checked_filters(filters: int | Sequence[int]) -> tuple[int, ...]:
    if checks.is_int(filters):
        filters = (filters,)
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or not filters:
        raise ValueError(f"filters must be a non-empty sequence of ints, got {filters!r}")
    return tuple(checks.positive_int("filters", f) for f in filters)


def layer_specs(
    filters: Sequence[int] = FILTERS, kernel_size: int = KERNEL_SIZE, pool_size: int = POOL_SIZE
) -> list[LayerSpec]:
    """The convolutional part of :func:`build_simple_cnn` in :func:`conv_output_shape`'s form.

    A 2x2 max pooling follows every convolution except the last.
    """
    specs: list[LayerSpec] = []
    for index, count in enumerate(filters):
        if index:
            specs.append(("pool", pool_size))
        specs.append(("conv", count, kernel_size))
    return specs


def build_simple_cnn(
    num_classes: int = NUM_CLASSES,
    filters: int | Sequence[int] = FILTERS,
    kernel_size: int = KERNEL_SIZE,
    dense_units: int = DENSE_UNITS,
    input_shape: Sequence[int] = INPUT_SHAPE,
) -> keras.Model:
    """The course's simple CNN as a functional model with named layers.

    Layers: ``conv_1`` (Conv2D, ReLU), ``pool_1`` (MaxPooling2D 2x2), ``conv_2``, ``pool_2``, ...,
    ``conv_<k>``, then ``flatten``, ``dense_1`` (Dense, ReLU) and ``classifier`` (Dense, softmax).

    Args:
        num_classes: number of output classes (>= 2).
        filters: filters of each convolution (a pooling sits between consecutive ones).
        kernel_size: side of the square kernels.
        dense_units: units of the hidden dense layer.
        input_shape: ``(H, W, C)`` of one image; MNIST's with the channel axis by default.

    Returns:
        An uncompiled ``keras.Model`` mapping ``[N, H, W, C]`` images to ``[N, num_classes]``
        softmax probabilities; the input layer is named ``images``.

    Raises:
        TypeError, ValueError: naming the argument, if ``num_classes`` < 2, a size is not a
            positive int, or the images are too small for the stack.
    """
    num_classes = checks.positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    filters = _checked_filters(filters)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    dense_units = checks.positive_int("dense_units", dense_units)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(f"input_shape must be (H, W, C), got {input_shape!r}")
    input_shape = tuple(input_shape)
    conv_output_shape(input_shape, layer_specs(filters, kernel_size))  # raises when too small

    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for index, count in enumerate(filters, start=1):
        if index > 1:
            x = keras.layers.MaxPooling2D(POOL_SIZE, name=f"pool_{index - 1}")(x)
        x = keras.layers.Conv2D(count, kernel_size, activation="relu", name=f"conv_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="dense_1")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="simple_cnn")


def feature_maps(model: keras.Model, images: np.ndarray, layer_name: str) -> np.ndarray:
    """Activations of one named layer for a batch of images.

    Args:
        model: a functional or Sequential model built on ``keras.Input``.
        images: ``[N, H, W, C]`` inputs as the model expects them.
        layer_name: e.g. ``"conv_1"``.

    Returns:
        ``[N, h, w, filters]`` (for a convolution) float32 activations.

    Raises:
        ValueError: if the model has no layer ``layer_name`` (the message lists its layers).
    """
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"layer_name {layer_name!r} is not in the model; its layers: {names}")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    extractor = keras.Model(inputs=inputs, outputs=model.get_layer(layer_name).output)
    return np.asarray(extractor(np.asarray(images, dtype=np.float32), training=False))
