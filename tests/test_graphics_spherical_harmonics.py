"""Spherical harmonics: SciPy references, orthonormality, zonal rotation, gradients, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from course_lib.graphics.math import spherical_harmonics as sh
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

MAX_BAND = 5


def real_sh_scipy(degree, order, theta, phi):
    """Real SH from SciPy's complex ones (which carry the Condon-Shortley phase)."""
    absm = np.abs(order)
    complex_y = scipy.special.sph_harm_y(degree, absm, theta, phi)
    sign = (-1.0) ** absm
    return np.where(
        order > 0,
        np.sqrt(2.0) * sign * complex_y.real,
        np.where(order < 0, np.sqrt(2.0) * sign * complex_y.imag, complex_y.real),
    )


def legendre_pairs(max_band):
    pairs = [(degree, order) for degree in range(max_band + 1) for order in range(degree + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def quadrature(num_theta=12):
    """Gauss-Legendre in cos(theta) x uniform phi: exact for the products tested here."""
    cos_theta, weights = np.polynomial.legendre.leggauss(num_theta)
    phi = (np.arange(2 * num_theta) + 0.5) * np.pi / num_theta
    theta, phi = np.meshgrid(np.arccos(cos_theta), phi, indexing="ij")
    weights = np.repeat(weights * np.pi / num_theta, 2 * num_theta)
    return theta.reshape(-1, 1), phi.reshape(-1, 1), weights


def test_legendre_matches_scipy_lpmv(rng):
    degree, order = legendre_pairs(MAX_BAND)
    x = rng.uniform(-1.0, 1.0, (40, 1))
    expected = scipy.special.lpmv(order, degree, x)
    np.testing.assert_allclose(
        sh.evaluate_legendre_polynomial(degree, order, x), expected, rtol=1e-10, atol=1e-12
    )
    got32 = sh.evaluate_legendre_polynomial(degree, order, x.astype(np.float32))
    np.testing.assert_allclose(got32, expected, rtol=1e-5, atol=1e-5)


def test_legendre_has_the_condon_shortley_phase():
    value = sh.evaluate_legendre_polynomial(1, 1, np.array([0.6]))
    np.testing.assert_allclose(value, [-0.8])


def test_spherical_harmonics_match_scipy(rng):
    degree, order = sh.generate_l_m_permutations(MAX_BAND)
    theta = rng.uniform(0.0, np.pi, (30, 1))
    phi = rng.uniform(-np.pi, np.pi, (30, 1))
    expected = real_sh_scipy(degree, order, theta, phi)
    got = sh.evaluate_spherical_harmonics(degree, order, theta, phi)
    assert got.shape == (30, (MAX_BAND + 1) ** 2)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    got32 = sh.evaluate_spherical_harmonics(
        degree, order, theta.astype(np.float32), phi.astype(np.float32)
    )
    np.testing.assert_allclose(got32, expected, rtol=1e-5, atol=2e-6)


def test_first_band_is_positive_along_y_z_x():
    degree, order = sh.generate_l_m_permutations(1)
    axes = [(np.pi / 2, np.pi / 2), (0.0, 0.0), (np.pi / 2, 0.0)]  # y, z, x
    theta = np.array([[a[0]] for a in axes])
    phi = np.array([[a[1]] for a in axes])
    values = sh.evaluate_spherical_harmonics(degree, order, theta, phi).numpy()[:, 1:]
    np.testing.assert_allclose(values, np.sqrt(3.0 / (4.0 * np.pi)) * np.eye(3), atol=1e-12)


def test_direction_form_matches_the_angle_form(rng):
    degree, order = sh.generate_l_m_permutations(MAX_BAND)
    theta = rng.uniform(0.0, np.pi, (20, 1))
    phi = rng.uniform(-np.pi, np.pi, (20, 1))
    direction = 2.5 * np.concatenate(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1
    )
    np.testing.assert_allclose(
        sh.evaluate_spherical_harmonics_from_direction(degree, order, direction),
        real_sh_scipy(degree, order, theta, phi),
        rtol=1e-10,
        atol=1e-12,
    )


def test_harmonics_are_orthonormal():
    degree, order = sh.generate_l_m_permutations(4)
    theta, phi, weights = quadrature(12)
    basis = sh.evaluate_spherical_harmonics(degree, order, theta, phi).numpy()
    gram = basis.T @ (basis * weights[:, None])
    np.testing.assert_allclose(gram, np.eye(25), atol=1e-12)


def test_generate_l_m_permutations():
    degree, order = sh.generate_l_m_permutations(2)
    np.testing.assert_array_equal(degree, [0, 1, 1, 1, 2, 2, 2, 2, 2])
    np.testing.assert_array_equal(order, [0, -1, 0, 1, -2, -1, 0, 1, 2])
    assert degree.dtype == np.int32
    for band in range(5):
        degree, order = sh.generate_l_m_permutations(band)
        index = degree * (degree + 1) + order
        np.testing.assert_array_equal(index, np.arange((band + 1) ** 2))


def test_integration_product_matches_numerical_integration(rng):
    degree, order = sh.generate_l_m_permutations(3)
    f, g = rng.normal(size=(2, 3, 16))
    theta, phi, weights = quadrature(10)
    basis = real_sh_scipy(degree, order, theta, phi)
    numeric = np.einsum("n,bn,bn->b", weights, f @ basis.T, g @ basis.T)
    got = sh.integration_product(f, g)
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], numeric, rtol=1e-10)
    assert sh.integration_product(f, g, keepdims=False).shape == (3,)


