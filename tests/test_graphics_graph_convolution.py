"""Graph convolutions (FeaStNet, edge template) and the mesh adjacency they take."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.graphics.geometry.convolution import graph_convolution as gc
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

TETRAHEDRON = np.array([[0, 1, 2], [0, 3, 1], [1, 3, 2], [2, 3, 0]], np.int32)


def _random_graph(rng, num_vertices, num_edges):
    """Random directed edges (no duplicates) with positive weights, as (i, j, w) arrays."""
    flat = rng.choice(num_vertices * num_vertices, size=num_edges, replace=False)
    return flat // num_vertices, flat % num_vertices, rng.uniform(0.1, 1.0, num_edges)


def _sparse(rows, cols, weights, num_vertices, dtype=np.float64, batch=()):
    indices = np.stack([rows, cols], 1) if not batch else np.asarray(rows)
    return tf.sparse.reorder(
        tf.sparse.SparseTensor(
            indices.astype(np.int64), weights.astype(dtype), batch + (num_vertices, num_vertices)
        )
    )


def _variables(rng, channels, matrices, out, dtype=np.float64):
    return [
        rng.normal(size=(channels, matrices)).astype(dtype),
        rng.normal(size=(channels, matrices)).astype(dtype),
        rng.normal(size=(matrices,)).astype(dtype),
        rng.normal(size=(matrices, channels, out)).astype(dtype),
        rng.normal(size=(out,)).astype(dtype),
    ]


def _feast_reference(x, rows, cols, weights, u, v, c, w, b):
    """A vertex-by-vertex NumPy loop over y_i = b + sum_j w_ij sum_m q_m(x_i, x_j) W_m x_j."""
    out = np.tile(b, (len(x), 1))
    for i in range(len(x)):
        for row, j, wij in zip(rows, cols, weights, strict=True):
            if row != i:
                continue
            logits = x[i] @ u + x[j] @ v + c
            q = np.exp(logits - logits.max())
            q /= q.sum()
            for m in range(len(c)):
                out[i] += wij * q[m] * (x[j] @ w[m])
    return out


def test_feature_steered_convolution_matches_numpy_loop(rng):
    rows, cols, weights = _random_graph(rng, 7, 20)
    x = rng.normal(size=(7, 3))
    variables = _variables(rng, 3, 4, 5)
    got = gc.feature_steered_convolution(x, _sparse(rows, cols, weights, 7), None, *variables)
    assert got.shape == (7, 5)
    expected = _feast_reference(x, rows, cols, weights, *variables)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_var_u_minus_var_v_gives_the_papers_translation_invariant_assignments(rng):
    rows, cols, weights = _random_graph(rng, 6, 15)
    x, shift = rng.normal(size=(6, 3)), rng.normal(size=3)
    _, v, c, w, b = _variables(rng, 3, 4, 2)
    neighbors = _sparse(rows, cols, weights, 6)
    base = gc.feature_steered_convolution(x, neighbors, None, -v, v, c, w, b)
    shifted = gc.feature_steered_convolution(x + shift, neighbors, None, -v, v, c, w, b)
    # The paper's q_m = softmax_m(v_m . (x_j - x_i) + c_m) does not change with the shift, so
    # y moves by sum_j w_ij sum_m q_m W_m shift.
    expected = np.zeros((6, 2))
    for i, j, wij in zip(rows, cols, weights, strict=True):
        q = np.exp((x[j] - x[i]) @ v + c)
        q /= q.sum()
        expected[i] += wij * np.einsum("m,mcd,c->d", q, w, shift)
    np.testing.assert_allclose((shifted - base).numpy(), expected, rtol=1e-9, atol=1e-12)


def test_batched_padded_graphs_give_the_unpadded_results(rng):
    sizes = np.array([[5, 3], [7, 4]])
    batch_x = rng.normal(size=(2, 2, 7, 3))
    variables = _variables(rng, 3, 2, 4)
    indices, values, expected = [], [], np.zeros((2, 2, 7, 4))
    for a in range(2):
        for b in range(2):
            n = sizes[a, b]
            rows, cols, weights = _random_graph(rng, n, 2 * n)
            expected[a, b, :n] = _feast_reference(
                batch_x[a, b, :n], rows, cols, weights, *variables
            )
            got = gc.feature_steered_convolution(
                batch_x[a, b, :n], _sparse(rows, cols, weights, n), None, *variables
            )
            np.testing.assert_allclose(got, expected[a, b, :n], rtol=1e-10)
            indices += [[a, b, i, j] for i, j in zip(rows, cols, strict=True)]
            values.append(weights)
    batch_x[0, 1, 3:] = np.nan  # padding is never read
    neighbors = tf.sparse.reorder(
        tf.sparse.SparseTensor(np.array(indices, np.int64), np.concatenate(values), (2, 2, 7, 7))
    )
    got = gc.feature_steered_convolution(batch_x, neighbors, sizes, *variables)
    assert got.shape == (2, 2, 7, 4)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_outputs_permute_with_the_vertices(rng):
    rows, cols, weights = _random_graph(rng, 8, 24)
    x = rng.normal(size=(8, 3))
    variables = _variables(rng, 3, 3, 2)
    perm = rng.permutation(8)
    inverse = np.argsort(perm)  # new vertex k is old vertex perm[k]
    base = gc.feature_steered_convolution(x, _sparse(rows, cols, weights, 8), None, *variables)
    moved = gc.feature_steered_convolution(
        x[perm], _sparse(inverse[rows], inverse[cols], weights, 8), None, *variables
    )
    np.testing.assert_allclose(moved.numpy(), base.numpy()[perm], rtol=1e-10)

    def edge(xi, xj):
        return tf.concat([xi, xj - xi], -1)

    for reduction in ("weighted", "max"):
        base = gc.edge_convolution_template(
            x, _sparse(rows, cols, weights, 8), None, edge, reduction, None
        )
        moved = gc.edge_convolution_template(
            x[perm], _sparse(inverse[rows], inverse[cols], weights, 8), None, edge, reduction, {}
        )
        np.testing.assert_allclose(moved.numpy(), base.numpy()[perm], rtol=1e-10)


def test_edge_convolution_matches_numpy_loop(rng):
    rows, cols, weights = _random_graph(rng, 6, 14)
    rows[rows == 5] = 4  # vertex 5 has no neighbourhood
    keep = np.unique(np.stack([rows, cols], 1), axis=0, return_index=True)[1]
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    x = rng.normal(size=(6, 2))
    matrix = rng.normal(size=(4, 3))

    def edge(xi, xj, scale):
        return scale * tf.tanh(tf.concat([xi, xj - xi], -1) @ matrix)

    neighbors = _sparse(rows, cols, weights, 6)
    weighted = gc.edge_convolution_template(x, neighbors, None, edge, "weighted", {"scale": 2.0})
    largest = gc.edge_convolution_template(x, neighbors, None, edge, "max", {"scale": 2.0})
    expected_sum, expected_max = np.zeros((6, 3)), np.zeros((6, 3))
    for i in range(6):
        values = [
            (wij, 2.0 * np.tanh(np.concatenate([x[i], x[j] - x[i]]) @ matrix))
            for r, j, wij in zip(rows, cols, weights, strict=True)
            if r == i
        ]
        if values:
            expected_sum[i] = sum(wij * f for wij, f in values)
            expected_max[i] = np.max([f for _, f in values], axis=0)
    np.testing.assert_allclose(weighted.numpy(), expected_sum, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(largest.numpy(), expected_max, rtol=1e-10, atol=1e-12)
    assert np.all(largest.numpy()[5] == 0.0)


def test_jacobians_match_finite_differences(rng):
    rows, cols, weights = _random_graph(rng, 4, 8)
    neighbors = _sparse(rows, cols, weights, 4)
    x = rng.normal(size=(4, 2))
    variables = _variables(rng, 2, 3, 2)

    def feast(data, u, v, c, w, b):
        return gc.feature_steered_convolution(data, neighbors, None, u, v, c, w, b)

    assert_jacobian_matches(feast, [x, *variables])

    def weighted(data):
        return gc.edge_convolution_template(
            data, neighbors, None, lambda a, b: a * b + tf.sin(b), "weighted", None
        )

    assert_jacobian_matches(weighted, [x])


def test_isolated_vertices_and_duplicate_edges_stay_finite(rng):
    # Vertex 3 is isolated; edge (0, 1) is listed twice, which counts as their summed weight.
    rows, cols = np.array([0, 0, 0, 1, 2]), np.array([1, 1, 2, 0, 2])
    weights = np.array([0.25, 0.5, 0.25, 1.0, 1.0], np.float32)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    variables = _variables(rng, 3, 2, 2, np.float32)
    duplicated = tf.sparse.SparseTensor(np.stack([rows, cols], 1), weights, (4, 4))
    merged = _sparse(rows[1:], cols[1:], np.array([0.75, 0.25, 1.0, 1.0]), 4, np.float32)
    got = gc.feature_steered_convolution(x, duplicated, None, *variables)
    np.testing.assert_allclose(
        got, gc.feature_steered_convolution(x, merged, None, *variables), rtol=1e-6
    )
    np.testing.assert_array_equal(got[3], variables[-1])  # only the bias

    def feast(data, u, v, c, w, b):
        return gc.feature_steered_convolution(data, duplicated, None, u, v, c, w, b)

    assert_gradient_finite(feast, x, *variables)
    for reduction in ("weighted", "max"):
        assert_gradient_finite(
            lambda d, r=reduction: gc.edge_convolution_template(
                d, duplicated, None, lambda a, b: a - b, r, None
            ),
            x,
        )


def test_adjacency_of_a_tetrahedron():
    third, quarter = 1.0 / 3.0, 0.25
    expected = np.full((4, 4), third) - third * np.eye(4)
    got = mesh.adjacency(TETRAHEDRON, 4)
    assert isinstance(got, tf.sparse.SparseTensor)
    np.testing.assert_allclose(tf.sparse.to_dense(got).numpy(), expected, rtol=1e-6)
    looped = tf.sparse.to_dense(mesh.adjacency(TETRAHEDRON, 4, self_loops=True, dtype=tf.float64))
    np.testing.assert_allclose(looped.numpy(), np.full((4, 4), quarter), rtol=1e-12)
    # One triangle and an unused vertex: the unused row stays empty, or holds a lone self loop.
    tri = mesh.adjacency([[0, 1, 2]], 4, self_loops=True)
    expected = np.array(
        [[third, third, third, 0], [third, third, third, 0], [third, third, third, 0], [0, 0, 0, 1]]
    )
    np.testing.assert_allclose(tf.sparse.to_dense(tri).numpy(), expected, rtol=1e-6)
    assert tf.sparse.to_dense(mesh.adjacency([[0, 1, 2]], 4)).numpy()[3].sum() == 0


def test_convolution_on_a_mesh_adjacency_runs_in_float32(rng):
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    neighbors = tf.sparse.concat(
        0, [tf.sparse.expand_dims(mesh.adjacency(TETRAHEDRON, 4, self_loops=True), 0)] * 2
    )
    got = gc.feature_steered_convolution(
        x, neighbors, [4, 3], *_variables(rng, 3, 2, 5, np.float32)
    )
    assert got.shape == (2, 4, 5) and got.dtype == tf.float32
    assert np.all(got.numpy()[1, 3] == 0.0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"data": np.zeros(4)}, "data"),
        ({"data": np.zeros((4, 3), np.int32)}, "data"),
        ({"neighbors": np.eye(4)}, "neighbors"),
        ({"neighbors": tf.sparse.eye(5, dtype=tf.float64)}, "neighbors"),
        ({"neighbors": tf.sparse.SparseTensor([[0, 0, 0]], [1.0], (1, 4, 4))}, "neighbors"),
        ({"neighbors": tf.sparse.SparseTensor([[0, 4]], [1.0], (4, 4))}, "neighbors"),
        ({"neighbors": tf.sparse.SparseTensor([[-1, 0]], [1.0], (4, 4))}, "neighbors"),
        ({"sizes": [4]}, "sizes"),
        ({"var_u": np.zeros((2, 2))}, "var_u"),
        ({"var_v": np.zeros((3, 3))}, "var_v"),
        ({"var_c": np.zeros(3)}, "var_c"),
        ({"var_w": np.zeros((2, 2, 5))}, "var_w"),
        ({"var_b": np.zeros(4)}, "var_b"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(rng, change, message):
    u, v, c, w, b = _variables(rng, 3, 2, 5)
    arguments = {
        "data": rng.normal(size=(4, 3)),
        "neighbors": tf.sparse.eye(4, dtype=tf.float64),
        "sizes": None,
        "var_u": u,
        "var_v": v,
        "var_c": c,
        "var_w": w,
        "var_b": b,
    } | change
    with pytest.raises(ValueError, match=message):
        gc.feature_steered_convolution(**arguments)


def test_bad_template_arguments_and_adjacency_arguments_raise():
    x, neighbors = np.zeros((4, 3)), tf.sparse.eye(4, dtype=tf.float64)
    with pytest.raises(ValueError, match="reduction"):
        gc.edge_convolution_template(x, neighbors, None, lambda a, b: a, "mean", None)
    with pytest.raises(ValueError, match="edge_function"):
        gc.edge_convolution_template(x, neighbors, None, lambda a, b: a[:, 0], "max", None)
    with pytest.raises(ValueError, match="sizes"):
        gc.edge_convolution_template(
            x[None], tf.sparse.expand_dims(neighbors, 0), [5], lambda a, b: a, "max", None
        )
    with pytest.raises(ValueError, match="triangles"):
        mesh.adjacency(TETRAHEDRON, 3)
    with pytest.raises(ValueError, match="num_vertices"):
        mesh.adjacency(TETRAHEDRON, 0)


def test_runs_in_a_graph_with_an_unknown_batch_size(rng):
    variables = [tf.constant(v, tf.float32) for v in _variables(rng, 3, 2, 5, np.float32)]
    adjacency = tf.sparse.expand_dims(mesh.adjacency(TETRAHEDRON, 4, self_loops=True), 0)

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 3]), tf.SparseTensorSpec([None, 4, 4])])
    def convolve(data, neighbors):
        return gc.feature_steered_convolution(data, neighbors, None, *variables)

    x = rng.normal(size=(1, 4, 3)).astype(np.float32)
    eager = gc.feature_steered_convolution(x, adjacency, None, *variables)
    np.testing.assert_allclose(convolve(x, adjacency), eager, rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="neighbors out of range"):
        convolve(x, tf.sparse.SparseTensor([[0, 0, 4]], [1.0], (1, 4, 4)))


def test_zero_area_faces_give_finite_normals_adjacency_and_gradients(rng):
    # Faces 1 and 2 have no area: collinear corners, and a repeated corner. Vertex 4 lies only
    # on faces without area, vertex 5 on none.
    vertices = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [0, 0, 1], [5, 5, 5]], np.float32
    )
    faces = np.array([[0, 1, 2], [0, 1, 3], [4, 4, 1]], np.int32)
    normals = mesh.face_normals(vertices, faces).numpy()
    np.testing.assert_allclose(normals, [[0, 0, 1], [0, 0, 0], [0, 0, 0]], atol=1e-7)
    vertex_normals = mesh.vertex_normals(vertices, faces).numpy()
    np.testing.assert_allclose(vertex_normals[[0, 1, 2]], [[0, 0, 1]] * 3, atol=1e-6)
    np.testing.assert_array_equal(vertex_normals[[4, 5]], 0.0)
    assert_gradient_finite(lambda v: mesh.face_normals(v, faces), vertices)
    assert_gradient_finite(lambda v: mesh.vertex_normals(v, faces), vertices)
    # The repeated corner makes no self loop: the adjacency stays that of the distinct edges.
    dense = tf.sparse.to_dense(mesh.adjacency(faces, 6)).numpy()
    assert np.all(np.diag(dense) == 0) and np.all(np.isfinite(dense))
    np.testing.assert_allclose(dense.sum(axis=1), [1, 1, 1, 1, 1, 0], rtol=1e-6)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    variables = _variables(rng, 3, 2, 2, np.float32)
    assert_gradient_finite(
        lambda d: gc.feature_steered_convolution(
            d, mesh.adjacency(faces, 6, self_loops=True), None, *variables
        ),
        x,
    )


def test_empty_neighbourhoods_give_the_bias_or_zeros_with_finite_gradients(rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    variables = _variables(rng, 3, 2, 4, np.float32)
    empty = tf.sparse.SparseTensor(np.zeros((0, 3), np.int64), np.zeros(0, np.float32), (2, 5, 5))
    got = gc.feature_steered_convolution(x, empty, None, *variables)
    np.testing.assert_array_equal(got.numpy(), np.broadcast_to(variables[-1], (2, 5, 4)))

    def feast(data, u, v, c, w, b):
        return gc.feature_steered_convolution(data, empty, None, u, v, c, w, b)

    assert_gradient_finite(feast, x, *variables)
    for reduction in ("weighted", "max"):
        out = gc.edge_convolution_template(x, empty, None, lambda a, b: a - b, reduction, None)
        np.testing.assert_array_equal(out.numpy(), 0.0)
    # A batch whose second graph has vertices but no edges, and a third of size 0.
    one = tf.sparse.SparseTensor([[0, 0, 1], [0, 1, 0]], np.ones(2, np.float32), (3, 5, 5))
    sizes = np.array([2, 4, 0])
    batch = rng.normal(size=(3, 5, 3)).astype(np.float32)
    got = gc.feature_steered_convolution(batch, one, sizes, *variables).numpy()
    np.testing.assert_array_equal(got[1, :4], np.broadcast_to(variables[-1], (4, 4)))
    np.testing.assert_array_equal(got[1, 4:], 0.0)
    np.testing.assert_array_equal(got[2], 0.0)
    assert np.all(np.isfinite(got))
