"""Keras models as feature extractors: the one home for unwrapping, checking and cutting them.

Feature visualization (``lucid.optvis.render``), the interpretability building blocks
(``lucid.misc``), DeepDream (``dream``) and style transfer all read the activations of named
layers of a functional (or Sequential) Keras model. This module holds what they share:

- :func:`keras_model`, :func:`unwrap`: the Keras model inside a ``zoo.VisualizationModel`` (or
  the model itself), with the ``(low, high)`` range its input pixels take;
- :func:`image_input`: the model's one symbolic image input, checked;
- :func:`layer_names`, :func:`check_layer_names`: its layers, and a check whose error lists them;
- :func:`feature_extractor`: a model ``images -> {layer name: activations}``;
  :func:`layer_model`: a model ``images -> [activations]`` in the order the names are given;
- :func:`one_image`, :func:`image_batch`, :func:`layer_activations`: one [0, 1] image checked
  and made model-ready, and one layer's activations on it;
- :func:`free_size_model`: a copy of a fixed-input-size model that takes any image size.

The cut models share the original's layers and weights: nothing is copied but
:func:`free_size_model`'s clone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "check_layer_names",
    "feature_extractor",
    "free_size_model",
    "image_batch",
    "image_input",
    "keras_model",
    "layer_activations",
    "layer_model",
    "layer_names",
    "one_image",
    "unwrap",
]

#: How an error names each input rank :func:`image_input` may accept.
_INPUT_SHAPES = {4: "[N, H, W, C]", 3: "[N, H, W]"}


# --- the model inside ---------------------------------------------------------------------------


def keras_model(model: Any) -> keras.Model:
    """The Keras model of ``model``: itself, or a ``zoo.VisualizationModel``'s ``.model``.

    Raises:
        TypeError: if ``model`` is neither.
    """
    if isinstance(model, keras.Model):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, keras.Model):
        return inner
    raise TypeError(
        f"model must be a keras.Model or a zoo.VisualizationModel, got {type(model).__name__}"
    )


def unwrap(
    model: Any, value_range: Sequence[float] | None = None
) -> tuple[keras.Model, tuple[float, float]]:
    """The Keras model of ``model`` and the ``(low, high)`` range of its input pixels.

    Args:
        model: a Keras model or a ``zoo.VisualizationModel``.
        value_range: overrides the range; default the VisualizationModel's ``value_range``, and
            ``(0, 1)`` for a bare Keras model.

    Returns:
        ``(keras_model, (low, high))`` with float ``low < high``.

    Raises:
        TypeError: if ``model`` is neither kind.
        ValueError: if the range does not have ``low < high``.
    """
    inner = keras_model(model)
    if value_range is None and inner is not model:
        value_range = getattr(model, "value_range", None)
    low, high = (0.0, 1.0) if value_range is None else (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"value_range must have low < high, got {value_range!r}")
    return inner, (low, high)


def image_input(model: keras.Model, ranks: Iterable[int] = (4,)) -> keras.KerasTensor:
    """The one symbolic image input of a functional or Sequential Keras model.

    Args:
        model: a ``keras.Model`` built on ``keras.Input``.
        ranks: the input ranks accepted: 4 for ``[N, H, W, C]``, 3 for greyscale ``[N, H, W]``.

    Returns:
        The input ``KerasTensor`` (e.g. shape ``(None, None, None, 3)``).

    Raises:
        TypeError: if ``model`` is not a ``keras.Model``.
        ValueError: if it has no symbolic input (a subclassed model), several, or one of another
            rank.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            "model must be a functional or Sequential model built on keras.Input (a subclassed "
            "model has no symbolic input to cut at its layers)"
        )
    ranks = tuple(ranks)
    if len(inputs) != 1 or len(inputs[0].shape) not in ranks:
        wanted = " or ".join(_INPUT_SHAPES.get(rank, f"rank-{rank}") for rank in ranks)
        raise ValueError(
            f"model must have one {wanted} image input, got inputs "
            f"{[tuple(i.shape) for i in inputs]}"
        )
    return inputs[0]


# --- layers -------------------------------------------------------------------------------------


def layer_names(model: Any) -> list[str]:
    """The names of the layers of a Keras model or ``zoo.VisualizationModel``, in order."""
    return [layer.name for layer in keras_model(model).layers]


def check_layer_names(model: Any, names: str | Iterable[str]) -> list[str]:
    """``names`` as a list, each checked to be a layer of ``model``.

    Args:
        model: a Keras model or a ``zoo.VisualizationModel``.
        names: one layer name or several.

    Returns:
        The names, in the order given (duplicates kept).

    Raises:
        TypeError: if a name is not a string.
        ValueError: if a name is not one of the model's layers (the message lists them).
    """
    inner = keras_model(model)
    names = [names] if isinstance(names, str) else list(names)
    known = layer_names(inner)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"layer_names must hold strings, got {type(name).__name__}")
        if name not in known:
            raise ValueError(
                f"layer {name!r} is not a layer of model {inner.name!r}; "
                f"its layers are: {', '.join(known)}"
            )
    return names


