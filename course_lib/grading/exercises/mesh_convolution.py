"""Exercises of the chapter "Convolution on meshes" (book/part2/05_mesh_convolution).

- ``adjacency_from_faces(triangles, num_vertices)``: the dense row-normalized vertex adjacency
  `[V, V]`: ``1 / deg(i)`` where ``i`` and ``j`` share an edge, no self loops, an empty row
  for a vertex that no triangle uses;
- ``vertex_normals(vertices, triangles)``: area-weighted unit vertex normals `[V, 3]`, the
  normalized sum of the cross products ``(b - a) x (c - a)`` of the adjacent triangles, zero
  where that sum is zero;
- ``graph_conv_step(features, adjacency, weights)``: one step of the simplest graph
  convolution, ``relu(A X W)`` `[V, D]`.

Expected answers come from ``course_lib.graphics.geometry.representation.mesh`` (the adjacency,
densified, and the vertex normals) and from :func:`graph_conv_step_reference`, a NumPy
reference, on meshes and graphs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.data.meshes import load_mesh
from course_lib.grading.cases import Mistake, not_finite, other_shape, reference_cases, shapes
from course_lib.grading.exercise import Case, define
from course_lib.graphics.geometry.representation import mesh

TOPIC = "mesh_convolution"


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3x3 rotation (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _permuted(
    rng: np.random.Generator, vertices: np.ndarray, triangles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same mesh with its vertices renumbered and its triangles shuffled at random."""
    order = rng.permutation(len(vertices))  # new vertex k is old vertex order[k]
    new_index = np.argsort(order)
    return vertices[order], new_index[triangles][rng.permutation(len(triangles))]


def _degrees(adjacency: np.ndarray) -> np.ndarray:
    return (adjacency != 0).sum(axis=1)


# --- adjacency_from_faces ----------------------------------------------------------------------

_ADJACENCY_HINT = (
    "Collect the unique undirected edges of the triangles (a, b), (b, c), (c, a), set A[i, j] = "
    "A[j, i] = 1 for each (assignment, not +=, so an edge shared by two faces counts once), keep "
    "the diagonal at 0, then divide each row by its number of neighbours deg(i), leaving the row "
    "of a vertex without neighbours at zero: an array of shape [num_vertices, num_vertices]."
)


def adjacency_dense(triangles: Any, num_vertices: int) -> np.ndarray:
    """The library's row-normalized adjacency as a dense float64 `[V, V]` array."""
    return tf.sparse.to_dense(mesh.adjacency(triangles, num_vertices, dtype=tf.float64)).numpy()


def _with_isolated(rng: np.random.Generator) -> tuple[np.ndarray, int, str]:
    """A fan of triangles around a centre, plus one unused vertex among them and one at the end."""
    fan = int(rng.integers(3, 6))
    triangles = np.array([[0, k, k + 1] for k in range(1, fan + 1)], np.int64)
    used = fan + 2  # the centre and fan + 1 rim vertices
    inner = int(rng.integers(1, used))  # an unused vertex between used ones
    triangles = np.where(triangles >= inner, triangles + 1, triangles)
    num_vertices = used + 2
    description = (
        f"a fan of {fan} triangles, V = {num_vertices}: vertices {inner} and {num_vertices - 1} "
        "belong to no triangle"
    )
    return triangles.astype(np.int32), num_vertices, description


def _with_duplicates(rng: np.random.Generator) -> tuple[np.ndarray, int, str]:
    """An octahedron whose faces appear again, some rotated, some in the other winding."""
    _, triangles = load_mesh("octahedron")
    extra = triangles[rng.choice(len(triangles), 5, replace=False)]
    extra[1:3] = np.roll(extra[1:3], 1, axis=1)  # the same face, other first corner
    extra[3:] = extra[3:, ::-1]  # the same face, other winding
    triangles = np.concatenate([triangles, extra])[rng.permutation(len(triangles) + len(extra))]
    return triangles, 6, "an octahedron (8 faces) with 5 faces repeated, some reordered"


def _adjacency_cases(rng: np.random.Generator) -> list[Case]:
    _, tetrahedron = load_mesh("tetrahedron")
    settings: list[tuple[Any, ...]] = [
        (tetrahedron, 4, "a tetrahedron: every vertex has 3 neighbours"),
        (
            np.array([[0, 1, 2], [0, 2, 3]], np.int32),
            4,
            "a quad split in two along the diagonal 0-2",
        ),
        _with_isolated(rng),
        _with_duplicates(rng),
    ]
    vertices, triangles = load_mesh("icosphere", subdivisions=1)
    _, triangles = _permuted(rng, vertices, triangles)
    settings.append((triangles, len(vertices), "an icosphere (42 vertices), vertices renumbered"))
    return reference_cases(settings, adjacency_dense, hint=_ADJACENCY_HINT)


