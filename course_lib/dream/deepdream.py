"""DeepDream (book/part1/05_deepdream): gradient ascent on an image to excite chosen layers.

The recipe, on any Keras functional (or Sequential) model with named layers (steps 1, 2 and 4
live in :mod:`course_lib.dream.gradients` and are importable from here too):

1. :func:`dream_model` cuts the network at the chosen layers: a model returning their
   activations.
2. The objective :func:`dream_loss` is the mean activation of each chosen layer, summed: the
   image is changed so that the layers "see more of what they already see".
3. :func:`gradient_ascent_step` moves the image along the gradient of the objective (normalized
   by its standard deviation, so that one ``step_size`` suits every layer and image) and clips it
   to the model's input range. The step is compiled with ``tf.function`` and an input signature
   with free height and width, so it is traced once per model, not once per image size.
4. :func:`tiled_gradients` computes the gradient tile by tile, so that large images fit in
   memory; the image is rolled by a random shift before tiling so that the tile seams move every
   step and do not show.
5. :func:`run_deep_dream_with_octaves` repeats the ascent at several scales ("octaves"), so that
   patterns appear at several sizes.

Images enter and leave the ``run_*`` functions as ``[H, W, C]`` floats in [0, 1] (as
``course_lib.data.load_image`` returns them); the steps work in the range the model expects its
inputs in, given by ``value_range``: ``(-1, 1)`` for InceptionV3 (``x / 127.5 - 1``), ``(0, 1)``
for models trained on ``x / 255``. Models with other preprocessing (a per-channel mean, BGR) need
their own conversion before and after.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.dream.gradients import (  # noqa: F401 - re-exported, as before the split
    EPSILON,
    dream_gradients,
    dream_loss,
    dream_model,
    normalize_gradients,
    random_shift,
    tile_bounds,
    tiled_gradients,
)
from course_lib.zoo import features

#: InceptionV3's input range, the model of book/part1/05_deepdream.
DEFAULT_VALUE_RANGE = (-1.0, 1.0)
#: How many compiled :class:`DeepDream` objects (model, value range) are kept for reuse.
CACHE_SIZE = 8

ValueRange = tuple[float, float]


# --- argument checks --------------------------------------------------------------------------


def _value_range(value_range: object) -> ValueRange:
    if isinstance(value_range, (str, bytes)) or not isinstance(value_range, Sequence):
        raise ValueError(f"value_range must be a pair (low, high), got {value_range!r}")
    if len(value_range) != 2 or not all(checks.is_real(v) for v in value_range):
        raise ValueError(f"value_range must be a pair of numbers (low, high), got {value_range!r}")
    low, high = float(value_range[0]), float(value_range[1])
    if not low < high:
        raise ValueError(f"value_range must have low < high, got {value_range!r}")
    return low, high


def _image(image: object, name: str = "image") -> tf.Tensor:
    """``image`` as a float32 ``[H, W, C]`` tensor."""
    try:
        tensor = tf.convert_to_tensor(image, dtype_hint=tf.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if tensor.shape.rank != 3:
        raise ValueError(f"{name} must have shape [H, W, C], got {tensor.shape.as_list()}")
    if not (tensor.dtype.is_floating or tensor.dtype.is_integer):
        raise TypeError(f"{name} must hold numbers, got dtype {tensor.dtype.name}")
    return tf.cast(tensor, tf.float32)


def _unit_image(image: object, model: keras.Model) -> tf.Tensor:
    """``image`` checked to be ``[H, W, C]`` in [0, 1] with the channels ``model`` expects."""
    image = _image(image)
    low, high = float(tf.reduce_min(image)), float(tf.reduce_max(image))
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"image must hold values in [0, 1] (e.g. from course_lib.data.load_image), "
            f"got {low:.3g}..{high:.3g}"
        )
    channels = _input_channels(model)
    if channels is not None and image.shape[-1] != channels:
        raise ValueError(
            f"image has {image.shape[-1]} channels but the model expects {channels} "
            f"(its input shape is {tuple(features.image_input(model).shape)})"
        )
    return image


def _input_channels(model: keras.Model) -> int | None:
    """The channel count ``C`` of the model's ``[N, H, W, C]`` input (None when free)."""
    return features.image_input(model).shape[-1]