def test_rotated_zonal_harmonics_match_the_rotated_function(rng):
    zonal = rng.normal(size=(2, 4))  # bands 0..3
    axis_theta = rng.uniform(0.0, np.pi, (2, 1))
    axis_phi = rng.uniform(-np.pi, np.pi, (2, 1))
    coeffs = sh.rotate_zonal_harmonics(zonal, axis_theta, axis_phi).numpy()
    assert coeffs.shape == (2, 16)
    theta = rng.uniform(0.0, np.pi, (50, 1))
    phi = rng.uniform(-np.pi, np.pi, (50, 1))
    degree, order = sh.generate_l_m_permutations(3)
    basis = real_sh_scipy(degree, order, theta, phi)

    def unit(t, p):
        return np.concatenate([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1)

    for b in range(2):
        cosine = unit(theta, phi) @ unit(axis_theta[b], axis_phi[b])
        direct = sum(
            zonal[b, band]
            * np.sqrt((2 * band + 1) / (4 * np.pi))
            * scipy.special.eval_legendre(band, cosine)
            for band in range(4)
        )
        np.testing.assert_allclose(basis @ coeffs[b], direct, rtol=1e-9, atol=1e-10)


def test_rotating_about_z_by_zero_keeps_zonal_coefficients():
    zonal = np.array([1.0, 2.0, 3.0])
    coeffs = sh.rotate_zonal_harmonics(zonal, [0.0], [0.0]).numpy()
    expected = np.zeros(9)
    expected[[0, 2, 6]] = zonal
    np.testing.assert_allclose(coeffs, expected, atol=1e-12)


# --- gradients ----------------------------------------------------------------------------------


def test_legendre_jacobian():
    degree, order = legendre_pairs(3)
    assert_jacobian_matches(
        lambda x: sh.evaluate_legendre_polynomial(degree, order, x), [[[0.3], [-0.55]]]
    )


def test_spherical_harmonics_jacobian():
    degree, order = sh.generate_l_m_permutations(3)
    assert_jacobian_matches(
        lambda t, p: sh.evaluate_spherical_harmonics(degree, order, t, p),
        [[[0.4], [2.1]], [[0.7], [-2.0]]],
    )


def test_direction_form_jacobian():
    degree, order = sh.generate_l_m_permutations(3)
    assert_jacobian_matches(
        lambda d: sh.evaluate_spherical_harmonics_from_direction(degree, order, d),
        [[[0.2, -0.5, 0.8], [0.0, 0.0, 1.0]]],
    )


def test_rotate_zonal_and_integration_product_jacobians():
    assert_jacobian_matches(sh.rotate_zonal_harmonics, [[[0.5, -1.0, 0.3]], [[0.9]], [[-0.4]]])
    assert_jacobian_matches(
        sh.integration_product, [[[0.1, 0.2, -0.3, 0.4]], [[1.0, -0.5, 0.2, 0.7]]]
    )


@pytest.mark.parametrize("theta", [0.0, np.pi])
def test_gradients_are_finite_at_the_poles(theta):
    degree, order = sh.generate_l_m_permutations(4)
    assert_gradient_finite(
        lambda t, p: sh.evaluate_spherical_harmonics(degree, order, t, p), [[theta]], [[0.3]]
    )
    assert_gradient_finite(
        lambda z: sh.rotate_zonal_harmonics(z[0:1], z[1:2], z[2:3]), [1.0, theta, 0.0]
    )
    assert_gradient_finite(
        lambda d: sh.evaluate_spherical_harmonics_from_direction(degree, order, d),
        [[0.0, 0.0, np.cos(theta)]],
    )


@pytest.mark.parametrize("x", [1.0, -1.0])
def test_legendre_gradient_is_finite_at_the_ends(x):
    degree, order = legendre_pairs(4)
    assert_gradient_finite(lambda v: sh.evaluate_legendre_polynomial(degree, order, v), [[x]])


# --- bad input ----------------------------------------------------------------------------------


def test_rejects_non_integer_degrees_and_orders():
    with pytest.raises(ValueError, match="degree_l"):
        sh.evaluate_spherical_harmonics(np.array([1.0]), np.array([0]), [0.1], [0.2])
    with pytest.raises(ValueError, match="order_m"):
        sh.evaluate_spherical_harmonics(np.array([1]), np.array([0.5]), [0.1], [0.2])
    with pytest.raises(ValueError, match="order_m"):
        sh.evaluate_spherical_harmonics(np.array([1]), np.array([2]), [0.1], [0.2])
    with pytest.raises(ValueError, match="order_m"):
        sh.evaluate_legendre_polynomial(np.array([2]), np.array([-1]), [0.1])
    with pytest.raises(ValueError, match="degree_l"):
        sh.evaluate_legendre_polynomial(np.array([-1]), np.array([0]), [0.1])


def test_rejects_integer_angles_and_bad_shapes():
    degree, order = sh.generate_l_m_permutations(1)
    with pytest.raises(ValueError, match="theta"):
        sh.evaluate_spherical_harmonics(degree, order, np.array([[1]]), np.array([[0.2]]))
    with pytest.raises(ValueError, match="theta"):
        sh.evaluate_spherical_harmonics(degree, order, np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="x"):
        sh.evaluate_legendre_polynomial(1, 0, np.array([1, 0]))
    with pytest.raises(ValueError, match="direction"):
        sh.evaluate_spherical_harmonics_from_direction(degree, order, [[0.0, 1.0]])


def test_rotate_zonal_and_integration_product_reject_bad_shapes():
    with pytest.raises(ValueError, match="theta"):
        sh.rotate_zonal_harmonics([[1.0, 2.0]], [[0.1, 0.2]], [[0.3]])
    with pytest.raises(ValueError, match="phi"):
        sh.rotate_zonal_harmonics(np.ones((2, 3)), np.ones((2, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="harmonics2"):
        sh.integration_product(np.ones((2, 4)), np.ones((2, 9)))
    with pytest.raises(ValueError, match="harmonics"):
        sh.integration_product(np.ones((2, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="max_band"):
        sh.generate_l_m_permutations(-1)


def test_generate_l_m_zonal():
    degree, order = sh.generate_l_m_zonal(3)
    np.testing.assert_array_equal(degree, [0, 1, 2, 3])
    np.testing.assert_array_equal(order, [0, 0, 0, 0])
    assert degree.dtype == order.dtype == np.int32
    with pytest.raises(ValueError, match="max_band"):
        sh.generate_l_m_zonal(-1)


def test_tile_zonal_coefficients_repeats_each_band(rng):
    zonal = rng.normal(size=(2, 5, 4))
    tiled = sh.tile_zonal_coefficients(zonal)
    assert tiled.shape == (2, 5, 16)
    expected = np.concatenate([np.repeat(zonal[..., [b]], 2 * b + 1, -1) for b in range(4)], -1)
    np.testing.assert_array_equal(tiled, expected)
    # At theta = 0 the turned zonal function keeps its coefficients at m = 0: the tiled ones.
    degree, order = sh.generate_l_m_permutations(3)
    turned = sh.rotate_zonal_harmonics(zonal[0, 0], [0.0], [0.0])
    np.testing.assert_allclose(turned, np.where(order == 0, tiled[0, 0], 0.0), atol=1e-12)
    assert_jacobian_matches(sh.tile_zonal_coefficients, [zonal[0, :2]])
    with pytest.raises(ValueError, match="coefficients"):
        sh.tile_zonal_coefficients(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="coefficients"):
        sh.tile_zonal_coefficients(np.arange(3))


def test_non_integer_degrees_are_rejected_in_both_wordings():
    with pytest.raises(
        ValueError, match=r"^degree_l must hold integers.*must be of an integer type"
    ):
        sh.evaluate_legendre_polynomial(np.array([1.0]), np.array([0]), np.array([0.5]))


def test_the_normalization_constant_under_tfg_name_matches_the_factorial_formula():
    degrees = np.array([[0, 1, 2, 8], [3, 5, 8, 8]])
    orders = np.array([[0, -1, 2, 6], [0, -4, -6, 0]])
    expected = np.vectorize(
        lambda d, m: math.sqrt(
            (2 * d + 1) / (4 * math.pi) * math.factorial(d - abs(m)) / math.factorial(d + abs(m))
        )
    )(degrees, orders)
    got = sh._spherical_harmonics_normalization(degrees, orders)
    assert got.dtype == tf.float64 and got.shape == (2, 4)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert sh._spherical_harmonics_normalization(3, 1, tf.float32).dtype == (tf.float32)
    with pytest.raises(ValueError, match="order_m must satisfy"):
        sh._spherical_harmonics_normalization(2, 3)
    with pytest.raises(ValueError, match="degree_l must hold integers"):
        sh._spherical_harmonics_normalization(2.5, 1)


def test_degrees_and_orders_are_tensors_as_in_tensorflow_graphics():
    degree, order = sh.generate_l_m_permutations(2)
    assert isinstance(degree, tf.Tensor) and degree.shape.as_list() == [9]
    assert degree.dtype == order.dtype == tf.int32
    zonal_degree, zonal_order = sh.generate_l_m_zonal(2)
    assert isinstance(zonal_degree, tf.Tensor) and zonal_degree.dtype == tf.int32
    np.testing.assert_array_equal(zonal_degree, [0, 1, 2])
    np.testing.assert_array_equal(zonal_order, [0, 0, 0])
    # Tensors of degrees work inside a tf.function (constants, known when the op is built).
    evaluate = tf.function(lambda t, p: sh.evaluate_spherical_harmonics(degree, order, t, p))
    np.testing.assert_allclose(
        evaluate(tf.constant([[0.7]], tf.float64), tf.constant([[0.2]], tf.float64))[0],
        real_sh_scipy(degree.numpy(), order.numpy(), 0.7, 0.2),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: sh.evaluate_legendre_polynomial([-2], [0], [0.5]), "degree_l"),
        (lambda: sh.evaluate_legendre_polynomial([2], [3], [0.5]), "order_m"),
        (lambda: sh.evaluate_legendre_polynomial([2], [-1], [0.5]), "order_m"),
        (lambda: sh.evaluate_spherical_harmonics([1], [-2], [0.5], [0.1]), "order_m"),
    ],
)
def test_out_of_range_degrees_raise_at_once_an_error_of_both_kinds(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}") as error:
        call()
    assert isinstance(error.value, tf.errors.InvalidArgumentError)


def test_angle_and_degree_shape_errors_name_the_argument_and_tfg_wording():
    with pytest.raises(ValueError) as error:
        sh.evaluate_spherical_harmonics(np.arange(3), np.zeros(3, int), [0.5], [0.1, 0.2])
    message = str(error.value)
    assert message.startswith("phi must have shape [A1, ..., An, 1] (or end in degree_l's 3)")
    assert message.endswith("phi must have exactly 1 dimensions in axis -1")
    # An angle ending in K (one angle per harmonic) is allowed: it broadcasts.
    sh.evaluate_spherical_harmonics(np.arange(3), np.zeros(3, int), [0.5, 0.6, 0.7], [0.1])
    with pytest.raises(ValueError, match="must have the same number of dimensions in axes"):
        sh.evaluate_spherical_harmonics(np.arange(3), np.zeros(2, int), [0.5], [0.1])


def test_condon_shortley_phase_gives_tensorflow_graphics_signs(rng):
    degree, order = (t.numpy() for t in sh.generate_l_m_permutations(4))
    theta, phi = rng.uniform(0.0, np.pi, (7, 1)), rng.uniform(0.0, 2.0 * np.pi, (7, 1))
    # TFG's real harmonics: sqrt(2) Re / Im of SciPy's complex ones, phase kept.
    complex_y = scipy.special.sph_harm_y(degree, np.abs(order), theta, phi)
    tfg = np.where(
        order > 0,
        np.sqrt(2.0) * complex_y.real,
        np.where(order < 0, np.sqrt(2.0) * complex_y.imag, complex_y.real),
    )
    got = sh.evaluate_spherical_harmonics(degree, order, theta, phi, condon_shortley_phase=True)
    np.testing.assert_allclose(got, tfg, atol=1e-12)
    direction = np.concatenate(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1
    )
    np.testing.assert_allclose(
        sh.evaluate_spherical_harmonics_from_direction(
            degree, order, direction, condon_shortley_phase=True
        ),
        tfg,
        atol=1e-12,
    )
    with pytest.raises(TypeError, match="condon_shortley_phase"):
        sh.evaluate_spherical_harmonics(degree, order, theta, phi, condon_shortley_phase="tfg")