def feature_extractor(
    model: Any, names: str | Iterable[str], name: str | None = None
) -> keras.Model:
    """A Keras model ``images -> {layer name: activations}`` sharing ``model``'s weights.

    Its input is ``model``'s: ``[N, H, W, C]`` (or greyscale ``[N, H, W]``); each output is the
    named layer's ``[N, h, w, C_l]`` (``[N, C_l]`` for a dense layer). A name given twice is one
    output.

    Args:
        model: a functional or Sequential Keras model, or a ``zoo.VisualizationModel``.
        names: one layer name or several, e.g. ``["mixed1", "logits"]``.
        name: the new model's name; default ``"<model name>_features"``.

    Raises:
        TypeError: if ``model`` is neither kind, or a name is not a string.
        ValueError: if ``model`` has no single symbolic image input, or a name is not one of its
            layers (the message lists them).
    """
    inner = keras_model(model)
    inputs = image_input(inner, ranks=(3, 4))
    names = list(dict.fromkeys(check_layer_names(inner, names)))
    outputs = {layer: inner.get_layer(layer).output for layer in names}
    return keras.Model(inputs, outputs, name=name or f"{inner.name}_features")


def layer_model(model: Any, names: str | Sequence[str], name: str | None = None) -> keras.Model:
    """A Keras model ``images -> [activations of each named layer]``, sharing the weights.

    Args:
        model: a functional or Sequential Keras model with one ``[N, H, W, C]`` input, or a
            ``zoo.VisualizationModel``.
        names: one layer name or a non-empty sequence of them (repeats allowed).
        name: the new model's name; default ``"<model name>_layers"``.

    Returns:
        A ``keras.Model`` with ``model``'s input whose outputs are the named layers'
        ``[N, h, w, C_l]`` activations: a list in the order given (Keras returns the tensor
        itself when there is one).

    Raises:
        TypeError: if ``model`` is neither kind, or a name is not a string.
        ValueError: if ``model`` has no single ``[N, H, W, C]`` input, ``names`` is empty, or a
            name is not one of its layers (the message lists them).
    """
    inner = keras_model(model)
    inputs = image_input(inner)
    if not isinstance(names, (str, Sequence)) or not names:
        raise ValueError(f"layer_names must be a name or a non-empty list of names, got {names!r}")
    names = check_layer_names(inner, names)
    outputs = [inner.get_layer(layer).output for layer in names]
    return keras.Model(inputs=inputs, outputs=outputs, name=name or f"{inner.name}_layers")


# --- activations on an image --------------------------------------------------------------------


def one_image(image: Any) -> np.ndarray:
    """One ``[H, W, C]`` (or ``[1, H, W, C]``) image as a float32 ``[H, W, C]`` array.

    Raises:
        ValueError: if ``image`` has another shape.
    """
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(f"image must be [H, W, C] or [1, H, W, C], got shape {array.shape}")
    return array


def image_batch(image: Any, value_range: Sequence[float] = (0.0, 1.0)) -> tf.Tensor:
    """One image in [0, 1] as a model-ready ``[1, H, W, C]`` float32 batch in ``value_range``.

    Args:
        image: ``[H, W, C]`` or ``[1, H, W, C]`` in [0, 1].
        value_range: ``(low, high)`` of the model's input pixels; the map is affine.

    Raises:
        ValueError: if ``image`` has another shape.
    """
    low, high = value_range
    array = one_image(image)
    return tf.constant(array[np.newaxis] * np.float32(high - low) + np.float32(low))


def layer_activations(model: Any, image: Any, layer: str) -> np.ndarray:
    """The activations of one layer on one image.

    Args:
        model: a Keras model or a ``zoo.VisualizationModel`` (its ``value_range`` maps the image).
        image: ``[H, W, C]`` (or ``[1, H, W, C]``) in [0, 1].
        layer: a layer name.

    Returns:
        ``[h, w, C_l]`` (``[C_l]`` for a dense layer) float32 NumPy activations.

    Raises:
        ValueError: if ``layer`` is not one of the model's layers (the message lists them), or
            ``image`` has another shape.
    """
    inner, value_range = unwrap(model)
    outputs = feature_extractor(inner, [layer])(image_batch(image, value_range))
    return np.asarray(outputs[layer])[0]


# --- another input size -------------------------------------------------------------------------


def free_size_model(model: Any) -> Any:
    """A copy of a fixed-input-size image model that takes any image size (same weights).

    InceptionV3 with its classifier takes only 299x299 images. Its convolutional layers and the
    global pooling before the classifier do not care: the copy (``keras.models.clone_model`` on a
    ``[None, None, C]`` input, weights copied) takes photographs and feature-visualization icons
    at their own size. Models that already take any size are returned as they are.

    Args:
        model: a functional Keras model with one ``[N, H, W, C]`` input, or a
            ``zoo.VisualizationModel`` holding one.

    Returns:
        The same kind of object as ``model`` (a ``VisualizationModel`` keeps its other fields).

    Raises:
        TypeError: if ``model`` is neither kind.
        ValueError: if the model does not have one ``[N, H, W, C]`` input.
    """
    inner = keras_model(model)
    shape = tuple(image_input(inner).shape)
    if shape[1] is None and shape[2] is None:
        return model
    copy = keras.models.clone_model(inner, input_tensors=keras.Input((None, None, shape[3])))
    copy.set_weights(inner.get_weights())
    if inner is model:
        return copy
    return dataclasses.replace(model, model=copy)
