"""Tests for course_lib.graphics.rendering.barycentric."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.graphics.rendering import barycentric
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches


def random_triangles(rng, n):
    a, b, c = (rng.uniform(0.0, 10.0, (n, 2)) for _ in range(3))
    return a, b, c


def numpy_barycentric(p, a, b, c):
    """Solves p = a + s (b - a) + t (c - a) for (s, t) with NumPy: weights (1 - s - t, s, t)."""
    matrix = np.stack([b - a, c - a], axis=-1)  # [n, 2, 2]
    st_ = np.linalg.solve(matrix, (p - a)[..., None])[..., 0]
    return np.concatenate([1.0 - st_.sum(-1, keepdims=True), st_], axis=-1)


def test_edge_function_matches_numpy_cross(rng):
    a, b, p = (rng.normal(size=(4, 5, 2)) for _ in range(3))
    ba = np.concatenate([b - a, np.zeros((4, 5, 1))], -1)
    pa = np.concatenate([p - a, np.zeros((4, 5, 1))], -1)
    expected = np.cross(ba, pa)[..., 2:]
    got = barycentric.edge_function(
        a.astype(np.float32), b.astype(np.float32), p.astype(np.float32)
    )
    assert got.shape == (4, 5, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_unchecked_edge_function_equals_edge_function_and_broadcasts(rng):
    a, b = (rng.normal(size=(4, 1, 2)) for _ in range(2))
    p = rng.normal(size=(5, 2))
    ba = np.concatenate([np.broadcast_to(b - a, (4, 5, 2)), np.zeros((4, 5, 1))], -1)
    pa = np.concatenate([p - a, np.zeros((4, 5, 1))], -1)
    got = barycentric.unchecked_edge_function(tf.constant(a), tf.constant(b), tf.constant(p))
    assert got.shape == (4, 5, 1)
    np.testing.assert_allclose(got, np.cross(ba, pa)[..., 2:], rtol=1e-12)
    np.testing.assert_array_equal(got, barycentric.edge_function(a, b, p))


def test_edge_function_sign_on_screen():
    # a -> b points right along the top of the image; y grows downwards, so (0, 1) is below the
    # edge: to the right of a -> b as drawn on screen, and the value is positive.
    assert barycentric.edge_function([0.0, 0.0], [1.0, 0.0], [0.0, 1.0]).numpy()[0] == 1.0
    assert barycentric.edge_function([0.0, 0.0], [1.0, 0.0], [0.0, -1.0]).numpy()[0] == -1.0


def test_barycentric_2d_matches_numpy_solve(rng):
    a, b, c = random_triangles(rng, 64)
    p = rng.uniform(-2.0, 12.0, (64, 2))
    expected = numpy_barycentric(p, a, b, c)
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        got = barycentric.barycentric_2d(*(x.astype(dtype) for x in (p, a, b, c))).numpy()
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=50 * rtol)
        np.testing.assert_allclose(got.sum(-1), 1.0, rtol=rtol, atol=10 * rtol)
        # The weights reproduce the point.
        rebuilt = got[:, :1] * a + got[:, 1:2] * b + got[:, 2:] * c
        np.testing.assert_allclose(rebuilt, p, rtol=rtol, atol=100 * rtol)


def test_barycentric_2d_broadcasts_one_triangle_over_points(rng):
    a, b, c = np.array([0.0, 0.0]), np.array([4.0, 0.0]), np.array([0.0, 4.0])
    p = rng.uniform(0.0, 4.0, (3, 7, 2))
    got = barycentric.barycentric_2d(p, a, b, c)
    assert got.shape == (3, 7, 3)
    np.testing.assert_allclose(got[..., 1], p[..., 0] / 4.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[..., 2], p[..., 1] / 4.0, rtol=1e-6, atol=1e-6)


def test_barycentric_2d_jacobian(rng):
    a, b, c = random_triangles(rng, 2)
    p = (a + b + c) / 3.0 + rng.normal(scale=0.3, size=(2, 2))
    assert_jacobian_matches(barycentric.barycentric_2d, [p, a, b, c])


def test_barycentric_2d_zero_area_is_zero_and_finite():
    a, b, c = [0.0, 0.0], [1.0, 1.0], [2.0, 2.0]
    got = barycentric.barycentric_2d([0.5, 0.5], a, b, c)
    np.testing.assert_array_equal(got, [0.0, 0.0, 0.0])
    assert_gradient_finite(barycentric.barycentric_2d, [0.5, 0.5], a, b, c)
    assert_gradient_finite(barycentric.barycentric_2d, [0.5, 0.5], a, a, a)


def test_inside_matches_barycentric_signs(rng):
    a, b, c = random_triangles(rng, 500)
    p = rng.uniform(0.0, 10.0, (500, 2))
    got = barycentric.inside(p, a, b, c).numpy()[:, 0]
    expected = np.all(numpy_barycentric(p, a, b, c) >= 0.0, axis=-1)
    np.testing.assert_array_equal(got, expected)
    assert 20 < got.sum() < 480


def test_inside_either_winding_edges_count_and_degenerate_is_empty():
    a, b, c = [0.0, 0.0], [4.0, 0.0], [0.0, 4.0]
    points = [[1.0, 1.0], [2.0, 0.0], [0.0, 0.0], [2.0, 2.0], [3.0, 3.0], [-0.1, 1.0]]
    expected = [True, True, True, True, False, False]
    np.testing.assert_array_equal(barycentric.inside(points, a, b, c).numpy()[:, 0], expected)
    np.testing.assert_array_equal(barycentric.inside(points, a, c, b).numpy()[:, 0], expected)
    assert not barycentric.inside([1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [2.0, 2.0]).numpy()[0]


def test_perspective_correct_matches_3d_interpolation(rng):
    # A 3-D triangle, a 3-D point on it, its projection: the perspective-correct weights of the
    # projected point's screen-space weights are the 3-D weights.
    n = 32
    vertices = rng.uniform(-1.0, 1.0, (n, 3, 3)) + np.array([0.0, 0.0, 4.0])
    weights = rng.dirichlet(np.ones(3), n)
    point = np.einsum("nk,nkd->nd", weights, vertices)
    project = lambda v: 100.0 * v[..., :2] / v[..., 2:]  # noqa: E731
    screen = project(vertices)
    b2d = barycentric.barycentric_2d(project(point), screen[:, 0], screen[:, 1], screen[:, 2])
    got = barycentric.perspective_correct(b2d, vertices[..., 2])
    np.testing.assert_allclose(got, weights, rtol=1e-8, atol=1e-10)
    got32 = barycentric.perspective_correct(
        b2d.numpy().astype(np.float32), vertices[..., 2].astype(np.float32)
    )
    np.testing.assert_allclose(got32, weights, rtol=1e-5, atol=1e-6)


def test_perspective_correct_jacobian_and_singularities(rng):
    b = rng.dirichlet(np.ones(3), 2)
    z = rng.uniform(1.0, 3.0, (2, 3))
    assert_jacobian_matches(barycentric.perspective_correct, [b, z])
    assert_gradient_finite(barycentric.perspective_correct, [0.2, 0.3, 0.5], [0.0, 1.0, 2.0])
    assert_gradient_finite(barycentric.perspective_correct, [0.0, 0.0, 0.0], [1.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        barycentric.perspective_correct([0.0, 0.0, 0.0], [1.0, 1.0, 2.0]), [0.0, 0.0, 0.0]
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: barycentric.edge_function([0.0, 0.0, 0.0], [1.0, 0.0], [0.0, 1.0]),
        lambda: barycentric.barycentric_2d([0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0], [0.0, 1.0]),
        lambda: barycentric.inside([0.0, 0.0], [0.0, 0.0], [1.0, 0.0], np.zeros((2, 3, 1))),
    ],
)
def test_wrong_last_dimension_raises(call):
    # The message names the offending argument: a, a and c respectively.
    with pytest.raises(ValueError, match=r"\b(a|c|p)\b"):
        call()


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="point"):
        barycentric.barycentric_2d(np.zeros((2, 2), np.int32), [0.0, 0.0], [1.0, 0.0], [0, 1.0])
    with pytest.raises(ValueError, match="z"):
        barycentric.perspective_correct([0.2, 0.3, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError, match="barycentrics_2d"):
        barycentric.perspective_correct(np.zeros(3, np.int64), np.ones(3))
    got = barycentric.inside([1.0, 1.0], [0.0, 0.0], [4.0, 0.0], np.zeros((2, 3, 2)) + [0.0, 4.0])
    assert got.shape == (2, 3, 1) and bool(np.all(got))
    with pytest.raises(ValueError, match="broadcast"):
        barycentric.barycentric_2d(np.zeros((3, 2)), np.zeros((4, 2)), [1.0, 0.0], [0.0, 1.0])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-100.0, 100.0), min_size=6, max_size=6),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_barycentric_property_points_built_from_weights(coords, s, t):
    a, b, c = np.reshape(coords, (3, 2))
    area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if abs(area) < 1.0:
        return
    if s + t > 1.0:
        s, t = 1.0 - s, 1.0 - t
    weights = np.array([1.0 - s - t, s, t])
    p = weights[0] * a + weights[1] * b + weights[2] * c
    got = barycentric.barycentric_2d(p, a, b, c).numpy()
    np.testing.assert_allclose(got, weights, atol=1e-6)
    assert barycentric.inside(p + 0.0, a, b, c).numpy()[0] or np.min(weights) < 1e-9
