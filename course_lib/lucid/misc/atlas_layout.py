"""The 2-D side of an activation atlas: a layout of activation vectors and a grid over it.

- :func:`layout`: a t-SNE layout of ``[N, C]`` vectors, scaled into the unit square by
  :func:`normalize_layout`;
- :func:`grid_cells`: the ``(row, col)`` of each point on a ``rows x cols`` grid;
- :func:`cell_means`: each cell's mean vector and point count.

Layout convention: ``points[:, 0]`` is the horizontal coordinate (the grid's column),
``points[:, 1]`` the vertical one (the grid's row, row 0 at the top), both in [0, 1].
:mod:`.activation_atlas` builds the whole atlas from these and re-exports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import checks

#: Default t-SNE perplexity (scikit-learn's default).
DEFAULT_PERPLEXITY = 30.0


# --- argument checks ----------------------------------------------------------------------------


def checked_grid(grid: Any) -> tuple[int, int]:
    """``(rows, cols)`` as two positive ints; TypeError unless a pair."""
    try:
        rows, cols = grid
    except (TypeError, ValueError):
        raise TypeError(f"grid must be a pair (rows, cols), got {grid!r}") from None
    return checks.positive_int("grid rows", rows), checks.positive_int("grid cols", cols)


def checked_points(points: Any) -> np.ndarray:
    """A finite ``[N, 2]`` float64 layout."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must be [N, 2], got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("points must be finite")
    return array


def checked_vectors(vectors: Any, name: str = "vectors") -> np.ndarray:
    """``[N, C]`` float32 activation vectors, ``N >= 1``."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] < 1:
        raise ValueError(f"{name} must be [N, C] with N >= 1, got shape {array.shape}")
    return array


# --- 2. layout ----------------------------------------------------------------------------------


def normalize_layout(points: Any, clip_percentile: float = 1.0) -> np.ndarray:
    """Scales a 2-D layout into the unit square, each axis on its own.

    Each axis is clipped to its ``[p, 100 - p]`` percentiles (so that a few outliers do not
    squeeze the rest into a corner), then mapped affinely onto [0, 1].

    Args:
        points: ``[N, 2]`` layout coordinates.
        clip_percentile: ``p`` in [0, 50); 0 keeps the extremes.

    Returns:
        ``[N, 2]`` float64 coordinates in [0, 1].

    Raises:
        ValueError: if ``points`` is not ``[N, 2]`` and finite, or ``clip_percentile`` is out of
            range.
    """
    array = checked_points(points)
    clip_percentile = checks.real("clip_percentile", clip_percentile, minimum=0.0)
    if clip_percentile >= 50.0:
        raise ValueError(f"clip_percentile must be in [0, 50), got {clip_percentile!r}")
    low = np.percentile(array, clip_percentile, axis=0)
    high = np.percentile(array, 100.0 - clip_percentile, axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.clip((array - low) / span, 0.0, 1.0)


def layout(
    vectors: Any,
    perplexity: float = DEFAULT_PERPLEXITY,
    seed: int = 0,
    pca_dims: int | None = 50,
    clip_percentile: float = 1.0,
    threads: int | None = 1,
) -> np.ndarray:
    """A 2-D t-SNE layout of activation vectors, scaled into the unit square.

    scikit-learn's ``TSNE`` (Barnes-Hut, PCA initialization, ``random_state=seed``) after an
    optional PCA to ``pca_dims`` dimensions (faster neighbour search for wide layers), then
    :func:`normalize_layout`.

    Args:
        vectors: ``[N, C]`` activation vectors, ``N > perplexity``.
        perplexity: t-SNE's perplexity (about the number of neighbours each point keeps).
        seed: the random state of the PCA and t-SNE; the same seed gives the same layout.
        pca_dims: reduce to this many dimensions first when ``C`` is larger; ``None``: never.
        clip_percentile: as :func:`normalize_layout`.
        threads: OpenMP threads for scikit-learn (``None``: its default, all cores). One by
            default: at a few thousand points the layout gains little from threads, and
            OpenMP's spin-waiting on a busy machine made it several times slower (1,200 points:
            4 s with one thread, 29 s with two, on a loaded 2-core machine). The result is the
            same either way.

    Returns:
        ``[N, 2]`` float64 coordinates in [0, 1].

    Raises:
        ValueError: if ``vectors`` is not ``[N, C]`` or ``N <= perplexity``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    array = checked_vectors(vectors).astype(np.float64)
    perplexity = checks.positive_float("perplexity", perplexity)
    seed = checks.non_negative_int("seed", seed)
    if len(array) <= perplexity:
        raise ValueError(
            f"vectors must have more rows than perplexity ({perplexity}), got {len(array)}"
        )
    if threads is not None:
        threads = checks.positive_int("threads", threads)
    if pca_dims is not None:
        pca_dims = checks.positive_int("pca_dims", pca_dims)
    with threadpool_limits(limits=threads):
        if pca_dims is not None and array.shape[1] > pca_dims and len(array) > pca_dims:
            array = PCA(pca_dims, random_state=seed).fit_transform(array)
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=threads)
        embedded = tsne.fit_transform(array)
    return normalize_layout(embedded, clip_percentile)


