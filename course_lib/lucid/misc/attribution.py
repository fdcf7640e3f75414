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

Faithfulness: an attribution map is only worth reading if the model really uses what it points
at. :func:`deletion_curve` measures it: delete the image region by region, most-attributed first
(replacing it by a blurred copy or the mean colour), and record the class logit after each
fraction deleted. A faithful map makes the logit fall faster than the same deletions in a random
order, so its curve encloses a smaller :attr:`DeletionCurve.area`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.ndimage
import tensorflow as tf

from course_lib import checks
from course_lib.zoo import features


def _logit_layer(model, logit_layer: str | None) -> str:
    if logit_layer is not None:
        return logit_layer
    names = features.layer_names(model)
    return "logits" if "logits" in names else names[-1]


def _as_objective(objective: Any):
    if isinstance(objective, str):
        from course_lib.lucid.optvis import objectives

        return objectives.as_objective(objective)
    if not callable(objective):
        raise TypeError(f"objective must be callable or 'layer:channel', got {objective!r}")
    return objective


def _class_index(logits: np.ndarray, class_index: int | None) -> int:
    """``class_index``, checked against the ``[classes]`` logits; their argmax when None."""
    count = logits.shape[-1]
    index = int(np.argmax(logits)) if class_index is None else int(class_index)
    if not 0 <= index < count:
        raise ValueError(f"class_index {index} out of range: the model has {count} classes")
    return index


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
    keras_model, value_range = features.unwrap(model)
    name = _logit_layer(keras_model, logit_layer)
    extract = features.feature_extractor(keras_model, [name])
    logits = extract(features.image_batch(image, value_range))
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
    keras_model, value_range = features.unwrap(model)
    batch = features.image_batch(image, value_range)
    if objective is None:
        target_layer = _logit_layer(keras_model, logit_layer)
        names = [layer, target_layer]
    else:
        objective = _as_objective(objective)
        read = getattr(objective, "layers", None)
        if read is None:
            read = [name for name in features.layer_names(keras_model) if name != "input"]
        names = [layer] + [name for name in read if name != "input"]
    extract = features.feature_extractor(keras_model, names)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        outputs = extract(batch)
        acts = outputs[layer]
        if objective is None:
            logits = outputs[target_layer]
            target = logits[0, _class_index(np.asarray(logits[0]), class_index)]
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


#: :func:`deletion_curve`'s blur baseline: Gaussian sigma as a fraction of the image's longer side.
BLUR_SIGMA = 0.05


@dataclass(frozen=True)
class DeletionCurve:
    """The class logit as an image is deleted region by region (:func:`deletion_curve`).

    Attributes:
        fractions: ``[F]`` increasing fractions of the image deleted, from 0 to 1.
        scores: ``[F]`` the class logit after deleting each fraction.
        class_index: the class whose logit was recorded.
    """

    fractions: np.ndarray
    scores: np.ndarray
    class_index: int

    @property
    def area(self) -> float:
        """The area between the curve and its end (everything deleted), by the trapezoid rule.

        Curves of the same image and class share both ends, so a smaller area means the logit
        fell sooner: the deletion order found the evidence first.
        """
        return float(np.trapezoid(self.scores - self.scores[-1], self.fractions))


def _fractions(fractions: int | Sequence[float]) -> np.ndarray:
    if checks.is_int(fractions):
        if fractions < 2:
            raise ValueError(f"fractions must be >= 2 when a count, got {fractions}")
        return np.linspace(0.0, 1.0, int(fractions))
    try:
        values = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"fractions must be a count or a sequence of numbers: {error}") from error
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"fractions must be 1-D with at least 2 values, got shape {values.shape}")
    if values[0] != 0.0 or values[-1] != 1.0 or np.any(np.diff(values) <= 0):
        raise ValueError(f"fractions must increase from 0 to 1, got {values.tolist()}")
    return values