def _edge_counts(triangles: np.ndarray, num_vertices: int, directed: bool) -> np.ndarray:
    """How many times each (i, j) appears among the triangles' edges (both ways unless directed)."""
    counts = np.zeros((num_vertices, num_vertices))
    for i, j in np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]):
        counts[i, j] += 1.0
        if not directed:
            counts[j, i] += 1.0
    return counts


def _rows_normalized(matrix: np.ndarray) -> np.ndarray:
    sums = matrix.sum(axis=1, keepdims=True)
    return matrix / np.where(sums > 0, sums, 1.0)


def _binary(triangles: np.ndarray, num_vertices: int) -> np.ndarray:
    """The 0/1 adjacency."""
    return (adjacency_dense(triangles, num_vertices) != 0).astype(np.float64)


def _symmetric_normalization(triangles: np.ndarray, num_vertices: int) -> np.ndarray:
    binary = _binary(triangles, num_vertices)
    degree = binary.sum(axis=1)
    inverse_sqrt = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1.0)), 0.0)
    return inverse_sqrt[:, None] * binary * inverse_sqrt[None, :]


def _row_sums_not_one(have: np.ndarray, case: Case) -> bool:
    return not np.allclose(_used_row_sums(have, case), 1.0, rtol=case.rtol, atol=case.atol)


def _used_row_sums(have: np.ndarray, case: Case) -> np.ndarray:
    """The sums of the rows of the vertices that have neighbours."""
    return have.sum(axis=1)[_degrees(case.expected) > 0]


_ADJACENCY_MISTAKES = {
    "wrong shape: the size is num_vertices, not the largest index in triangles plus "
    "one (the last vertices may belong to no triangle)": Mistake(
        lambda triangles, num_vertices: adjacency_dense(triangles, int(triangles.max()) + 1),
        match="shape",
    ),
    "wrong shape: return a dense [V, V] matrix with V = num_vertices = {V}": Mistake(
        lambda triangles, num_vertices: adjacency_dense(triangles, num_vertices)[:-1],
        match=other_shape,
        fields=lambda have, case: {"V": case.args[1]},
    ),
    "NaN or Inf: a vertex that no triangle uses has deg = 0; leave its row at zero "
    "instead of dividing by 0": Mistake(
        lambda triangles, num_vertices: (
            _binary(triangles, num_vertices)
            / _binary(triangles, num_vertices).sum(axis=1, keepdims=True)
        ),
        match=not_finite,
    ),
    "not row-normalized: that is the 0/1 adjacency; divide row i by deg(i), the number "
    "of i's neighbours, so that each row sums to 1": _binary,
    "normalized by columns: entry (i, j) must be 1 / deg(i), the degree of the ROW's "
    "vertex, so that rows (not columns) sum to 1": (
        lambda triangles, num_vertices: adjacency_dense(triangles, num_vertices).T
    ),
    "that is the symmetric normalization 1 / sqrt(deg(i) deg(j)); this exercise wants "
    "the row normalization 1 / deg(i)": _symmetric_normalization,
    "an edge shared by two triangles (or a repeated face) was counted more than once: "
    "set A[i, j] = 1, do not add 1 per triangle": (
        lambda triangles, num_vertices: _rows_normalized(
            _edge_counts(triangles, num_vertices, directed=False)
        )
    ),
    "self loops present: a vertex is not its own neighbour here; keep the diagonal at 0": (
        lambda triangles, num_vertices: tf.sparse.to_dense(
            mesh.adjacency(triangles, num_vertices, self_loops=True, dtype=tf.float64)
        ).numpy()
    ),
    "asymmetric: each edge (a, b) of a triangle must be added in both directions, "
    "A[a, b] and A[b, a]": (
        lambda triangles, num_vertices: _rows_normalized(
            np.minimum(_edge_counts(triangles, num_vertices, True), 1.0)
        )
    ),
    # what the result shows when it is none of the wrong answers above
    "self loops present: the diagonal must be 0": Mistake(
        lambda triangles, num_vertices: (
            adjacency_dense(triangles, num_vertices) + 0.5 * np.eye(num_vertices)
        ),
        match=lambda have, case: bool(np.any(np.diagonal(have) != 0)),
    ),
    "asymmetric: j must be a neighbour of i exactly when i is a neighbour of j": Mistake(
        lambda triangles, num_vertices: np.triu(adjacency_dense(triangles, num_vertices)),
        match=lambda have, case: not np.array_equal(have != 0, have.T != 0),
    ),
    "the neighbours are wrong: A[i, j] is nonzero exactly when i and j share an edge": Mistake(
        lambda triangles, num_vertices: _rows_normalized(1.0 - np.eye(num_vertices)),
        match=lambda have, case: not np.array_equal(have != 0, case.expected != 0),
    ),
    "not row-normalized: a row sums to {sum:.4g}, not 1": Mistake(
        lambda triangles, num_vertices: 2.0 * adjacency_dense(triangles, num_vertices),
        match=_row_sums_not_one,
        fields=lambda have, case: {
            "sum": next(x for x in _used_row_sums(have, case) if not np.isclose(x, 1.0))
        },
    ),
}