# --- 3. the grid --------------------------------------------------------------------------------


def grid_cells(points: Any, grid: tuple[int, int]) -> np.ndarray:
    """The grid cell of each point of a unit-square layout.

    Cell ``(i, j)`` holds the points with ``i / rows <= y < (i + 1) / rows`` and
    ``j / cols <= x < (j + 1) / cols``; points on the far edges (``x == 1`` or ``y == 1``) go to
    the last cell, as in ``numpy.histogram2d``.

    Args:
        points: ``[N, 2]`` coordinates ``(x, y)`` in [0, 1].
        grid: ``(rows, cols)``.

    Returns:
        ``[N, 2]`` int ``(row, col)`` of each point.

    Raises:
        ValueError: if ``points`` is not ``[N, 2]`` or leaves the unit square.
        TypeError: if ``grid`` is not a pair of ints.
    """
    array = checked_points(points)
    rows, cols = checked_grid(grid)
    if np.any(array < 0.0) or np.any(array > 1.0):
        raise ValueError("points must lie in the unit square [0, 1]^2 (see normalize_layout)")
    row = np.minimum((array[:, 1] * rows).astype(np.int64), rows - 1)
    col = np.minimum((array[:, 0] * cols).astype(np.int64), cols - 1)
    return np.stack([row, col], axis=1)


def cell_means(
    points: Any, vectors: Any, grid: tuple[int, int], min_count: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The mean activation vector of the points in each grid cell.

    Args:
        points: ``[N, 2]`` layout coordinates ``(x, y)`` in [0, 1].
        vectors: ``[N, C]`` the activation vector of each point.
        grid: ``(rows, cols)``.
        min_count: cells with fewer points are left empty (mean set to zero).

    Returns:
        ``(means, counts)``: float32 ``[rows, cols, C]`` means and int ``[rows, cols]`` point
        counts (the counts of all cells, empty ones included); a cell is filled where
        ``counts >= min_count``.

    Raises:
        ValueError: if the shapes do not match or ``points`` leaves the unit square.
    """
    array = checked_vectors(vectors)
    cells = grid_cells(points, grid)
    if len(cells) != len(array):
        raise ValueError(f"points ({len(cells)}) and vectors ({len(array)}) differ in length")
    min_count = checks.positive_int("min_count", min_count)
    rows, cols = checked_grid(grid)
    flat = cells[:, 0] * cols + cells[:, 1]
    counts = np.bincount(flat, minlength=rows * cols)
    sums = np.zeros((rows * cols, array.shape[1]), dtype=np.float64)
    np.add.at(sums, flat, array)
    filled = counts >= min_count
    means = np.zeros_like(sums)
    means[filled] = sums[filled] / counts[filled, np.newaxis]
    return (
        means.reshape(rows, cols, -1).astype(np.float32),
        counts.reshape(rows, cols),
    )