# --- pre- and post-processing -----------------------------------------------------------------


def preprocess(image: object, value_range: Sequence[float] = DEFAULT_VALUE_RANGE) -> tf.Tensor:
    """Maps ``[..., H, W, C]`` values from [0, 1] to the model's ``value_range`` (affine).

    With the default ``(-1, 1)`` this is InceptionV3's ``x / 127.5 - 1`` for ``x = 255 * image``.

    Raises:
        ValueError: if ``value_range`` is not a pair with low < high.
    """
    low, high = _value_range(value_range)
    return tf.convert_to_tensor(image, tf.float32) * (high - low) + low


def deprocess(image: object, value_range: Sequence[float] = DEFAULT_VALUE_RANGE) -> tf.Tensor:
    """The inverse of :func:`preprocess`: values in ``value_range`` back to [0, 1], clipped.

    Raises:
        ValueError: if ``value_range`` is not a pair with low < high.
    """
    low, high = _value_range(value_range)
    unit = (tf.convert_to_tensor(image, tf.float32) - low) / (high - low)
    return tf.clip_by_value(unit, 0.0, 1.0)


# --- the compiled steps -----------------------------------------------------------------------


class DeepDream:
    """Gradient-ascent steps for one model, compiled once with free image height and width.

    Args:
        model: a model returning the activations to maximize (see :func:`dream_model`).
        value_range: ``(low, high)`` of the model's inputs; images are clipped to it.

    Attributes:
        step: ``step(image, step_size) -> (loss, image)``, a ``tf.function`` with an input
            signature ``[None, None, C]`` float32 image and a float32 scalar step size, so that it
            is traced once whatever the image size.
        tiled_step: ``tiled_step(image, step_size, tile_size, shift) -> (loss, image)``, the same
            with :func:`tiled_gradients` (``tile_size`` an int32 scalar, ``shift`` ``[2]`` int32).
    """

    def __init__(self, model: keras.Model, value_range: Sequence[float] = DEFAULT_VALUE_RANGE):
        channels = _input_channels(model)
        self.model = model
        self.value_range = _value_range(value_range)
        image = tf.TensorSpec([None, None, channels], tf.float32, name="image")
        scalar = tf.TensorSpec([], tf.float32, name="step_size")
        self.step = tf.function(self.eager_step, input_signature=(image, scalar))
        self.tiled_step = tf.function(
            self.eager_tiled_step,
            input_signature=(
                image,
                scalar,
                tf.TensorSpec([], tf.int32, name="tile_size"),
                tf.TensorSpec([2], tf.int32, name="shift"),
            ),
        )

    def _ascend(self, image: tf.Tensor, gradients: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
        low, high = self.value_range
        image = image + normalize_gradients(gradients) * step_size
        return tf.clip_by_value(image, low, high)

    def eager_step(self, image: tf.Tensor, step_size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One step on the whole image, uncompiled (see :attr:`step`)."""
        loss, gradients = dream_gradients(image, self.model)
        return loss, self._ascend(image, gradients, step_size)

    def eager_tiled_step(
        self, image: tf.Tensor, step_size: tf.Tensor, tile_size: tf.Tensor, shift: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One step with tiled gradients, uncompiled (see :attr:`tiled_step`)."""
        loss, gradients = tiled_gradients(image, self.model, tile_size, shift)
        return loss, self._ascend(image, gradients, step_size)


_CACHE: collections.OrderedDict[tuple[int, ValueRange], DeepDream] = collections.OrderedDict()


def get_deep_dream(
    model: keras.Model, value_range: Sequence[float] = DEFAULT_VALUE_RANGE
) -> DeepDream:
    """The :class:`DeepDream` of ``model`` and ``value_range``, reused across calls.

    The last ``CACHE_SIZE`` are kept (each holds its model), so repeated steps on the same model
    never retrace.

    Raises:
        TypeError, ValueError: if ``model`` is not a model on one image input, or ``value_range``
            is not a pair with low < high.
    """
    key = (id(model), _value_range(value_range))
    if key in _CACHE and _CACHE[key].model is model:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    dream = DeepDream(model, value_range)
    _CACHE[key] = dream
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return dream


def gradient_ascent_step(
    image: object,
    model: keras.Model,
    step_size: float,
    value_range: Sequence[float] = DEFAULT_VALUE_RANGE,
    compiled: bool = True,
) -> tuple[tf.Tensor, tf.Tensor]:
    """One DeepDream step on the whole image: ``image + step_size * g / std(g)``, clipped.

    Args:
        image: ``[H, W, C]`` in the model's input range ``value_range``.
        model: a model returning the activations to maximize (see :func:`dream_model`).
        step_size: > 0, in units of the input range per normalized gradient.
        value_range: ``(low, high)`` of the model's inputs; the result is clipped to it.
        compiled: use the ``tf.function`` (traced once per model); ``False`` runs eagerly.

    Returns:
        ``(loss, image)``: the objective before the step (a float32 scalar) and the new
        ``[H, W, C]`` float32 image.

    Raises:
        TypeError, ValueError: naming the argument, if ``image`` is not ``[H, W, C]``,
            ``step_size`` is not positive, or ``model``/``value_range`` are unusable.
    """
    image = _image(image)
    step_size = checks.positive_float("step_size", step_size)
    dream = get_deep_dream(model, value_range)
    step = dream.step if compiled else dream.eager_step
    return step(image, tf.constant(step_size, tf.float32))


# --- the loops --------------------------------------------------------------------------------


def _ascend_steps(
    image: tf.Tensor,
    dream: DeepDream,
    steps: int,
    step_size: float,
    tile_size: int | None,
    rng: np.random.Generator,
) -> tuple[tf.Tensor, list[float]]:
    step_size_tensor = tf.constant(step_size, tf.float32)
    trace = []
    for _ in range(steps):
        if tile_size is None:
            loss, image = dream.step(image, step_size_tensor)
        else:
            shift = tf.constant(random_shift(rng, tile_size))
            loss, image = dream.tiled_step(
                image, step_size_tensor, tf.constant(tile_size, tf.int32), shift
            )
        trace.append(float(loss))
    return image, trace


def _optional_tile_size(tile_size: object) -> int | None:
    return None if tile_size is None else checks.positive_int("tile_size", tile_size)


def run_deep_dream(
    image: object,
    model: keras.Model,
    steps: int = 100,
    step_size: float = 0.01,
    tile_size: int | None = None,
    value_range: Sequence[float] = DEFAULT_VALUE_RANGE,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """DeepDream at one scale: ``steps`` gradient-ascent steps on the image.

    Args:
        image: ``[H, W, C]`` floats in [0, 1], e.g. ``course_lib.data.load_image("coffee")``.
        model: a model returning the activations to maximize (see :func:`dream_model`).
        steps: number of steps, >= 1.
        step_size: > 0, in units of the model's input range per normalized gradient.
        tile_size: ``None`` for the gradient of the whole image; else the largest tile side of
            :func:`tiled_gradients`, with a fresh random roll each step.
        value_range: ``(low, high)`` the model expects its inputs in (``(-1, 1)``: InceptionV3).
        seed: seed of the random rolls.

    Returns:
        ``(image, trace)``: the dreamed ``[H, W, C]`` float32 image in [0, 1], and ``[steps]``
        float32 objectives, ``trace[k]`` measured on the image before step ``k``.

    Raises:
        TypeError, ValueError: naming the argument, if ``image`` is not ``[H, W, C]`` in [0, 1]
            with the model's channels, or a count or size is not positive.
    """
    image = _unit_image(image, model)
    steps = checks.positive_int("steps", steps)
    step_size = checks.positive_float("step_size", step_size)
    tile_size = _optional_tile_size(tile_size)
    dream = get_deep_dream(model, value_range)
    rng = np.random.default_rng(checks.non_negative_int("seed", seed))
    dreamed, trace = _ascend_steps(
        preprocess(image, dream.value_range), dream, steps, step_size, tile_size, rng
    )
    return deprocess(dreamed, dream.value_range).numpy(), np.asarray(trace, np.float32)


def octave_sizes(
    shape: Sequence[int], octave_scale: float, octaves: Sequence[int]
) -> list[tuple[int, int]]:
    """``(height, width)`` of each octave: the image's size times ``octave_scale ** octave``.

    Raises:
        ValueError: if an octave would be smaller than one pixel.
    """
    sizes = []
    for octave in octaves:
        factor = octave_scale**octave
        size = (int(round(shape[0] * factor)), int(round(shape[1] * factor)))
        if min(size) < 1:
            raise ValueError(f"octaves: octave {octave} shrinks the image to {size}")
        sizes.append(size)
    return sizes


def run_deep_dream_with_octaves(
    image: object,
    model: keras.Model,
    octave_scale: float = 1.3,
    octaves: Sequence[int] = range(-2, 3),
    steps_per_octave: int = 50,
    step_size: float = 0.01,
    tile_size: int | None = 512,
    value_range: Sequence[float] = DEFAULT_VALUE_RANGE,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """DeepDream at several scales: the image is resized by ``octave_scale ** octave`` for each
    octave in turn, dreamed on for ``steps_per_octave`` steps, and finally resized back.

    Small octaves grow large patterns, large octaves add fine detail on top of them.

    Args:
        image: ``[H, W, C]`` floats in [0, 1].
        model: a model returning the activations to maximize (see :func:`dream_model`).
        octave_scale: size ratio between consecutive octaves, > 1.
        octaves: the exponents, in order, e.g. ``range(-2, 3)`` (smaller, ..., the original,
            ..., larger).
        steps_per_octave: gradient-ascent steps at each octave, >= 1.
        step_size: > 0, as in :func:`run_deep_dream`.
        tile_size: tile side of :func:`tiled_gradients` (with a random roll), or ``None`` for
            whole-image gradients.
        value_range: ``(low, high)`` the model expects its inputs in.
        seed: seed of the random rolls.

    Returns:
        ``(image, trace)``: the dreamed image at the input's size, ``[H, W, C]`` float32 in
        [0, 1], and ``[len(octaves) * steps_per_octave]`` float32 objectives, octave after octave
        (each measured at that octave's size).

    Raises:
        TypeError, ValueError: naming the argument, as :func:`run_deep_dream`, and if
            ``octave_scale`` <= 1 or ``octaves`` is not a non-empty sequence of ints.
    """
    image = _unit_image(image, model)
    octave_scale = checks.positive_float("octave_scale", octave_scale)
    if octave_scale <= 1.0:
        raise ValueError(f"octave_scale must be > 1, got {octave_scale}")
    if isinstance(octaves, (str, bytes)) or not isinstance(octaves, Sequence) or not octaves:
        raise ValueError(f"octaves must be a non-empty sequence of ints, got {octaves!r}")
    if not all(checks.is_int(o) for o in octaves):
        raise ValueError(f"octaves must hold ints, got {list(octaves)!r}")
    steps_per_octave = checks.positive_int("steps_per_octave", steps_per_octave)
    step_size = checks.positive_float("step_size", step_size)
    tile_size = _optional_tile_size(tile_size)
    dream = get_deep_dream(model, value_range)
    rng = np.random.default_rng(checks.non_negative_int("seed", seed))

    base_size = tuple(image.shape[:2])
    dreamed = preprocess(image, dream.value_range)
    trace: list[float] = []
    for size in octave_sizes(base_size, octave_scale, octaves):
        dreamed = tf.image.resize(dreamed, size)
        dreamed, octave_trace = _ascend_steps(
            dreamed, dream, steps_per_octave, step_size, tile_size, rng
        )
        trace.extend(octave_trace)
    dreamed = tf.image.resize(dreamed, base_size)
    return deprocess(dreamed, dream.value_range).numpy(), np.asarray(trace, np.float32)