def _run_adjacency(obj: Any, case: Case) -> Any:
    got = obj(*case.args, **case.kwargs)
    if isinstance(got, tf.sparse.SparseTensor):
        got = tf.sparse.to_dense(got)  # a SparseTensor is a fine answer too
    return got


ADJACENCY_FROM_FACES = define(
    TOPIC,
    "adjacency_from_faces",
    _adjacency_cases,
    mistakes=_ADJACENCY_MISTAKES,
    title="The row-normalized vertex adjacency of a triangle mesh",
    references=[mesh.adjacency, mesh.edges],
    run_case=_run_adjacency,
)


# --- vertex_normals ----------------------------------------------------------------------------

_NORMALS_HINT = (
    "For every triangle (a, b, c) compute n = (b - a) x (c - a) WITHOUT normalizing it (its "
    "length is twice the area: that is the area weighting), add it to the rows of a, b and c "
    "(np.add.at or tf.math.unsorted_segment_sum), then divide each vertex's sum by its length, "
    "leaving zero vectors at zero (no NaN): an array of shape [V, 3]."
)


def _bumpy_sphere(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An icosphere with random radii per vertex: triangles of very different areas."""
    vertices, triangles = load_mesh("icosphere", subdivisions=1)
    radii = rng.uniform(0.6, 1.4, (len(vertices), 1))
    return vertices.astype(np.float64) * radii, triangles


def _with_degenerate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tetrahedron, a zero-area triangle on it, and a vertex that no triangle uses.

    Vertex 4 sits exactly on vertex 0, so the triangle (0, 4, 1) has the cross product zero
    exactly; vertex 4 is in no other triangle, and vertex 5 in none at all.
    """
    vertices, triangles = load_mesh("tetrahedron")
    vertices = vertices.astype(np.float64) @ _random_rotation(rng).T
    extra = np.stack([vertices[0], rng.normal(size=3)])
    triangles = np.concatenate([triangles, [[0, 4, 1]]]).astype(np.int32)
    return np.concatenate([vertices, extra]), triangles


def _normals_cases(rng: np.random.Generator) -> list[Case]:
    cube, cube_faces = load_mesh("cube")
    sphere, sphere_faces = load_mesh("icosphere", subdivisions=2)
    scale = rng.uniform(0.5, 2.0)
    sphere = scale * sphere.astype(np.float64) @ _random_rotation(rng).T
    bumpy, bumpy_faces = _bumpy_sphere(rng)
    degenerate, degenerate_faces = _with_degenerate(rng)
    small, small_faces = _permuted(rng, *_bumpy_sphere(rng))
    settings = [
        (cube.astype(np.float64), cube_faces, "the cube [-1, 1]^3 (12 triangles)"),
        (
            sphere,
            sphere_faces,
            f"an icosphere of radius {scale:.3g}, rotated: normals close to positions / radius",
        ),
        (bumpy, bumpy_faces, "a bumpy sphere: triangles of very different areas"),
        (
            degenerate,
            degenerate_faces,
            "a tetrahedron plus a zero-area triangle (0, 4, 1) and an unused vertex 5: "
            "both extra vertices get the zero vector",
        ),
        (
            small.astype(np.float32),
            small_faces,
            "float32 vertices, a bumpy sphere renumbered",
        ),
    ]
    return reference_cases(settings, mesh.vertex_normals, hint=_NORMALS_HINT, rtol=1e-4, atol=1e-5)


def _cross_products(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    return np.cross(b - a, c - a)


def _scatter(per_face: np.ndarray, triangles: np.ndarray, num_vertices: int) -> np.ndarray:
    summed = np.zeros((num_vertices, 3))
    for k in range(3):
        np.add.at(summed, triangles[:, k], per_face)
    return summed


def _first_corner(per_face: np.ndarray, triangles: np.ndarray, num_vertices: int) -> np.ndarray:
    summed = np.zeros((num_vertices, 3))
    np.add.at(summed, triangles[:, 0], per_face)
    return summed


def _unit(vectors: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(length > 0, length, 1.0)


def _summed(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Each vertex's sum of its triangles' cross products."""
    return _scatter(_cross_products(vertices, triangles), triangles, len(vertices))


def _proper(case: Case) -> np.ndarray:
    """Which vertices belong to a triangle of nonzero area (their normal is a unit vector)."""
    return np.linalg.norm(case.expected, axis=-1) > 0.5


def _not_unit(have: np.ndarray, case: Case) -> bool:
    lengths = np.linalg.norm(have, axis=-1)[_proper(case)]
    return not np.allclose(lengths, 1.0, rtol=1e-3, atol=1e-4)


def _mostly_flipped(case: Case) -> np.ndarray:
    """The expected normals, all but the longest flipped."""
    flipped = -np.asarray(case.expected, np.float64)
    longest = np.argmax(np.linalg.norm(flipped, axis=-1))
    flipped[longest] = case.expected[longest]
    return flipped


def _vertex_count(have: np.ndarray, case: Case) -> dict[str, int]:
    return {"V": len(case.args[0])}


_NORMALS_MISTAKES = {
    "those are face normals, one per triangle; add each to its three vertices to "
    "get one normal per vertex, shape ({V}, 3)": Mistake(
        lambda vertices, triangles: _unit(_cross_products(vertices, triangles)),
        match="shape",
        fields=_vertex_count,
    ),
    "wrong shape: one normal per vertex, shape ({V}, 3)": Mistake(
        lambda vertices, triangles: _summed(vertices, triangles).T,
        match=other_shape,
        fields=_vertex_count,
    ),
    "NaN on a degenerate face or an unused vertex: a zero-area triangle has the cross "
    "product 0, and a vertex in no triangle the sum 0; normalize with a guard "
    "(divide by the length only where it is > 0) so that they give the zero vector": Mistake(
        lambda vertices, triangles: (
            _summed(vertices, triangles)
            / np.linalg.norm(_summed(vertices, triangles), axis=-1, keepdims=True)
        ),
        match=not_finite,
    ),
    "normals not unit length: divide each vertex's summed cross products by their length": (
        _summed
    ),
    "flipped orientation: the normals point inward; with counter-clockwise triangles "
    "the outward normal is (b - a) x (c - a), not (c - a) x (b - a)": (
        lambda vertices, triangles: -_unit(_summed(vertices, triangles))
    ),
    "each triangle weighs the same: the faces' unit normals were averaged; add the raw "
    "cross products (length = twice the area) so that large triangles weigh more": (
        lambda vertices, triangles: _unit(
            _scatter(_unit(_cross_products(vertices, triangles)), triangles, len(vertices))
        )
    ),
    "each triangle's normal was added to its first corner only; add it to all three "
    "corners a, b and c": (
        lambda vertices, triangles: _unit(
            _first_corner(_cross_products(vertices, triangles), triangles, len(vertices))
        )
    ),
    # what the result shows when it is none of the wrong answers above
    "normals not unit length: every vertex used by a triangle of nonzero area needs |n| = 1": (
        Mistake(lambda case: 0.5 * case.expected, uses="case", match=_not_unit)
    ),
    "a vertex without a proper triangle (zero area, or none) must get the zero vector": Mistake(
        lambda case: np.where(_proper(case)[:, None], case.expected, [1.0, 0.0, 0.0]),
        uses="case",
        match=lambda have, case: bool(np.any(np.linalg.norm(have, axis=-1)[~_proper(case)] > 1e-4)),
    ),
    "flipped orientation: most normals point inward; use (b - a) x (c - a)": Mistake(
        _mostly_flipped,
        uses="case",
        match=lambda have, case: (
            np.mean(np.sum(have * case.expected, axis=-1)[_proper(case)] < 0) > 0.5
        ),
    ),
}


VERTEX_NORMALS = define(
    TOPIC,
    "vertex_normals",
    _normals_cases,
    mistakes=_NORMALS_MISTAKES,
    title="Area-weighted vertex normals",
    references=[mesh.vertex_normals],
)


# --- graph_conv_step ---------------------------------------------------------------------------

_CONV_HINT = (
    "Aggregate first, then transform, then rectify: adjacency @ features is [V, C] (row i = the "
    "weighted mean of i's neighbours' features), @ weights gives [V, D], and relu keeps the "
    "positive part: np.maximum(adjacency @ features @ weights, 0)."
)


def graph_conv_step_reference(
    features: np.ndarray, adjacency: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """``relu(A X W)`` in NumPy (float64): `[V, C]`, `[V, V]`, `[C, D]` -> `[V, D]`."""
    x, a, w = (np.asarray(v, np.float64) for v in (features, adjacency, weights))
    return np.maximum(a @ x @ w, 0.0)


def _random_graph(rng: np.random.Generator, num_vertices: int, isolated: int = 0) -> np.ndarray:
    """A row-normalized random undirected graph; its first ``isolated`` vertices have no edges."""
    edges = np.triu(rng.uniform(size=(num_vertices, num_vertices)) < 0.35, 1)
    edges[:isolated] = False
    edges[:, :isolated] = False
    ring = np.arange(isolated, num_vertices)  # a cycle keeps every other vertex connected
    edges[ring, np.roll(ring, -1)] = True
    edges = (edges | edges.T) & ~np.eye(num_vertices, dtype=bool)
    order = rng.permutation(num_vertices)
    return _rows_normalized(edges[order][:, order].astype(np.float64))


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    quad = adjacency_dense(np.array([[0, 1, 2], [0, 2, 3]], np.int32), 4)
    sphere, sphere_faces = load_mesh("icosphere", subdivisions=0)
    settings = [
        (rng.normal(size=(4, 2)), quad, rng.normal(size=(2, 3)), "the quad split in two, C=2, D=3"),
        (
            rng.normal(size=(10, 4)),
            _random_graph(rng, 10),
            rng.normal(size=(4, 3)),
            "a random graph, V=10, C=4, D=3",
        ),
        (
            rng.normal(size=(7, 3)),
            _random_graph(rng, 7, isolated=2),
            rng.normal(size=(3, 2)),
            "a random graph with 2 isolated vertices (zero rows), V=7",
        ),
        (
            sphere.astype(np.float64),
            adjacency_dense(sphere_faces, len(sphere)),
            rng.normal(size=(3, 5)),
            "an icosahedron's adjacency, its vertex positions as features, D=5",
        ),
        (
            rng.normal(size=(16, 8)).astype(np.float32),
            _random_graph(rng, 16).astype(np.float32),
            rng.normal(size=(8, 8)).astype(np.float32),
            "float32 inputs, V=16, C=D=8",
        ),
    ]
    return reference_cases(
        settings, graph_conv_step_reference, hint=_CONV_HINT, rtol=1e-4, atol=1e-5
    )


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


_CONV_MISTAKES = {
    "the weights were not applied: multiply by W [C, D] to get [V, D]": Mistake(
        lambda x, a, w: _relu(a @ x), match="shape"
    ),
    "wrong shape: one row of D = {want[1]} features per vertex, {want}": Mistake(
        lambda x, a, w: _relu(a @ x @ w).T, match=other_shape, fields=shapes
    ),
    "the ReLU is missing: negative values must become 0 (np.maximum(..., 0) or tf.nn.relu)": (
        lambda x, a, w: a @ x @ w
    ),
    "the neighbours are ignored: that is relu(X W); aggregate with the adjacency first, "
    "relu(A X W)": (lambda x, a, w: _relu(x @ w)),
    "the vertex's own features were added (A + I): this step is relu(A X W), the adjacency "
    "has no self loops": (lambda x, a, w: _relu((a + np.eye(len(a))) @ x @ w)),
    "the adjacency is transposed: row i of A X is the weighted mean of i's neighbours, so use "
    "A @ X, not A.T @ X": (lambda x, a, w: _relu(a.T @ x @ w)),
    "the ReLU was applied before aggregating: relu comes last, relu(A X W)": (
        lambda x, a, w: a @ _relu(x @ w)
    ),
    "the adjacency's weights were replaced by 1s (a sum over neighbours, not their weighted "
    "mean): multiply by the given adjacency itself": (
        lambda x, a, w: _relu((a != 0).astype(np.float64) @ x @ w)
    ),
    # what the result shows when it is none of the wrong answers above
    "negative values: the ReLU must clip them to 0": Mistake(
        lambda x, a, w: np.minimum(a @ x @ w, 0.0),
        match=lambda have, case: not other_shape(have, case) and bool(np.any(have < -case.atol)),
    ),
}


GRAPH_CONV_STEP = define(
    TOPIC,
    "graph_conv_step",
    _conv_cases,
    mistakes=_CONV_MISTAKES,
    title="One step of a graph convolution, relu(A X W)",
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (ADJACENCY_FROM_FACES, VERTEX_NORMALS, GRAPH_CONV_STEP)
