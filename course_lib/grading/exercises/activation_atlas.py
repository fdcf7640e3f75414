"""Exercises of the chapter "The activation atlas" (book/part3/04).

- ``cell_means(points, vectors, grid)``: the mean activation vector of each cell of a grid laid
  over a unit-square layout, ``[N, 2]`` and ``[N, C]`` to ``[rows, cols, C]``, zero in empty
  cells;
- ``neighbour_rate(labels)``: the fraction of pairs of side-by-side filled cells (label >= 0)
  that carry the same label, ``[rows, cols]`` to a float.

Expected answers come from ``course_lib.lucid.misc.activation_atlas`` on inputs drawn from the
seeded generator.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading.cases import Mistake, mistake_args, other_shape, reference_cases
from course_lib.grading.check import matches
from course_lib.grading.exercise import Case, define
from course_lib.lucid.misc import activation_atlas

TOPIC = "activation_atlas"


# --- cell_means -------------------------------------------------------------------------------

_MEANS_HINT = (
    "Cell (i, j) = (min(int(y * rows), rows - 1), min(int(x * cols), cols - 1)) with x = "
    "points[:, 0] (the column) and y = points[:, 1] (the row); add each vector to its cell, "
    "count the points, divide, and leave empty cells at zero."
)


def _means_cases(rng: np.random.Generator) -> list[Case]:
    settings = [
        (300, 8, (4, 6), "a 4x6 grid, 300 points of 8 channels"),
        (int(rng.integers(40, 80)), int(rng.integers(2, 6)), (3, 5), "a 3x5 grid, random sizes"),
        (60, 3, (2, 2), "points on the far edges (x or y = 1)"),
        (25, 4, (5, 5), "a sparse 5x5 grid: some cells are empty"),
    ]
    drawn = []
    for count, channels, grid, description in settings:
        points = rng.uniform(size=(count, 2))
        if "edges" in description:
            points[:6] = [[1.0, 0.2], [0.3, 1.0], [1.0, 1.0], [0.5, 0.5], [0.0, 0.0], [0.5, 1.0]]
        vectors = rng.gamma(2.0, 1.0, size=(count, channels)).astype(np.float32)
        drawn.append((points, vectors, grid, f"{description}, grid={grid}"))
    return reference_cases(
        drawn,
        lambda points, vectors, grid: activation_atlas.cell_means(points, vectors, grid)[0],
        hint=_MEANS_HINT,
        rtol=1e-4,
        atol=1e-5,
    )


def _naive_means(points, vectors, grid, swap=False, divide=True):
    rows, cols = grid
    sums = np.zeros((rows, cols, vectors.shape[1]))
    counts = np.zeros((rows, cols))
    for (x, y), vector in zip(points, vectors, strict=True):
        if swap:
            x, y = y, x
        i, j = min(int(y * rows), rows - 1), min(int(x * cols), cols - 1)
        sums[i, j] += vector
        counts[i, j] += 1
    if not divide:
        return sums
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[..., None]


def _swapped(have: np.ndarray, case: Case) -> bool:
    """A grid built [cols, rows] (for a grid that is not square), or cells indexed by x."""
    points, vectors, grid = mistake_args(case)
    want = np.shape(case.expected)
    if grid[0] != grid[1] and have.shape == want[:2][::-1] + want[2:]:
        return True
    swapped = np.nan_to_num(_naive_means(points, vectors, grid, swap=True))
    return matches(have, swapped, case.rtol, case.atol)


def _filled_right(have: np.ndarray, case: Case) -> bool:
    filled = np.asarray(case.expected).any(axis=-1)
    return not other_shape(have, case) and matches(
        have[filled], case.expected[filled], case.rtol, case.atol
    )


def _edge_dropped(points: np.ndarray, vectors: np.ndarray, grid: tuple) -> np.ndarray | None:
    """The means without the points on the far edges (x or y = 1), if there are any."""
    inside = (points[:, 0] < 1.0) & (points[:, 1] < 1.0)
    return (
        None if inside.all() else np.nan_to_num(_naive_means(points[inside], vectors[inside], grid))
    )


_MEANS_MISTAKES = {
    "rows and columns swapped: the row comes from y = points[:, 1]": Mistake(
        lambda points, vectors, grid: _naive_means(points, vectors, grid[::-1], swap=True),
        match=_swapped,
    ),
    "empty cells hold NaN: leave them at zero, there is nothing to average": Mistake(
        _naive_means, match=lambda have, case: not other_shape(have, case) and np.isnan(have).any()
    ),
    "those are the sums: divide by the number of points in each cell": (
        lambda points, vectors, grid: _naive_means(points, vectors, grid, divide=False)
    ),
    "the filled cells are right: empty cells must be zero": Mistake(
        lambda case: np.where(case.expected.any(axis=-1, keepdims=True), case.expected, 1.0),
        uses="case",
        match=_filled_right,
    ),
    "points on the far edge, x or y = 1, belong to the last cell: clip the index to "
    "rows - 1 and cols - 1": _edge_dropped,
}


CELL_MEANS = define(
    TOPIC,
    "cell_means",
    _means_cases,
    mistakes=_MEANS_MISTAKES,
    as_floats=False,
    title="Averaging activation vectors over a grid on the layout",
    references=[activation_atlas.cell_means, activation_atlas.grid_cells],
)


# --- neighbour_rate ---------------------------------------------------------------------------

_RATE_HINT = (
    "Compare each filled cell with its right neighbour (labels[:, :-1] vs labels[:, 1:]) and "
    "its lower one (labels[:-1] vs labels[1:]), counting only pairs where both cells are "
    "filled (label >= 0): the rate is the number of equal pairs over the number of pairs."
)


def _reference_rate(labels: np.ndarray) -> float:
    return activation_atlas.neighbour_agreement(labels, labels >= 0)[0]


def _rate_cases(rng: np.random.Generator) -> list[Case]:
    halves = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    blocks = np.kron(rng.integers(0, 4, size=(3, 3)), np.ones((2, 2), int))
    sparse = rng.integers(0, 3, size=(5, 6))
    sparse[rng.uniform(size=sparse.shape) < 0.35] = -1
    sparse[0, :2] = [2, 2]  # at least one filled pair
    striped = np.tile([[0], [1], [0]], (1, 5))
    striped[1, 2] = -1
    settings = [
        (halves, "4x4, left half 0, right half 1"),
        (blocks, "6x6 in 2x2 blocks of one label"),
        (sparse, "5x6 with empty cells (-1)"),
        (striped, "3x5 horizontal stripes, one empty cell"),
    ]
    return reference_cases(
        [(labels.copy(), description) for labels, description in settings],
        _reference_rate,
        hint=_RATE_HINT,
    )


def _pairs_rate(labels: np.ndarray, directions: str = "hv", empty: bool = False) -> float:
    """The neighbour rate over the given directions: h(orizontal), v(ertical), d(iagonals)."""
    shifted = []
    if "h" in directions:
        shifted.append((labels[:, :-1], labels[:, 1:]))
    if "v" in directions:
        shifted.append((labels[:-1], labels[1:]))
    if "d" in directions:
        shifted += [(labels[:-1, :-1], labels[1:, 1:]), (labels[:-1, 1:], labels[1:, :-1])]
    same = pairs = 0
    for a, b in shifted:
        both = np.ones(a.shape, bool) if empty else (a >= 0) & (b >= 0)
        same += int(np.sum((a == b) & both))
        pairs += int(np.sum(both))
    return same / pairs if pairs else float("nan")


_RATE_MISTAKES = {
    "empty cells (-1) agree with each other: skip pairs with an empty cell": (
        lambda labels: _pairs_rate(labels, empty=True) if (labels < 0).any() else None
    ),
    "diagonal cells are not neighbours: only cells that share a side": (
        lambda labels: _pairs_rate(labels, "hvd")
    ),
    "count both directions: right neighbours and lower neighbours": Mistake(
        lambda labels: _pairs_rate(labels, "h"), lambda labels: _pairs_rate(labels, "v")
    ),
    "that is the rate over all pairs of cells, not neighbouring ones": (
        lambda labels: activation_atlas.neighbour_agreement(labels, labels >= 0)[1]
    ),
}


NEIGHBOUR_RATE = define(
    TOPIC,
    "neighbour_rate",
    _rate_cases,
    mistakes=_RATE_MISTAKES,
    as_floats=False,
    title="How often neighbouring cells of the atlas agree",
    references=[activation_atlas.neighbour_agreement],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (CELL_MEANS, NEIGHBOUR_RATE)
