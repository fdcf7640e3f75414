"""DeepDream's objective and its gradient: the cut model, the loss, tiled gradients.

- :func:`dream_model` cuts a network at the chosen layers (``zoo.features.layer_model``);
- :func:`dream_loss`: the mean activation of each chosen layer, summed;
- :func:`dream_gradients`: the loss of a whole ``[H, W, C]`` image and its gradient;
- :func:`tiled_gradients`: the same tile by tile on the image rolled by a shift
  (:func:`tile_bounds`, :func:`random_shift`), so that large images fit in memory and the seams
  move every step;
- :func:`normalize_gradients`: the gradient divided by its standard deviation.

The steps and loops that use them are in :mod:`course_lib.dream.deepdream`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.zoo import features

#: Added to the gradient's standard deviation before dividing by it.
EPSILON = 1e-8


# --- the objective ----------------------------------------------------------------------------


def dream_model(model: keras.Model, layer_names: str | Sequence[str]) -> keras.Model:
    """A model returning the activations of the named layers of ``model`` (sharing its weights).

    Args:
        model: a functional or Sequential Keras model built on ``keras.Input``, with one image
            input ``[N, H, W, C]``. To dream at any image size, its input should be
            ``keras.Input(shape=(None, None, C))`` (as ``keras.applications`` models without
            their top are).
        layer_names: one layer name or several, e.g. ``["mixed3", "mixed5"]`` for InceptionV3.

    Returns:
        A ``keras.Model`` with the same input, returning the ``[N, h, w, channels]`` activations
        of the named layers: a list in the order given, or one tensor for a single name.

    Raises:
        TypeError: if ``model`` is not a ``keras.Model`` or a name is not a string.
        ValueError: if ``model`` has no symbolic input (subclassed), ``layer_names`` is empty, or
            a name is not one of the model's layers (the message lists them).
    """
    features.image_input(model)  # a keras.Model (not a VisualizationModel) on [N, H, W, C]
    return features.layer_model(model, layer_names, name=f"{model.name}_dream")


def dream_loss(activations: tf.Tensor | Sequence[tf.Tensor]) -> tf.Tensor:
    """The DeepDream objective: the mean of each layer's activations, summed over the layers.

    Args:
        activations: one ``[N, h, w, channels]`` tensor or a list of them (any shapes).

    Returns:
        A float32 scalar.

    Raises:
        ValueError: if ``activations`` is an empty list.
    """
    if isinstance(activations, (list, tuple)):
        if not activations:
            raise ValueError("activations must hold at least one tensor, got an empty list")
        return tf.add_n([tf.reduce_mean(tf.cast(a, tf.float32)) for a in activations])
    return tf.reduce_mean(tf.cast(activations, tf.float32))


# --- gradients --------------------------------------------------------------------------------


def dream_gradients(image: tf.Tensor, model: keras.Model) -> tuple[tf.Tensor, tf.Tensor]:
    """The objective of a whole image and its gradient with respect to the image.

    Args:
        image: ``[H, W, C]`` in the model's input range.
        model: a model returning the activations to maximize (see :func:`dream_model`).

    Returns:
        ``(loss, gradients)``: a float32 scalar and ``[H, W, C]`` float32.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(image)
        loss = dream_loss(model(image[tf.newaxis], training=False))
    return loss, tape.gradient(loss, image)


