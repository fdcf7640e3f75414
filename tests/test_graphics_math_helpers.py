"""course_lib.graphics.math.math_helpers: spherical coordinates and factorials against NumPy and
SciPy closed forms, Jacobians, gradients at the singular points, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats
import tensorflow as tf

from course_lib.graphics.math import math_helpers
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

F32 = np.float32


def test_cartesian_to_spherical_matches_numpy(rng):
    point = rng.normal(size=(4, 5, 3))
    x, y, z = np.moveaxis(point, -1, 0)
    radius = np.linalg.norm(point, axis=-1)
    expected = np.stack([radius, np.arccos(z / radius), np.arctan2(y, x)], axis=-1)
    got = math_helpers.cartesian_to_spherical_coordinates(point)
    assert got.dtype == tf.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    got32 = math_helpers.cartesian_to_spherical_coordinates(point.astype(F32))
    np.testing.assert_allclose(got32, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((0.0, 0.0, 0.0), (0.0, np.pi / 2, 0.0)),
        ((2.0, 0.0, 0.0), (2.0, np.pi / 2, 0.0)),
        ((0.0, -1.0, 0.0), (1.0, np.pi / 2, -np.pi / 2)),
        ((-1.0, 0.0, 0.0), (1.0, np.pi / 2, np.pi)),
        ((0.0, 0.0, 3.0), (3.0, 0.0, 0.0)),
        ((0.0, 0.0, -1.0), (1.0, np.pi, 0.0)),
    ],
)
def test_cartesian_to_spherical_on_the_axes_and_at_the_origin(point, expected):
    got = math_helpers.cartesian_to_spherical_coordinates(np.array(point, F32))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_spherical_to_cartesian_matches_numpy_and_inverts(rng):
    radius = rng.uniform(0.1, 5.0, (6, 1))
    theta = rng.uniform(0.0, np.pi, (6, 1))
    phi = rng.uniform(-np.pi, np.pi, (6, 1))
    spherical = np.concatenate([radius, theta, phi], axis=-1)
    expected = radius * np.concatenate(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1
    )
    cartesian = math_helpers.spherical_to_cartesian_coordinates(spherical)
    np.testing.assert_allclose(cartesian, expected, rtol=1e-12, atol=1e-12)
    back = math_helpers.cartesian_to_spherical_coordinates(cartesian)
    np.testing.assert_allclose(back, spherical, rtol=1e-10, atol=1e-12)


def test_spherical_to_cartesian_accepts_any_angles():
    got = math_helpers.spherical_to_cartesian_coordinates(
        np.array([[2.0, -1.5 * np.pi, 0.0], [1.0, np.pi / 2, np.pi / 2]])
    )
    np.testing.assert_allclose(got, [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], atol=1e-12)


def test_square_to_spherical_corners_and_closed_form(rng):
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], F32)
    np.testing.assert_allclose(
        math_helpers.square_to_spherical_coordinates(corners),
        [[1.0, 0.0, 0.0], [1.0, np.pi, 0.0], [1.0, 0.0, 2 * np.pi], [1.0, np.pi, 2 * np.pi]],
        atol=1e-6,
    )
    square = rng.uniform(0.0, 1.0, (3, 7, 2))
    got = math_helpers.square_to_spherical_coordinates(square)
    assert got.shape == (3, 7, 3)
    np.testing.assert_allclose(got[..., 1], np.arccos(1.0 - 2.0 * square[..., 0]), atol=1e-12)
    np.testing.assert_allclose(got[..., 2], 2.0 * np.pi * square[..., 1], atol=1e-12)


def test_square_to_spherical_maps_uniform_to_uniform_directions(rng):
    square = rng.uniform(0.0, 1.0, (20000, 2))
    direction = math_helpers.spherical_to_cartesian_coordinates(
        math_helpers.square_to_spherical_coordinates(square)
    ).numpy()
    np.testing.assert_allclose(np.linalg.norm(direction, axis=-1), 1.0, atol=1e-12)
    # Archimedes: each coordinate of a uniform direction is uniform on [-1, 1].
    for axis in range(3):
        assert scipy.stats.kstest(direction[:, axis], "uniform", args=(-1.0, 2.0)).pvalue > 1e-3
    np.testing.assert_allclose(direction.mean(axis=0), 0.0, atol=0.02)


def test_double_factorial_matches_scipy():
    n = np.arange(0, 30)
    expected = [scipy.special.factorial2(int(k), exact=True) for k in n]
    got = math_helpers.double_factorial(n.tolist())
    assert got.dtype == tf.int64
    assert got.numpy().tolist() == expected
    got64 = math_helpers.double_factorial(n.astype(np.float64))
    np.testing.assert_allclose(got64, np.array(expected, np.float64), rtol=1e-15)
    np.testing.assert_array_equal(
        math_helpers.double_factorial(np.array([[-1.0, 0.0], [5.0, 15.0]], F32)),
        [[1.0, 1.0], [15.0, 2027025.0]],
    )


def test_factorial_is_the_gamma_function(rng):
    np.testing.assert_array_equal(
        math_helpers.factorial(np.arange(11, dtype=F32)), scipy.special.factorial(np.arange(11))
    )
    n = rng.uniform(-0.9, 6.0, (4, 3))
    np.testing.assert_allclose(math_helpers.factorial(n), scipy.special.gamma(n + 1), rtol=1e-12)
    assert_jacobian_matches(math_helpers.factorial, [n[0]])
    with tf.GradientTape() as tape:
        x = tf.constant([2.5])
        tape.watch(x)
        value = math_helpers.factorial(x)
    expected = scipy.special.gamma(3.5) * scipy.special.digamma(3.5)
    np.testing.assert_allclose(tape.gradient(value, x), [expected], rtol=1e-5)


def test_jacobians(rng):
    point = rng.uniform(-2.0, 2.0, (5, 3))
    assert_jacobian_matches(math_helpers.cartesian_to_spherical_coordinates, [point])
    spherical = np.concatenate(
        [rng.uniform(0, 3, (5, 1)), rng.uniform(-3, 3, (5, 1)), rng.uniform(-3, 3, (5, 1))], -1
    )
    assert_jacobian_matches(math_helpers.spherical_to_cartesian_coordinates, [spherical])
    square = rng.uniform(0.05, 0.95, (5, 2))
    assert_jacobian_matches(math_helpers.square_to_spherical_coordinates, [square])


def test_gradients_are_finite_at_the_singular_points():
    on_axes = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -2.0], [1.0, 0.0, 0.0]]
    assert_gradient_finite(math_helpers.cartesian_to_spherical_coordinates, on_axes)
    assert_gradient_finite(
        math_helpers.square_to_spherical_coordinates, [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]]
    )


BAD = [
    (math_helpers.cartesian_to_spherical_coordinates, (np.ones((2, 1), F32),), "point_cartesian"),
    (math_helpers.cartesian_to_spherical_coordinates, (np.ones(3, np.int32),), "point_cartesian"),
    (math_helpers.spherical_to_cartesian_coordinates, (np.ones((4,), F32),), "point_spherical"),
    (math_helpers.square_to_spherical_coordinates, (np.ones((3,), F32),), "point_2d"),
    (math_helpers.square_to_spherical_coordinates, (np.ones((1,), F32),), "point_2d"),
    (math_helpers.factorial, (np.arange(3),), "n"),
    (math_helpers.double_factorial, (["a", "b"],), "n"),
]


@pytest.mark.parametrize(
    ("op", "args", "argument"), BAD, ids=[f"{op.__name__}-{i}" for i, (op, _, _) in enumerate(BAD)]
)
def test_bad_input_raises_value_error_naming_the_argument(op, args, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        op(*args)
