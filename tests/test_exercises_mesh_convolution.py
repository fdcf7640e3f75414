"""Mesh-convolution exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.grading.exercises import mesh_convolution as exercises
from course_lib.graphics.geometry.representation import mesh

REFERENCES = {
    "mesh_convolution.adjacency_from_faces": exercises.adjacency_dense,
    "mesh_convolution.vertex_normals": mesh.vertex_normals,
    "mesh_convolution.graph_conv_step": exercises.graph_conv_step_reference,
}


def _adjacency_sets(triangles, num_vertices):
    """An independent answer: neighbour sets, then 1 / len(set) on each row."""
    neighbours = [set() for _ in range(num_vertices)]
    for face in np.asarray(triangles).tolist():
        for k in range(3):
            a, b = face[k], face[(k + 1) % 3]
            if a != b:
                neighbours[a].add(b)
                neighbours[b].add(a)
    result = np.zeros((num_vertices, num_vertices))
    for i, js in enumerate(neighbours):
        for j in js:
            result[i, j] = 1.0 / len(js)
    return result


def _adjacency_sparse(triangles, num_vertices):
    """A SparseTensor (the neighbour sets' matrix, made sparse): a sparse answer is accepted."""
    return tf.sparse.from_dense(_adjacency_sets(triangles, num_vertices))


def _normals_numpy(vertices, triangles):
    """An independent answer with np.add.at and a guarded division."""
    vertices = np.asarray(vertices, np.float64)
    triangles = np.asarray(triangles)
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    crosses = np.cross(b - a, c - a)
    summed = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(summed, triangles[:, k], crosses)
    length = np.linalg.norm(summed, axis=-1, keepdims=True)
    return np.divide(summed, length, out=np.zeros_like(summed), where=length > 0)


def _conv_tf(features, adjacency, weights):
    x, a, w = (tf.cast(v, tf.float64) for v in (features, adjacency, weights))
    return tf.nn.relu(tf.matmul(tf.matmul(a, x), w))


def _conv_loop(features, adjacency, weights):
    """Vertex by vertex: the weighted sum of the neighbours' transformed features."""
    transformed = np.asarray(features, np.float64) @ np.asarray(weights, np.float64)
    adjacency = np.asarray(adjacency, np.float64)
    rows = [
        sum((adjacency[i, j] * transformed[j] for j in np.flatnonzero(adjacency[i])), 0.0)
        + np.zeros(transformed.shape[1])
        for i in range(len(adjacency))
    ]
    return np.maximum(np.stack(rows), 0.0)


CORRECT = {
    "mesh_convolution.adjacency_from_faces": [_adjacency_sets, _adjacency_sparse],
    "mesh_convolution.vertex_normals": _normals_numpy,
    "mesh_convolution.graph_conv_step": [_conv_tf, _conv_loop],
}


def _binary(triangles, num_vertices):
    return (_adjacency_sets(triangles, num_vertices) > 0).astype(np.float64)


def _counted(triangles, num_vertices, both_ways=True):
    counts = np.zeros((num_vertices, num_vertices))
    for face in np.asarray(triangles).tolist():
        for k in range(3):
            a, b = face[k], face[(k + 1) % 3]
            counts[a, b] += 1.0
            if both_ways:
                counts[b, a] += 1.0
    return counts


def _normalize_rows(matrix, guard=True):
    sums = matrix.sum(axis=1, keepdims=True)
    if guard:
        sums = np.where(sums > 0, sums, 1.0)
    with np.errstate(all="ignore"):
        return matrix / sums


def _symmetric(triangles, num_vertices):
    binary = _binary(triangles, num_vertices)
    degree = binary.sum(axis=1)
    scale = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1.0)), 0.0)
    return scale[:, None] * binary * scale[None, :]


def _from_largest_index(triangles, num_vertices):
    return _adjacency_sets(triangles, int(np.max(triangles)) + 1)


def _crosses(vertices, triangles):
    vertices = np.asarray(vertices, np.float64)
    a, b, c = (vertices[np.asarray(triangles)[:, k]] for k in range(3))
    return np.cross(b - a, c - a)


def _sum_to_vertices(vertices, triangles, per_face):
    summed = np.zeros((len(vertices), 3))
    for k in range(3):
        np.add.at(summed, np.asarray(triangles)[:, k], per_face)
    return summed


def _normals_unguarded(vertices, triangles):
    summed = _sum_to_vertices(vertices, triangles, _crosses(vertices, triangles))
    with np.errstate(all="ignore"):
        return summed / np.linalg.norm(summed, axis=-1, keepdims=True)


def _normals_face_unit_first(vertices, triangles):
    crosses = _crosses(vertices, triangles)
    length = np.linalg.norm(crosses, axis=-1, keepdims=True)
    unit = np.divide(crosses, length, out=np.zeros_like(crosses), where=length > 0)
    summed = _sum_to_vertices(vertices, triangles, unit)
    length = np.linalg.norm(summed, axis=-1, keepdims=True)
    return np.divide(summed, length, out=np.zeros_like(summed), where=length > 0)


