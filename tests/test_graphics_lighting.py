"""Lights and the sphere renderer: point light, SH environment lighting, ray-sphere intersection."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from course_lib.graphics.math import spherical_harmonics as sh
from course_lib.graphics.rendering import sphere
from course_lib.graphics.rendering.light import environment, point_light
from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --- point light --------------------------------------------------------------------------------


def test_point_light_matches_the_closed_form(rng):
    count = 32
    radiance = rng.uniform(0.5, 2.0, (count, 3))
    light = rng.normal(size=(count, 3)) + [0.0, 0.0, 3.0]
    point = rng.normal(size=(count, 3)) * 0.3
    normal = unit(rng.normal(size=(count, 3)) + [0.0, 0.0, 1.5])
    observer = rng.normal(size=(count, 3)) + [0.0, 0.0, 4.0]
    albedo = rng.uniform(0.0, 1.0, (count, 3))

    def brdf(i, o, n):
        return lambertian.brdf(i, o, n, albedo)

    got = point_light.estimate_radiance(radiance, light, point, normal, observer, brdf)
    offset = light - point
    distance2 = (offset**2).sum(-1, keepdims=True)
    cos_light = (normal * unit(offset)).sum(-1, keepdims=True)
    cos_view = (normal * unit(observer - point)).sum(-1, keepdims=True)
    visible = (cos_light > 0) & (cos_view > 0)
    expected = np.where(visible, albedo / np.pi * radiance * cos_light / distance2, 0.0)
    assert 0 < np.count_nonzero(expected[:, 0]) < count
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_point_light_falloff_and_gradients():
    direction, falloff = point_light.incoming_direction_and_falloff(
        [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]
    )
    np.testing.assert_allclose(direction, [0.0, 0.0, -1.0])
    np.testing.assert_allclose(falloff, [0.25])

    def both(light, point):  # the light exactly at the point: distance zero
        direction, falloff = point_light.incoming_direction_and_falloff(light, point)
        return direction * falloff

    assert_gradient_finite(both, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])

    def radiance(light, point):
        return point_light.estimate_radiance(
            [1.0, 0.5],
            light,
            point,
            [0.0, 0.0, 1.0],
            [0.3, 0.0, 3.0],
            lambda i, o, n: blinn_phong.brdf(i, o, n, [8.0], [0.8, 0.4]),
        )

    assert_jacobian_matches(radiance, [[0.5, -0.3, 2.0], [0.1, 0.2, 0.0]])
    assert_gradient_finite(radiance, [1.0, 0.0, 0.0], [0.0, 0.0, 0.0])  # light at the horizon


def test_point_light_rejects_bad_input():
    args = [[1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.0]]
    brdf = lambda i, o, n: lambertian.brdf(i, o, n, [1.0])  # noqa: E731
    with pytest.raises(ValueError, match="point_light_position"):
        point_light.estimate_radiance(args[0], [0.0, 1.0], *args[2:], brdf)
    with pytest.raises(ValueError, match="surface_normal"):
        point_light.estimate_radiance(*args[:3], np.array([0, 0, 1]), args[4], brdf)


# --- SH environment -----------------------------------------------------------------------------


def sun(direction, axis=(0.3, -0.4, 0.8), sharpness=6.0):
    """A bright lobe plus a sky gradient, RGB: not band-limited."""
    axis = unit(np.asarray(axis))
    d = np.asarray(direction, dtype=np.float64)
    lobe = np.exp(sharpness * ((d * axis).sum(-1, keepdims=True) - 1.0))
    return lobe * [1.0, 0.9, 0.7] + (0.3 + 0.2 * d[..., 2:3]) * [0.4, 0.6, 1.0]


def brute_force_irradiance(environment_fn, normal, num_theta=200):
    cos_theta, weights = np.polynomial.legendre.leggauss(num_theta)
    phi = (np.arange(2 * num_theta) + 0.5) * np.pi / num_theta
    cos_theta, phi = np.meshgrid(cos_theta, phi, indexing="ij")
    sin_theta = np.sqrt(1 - cos_theta**2)
    w = np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], -1).reshape(-1, 3)
    weights = np.repeat(weights * np.pi / num_theta, 2 * num_theta)
    radiance = environment_fn(w)
    cosine = np.maximum(unit(normal) @ w.T, 0.0)
    return (cosine * weights) @ radiance


def test_clamped_cosine_coefficients_match_numerical_integration():
    # A_l = sqrt(4 pi / (2l + 1)) * coefficient of max(cos, 0) on Y_l^0 = 2 pi int_0^1 P_l(x) x dx
    x, w = np.polynomial.legendre.leggauss(40)
    x, w = 0.5 * (x + 1.0), 0.5 * w
    numeric = [
        2 * np.pi * np.sum(w * scipy.special.eval_legendre(band, x) * x) for band in range(9)
    ]
    np.testing.assert_allclose(environment.clamped_cosine_coefficients(8), numeric, atol=1e-12)
    np.testing.assert_allclose(
        environment.clamped_cosine_coefficients(4)[:5],
        [np.pi, 2 * np.pi / 3, np.pi / 4, 0.0, -np.pi / 24],
    )


def test_project_recovers_band_limited_coefficients(rng):
    coeffs = rng.normal(size=(16, 3))
    directions, weights = environment.sphere_quadrature(8, dtype=np.float64)
    values = environment.evaluate(coeffs, directions)
    np.testing.assert_allclose(
        environment.project(values, directions, weights, 3), coeffs, atol=1e-12
    )
    mc_directions, mc_weights = environment.monte_carlo_directions(20000, seed=1, dtype=np.float64)
    mc = environment.project(
        environment.evaluate(coeffs, mc_directions), mc_directions, mc_weights, 3
    )
    assert np.abs(mc - coeffs).max() < 0.15  # Monte Carlo: about 1 / sqrt(N) times the spread


def test_irradiance_matches_brute_force_integration(rng):
    normal = unit(rng.normal(size=(6, 3)))
    expected = brute_force_irradiance(sun, normal)
    coeffs = environment.project_function(sun, max_band=10, num_theta=40, dtype=np.float64)
    got = environment.irradiance(coeffs, normal)
    np.testing.assert_allclose(got, expected, rtol=2e-4)
    nine = environment.irradiance(coeffs[:9], normal)  # bands 0-2: the classic nine numbers
    assert np.abs(nine - expected).max() < 0.03 * np.abs(expected).max()
    albedo = np.array([0.2, 0.5, 0.8])
    np.testing.assert_allclose(
        environment.shade_diffuse(coeffs, normal, albedo), albedo / np.pi * got, rtol=1e-10
    )


def test_irradiance_of_a_band_limited_environment_is_exact(rng):
    coeffs = rng.normal(size=(9, 2))
    normal = unit(rng.normal(size=(5, 3)))

    def env(w):
        return np.asarray(environment.evaluate(coeffs, w))

    np.testing.assert_allclose(
        environment.irradiance(coeffs, normal),
        brute_force_irradiance(env, normal),
        rtol=1e-4,
        atol=1e-5,
    )


def test_environment_gradients():
    coeffs = np.linspace(-1.0, 1.0, 18).reshape(9, 2)
    assert_jacobian_matches(environment.irradiance, [coeffs, [[0.3, -0.2, 0.9]]])
    assert_gradient_finite(environment.irradiance, coeffs, [[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    assert_gradient_finite(environment.directions_to_angles, [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


def test_environment_rejects_bad_input():
    with pytest.raises(ValueError, match="sh_coefficients"):
        environment.irradiance(np.ones((8, 3)), [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="surface_normal"):
        environment.irradiance(np.ones((9, 3)), [0.0, 1.0])
    with pytest.raises(ValueError, match="radiance"):
        directions, weights = environment.sphere_quadrature(4)
        environment.project(np.ones((10, 3), np.float32), directions, weights, 2)


def test_rotated_zonal_lobe_lights_like_its_axis():
    # a zonal environment turned toward an axis gives the largest irradiance along that axis
    zonal = np.array([1.0, 0.8, 0.3], np.float32)
    coeffs = sh.rotate_zonal_harmonics(zonal, [1.0], [0.5]).numpy()[:, None]
    axis = environment.angles_to_directions([1.0], [0.5]).numpy()
    normals = unit(np.random.default_rng(3).normal(size=(50, 3))).astype(np.float32)
    values = environment.irradiance(coeffs, normals).numpy()
    assert environment.irradiance(coeffs, axis).numpy()[0] >= values.max()


# --- the sphere renderer ------------------------------------------------------------------------


def test_intersect_matches_the_closed_form(rng):
    origin = rng.normal(size=(40, 3))
    direction = unit(rng.normal(size=(40, 3)) + [0.0, 0.0, 1.0])
    center = np.array([0.0, 0.0, 3.0]) + rng.normal(size=(40, 3)) * 0.3
    radius = rng.uniform(0.5, 1.5, (40, 1))
    distance, hit = sphere.intersect(origin, direction, center, radius)
    b = (direction * (origin - center)).sum(-1, keepdims=True)
    c = ((origin - center) ** 2).sum(-1, keepdims=True) - radius**2
    disc = b * b - c
    near = -b - np.sqrt(np.maximum(disc, 0.0))
    t = np.where(near > 0, near, -b + np.sqrt(np.maximum(disc, 0.0)))  # from inside: far side
    expected_hit = (disc >= 0) & (t > 0)
    assert 0 < expected_hit.sum() < 40
    np.testing.assert_array_equal(hit, expected_hit)
    np.testing.assert_allclose(distance, np.where(expected_hit, t, 0.0), rtol=1e-5, atol=1e-6)
    points = origin + np.asarray(distance) * direction
    on_sphere = np.linalg.norm(points - center, axis=-1, keepdims=True)
    np.testing.assert_allclose(on_sphere[expected_hit], radius[expected_hit], rtol=1e-5)


def test_intersect_from_inside_hits_the_far_side():
    distance, hit = sphere.intersect([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.5], [1.0])
    np.testing.assert_allclose(distance, [1.5])
    assert bool(hit[0])


def test_intersect_gradients():
    def distance(o, d, c, r):
        return sphere.intersect(o, d, c, r)[0]

    assert_jacobian_matches(
        distance, [[[0.1, 0.2, 0.0]], [[0.05, -0.1, 1.0]], [[0.0, 0.0, 3.0]], [[1.0]]]
    )
    # a ray tangent to the sphere: the discriminant is exactly zero
    assert_gradient_finite(distance, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 3.0], [1.0])
    value, hit = sphere.intersect([1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 3.0], [1.0])
    np.testing.assert_allclose(value, [3.0])
    assert bool(hit[0])
    assert_gradient_finite(distance, [2.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 3.0], [1.0])


def test_intersect_rejects_bad_input():
    with pytest.raises(ValueError, match="ray_direction"):
        sphere.intersect([0.0, 0.0, 0.0], [0.0, 1.0], [0.0, 0.0, 3.0], [1.0])
    with pytest.raises(ValueError, match="radius"):
        sphere.intersect([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 3.0], 1.0)
    with pytest.raises(ValueError, match="center"):
        sphere.intersect([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], np.array([0, 0, 3]), [1.0])


@pytest.mark.parametrize("projection", ["orthographic", "perspective"])
def test_render_a_lambertian_sphere(projection):
    image = sphere.render(
        (32, 40),
        lambda i, o, n: lambertian.brdf(i, o, n, [1.0, 0.5, 0.25]),
        [0.0, 0.0, 1.0],
        background=0.1,
        projection=projection,
    ).numpy()
    assert image.shape == (32, 40, 3)
    np.testing.assert_allclose(image[0, 0], [0.1, 0.1, 0.1])
    np.testing.assert_allclose(image[15:17, 19:21].mean((0, 1)), [1.0, 0.5, 0.25], rtol=2e-2)
    assert image.max() <= 1.0 + 1e-6


def test_render_orthographic_matches_the_normal_closed_form():
    size = 24
    light = unit(np.array([0.4, -0.5, 1.0]))
    image = sphere.render((size, size), lambda i, o, n: lambertian.brdf(i, o, n, [1.0]), light)
    coords = ((np.arange(size) + 0.5) - size / 2) * 2.2 / size
    y, x = np.meshgrid(coords, coords, indexing="ij")
    inside = x**2 + y**2 <= 1.0
    normal = np.stack([x, y, -np.sqrt(np.maximum(1 - x**2 - y**2, 0))], -1)
    expected = np.where(inside, np.maximum(normal @ -light, 0.0), 0.0)
    np.testing.assert_allclose(np.asarray(image)[..., 0], expected, atol=1e-5)


def test_render_gradients_reach_light_and_material():
    def image(shininess, light):
        return sphere.render(
            (8, 8), lambda i, o, n: blinn_phong.brdf(i, o, n, shininess, [1.0, 1.0, 1.0]), light
        )

    assert_gradient_finite(image, [10.0], [0.3, -0.2, 1.0])
    assert_gradient_finite(image, [10.0], [1.0, 0.0, 0.0])  # grazing light
    direction = sphere.light_direction_from_angles([0.0], [0.0])
    np.testing.assert_allclose(direction, [0.0, 0.0, 1.0], atol=1e-7)
    up = sphere.light_direction_from_angles([0.0], [np.pi / 2])
    np.testing.assert_allclose(up, [0.0, 1.0, 0.0], atol=1e-7)  # a light above shines down (+y)


def test_render_rejects_bad_input():
    with pytest.raises(ValueError, match="light_direction"):
        sphere.render((4, 4), lambda i, o, n: lambertian.brdf(i, o, n, [1.0]), [0.0, 1.0])
    with pytest.raises(ValueError, match="projection"):
        sphere.camera_rays((4, 4), projection="fisheye")
    with pytest.raises(ValueError, match="image_size"):
        sphere.camera_rays((0, 4))
