"""Activation atlases: a map of everything a layer sees, averaged on a grid and drawn.

An activation grid (:mod:`.activation_grid`) shows one image's activations. An *activation
atlas* (Carter et al., Distill 2019) shows the activations of many images at once:

1. collect activation vectors ``[N, C]`` of a layer at sampled positions of many images
   (:func:`layer_activations`, :func:`sample_vectors`);
2. lay them out in 2-D so that similar vectors land close together (t-SNE, :func:`layout`),
   scaled into the unit square;
3. lay a ``rows x cols`` grid over the layout and average the vectors that fall in each cell
   (:func:`grid_cells`, :func:`cell_means`); cells with too few points stay empty;
4. draw each cell's mean vector as a direction feature visualization, all cells in one batch
   (:func:`.activation_grid.direction_icons`);
5. label each cell with the class its mean vector pushes the logits toward most
   (:func:`logit_push`).

:func:`activation_atlas` runs the five steps; :func:`neighbour_agreement` measures how often
neighbouring cells push toward the same class, against all pairs of cells;
:func:`direction_match` whether each icon shows its own cell's direction.

Steps 2 and 3 live in :mod:`.atlas_layout` (importable from here too), with its layout
convention: ``points[:, 0]`` is the horizontal coordinate (the grid's column), ``points[:, 1]``
the vertical one (the grid's row, row 0 at the top), both in [0, 1].
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from course_lib import checks
from course_lib.lucid.misc import activation_grid
from course_lib.lucid.misc.atlas_layout import (
    DEFAULT_PERPLEXITY,
    cell_means,
    checked_grid,
    checked_vectors,
    grid_cells,
    layout,
    normalize_layout,
)
from course_lib.zoo import features

# --- 1. activations -----------------------------------------------------------------------------


def layer_activations(model: Any, images: Any, layer: str, batch_size: int = 64) -> np.ndarray:
    """The activations of one layer on a batch of images.

    Images are mapped to the model's input as feature visualization maps them
    (``optvis.render.to_model_input``: value range, and a bilinear resize for a fixed-size
    model such as InceptionV3 with its classifier).

    Args:
        model: a Keras functional model (inputs in [0, 1]) or a ``zoo.VisualizationModel``.
        images: ``[N, H, W, 3]`` in [0, 1].
        layer: a convolutional layer name.
        batch_size: images per forward pass.

    Returns:
        ``[N, h, w, C]`` float32 activations.

    Raises:
        ValueError: if ``images`` is not ``[N, H, W, 3]``, ``layer`` is unknown (the message lists
            the model's layers) or is not convolutional.
    """
    from course_lib.lucid.optvis import render

    array = np.asarray(images, dtype=np.float32)
    if array.ndim != 4 or array.shape[0] < 1:
        raise ValueError(f"images must be [N, H, W, 3] with N >= 1, got shape {array.shape}")
    batch_size = checks.positive_int("batch_size", batch_size)
    keras_model, value_range = features.unwrap(model)
    extract = features.feature_extractor(keras_model, [layer])
    parts = []
    for start in range(0, len(array), batch_size):
        batch = render.to_model_input(array[start : start + batch_size], keras_model, value_range)
        parts.append(np.asarray(extract(batch)[layer]))
    acts = np.concatenate(parts)
    if acts.ndim != 4:
        raise ValueError(f"layer {layer!r} is not convolutional (activations {acts.shape[1:]})")
    return acts


def sample_vectors(acts: Any, per_image: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Activation vectors at ``per_image`` distinct random positions of each image.

    Args:
        acts: ``[N, h, w, C]`` activations.
        per_image: positions drawn per image, at most ``h * w`` (without replacement).
        seed: the NumPy generator's seed; the same seed draws the same positions.

    Returns:
        ``(vectors, where)``: ``[N * per_image, C]`` vectors and ``[N * per_image, 3]`` int
        ``(image, row, col)`` of each, image by image.

    Raises:
        ValueError: if ``acts`` is not 4-D, or ``per_image`` exceeds ``h * w``.
    """
    array = np.asarray(acts, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(f"acts must be [N, h, w, C], got shape {array.shape}")
    count, height, width, channels = array.shape
    per_image = checks.positive_int("per_image", per_image)
    if per_image > height * width:
        raise ValueError(f"per_image must be at most h * w = {height * width}, got {per_image}")
    rng = np.random.default_rng(checks.non_negative_int("seed", seed))
    flat = np.argsort(rng.random((count, height * width)), axis=1)[:, :per_image]
    image = np.repeat(np.arange(count), per_image)
    rows, cols = np.divmod(flat.ravel(), width)
    where = np.stack([image, rows, cols], axis=1)
    return array[image, rows, cols], where


# --- 4. class attribution -----------------------------------------------------------------------


def head_model(model: Any, layer: str, logit_layer: str | None = None):
    """The part of a network from ``layer`` to its logits, as a Keras model.

    Args:
        model: a Keras functional model or a ``zoo.VisualizationModel``.
        layer: the layer whose activations the head takes.
        logit_layer: the logits' layer; default the VisualizationModel's ``logit_layer``, else
            ``"logits"`` when the model has one, else its last layer.

    Returns:
        A ``keras.Model`` ``[B, h, w, C] -> [B, classes]`` sharing the model's weights.

    Raises:
        ValueError: if a layer name is unknown (the message lists the model's layers).
    """
    import keras

    from course_lib.lucid.misc import attribution

    keras_model, _ = features.unwrap(model)
    if logit_layer is None:
        logit_layer = getattr(model, "logit_layer", None)
    logit_layer = attribution._logit_layer(keras_model, logit_layer)
    features.check_layer_names(keras_model, [layer, logit_layer])
    return keras.Model(
        keras_model.get_layer(layer).output,
        keras_model.get_layer(logit_layer).output,
        name=f"{keras_model.name}_head_{layer}",
    )


def logit_push(
    model: Any,
    layer: str,
    vectors: Any,
    logit_layer: str | None = None,
    spatial: tuple[int, int] | None = None,
) -> np.ndarray:
    """How much each activation vector moves each logit: ``head(v) - head(0)``.

    Each vector ``v`` is tiled over a whole activation map of ``layer`` and run through the rest
    of the network; the logits of the all-zero map (nothing detected) are subtracted. When the
    head is linear in the layer, as global average pooling + a dense layer ``W`` (the course's
    ``shapes_cnn`` after ``mixed2``), this is exactly ``v @ W``: the summed gradient x activation
    attribution of the map to each logit (:mod:`.attribution`, completeness). For a deeper,
    non-linear head (InceptionV3 after ``mixed5``) it is the logits' response to the vector
    against that baseline.

    Args:
        model: a Keras functional model or a ``zoo.VisualizationModel``.
        layer: the layer the vectors belong to.
        vectors: ``[N, C]`` activation vectors of ``layer``.
        logit_layer: as :func:`head_model`.
        spatial: ``(h, w)`` of the tiled map; default the head's fixed input size, else (1, 1).

    Returns:
        ``[N, classes]`` float32.

    Raises:
        ValueError: if ``vectors`` is not ``[N, C]`` with the layer's ``C``, or a layer is
            unknown.
    """
    array = checked_vectors(vectors)
    head = head_model(model, layer, logit_layer)
    shape = tuple(head.input.shape)
    if len(shape) != 4:
        raise ValueError(f"layer {layer!r} is not convolutional (activations {shape[1:]})")
    if shape[-1] is not None and array.shape[1] != shape[-1]:
        raise ValueError(
            f"vectors have {array.shape[1]} entries but layer {layer!r} has {shape[-1]} channels"
        )
    if spatial is None:
        spatial = (shape[1] or 1, shape[2] or 1)
    height, width = checked_grid(spatial)
    maps = np.concatenate([np.zeros((1, array.shape[1]), np.float32), array])
    maps = np.broadcast_to(
        maps[:, np.newaxis, np.newaxis], (len(maps), height, width, len(maps[0]))
    )
    logits = np.asarray(head(np.ascontiguousarray(maps), training=False), dtype=np.float32)
    return logits[1:] - logits[:1]


# --- 5. the statistic ---------------------------------------------------------------------------


def neighbour_agreement(labels: Any, mask: Any = None) -> tuple[float, float]:
    """How often neighbouring cells carry the same label, and how often any two cells do.

    Neighbours are the pairs of filled cells that share a side (4-neighbourhood). The second
    number is the same rate over every pair of distinct filled cells: the rate a random pair of
    cells agrees at (and the expected neighbour rate if the labels were shuffled over the cells).

    Args:
        labels: ``[rows, cols]`` int labels.
        mask: ``[rows, cols]`` bool, the filled cells; default all.

    Returns:
        ``(neighbour_rate, pair_rate)``, each in [0, 1].

    Raises:
        ValueError: if ``labels`` is not 2-D, ``mask`` has another shape, or no two filled
            cells are neighbours.
    """
    grid = np.asarray(labels)
    if grid.ndim != 2:
        raise ValueError(f"labels must be [rows, cols], got shape {grid.shape}")
    filled = np.ones(grid.shape, bool) if mask is None else np.asarray(mask, bool)
    if filled.shape != grid.shape:
        raise ValueError(f"mask {filled.shape} and labels {grid.shape} differ in shape")
    same, pairs = 0, 0
    for a, b, both in (
        (grid[:, :-1], grid[:, 1:], filled[:, :-1] & filled[:, 1:]),
        (grid[:-1, :], grid[1:, :], filled[:-1, :] & filled[1:, :]),
    ):
        same += int(np.sum((a == b) & both))
        pairs += int(np.sum(both))
    if pairs == 0:
        raise ValueError("no two filled cells are neighbours: nothing to measure")
    _, counts = np.unique(grid[filled], return_counts=True)
    total = int(filled.sum())
    pair_rate = float(np.sum(counts * (counts - 1)) / (total * (total - 1)))
    return same / pairs, pair_rate


# --- all of it ----------------------------------------------------------------------------------


@dataclasses.dataclass
class ActivationAtlas:
    """An activation atlas of one layer.

    Attributes:
        layer: the layer name.
        vectors: ``[N, C]`` the sampled activation vectors.
        where: ``[N, 3]`` ``(image, row, col)`` of each vector.
        points: ``[N, 2]`` their layout in the unit square.
        means: ``[rows, cols, C]`` each cell's mean vector (zero where empty).
        counts: ``[rows, cols]`` points per cell.
        mask: ``[rows, cols]`` bool, the filled cells (``counts >= min_count``).
        push: ``[rows, cols, classes]`` :func:`logit_push` of each filled cell's mean (zero
            where empty).
        labels: ``[rows, cols]`` the class each cell pushes toward most (-1 where empty).
        icons: ``[rows, cols, s, s, 3]`` each filled cell's direction visualization (mid-grey
            where empty).
    """

    layer: str
    vectors: np.ndarray
    where: np.ndarray
    points: np.ndarray
    means: np.ndarray
    counts: np.ndarray
    mask: np.ndarray
    push: np.ndarray
    labels: np.ndarray
    icons: np.ndarray

    def image(self, border: int = 0) -> np.ndarray:
        """The icons tiled as one ``[rows * s, cols * s, 3]`` image (``activation_grid.tile``)."""
        return activation_grid.tile(self.icons, border)


def activation_atlas(
    model: Any,
    images: Any,
    layer: str,
    grid: tuple[int, int] = (8, 8),
    per_image: int = 8,
    min_count: int = 3,
    icon_size: int = 32,
    steps: int = 128,
    logit_layer: str | None = None,
    perplexity: float = DEFAULT_PERPLEXITY,
    cossim_pow: float = 1.0,
    seed: int = 0,
    render_model: Any = None,
) -> ActivationAtlas:
    """Builds the activation atlas of ``layer`` over ``images``.

    Activations (:func:`layer_activations`) -> ``per_image`` random positions per image
    (:func:`sample_vectors`) -> t-SNE layout (:func:`layout`) -> per-cell means
    (:func:`cell_means`) -> the class each mean pushes toward (:func:`logit_push`) -> one batch of
    direction visualizations (:func:`.activation_grid.direction_icons`, through
    :func:`course_lib.zoo.free_size_model` when the model takes a fixed image size).

    Args:
        model: a Keras functional model or a ``zoo.VisualizationModel`` with a classifier.
        images: ``[N, H, W, 3]`` in [0, 1].
        layer: a convolutional layer name.
        grid: ``(rows, cols)`` of the grid over the layout.
        per_image: positions sampled per image.
        min_count: fewest points a cell needs to be drawn.
        icon_size: icon side in pixels.
        steps: optimization steps of the icons.
        logit_layer: as :func:`head_model`.
        perplexity: t-SNE's perplexity.
        cossim_pow: the direction objective's cosine power.
        seed: seeds the sampling, the layout and the rendering.
        render_model: the model the icons are rendered through; default
            ``zoo.free_size_model(model)`` (``model`` itself unless its input size is fixed).

    Returns:
        An :class:`ActivationAtlas`.

    Raises:
        ValueError: for bad shapes, unknown layers, or when no cell has ``min_count`` points.
    """
    acts = layer_activations(model, images, layer)
    vectors, where = sample_vectors(acts, per_image, seed)
    points = layout(vectors, perplexity=perplexity, seed=seed)
    means, counts = cell_means(points, vectors, grid, min_count)
    mask = counts >= min_count
    if not mask.any():
        raise ValueError(f"no cell holds min_count={min_count} points; use a coarser grid")
    filled_push = logit_push(model, layer, means[mask], logit_layer)
    push = np.zeros(mask.shape + filled_push.shape[1:], np.float32)
    push[mask] = filled_push
    labels = np.where(mask, push.argmax(axis=-1), -1)
    icons = np.full(mask.shape + (icon_size, icon_size, 3), 0.5, np.float32)
    icons[mask] = activation_grid.direction_icons(
        features.free_size_model(model) if render_model is None else render_model,
        layer,
        means[mask],
        size=icon_size,
        steps=steps,
        cossim_pow=cossim_pow,
        seed=seed,
    )
    return ActivationAtlas(layer, vectors, where, points, means, counts, mask, push, labels, icons)


def direction_match(model: Any, layer: str, icons: Any, vectors: Any) -> np.ndarray:
    """Cosine similarity between each icon's mean activation and each direction.

    Entry ``[i, j]`` is ``cos(mean over positions of layer(icons[i]), vectors[j])``. When the
    icons were rendered from the vectors, the diagonal (each icon against its own direction)
    should beat the rest of its row (against the other cells' directions).

    Args:
        model: a Keras functional model or a ``zoo.VisualizationModel`` (a fixed-size model gets
            the icons resized to its input, as in feature visualization).
        layer: a convolutional layer name.
        icons: ``[N, s, s, 3]`` images in [0, 1].
        vectors: ``[M, C]`` directions in the layer's channel space.

    Returns:
        ``[N, M]`` float32 cosine similarities.

    Raises:
        ValueError: if ``vectors`` has another channel count than the layer, or bad shapes.
    """
    directions = checked_vectors(vectors)
    seen = layer_activations(model, icons, layer).mean(axis=(1, 2))
    if seen.shape[1] != directions.shape[1]:
        raise ValueError(
            f"vectors have {directions.shape[1]} entries but layer {layer!r} has "
            f"{seen.shape[1]} channels"
        )
    seen = seen / np.maximum(np.linalg.norm(seen, axis=1, keepdims=True), 1e-12)
    directions = directions / np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)
    return (seen @ directions.T).astype(np.float32)


__all__ = [
    "DEFAULT_PERPLEXITY",
    "ActivationAtlas",
    "activation_atlas",
    "cell_means",
    "direction_match",
    "grid_cells",
    "head_model",
    "layer_activations",
    "layout",
    "logit_push",
    "neighbour_agreement",
    "normalize_layout",
    "sample_vectors",
]
