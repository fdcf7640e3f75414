"""BRDFs: closed forms in NumPy, the course listing, energy, gradients at the horizon, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import course_lib.graphics.rendering.reflectance as tfg_reflectance
from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian, phong
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def numpy_lambertian(incoming, outgoing, normal, albedo):
    n, to_light, v = unit(normal), -unit(incoming), unit(outgoing)
    above = ((n * to_light).sum(-1, keepdims=True) > 0) & ((n * v).sum(-1, keepdims=True) > 0)
    return np.where(above, albedo / np.pi, 0.0)


def numpy_phong(incoming, outgoing, normal, shininess, albedo):
    n, i, v = unit(normal), unit(incoming), unit(outgoing)
    r = i - 2.0 * (i * n).sum(-1, keepdims=True) * n
    lobe = np.maximum((r * v).sum(-1, keepdims=True), 0.0) ** shininess
    above = ((n * -i).sum(-1, keepdims=True) > 0) & ((n * v).sum(-1, keepdims=True) > 0)
    return np.where(above, albedo * (shininess + 2.0) / (2.0 * np.pi) * lobe, 0.0)


def numpy_blinn_phong(incoming, outgoing, normal, shininess, albedo):
    n, to_light, v = unit(normal), -unit(incoming), unit(outgoing)
    h = unit(to_light + v)
    lobe = np.maximum((n * h).sum(-1, keepdims=True), 0.0) ** shininess
    above = ((n * to_light).sum(-1, keepdims=True) > 0) & ((n * v).sum(-1, keepdims=True) > 0)
    return np.where(above, albedo * (shininess + 8.0) / (8.0 * np.pi) * lobe, 0.0)


def random_inputs(rng, count=64, channels=3):
    normal = rng.normal(size=(count, 3))
    incoming = rng.normal(size=(count, 3))
    outgoing = rng.normal(size=(count, 3))
    shininess = rng.uniform(0.5, 40.0, (count, 1))
    albedo = rng.uniform(0.0, 1.0, (count, channels))
    return incoming, outgoing, normal, shininess, albedo


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_brdfs_match_their_closed_forms(rng, dtype, channels):
    inputs = [a.astype(dtype) for a in random_inputs(rng, channels=channels)]
    incoming, outgoing, normal, shininess, albedo = inputs
    reference = [a.astype(np.float64) for a in inputs]  # the closed forms in float64
    expected = numpy_lambertian(*reference[:3], reference[4])
    assert 0 < np.count_nonzero(expected[:, 0]) < len(expected)  # both sides of the horizon
    got = lambertian.brdf(incoming, outgoing, normal, albedo)
    assert got.dtype == dtype and got.shape == (64, channels)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        phong.brdf(incoming, outgoing, normal, shininess, albedo),
        numpy_phong(*reference),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        blinn_phong.brdf(incoming, outgoing, normal, shininess, albedo),
        numpy_blinn_phong(*reference),
        rtol=1e-5,
        atol=1e-6,
    )


def test_brdfs_broadcast_batch_dimensions(rng):
    normal = np.array([0.0, 0.0, 1.0])
    incoming = rng.normal(size=(4, 1, 3)) + [0.0, 0.0, -2.0]
    outgoing = rng.normal(size=(1, 5, 3)) + [0.0, 0.0, 2.0]
    albedo = np.array([0.2, 0.5, 0.9])
    got = blinn_phong.brdf(incoming, outgoing, normal, [10.0], albedo)
    assert got.shape == (4, 5, 3)
    expected = numpy_blinn_phong(
        np.broadcast_to(incoming, (4, 5, 3)),
        np.broadcast_to(outgoing, (4, 5, 3)),
        normal,
        10.0,
        albedo,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_the_course_listing_corrected():
    surface_normal = (0.0, 1.0, 0.0)
    incoming_ray = (100.0, -100.0, 0.0)  # from the light, down onto the surface
    outgoing_ray = (256.0, 256.0, 0.0)  # toward the camera: the mirror direction
    color = (1.0, 1.0, 1.0)
    shininess = (0.5,)
    output_color = tfg_reflectance.blinn_phong.brdf(
        incoming_ray, outgoing_ray, surface_normal, shininess, color
    )
    np.testing.assert_allclose(output_color, np.full(3, 8.5 / (8.0 * np.pi)), rtol=1e-6)


def test_a_white_lambertian_and_phong_conserve_energy_head_on():
    # integral over the hemisphere of brdf * cos = 1 for light arriving along the normal
    cos_theta, weights = np.polynomial.legendre.leggauss(64)
    cos_theta, weights = 0.5 * (cos_theta + 1.0), 0.5 * weights * 2.0 * np.pi  # upper half
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    outgoing = np.stack([sin_theta, np.zeros_like(sin_theta), cos_theta], -1)
    normal, incoming = np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, -1.0])
    for value in (
        lambertian.brdf(incoming, outgoing, normal, [1.0]),
        phong.brdf(incoming, outgoing, normal, [12.0], [1.0]),
    ):
        total = np.sum(np.asarray(value)[:, 0] * cos_theta * weights)
        np.testing.assert_allclose(total, 1.0, rtol=1e-6)


def test_blinn_phong_peaks_at_the_half_vector():
    normal = np.array([0.0, 0.0, 1.0])
    incoming = unit(np.array([1.0, 0.0, -1.0]))
    mirror = unit(np.array([1.0, 0.0, 1.0]))
    others = unit(np.array([[0.5, 0.2, 1.0], [1.0, 0.3, 1.0], [2.0, 0.0, 1.0]]))
    at_mirror = blinn_phong.brdf(incoming, mirror, normal, [30.0], [1.0])
    np.testing.assert_allclose(at_mirror, [38.0 / (8.0 * np.pi)], rtol=1e-6)
    assert np.all(blinn_phong.brdf(incoming, others, normal, [30.0], [1.0]) < at_mirror)


# --- gradients ----------------------------------------------------------------------------------

INCOMING = [[0.3, -0.2, -1.0], [-0.5, 0.1, -0.8]]
OUTGOING = [[-0.2, 0.3, 1.0], [0.6, -0.1, 0.9]]
NORMAL = [[0.1, 0.0, 1.0], [0.0, 0.2, 1.0]]
SHININESS = [[5.0], [2.5]]
ALBEDO = [[0.2, 0.6, 0.9], [0.7, 0.3, 0.5]]


def test_lambertian_jacobian():
    assert_jacobian_matches(lambertian.brdf, [INCOMING, OUTGOING, NORMAL, ALBEDO])


@pytest.mark.parametrize("model", [phong, blinn_phong], ids=["phong", "blinn_phong"])
def test_specular_jacobians(model):
    assert_jacobian_matches(model.brdf, [INCOMING, OUTGOING, NORMAL, SHININESS, ALBEDO])


@pytest.mark.parametrize("model", [lambertian, phong, blinn_phong])
@pytest.mark.parametrize(
    ("incoming", "outgoing"),
    [
        ([1.0, 0.0, 0.0], [0.0, 0.3, 1.0]),  # light exactly at the horizon: n . l = 0
        ([0.2, 0.0, -1.0], [0.0, 1.0, 0.0]),  # view exactly at the horizon: n . v = 0
        ([1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]),  # both, and l + v = 0
        ([0.0, 0.0, 1.0], [0.0, 0.0, -1.0]),  # both below
    ],
)
def test_gradients_are_finite_at_the_horizon(model, incoming, outgoing):
    normal = [0.0, 0.0, 1.0]
    if model is lambertian:
        assert_gradient_finite(model.brdf, incoming, outgoing, normal, [0.5, 0.5, 0.5])
    else:
        assert_gradient_finite(model.brdf, incoming, outgoing, normal, [0.5], [0.5, 0.5, 0.5])
    value = (
        model.brdf(incoming, outgoing, normal, [0.5, 0.5, 0.5])
        if model is lambertian
        else model.brdf(incoming, outgoing, normal, [0.5], [0.5, 0.5, 0.5])
    )
    np.testing.assert_array_equal(value, np.zeros(3))


@pytest.mark.parametrize("model", [phong, blinn_phong], ids=["phong", "blinn_phong"])
def test_gradients_are_finite_where_the_lobe_vanishes(model):
    # r . v = 0 (Phong) or n . h = 0 cannot both hold above the horizon for Blinn-Phong, but a
    # lobe at exactly zero with a fractional exponent must not give an infinite gradient
    assert_gradient_finite(
        model.brdf, [1.0, 0.0, -1.0], [-1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.5], [1.0]
    )
    assert_gradient_finite(
        model.brdf, [[0.0, 0.0, -1.0]], [[0.0, 0.0, 1.0]], [[0.0, 0.0, 0.0]], [[0.5]], [[1.0]]
    )


# --- bad input ----------------------------------------------------------------------------------


def test_rejects_two_vector_rays_as_on_the_slide():
    with pytest.raises(ValueError, match="direction_incoming_light"):
        blinn_phong.brdf((100.0, 100.0), (256.0, 256.0, 0.0), (0.0, 1.0, 0.0), (0.5,), (1.0,))
    with pytest.raises(ValueError, match="direction_outgoing_light"):
        phong.brdf((1.0, 1.0, 0.0), (256.0, 256.0), (0.0, 1.0, 0.0), (0.5,), (1.0,))
    with pytest.raises(ValueError, match="surface_normal"):
        lambertian.brdf((1.0, 1.0, 0.0), (1.0, 1.0, 0.0), (0.0, 1.0), (1.0,))


def test_rejects_bad_shininess_albedo_and_dtypes():
    args = ([0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="shininess"):
        blinn_phong.brdf(*args, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="albedo"):
        blinn_phong.brdf(*args, [1.0], 1.0)
    with pytest.raises(ValueError, match="albedo"):
        lambertian.brdf(*args, np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="surface_normal"):
        phong.brdf(args[0], args[1], np.array([0, 0, 1]), [1.0], [1.0])


def test_rejects_batches_that_do_not_broadcast():
    with pytest.raises(ValueError, match="do not broadcast"):
        lambertian.brdf(np.ones((2, 3)), np.ones((3, 3)), [0.0, 0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="albedo"):
        blinn_phong.brdf(np.ones((2, 3)), np.ones((2, 3)), [0.0, 0.0, 1.0], [1.0], np.ones((4, 3)))
