"""Activation-atlas exercises: references pass, mistakes get specific feedback.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np

from course_lib.lucid.misc import activation_atlas

REFERENCES = {
    "activation_atlas.cell_means": lambda p, v, g: activation_atlas.cell_means(p, v, g)[0],
    "activation_atlas.neighbour_rate": lambda labels: activation_atlas.neighbour_agreement(
        labels, labels >= 0
    )[0],
}


def _means_bincount(points, vectors, grid):
    """Written independently: flat cell indices and np.bincount per channel."""
    rows, cols = grid
    points = np.asarray(points)
    i = np.clip(np.floor(points[:, 1] * rows), 0, rows - 1).astype(int)
    j = np.clip(np.floor(points[:, 0] * cols), 0, cols - 1).astype(int)
    flat = i * cols + j
    counts = np.bincount(flat, minlength=rows * cols)
    sums = np.stack(
        [
            np.bincount(flat, weights=vectors[:, c], minlength=rows * cols)
            for c in range(vectors.shape[1])
        ],
        axis=-1,
    )
    means = sums / np.maximum(counts, 1)[:, None]
    return means.reshape(rows, cols, -1)


def _rate_loops(labels):
    """Written independently: a loop over every cell and its right and lower neighbours."""
    same = pairs = 0
    rows, cols = labels.shape
    for i in range(rows):
        for j in range(cols):
            for di, dj in ((0, 1), (1, 0)):
                a, b = i + di, j + dj
                if a < rows and b < cols and labels[i, j] >= 0 and labels[a, b] >= 0:
                    pairs += 1
                    same += int(labels[i, j] == labels[a, b])
    return same / pairs


CORRECT = {
    "activation_atlas.cell_means": _means_bincount,
    "activation_atlas.neighbour_rate": _rate_loops,
}


def _swapped(points, vectors, grid):
    return _means_bincount(np.asarray(points)[:, ::-1], vectors, grid)


def _nan_empty(points, vectors, grid):
    means = _means_bincount(points, vectors, grid)
    rows, cols = grid
    points = np.asarray(points)
    i = np.clip(np.floor(points[:, 1] * rows), 0, rows - 1).astype(int)
    j = np.clip(np.floor(points[:, 0] * cols), 0, cols - 1).astype(int)
    counts = np.zeros(grid)
    np.add.at(counts, (i, j), 1)
    means[counts == 0] = np.nan
    return means


def _sums(points, vectors, grid):
    rows, cols = grid
    points = np.asarray(points)
    i = np.clip(np.floor(points[:, 1] * rows), 0, rows - 1).astype(int)
    j = np.clip(np.floor(points[:, 0] * cols), 0, cols - 1).astype(int)
    sums = np.zeros((rows, cols, vectors.shape[1]))
    np.add.at(sums, (i, j), vectors)
    return sums


def _edge_dropped(points, vectors, grid):
    """No clipping: points at x or y = 1 fall off the grid (wrapped into index -1 here)."""
    rows, cols = grid
    points = np.asarray(points)
    i, j = np.floor(points[:, 1] * rows).astype(int), np.floor(points[:, 0] * cols).astype(int)
    keep = (i < rows) & (j < cols)
    return _means_bincount(points[keep], vectors[keep], grid)


def _with_empty(labels):
    return float(
        np.mean(
            np.concatenate(
                [(labels[:, :-1] == labels[:, 1:]).ravel(), (labels[:-1] == labels[1:]).ravel()]
            )
        )
    )


def _with_diagonals(labels):
    same = pairs = 0
    for a, b in (
        (labels[:, :-1], labels[:, 1:]),
        (labels[:-1], labels[1:]),
        (labels[:-1, :-1], labels[1:, 1:]),
        (labels[:-1, 1:], labels[1:, :-1]),
    ):
        both = (a >= 0) & (b >= 0)
        same += np.sum((a == b) & both)
        pairs += np.sum(both)
    return float(same / pairs)


def _horizontal_only(labels):
    a, b = labels[:, :-1], labels[:, 1:]
    both = (a >= 0) & (b >= 0)
    return float(np.sum((a == b) & both) / np.sum(both))


def _all_pairs(labels):
    """The rate over every pair of distinct filled cells, neighbours or not."""
    _, counts = np.unique(labels[labels >= 0], return_counts=True)
    total = counts.sum()
    return float(np.sum(counts * (counts - 1)) / (total * (total - 1)))


WRONG = [
    ("activation_atlas.cell_means", _swapped, "rows and columns swapped"),
    ("activation_atlas.cell_means", _nan_empty, "NaN"),
    ("activation_atlas.cell_means", _sums, "those are the sums"),
    ("activation_atlas.cell_means", _edge_dropped, "far edge"),
    ("activation_atlas.neighbour_rate", _with_empty, "empty cells (-1) agree"),
    ("activation_atlas.neighbour_rate", _with_diagonals, "diagonal"),
    ("activation_atlas.neighbour_rate", _horizontal_only, "both directions"),
    ("activation_atlas.neighbour_rate", _all_pairs, "all pairs"),
]