def deletion_masks(
    saliency: Any, image_size: tuple[int, int], fractions: int | Sequence[float] = 11
) -> np.ndarray:
    """Which pixels are deleted at each fraction, most salient regions first.

    The saliency map may be coarser than the image (e.g. a layer's ``[h, w]`` attribution): each
    pixel ``(i, j)`` belongs to region ``(i h // H, j w // W)``. Regions are ranked by decreasing
    saliency (ties in row-major order) and, at fraction ``f``, the first ``round(f h w)`` are
    deleted.

    Args:
        saliency: ``[h, w]`` finite scores, one per region.
        image_size: ``(H, W)`` with ``H >= h`` and ``W >= w``.
        fractions: ``[F]`` increasing from 0 to 1, or their count (evenly spaced).

    Returns:
        ``[F, H, W]`` bool masks, True where the pixel is deleted.

    Raises:
        ValueError: if ``saliency`` is not a finite 2-D map, ``image_size`` is smaller than it, or
            ``fractions`` does not increase from 0 to 1.
    """
    scores = np.asarray(saliency, dtype=np.float64)
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"saliency must be a non-empty [h, w] map, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("saliency must be finite")
    if len(tuple(image_size)) != 2:
        raise ValueError(f"image_size must be (H, W), got {image_size!r}")
    height, width = (checks.positive_int("image_size", v) for v in image_size)
    if height < scores.shape[0] or width < scores.shape[1]:
        raise ValueError(
            f"image_size {(height, width)} is smaller than the saliency map {scores.shape}"
        )
    values = _fractions(fractions)
    order = np.argsort(-scores.ravel(), kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    rank = rank.reshape(scores.shape)
    rows = np.arange(height) * scores.shape[0] // height
    cols = np.arange(width) * scores.shape[1] // width
    pixel_rank = rank[rows[:, np.newaxis], cols[np.newaxis, :]]
    counts = np.round(values * order.size).astype(np.int64)
    return pixel_rank[np.newaxis] < counts[:, np.newaxis, np.newaxis]


def deletion_baseline(image: Any, baseline: Any = "blur") -> np.ndarray:
    """What a deleted pixel becomes: a blurred copy of the image, its mean colour, or given values.

    Args:
        image: ``[H, W, C]`` in [0, 1].
        baseline: ``"blur"`` (Gaussian, sigma ``BLUR_SIGMA`` times the longer side), ``"mean"``
            (the image's mean colour), a number (a flat grey), or an ``[H, W, C]`` array.

    Returns:
        ``[H, W, C]`` float32.

    Raises:
        ValueError: if ``image`` is not ``[H, W, C]``, ``baseline`` is an unknown name, or an
            array of another shape.
    """
    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(f"image must be [H, W, C], got shape {array.shape}")
    if isinstance(baseline, str):
        if baseline == "blur":
            sigma = BLUR_SIGMA * max(array.shape[:2])
            return scipy.ndimage.gaussian_filter(array, sigma=(sigma, sigma, 0), mode="nearest")
        if baseline == "mean":
            return np.broadcast_to(array.mean(axis=(0, 1)), array.shape).astype(np.float32)
        raise ValueError(f"baseline must be 'blur', 'mean', a number or an array, got {baseline!r}")
    if checks.is_real(baseline):
        return np.full(array.shape, baseline, dtype=np.float32)
    values = np.asarray(baseline, dtype=np.float32)
    if values.shape != array.shape:
        raise ValueError(f"baseline must have the image's shape {array.shape}, got {values.shape}")
    return values


def deletion_curve(
    model: Any,
    image: Any,
    saliency: Any,
    class_index: int | None = None,
    fractions: int | Sequence[float] = 11,
    baseline: Any = "blur",
    logit_layer: str | None = None,
    batch_size: int = 8,
) -> DeletionCurve:
    """The class logit as the most salient regions of an image are deleted first.

    For each fraction ``f``, the regions :func:`deletion_masks` deletes are replaced by
    :func:`deletion_baseline`'s pixels and the model's logit for ``class_index`` is recorded.
    Pass an attribution map as ``saliency`` to test it, and random numbers of the same shape
    (``rng.random(saliency.shape)``) for the random-order baseline it must beat.

    Args:
        model: a Keras model (inputs in [0, 1]) or a ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` (or ``[1, H, W, 3]``) in [0, 1].
        saliency: ``[h, w]`` scores, ``h <= H``, ``w <= W``: higher is deleted sooner.
        class_index: the class whose logit is recorded; default: the class predicted for
            ``image``.
        fractions: ``[F]`` fractions from 0 to 1, or their count (evenly spaced).
        baseline: as :func:`deletion_baseline`.
        logit_layer: the layer holding the ``[1, classes]`` logits; default ``"logits"`` when the
            model has one, else its last layer.
        batch_size: images per forward pass.

    Returns:
        A :class:`DeletionCurve`; ``scores[0]`` is the logit of the intact image and
        ``scores[-1]`` the logit of the baseline image.

    Raises:
        ValueError: if ``image``, ``saliency``, ``fractions``, ``baseline`` or ``logit_layer`` is
            invalid, or ``class_index`` is out of range.
        TypeError: if ``batch_size`` or ``class_index`` is not an int.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    if class_index is not None:
        class_index = checks.integer("class_index", class_index)
    keras_model, value_range = features.unwrap(model)
    array = features.one_image(image)
    masks = deletion_masks(saliency, array.shape[:2], fractions)
    replacement = deletion_baseline(array, baseline)
    name = _logit_layer(keras_model, logit_layer)
    extract = features.feature_extractor(keras_model, [name])
    low, high = value_range
    scores = []
    for start in range(0, len(masks), batch_size):
        chunk = masks[start : start + batch_size, :, :, np.newaxis]
        images = np.where(chunk, replacement, array) * np.float32(high - low) + np.float32(low)
        logits = np.asarray(extract(tf.constant(images, dtype=tf.float32))[name])
        scores.append(logits.reshape(len(chunk), -1))
    logits = np.concatenate(scores)
    index = _class_index(logits[0], class_index)
    return DeletionCurve(_fractions(fractions), logits[:, index].astype(np.float64), index)
