"""Activations of named layers on real images, shared by the ``misc`` building blocks.

The building blocks look at a trained model *on a photograph*: they need the activations of a
few named layers (and gradients through them) for one fixed image. :func:`extractor` returns a
callable ``images -> {layer name: activations}``; :func:`unit_model` unwraps
``zoo.VisualizationModel`` and the value range that maps [0, 1] images to the model's input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf


def unit_model(model: Any) -> tuple[keras.Model, tuple[float, float]]:
    """The Keras model and its input ``(low, high)`` range.

    Args:
        model: a Keras functional model (inputs in [0, 1]) or a ``zoo.VisualizationModel``.

    Returns:
        ``(keras_model, value_range)``; ``(0.0, 1.0)`` for a bare Keras model.

    Raises:
        TypeError: if ``model`` is neither.
    """
    if isinstance(model, keras.Model):
        return model, (0.0, 1.0)
    inner = getattr(model, "model", None)
    if isinstance(inner, keras.Model):
        low, high = getattr(model, "value_range", (0.0, 1.0))
        return inner, (float(low), float(high))
    raise TypeError(
        f"model must be a keras.Model or a zoo.VisualizationModel, got {type(model).__name__}"
    )


def layer_names(model: keras.Model) -> list[str]:
    """The names of ``model``'s layers, in order."""
    return [layer.name for layer in model.layers]


def check_layers(model: keras.Model, names: Sequence[str]) -> None:
    """Raises ``ValueError`` listing the model's layers if a name is not one of them."""
    known = layer_names(model)
    for name in names:
        if name not in known:
            raise ValueError(
                f"layer {name!r} is not a layer of model {model.name!r}; "
                f"its layers are: {', '.join(known)}"
            )


def extractor(model: keras.Model, names: Sequence[str]) -> Callable[[tf.Tensor], dict]:
    """A callable ``images [B, H, W, C] -> {name: activations}`` over the named layers.

    Uses ``optvis.render.make_feature_extractor`` (the model that feature visualization uses).

    Raises:
        ValueError: if a name is not one of the model's layers (the message lists them).
    """
    names = list(dict.fromkeys(names))
    check_layers(model, names)
    from course_lib.lucid.optvis import render

    features = render.make_feature_extractor(model, names)

    def run(images: tf.Tensor) -> dict:
        outputs = features(images)
        if isinstance(outputs, dict):
            return {name: outputs[name] for name in names}
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return dict(zip(names, outputs, strict=True))

    return run


def image_batch(image: Any, value_range: tuple[float, float]) -> tf.Tensor:
    """One ``[H, W, 3]`` (or ``[1, H, W, 3]``) image in [0, 1] as a model-ready ``[1, H, W, 3]``.

    Raises:
        ValueError: if ``image`` is not ``[H, W, C]`` or ``[1, H, W, C]``.
    """
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(f"image must be [H, W, C] or [1, H, W, C], got shape {array.shape}")
    low, high = value_range
    return tf.constant(array[np.newaxis] * np.float32(high - low) + np.float32(low))


def layer_activations(model: Any, image: Any, layer: str) -> np.ndarray:
    """The activations of one layer on one image.

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` in [0, 1].
        layer: a layer name.

    Returns:
        ``[h, w, C]`` (``[C]`` for a dense layer) float32 NumPy activations.

    Raises:
        ValueError: if ``layer`` is not one of the model's layers (the message lists them).
    """
    keras_model, value_range = unit_model(model)
    acts = extractor(keras_model, [layer])(image_batch(image, value_range))[layer]
    return np.asarray(acts)[0]
