"""Activation grids: what a layer "sees" at each place of an image, drawn as pictures.

At each cell of a grid laid over a layer's activation map, the activation vector ``v`` (the
mean over the cell's positions, ``[C]``) is a direction in the layer's channel space. An image
optimized so that the layer's activations point along ``v`` (``objectives.direction``) shows the
combination of features the network detected there, not only its single strongest channel.

- :func:`cell_vectors`: ``[h, w, C]`` activations averaged into a ``[rows, cols, C]`` grid;
- :func:`direction_icons`: feature visualizations of several directions, one batch;
- :func:`activation_grid`: both, for an image and a layer;
- :func:`tile`: a ``[rows, cols, s, s, 3]`` grid of icons as one ``[rows*s, cols*s, 3]`` image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from course_lib.zoo import features


def cell_vectors(acts: Any, grid: tuple[int, int] | None = None) -> np.ndarray:
    """Mean activation vectors of the cells of a grid laid over an activation map.

    Cell ``(i, j)`` covers rows ``[floor(i h / rows), floor((i + 1) h / rows))`` (and likewise
    the columns), so cells differ by at most one position in size.

    Args:
        acts: ``[h, w, C]`` activations.
        grid: ``(rows, cols)``, at most ``(h, w)``; ``None``: every position is a cell.

    Returns:
        ``[rows, cols, C]`` mean activations.

    Raises:
        ValueError: if ``acts`` is not ``[h, w, C]`` or ``grid`` is finer than the map.
    """
    array = np.asarray(acts, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(f"acts must be [h, w, C], got shape {array.shape}")
    height, width, _ = array.shape
    rows, cols = (height, width) if grid is None else (int(grid[0]), int(grid[1]))
    if not (1 <= rows <= height and 1 <= cols <= width):
        raise ValueError(f"grid must be between (1, 1) and {(height, width)}, got {grid!r}")
    row_edges = (np.arange(rows + 1) * height) // rows
    col_edges = (np.arange(cols + 1) * width) // cols
    return np.stack(
        [
            np.stack(
                [
                    array[row_edges[i] : row_edges[i + 1], col_edges[j] : col_edges[j + 1]].mean(
                        axis=(0, 1)
                    )
                    for j in range(cols)
                ]
            )
            for i in range(rows)
        ]
    )


def batch_icons(
    model: Any,
    objectives: Sequence[Any],
    size: int,
    steps: int,
    seed: int = 0,
    transforms: Any = None,
) -> np.ndarray:
    """One feature visualization per objective, optimized together as one batch.

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        objectives: ``N`` objectives, the ``i``-th reading image ``i`` of the batch
            (``batch=i``); their sum is maximized.
        size: icon side in pixels.
        steps: optimization steps.
        seed: the random seed of ``render_vis``.
        transforms: passed to ``render_vis`` (``None``: its standard transforms).

    Returns:
        ``[N, size, size, 3]`` images in [0, 1] (FFT, decorrelated parameterization).
    """
    from course_lib.lucid.optvis import param, render

    images, _ = render.render_vis(
        model,
        sum(objectives),
        param_f=lambda: param.image(size, batch=len(objectives)),
        transforms=transforms,
        thresholds=(steps,),
        seed=seed,
    )
    return images[-1]


def direction_icons(
    model: Any,
    layer: str,
    vectors: Any,
    size: int = 32,
    steps: int = 128,
    cossim_pow: float = 1.0,
    seed: int = 0,
    transforms: Any = None,
) -> np.ndarray:
    """Feature visualizations of directions in a layer's channel space, one batch.

    Image ``i`` maximizes ``objectives.direction(layer, vectors[i], batch=i,
    cossim_pow=cossim_pow)``: the activations' projection on ``vectors[i]``, weighted by their
    cosine similarity to the power ``cossim_pow`` (so the image matches the direction rather than
    only growing along it).

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        layer: the layer name.
        vectors: ``[N, C]`` directions (e.g. cell activations, or NMF ``components_``).
        size: icon side in pixels.
        steps: optimization steps.
        cossim_pow: the cosine-similarity power of the direction objective.
        seed: the random seed of ``render_vis``.
        transforms: passed to ``render_vis`` (``None``: its standard transforms).

    Returns:
        ``[N, size, size, 3]`` images in [0, 1].
    """
    from course_lib.lucid.optvis import objectives

    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be [N, C], got shape {vectors.shape}")
    wanted = [
        objectives.direction(layer, vector, batch=i, cossim_pow=cossim_pow)
        for i, vector in enumerate(vectors)
    ]
    return batch_icons(model, wanted, size, steps, seed, transforms)


@dataclasses.dataclass
class ActivationGrid:
    """A layer's activation grid on one image.

    Attributes:
        layer: the layer name.
        activations: ``[h, w, C]`` activations on the image.
        vectors: ``[rows, cols, C]`` the cells' mean activation vectors.
        icons: ``[rows, cols, s, s, 3]`` each cell's direction visualization.
    """

    layer: str
    activations: np.ndarray
    vectors: np.ndarray
    icons: np.ndarray

    def image(self) -> np.ndarray:
        """The icons tiled as one ``[rows * s, cols * s, 3]`` image."""
        return tile(self.icons)


def activation_grid(
    model: Any,
    image: Any,
    layer: str,
    grid: tuple[int, int] | None = (4, 4),
    icon_size: int = 32,
    steps: int = 128,
    cossim_pow: float = 1.0,
    seed: int = 0,
    transforms: Any = None,
) -> ActivationGrid:
    """Visualizes the mean activation vector of every cell of a grid over ``layer``.

    Cells whose activation vector is all zeros (nothing fires there) get a mid-grey icon instead
    of an optimization.

    Args:
        model: a Keras model or ``zoo.VisualizationModel``.
        image: ``[H, W, 3]`` in [0, 1].
        layer: a convolutional layer name.
        grid: ``(rows, cols)`` of the grid (``None``: one cell per position; expensive).
        icon_size, steps, cossim_pow, seed, transforms: as :func:`direction_icons`.

    Returns:
        An :class:`ActivationGrid`.
    """
    acts = features.layer_activations(model, image, layer)
    vectors = cell_vectors(acts, grid)
    rows, cols, channels = vectors.shape
    flat = vectors.reshape(-1, channels)
    alive = np.linalg.norm(flat, axis=-1) > 0
    icons = np.full((rows * cols, icon_size, icon_size, 3), 0.5, dtype=np.float32)
    if alive.any():
        icons[alive] = direction_icons(
            model, layer, flat[alive], icon_size, steps, cossim_pow, seed, transforms
        )
    return ActivationGrid(layer, acts, vectors, icons.reshape(rows, cols, *icons.shape[1:]))


def tile(icons: Any, border: int = 0) -> np.ndarray:
    """A ``[rows, cols, s, s, 3]`` grid of images as one ``[rows * s, cols * s, 3]`` image.

    Args:
        icons: ``[rows, cols, s, s, channels]`` images (or ``[N, s, s, channels]``: one row).
        border: pixels of white between icons.

    Returns:
        The mosaic, ``[rows * (s + border) - border, cols * (s + border) - border, channels]``.
    """
    array = np.asarray(icons, dtype=np.float32)
    if array.ndim == 4:
        array = array[np.newaxis]
    if array.ndim != 5:
        raise ValueError(f"icons must be [rows, cols, s, s, C] or [N, s, s, C], got {array.shape}")
    if border:
        array = np.pad(
            array, ((0, 0), (0, 0), (0, border), (0, border), (0, 0)), constant_values=1.0
        )
    rows, cols, height, width, depth = array.shape
    mosaic = array.transpose(0, 2, 1, 3, 4).reshape(rows * height, cols * width, depth)
    return mosaic[: mosaic.shape[0] - border, : mosaic.shape[1] - border] if border else mosaic