def tile_bounds(size: tf.Tensor | int, tile_size: tf.Tensor | int) -> tf.Tensor:
    """Edges of ``ceil(size / tile_size)`` nearly equal tiles covering ``0..size``.

    Equal tiles (rather than full tiles and a sliver at the end) keep every tile at least half a
    tile wide, large enough for the model's receptive field.

    Returns:
        ``[n + 1]`` int32 edges from 0 to ``size``; tile ``i`` is ``edges[i]:edges[i + 1]``.
    """
    size = tf.cast(size, tf.int32)
    tile_size = tf.cast(tile_size, tf.int32)
    count = tf.maximum((size + tile_size - 1) // tile_size, 1)
    edges = tf.linspace(0.0, tf.cast(size, tf.float32), count + 1)
    return tf.cast(tf.round(edges), tf.int32)


def tiled_gradients(
    image: tf.Tensor,
    model: keras.Model,
    tile_size: tf.Tensor | int,
    shift: tf.Tensor | Sequence[int] = (0, 0),
) -> tuple[tf.Tensor, tf.Tensor]:
    """The objective and its gradient computed tile by tile on the image rolled by ``shift``.

    The image is rolled (``tf.roll``, wrapping around) by ``shift`` pixels, cut into tiles of at
    most ``tile_size`` x ``tile_size``, and each tile's objective is weighted by its share of the
    image's pixels; the tiles' gradients are pasted together and rolled back. Only one tile's
    activations are held in memory at a time. For a model whose outputs depend on single pixels
    (1x1 receptive field) this equals :func:`dream_gradients` exactly; for others it differs near
    the tile seams, which a fresh random ``shift`` every step moves around.

    Works eagerly and inside ``tf.function`` (the tiles are visited by a ``tf.while_loop``).

    Args:
        image: ``[H, W, C]`` in the model's input range.
        model: a model returning the activations to maximize (see :func:`dream_model`).
        tile_size: largest tile side in pixels (an int32 scalar), >= 1.
        shift: ``[2]`` int32 roll along height and width.

    Returns:
        ``(loss, gradients)``: a float32 scalar (the area-weighted sum of the tiles' objectives)
        and ``[H, W, C]`` float32.

    Raises:
        TypeError, ValueError: if ``tile_size`` is a Python number that is not a positive int, or
            ``shift`` is not ``[2]``.
    """
    if isinstance(tile_size, (numbers.Integral, float)):
        tile_size = checks.positive_int("tile_size", tile_size)
    image = tf.convert_to_tensor(image, tf.float32)
    tile_size = tf.convert_to_tensor(tile_size, tf.int32)
    shift = tf.convert_to_tensor(shift, tf.int32)
    if shift.shape.rank is not None and shift.shape.as_list() != [2]:
        raise ValueError(f"shift must have shape [2], got {shift.shape.as_list()}")
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    rolled = tf.roll(image, shift=shift, axis=[0, 1])
    rows, columns = tile_bounds(height, tile_size), tile_bounds(width, tile_size)
    across = tf.size(columns) - 1
    count = (tf.size(rows) - 1) * across
    pixels = tf.cast(height * width, tf.float32)

    def tile_step(index, loss, gradients):
        row, column = index // across, index % across
        top, bottom = rows[row], rows[row + 1]
        left, right = columns[column], columns[column + 1]
        tile = rolled[top:bottom, left:right]
        with tf.GradientTape() as tape:
            tape.watch(tile)
            share = tf.cast((bottom - top) * (right - left), tf.float32) / pixels
            tile_loss = share * dream_loss(model(tile[tf.newaxis], training=False))
        tile_gradients = tape.gradient(tile_loss, tile)
        padding = [[top, height - bottom], [left, width - right], [0, 0]]
        return index + 1, loss + tile_loss, gradients + tf.pad(tile_gradients, padding)

    _, loss, gradients = tf.while_loop(
        lambda index, loss, gradients: index < count,
        tile_step,
        (tf.constant(0), tf.constant(0.0), tf.zeros_like(rolled)),
    )
    return loss, tf.roll(gradients, shift=-shift, axis=[0, 1])


def normalize_gradients(gradients: tf.Tensor) -> tf.Tensor:
    """``gradients`` divided by their standard deviation (plus a small epsilon)."""
    return gradients / (tf.math.reduce_std(gradients) + EPSILON)


def random_shift(rng: np.random.Generator, tile_size: int) -> np.ndarray:
    """A roll for :func:`tiled_gradients`: ``[2]`` int32 drawn uniformly in ``0..tile_size-1``."""
    return rng.integers(0, tile_size, size=2).astype(np.int32)
