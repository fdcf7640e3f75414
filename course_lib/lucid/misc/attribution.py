"""Attribution by gradient × activation: which positions and channels of a layer drive an output.

For a target ``y`` (a class logit, or any objective) and a layer's activations ``a[x, y, c]`` on
one image, the attribution of each activation is ``a * dy/da``. Summing it:

- over channels gives the **spatial attribution** ``[h, w]`` (where in the image the evidence is);
- over positions gives the **channel attribution** ``[C]`` (which feature detectors carry it);
- over everything gives the total, the same number both ways:
  ``spatial.sum() == channel.sum() == gradient_x_activation(...).sum()``.

Completeness: when ``y`` is linear in the layer (``y = w · a + b``, e.g. a logit read through
global average pooling and a dense layer), the total is exactly ``y - b``, the part of the output
the activations account for. A ReLU between keeps this (``relu'(x) x = relu(x)``), so it also
holds at the pre-ReLU layer. Deeper in a network with biases it is only approximate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.lucid.misc import _features


def _logit_layer(model, logit_layer: str | None) -> str:
    if logit_layer is not None:
        return logit_layer
    names = _features.layer_names(model)
    return "logits" if "logits" in names else names[-1]


def _as_objective(objective: Any):
    if isinstance(objective, str):
        from course_lib.lucid.optvis import objectives

        return objectives.as_objective(objective)
    if not callable(objective):
        raise TypeError(f"objective must be callable or 'layer:channel', got {objective!r}")
    return objective


def attribution_map(activations: Any, gradients: Any) -> np.ndarray:
    """The spatial attribution map from a layer's activations and the target's gradient.

    Args:
        activations: ``[..., h, w, C]`` activations of a layer.
        gradients: ``[..., h, w, C]`` the target's gradient with respect to them.

    Returns:
        ``[..., h, w]``: ``sum over c of activations * gradients``.

    Raises:
        ValueError: if the shapes differ.
    """
    acts, grads = np.asarray(activations), np.asarray(gradients)
    if acts.shape != grads.shape:
        raise ValueError(f"activations {acts.shape} and gradients {grads.shape} differ in shape")
    return np.sum(acts * grads, axis=-1)


def predicted_class(model: Any, image: Any, logit_layer: str | None = None) -> int:
    """The class with the largest logit for one image.

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` in [0, 1].
        logit_layer: the layer holding the ``[1, classes]`` logits; default ``"logits"`` when the
            model has one, else its last layer.

    Returns:
        The index of the largest logit.
    """
    keras_model, value_range = _features.unit_model(model)
    name = _logit_layer(keras_model, logit_layer)
    logits = _features.extractor(keras_model, [name])(_features.image_batch(image, value_range))
    return int(np.argmax(np.asarray(logits[name])[0]))


def gradient_x_activation(
    model: Any,
    image: Any,
    layer: str,
    class_index: int | None = None,
    objective: Any = None,
    logit_layer: str | None = None,
) -> np.ndarray:
    """``activation * d target / d activation`` for every activation of ``layer``.

    Args:
        model: a Keras functional model (inputs in [0, 1]) or a ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` (or ``[1, H, W, 3]``) in [0, 1].
        layer: the layer to attribute to, e.g. ``"mixed2"``.
        class_index: the class whose logit is the target; default: the predicted class.
            Ignored when ``objective`` is given.
        objective: instead of a logit, an ``optvis.objectives.Objective`` (or any callable
            ``T -> scalar or [1]``, where ``T(name)`` gives a layer's activations and
            ``T("input")`` the image in [0, 1]), or a ``"layer:channel"`` string.
        logit_layer: the layer holding the logits; default ``"logits"`` if the model has one,
            else its last layer.

    Returns:
        ``[h, w, C]`` float32 NumPy attributions (``[C]`` for a dense layer).

    Raises:
        ValueError: if a layer name is not one of the model's layers (the message lists them), or
            ``class_index`` is out of range.
    """
    keras_model, value_range = _features.unit_model(model)
    batch = _features.image_batch(image, value_range)
    if objective is None:
        target_layer = _logit_layer(keras_model, logit_layer)
        names = [layer, target_layer]
    else:
        objective = _as_objective(objective)
        read = getattr(objective, "layers", None)
        if read is None:
            read = [name for name in _features.layer_names(keras_model) if name != "input"]
        names = [layer] + [name for name in read if name != "input"]
    features = _features.extractor(keras_model, names)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        outputs = features(batch)
        acts = outputs[layer]
        if objective is None:
            logits = outputs[target_layer]
            count = int(logits.shape[-1])
            index = int(np.argmax(logits[0])) if class_index is None else int(class_index)
            if not 0 <= index < count:
                raise ValueError(f"class_index {index} out of range: the model has {count} classes")
            target = logits[0, index]
        else:
            unit = (batch - value_range[0]) / (value_range[1] - value_range[0])

            def T(name: str) -> tf.Tensor:  # noqa: N802 - Lucid's name for the activation lookup
                return unit if name == "input" else outputs[name]

            target = tf.reduce_sum(objective(T))
    gradient = tape.gradient(target, acts)
    if gradient is None:
        gradient = tf.zeros_like(acts)  # the target does not depend on this layer
    return np.asarray(gradient * acts)[0]


def spatial_attribution(
    model: Any,
    image: Any,
    layer: str,
    class_index: int | None = None,
    objective: Any = None,
    logit_layer: str | None = None,
) -> np.ndarray:
    """Gradient × activation summed over channels: ``[h, w]``, one value per layer position.

    Arguments as :func:`gradient_x_activation`; ``layer`` must be a convolutional
    (``[1, h, w, C]``) layer. Its sum equals :func:`channel_attribution`'s.

    Raises:
        ValueError: if ``layer`` has no spatial dimensions, or as :func:`gradient_x_activation`.
    """
    attribution = gradient_x_activation(model, image, layer, class_index, objective, logit_layer)
    if attribution.ndim != 3:
        raise ValueError(
            f"layer {layer!r} has no spatial dimensions (activations of shape "
            f"{attribution.shape}); use channel_attribution"
        )
    return attribution.sum(axis=-1)


def channel_attribution(
    model: Any,
    image: Any,
    layer: str,
    class_index: int | None = None,
    objective: Any = None,
    logit_layer: str | None = None,
) -> np.ndarray:
    """Gradient × activation summed over positions: ``[C]``, one value per channel of ``layer``.

    Arguments as :func:`gradient_x_activation`. Its sum equals :func:`spatial_attribution`'s.
    """
    attribution = gradient_x_activation(model, image, layer, class_index, objective, logit_layer)
    return attribution.reshape(-1, attribution.shape[-1]).sum(axis=0)
