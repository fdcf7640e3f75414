"""Keras models as feature extractors: the one home for unwrapping and reshaping them.

- :func:`keras_model`: the Keras model inside a ``VisualizationModel`` (or the model itself).
- :func:`free_size_model`: a copy of a fixed-input-size model that takes any image size.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

__all__ = ["free_size_model", "keras_model"]


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
    inputs = getattr(inner, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = [tuple(i.shape) for i in inputs or ()]
        raise ValueError(f"model must have one [N, H, W, C] image input, got {shapes}")
    shape = tuple(inputs[0].shape)
    if shape[1] is None and shape[2] is None:
        return model
    copy = keras.models.clone_model(inner, input_tensors=keras.Input((None, None, shape[3])))
    copy.set_weights(inner.get_weights())
    if inner is model:
        return copy
    return dataclasses.replace(model, model=copy)