WRONG = [
    (
        "mesh_convolution.adjacency_from_faces",
        _binary,
        "not row-normalized",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _adjacency_sets(t, n) + np.eye(n) * (_binary(t, n).sum(1) > 0)[:, None] * 0.5,
        "self loops present",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _normalize_rows(_binary(t, n) + np.eye(n)),
        "self loops present",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _adjacency_sets(t, n).T,
        "normalized by columns",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        _symmetric,
        "symmetric normalization",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _normalize_rows(_counted(t, n)),
        "counted more than once",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _normalize_rows(np.minimum(_counted(t, n, both_ways=False), 1.0)),
        "asymmetric",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: _normalize_rows(_binary(t, n), guard=False),
        "deg = 0",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        _from_largest_index,
        "not the largest index",
    ),
    (
        "mesh_convolution.adjacency_from_faces",
        lambda t, n: np.asarray(t),
        "wrong shape",
    ),
    (
        "mesh_convolution.vertex_normals",
        lambda v, t: _sum_to_vertices(v, t, _crosses(v, t)),
        "not unit length",
    ),
    (
        "mesh_convolution.vertex_normals",
        lambda v, t: -_normals_numpy(v, t),
        "flipped orientation",
    ),
    (
        "mesh_convolution.vertex_normals",
        lambda v, t: _normals_numpy(v, np.asarray(t)[:, ::-1]),
        "flipped orientation",
    ),
    (
        "mesh_convolution.vertex_normals",
        _normals_face_unit_first,
        "each triangle weighs the same",
    ),
    (
        "mesh_convolution.vertex_normals",
        _normals_unguarded,
        "NaN on a degenerate face",
    ),
    (
        "mesh_convolution.vertex_normals",
        lambda v, t: mesh.face_normals(np.asarray(v, np.float64), t),
        "face normals",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.asarray(a) @ np.asarray(x) @ np.asarray(w),
        "ReLU is missing",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.maximum(np.asarray(x) @ np.asarray(w), 0.0),
        "neighbours are ignored",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.maximum((np.asarray(a) + np.eye(len(a))) @ x @ w, 0.0),
        "own features were added",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.maximum(np.asarray(a).T @ x @ w, 0.0),
        "transposed",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.asarray(a) @ np.maximum(np.asarray(x) @ w, 0.0),
        "before aggregating",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.maximum((np.asarray(a) != 0) @ np.asarray(x) @ w, 0.0),
        "replaced by 1s",
    ),
    (
        "mesh_convolution.graph_conv_step",
        lambda x, a, w: np.maximum(np.asarray(a) @ np.asarray(x), 0.0),
        "weights were not applied",
    ),
]


def _cases(exercise_id):
    return grading.get_exercise(exercise_id).make_cases(np.random.default_rng(0))


def test_adjacency_cases_hold_isolated_vertices_and_repeated_faces():
    cases = _cases("mesh_convolution.adjacency_from_faces")
    triangles, num_vertices = cases[2].args
    unused = set(range(num_vertices)) - set(np.asarray(triangles).ravel().tolist())
    assert len(unused) == 2 and num_vertices - 1 in unused
    assert not cases[2].expected[sorted(unused)].any()
    repeated = np.sort(np.asarray(cases[3].args[0]), axis=1)
    assert len(np.unique(repeated, axis=0)) < len(repeated)


def test_normals_cases_include_a_zero_area_face_whose_vertex_gets_zero():
    vertices, triangles = _cases("mesh_convolution.vertex_normals")[3].args
    assert np.any(np.linalg.norm(_crosses(vertices, triangles), axis=-1) == 0.0)
    expected = _cases("mesh_convolution.vertex_normals")[3].expected
    assert np.all(np.isfinite(expected))
    assert np.sum(np.linalg.norm(expected, axis=-1) == 0.0) == 2


def test_icosphere_normals_are_close_to_the_positions():
    case = _cases("mesh_convolution.vertex_normals")[1]
    vertices = np.asarray(case.args[0])
    directions = vertices / np.linalg.norm(vertices, axis=-1, keepdims=True)
    assert np.min(np.sum(directions * case.expected, axis=-1)) > 0.99


def test_graph_conv_cases_have_negative_pre_activations_and_asymmetric_adjacency():
    for case in _cases("mesh_convolution.graph_conv_step"):
        features, adjacency, weights = (np.asarray(v, np.float64) for v in case.args)
        assert np.any(adjacency @ features @ weights < 0)
    adjacency = np.asarray(_cases("mesh_convolution.graph_conv_step")[1].args[1])
    assert not np.allclose(adjacency, adjacency.T)
