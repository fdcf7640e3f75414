"""Environment lighting in spherical harmonics (Ramamoorthi and Hanrahan, 2001).

A distant environment ``L(w)`` (radiance arriving from direction ``w``) is projected onto real
SH coefficients ``L_lm`` (`[K, C]`, ``K = (L + 1)^2``, ordered as in
``course_lib.graphics.math.spherical_harmonics``). The irradiance at a normal ``n``,
``E(n) = integral of L(w) max(n . w, 0) dw``, is then a convolution with the clamped cosine,
which is zonal: ``E(n) = sum_lm A_l L_lm Y_lm(n)`` with ``A_0 = pi``, ``A_1 = 2 pi / 3``,
``A_2 = pi / 4``, ``A_3 = 0``, ``A_4 = -pi / 24`` ... (:func:`clamped_cosine_coefficients`).
A Lambertian surface of albedo ``a`` then reflects ``a / pi * E(n)``: bands 0 to 2 (nine
coefficients per channel) capture it to within about 1 %.

Directions are ``w = (sin t cos p, sin t sin p, cos t)``: ``theta`` from +z, ``phi`` from +x.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.math import spherical_harmonics
from course_lib.graphics.util import safe_ops, shape


def directions_to_angles(
    direction: Any, name: str = "directions_to_angles"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Polar angle ``theta`` in ``[0, pi]`` and azimuth ``phi`` in ``(-pi, pi]`` of directions.

    Args:
        direction: `[A1, ..., An, 3]` directions (normalized inside).

    Returns:
        ``(theta, phi)``, each `[A1, ..., An, 1]`; finite gradients at the poles.
    """
    with tf.name_scope(name):
        (direction,) = shape.checked(direction=(direction, 3))
        x, y, z = tf.split(safe_ops.normalize(direction), 3, axis=-1)
        theta = safe_ops.atan2(safe_ops.norm(tf.concat([x, y], axis=-1)), z)
        return theta, safe_ops.atan2(y, x)


def angles_to_directions(theta: Any, phi: Any, name: str = "angles_to_directions") -> tf.Tensor:
    """Unit directions ``(sin t cos p, sin t sin p, cos t)``.

    Args:
        theta: `[A1, ..., An, 1]` polar angles.
        phi: `[A1, ..., An, 1]` azimuths.

    Returns:
        `[A1, ..., An, 3]` unit directions.
    """
    with tf.name_scope(name):
        theta, phi = shape.checked(theta=(theta, 1), phi=(phi, 1))
        sin = tf.sin(theta)
        return tf.concat([sin * tf.cos(phi), sin * tf.sin(phi), tf.cos(theta) + 0.0 * phi], -1)


def sphere_quadrature(
    num_theta: int, num_phi: int | None = None, dtype: tf.DType = tf.float32
) -> tuple[tf.Tensor, tf.Tensor]:
    """Directions and weights of a product quadrature on the sphere.

    Gauss-Legendre nodes in ``cos(theta)`` times uniform azimuths: exact for spherical
    polynomials of degree below ``2 num_theta`` in ``cos(theta)`` and ``num_phi`` in ``phi``, so
    products of SH up to band ``num_theta - 1`` integrate exactly.

    Args:
        num_theta: number of polar nodes.
        num_phi: number of azimuths (default ``2 num_theta``).

    Returns:
        ``(directions, weights)``: `[N, 3]` unit directions and `[N]` weights summing to 4 pi,
        ``N = num_theta num_phi``.

    Raises:
        TypeError: if ``num_theta`` or ``num_phi`` is not an int.
        ValueError: if either is below 1.
    """
    num_theta = checks.positive_int("num_theta", num_theta)
    num_phi = checks.positive_int("num_phi", 2 * num_theta if num_phi is None else num_phi)
    cos_theta, polar_weights = np.polynomial.legendre.leggauss(num_theta)
    phi = (np.arange(num_phi) + 0.5) * 2.0 * np.pi / num_phi
    cos_theta, phi = np.meshgrid(cos_theta, phi, indexing="ij")
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    directions = np.stack(
        [sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], axis=-1
    ).reshape(-1, 3)
    weights = np.repeat(polar_weights * 2.0 * np.pi / num_phi, num_phi)
    return tf.constant(directions, dtype), tf.constant(weights, dtype)


def monte_carlo_directions(
    num_samples: int, seed: int = 0, dtype: tf.DType = tf.float32
) -> tuple[tf.Tensor, tf.Tensor]:
    """Uniformly distributed random directions and their Monte Carlo weights ``4 pi / N``.

    Returns:
        ``(directions, weights)``: `[N, 3]` unit directions and `[N]` weights.
    """
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(num_samples, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    weights = np.full(num_samples, 4.0 * np.pi / num_samples)
    return tf.constant(directions, dtype), tf.constant(weights, dtype)


def _basis(direction: tf.Tensor, max_band: int) -> tf.Tensor:
    """`[..., K]` real SH of the directions `[..., 3]`."""
    degree, order = spherical_harmonics.generate_l_m_permutations(max_band)
    return spherical_harmonics.evaluate_spherical_harmonics_from_direction(degree, order, direction)


def _max_band(sh_coefficients: tf.Tensor) -> int:
    count = sh_coefficients.shape[-2]
    band = math.isqrt(count) - 1 if count else -1
    if count is None or (band + 1) ** 2 != count:
        raise ValueError(
            f"sh_coefficients must have shape [A1, ..., An, K, C] with K = (L + 1)^2, "
            f"got {tuple(sh_coefficients.shape)}"
        )
    return band


def project(
    radiance: Any, directions: Any, weights: Any, max_band: int, name: str = "project_environment"
) -> tf.Tensor:
    """SH coefficients ``L_lm = sum_i w_i L(w_i) Y_lm(w_i)`` of a sampled environment.

    Args:
        radiance: `[A1, ..., An, N, C]` radiance arriving from each sample direction.
        directions: `[N, 3]` sample directions (from :func:`sphere_quadrature` or
            :func:`monte_carlo_directions`).
        weights: `[N]` quadrature or Monte Carlo weights.
        max_band: the highest band ``L``.

    Returns:
        `[A1, ..., An, (L + 1)^2, C]` coefficients.

    Raises:
        ValueError: if ``directions`` does not end in 3, the sample counts differ, or a dtype is
            not floating.
    """
    with tf.name_scope(name):
        radiance, directions, weights = shape.checked(
            radiance=(radiance, (None, None)), directions=(directions, 3), weights=(weights, None)
        )
        if directions.shape.rank != 2 or weights.shape.rank != 1:
            raise ValueError("directions must have shape [N, 3] and weights shape [N]")
        count = directions.shape[0]
        if radiance.shape[-2] != count or weights.shape[0] != count:
            raise ValueError(
                f"radiance must have shape [A1, ..., An, N, C] with N = {count} samples, got "
                f"{tuple(radiance.shape)} (weights {tuple(weights.shape)})"
            )
        basis = _basis(directions, max_band) * weights[:, tf.newaxis]
        return tf.einsum("nk,...nc->...kc", basis, radiance)


def project_function(
    environment: Callable[[tf.Tensor], tf.Tensor],
    max_band: int,
    num_theta: int = 32,
    dtype: tf.DType = tf.float32,
) -> tf.Tensor:
    """SH coefficients of ``environment(directions [N, 3]) -> [N, C]`` by exact quadrature.

    Returns:
        `[(L + 1)^2, C]` coefficients; exact for environments of bands up to ``num_theta - 1``.
    """
    directions, weights = sphere_quadrature(num_theta, dtype=dtype)
    return project(environment(directions), directions, weights, max_band)


def clamped_cosine_coefficients(max_band: int) -> np.ndarray:
    """``A_l``, ``l = 0..L``: the convolution weights of the clamped cosine ``max(cos t, 0)``.

    ``A_0 = pi``, ``A_1 = 2 pi / 3``, ``A_l = 0`` for odd ``l > 1``, and for even ``l``
    ``A_l = 2 pi (-1)^(l/2 - 1) / ((l + 2)(l - 1)) * l! / (2^l ((l/2)!)^2)``.

    Returns:
        `[L + 1]` float64 array.
    """
    values = []
    for band in range(max_band + 1):
        if band == 0:
            values.append(np.pi)
        elif band == 1:
            values.append(2.0 * np.pi / 3.0)
        elif band % 2 == 1:
            values.append(0.0)
        else:
            half = band // 2
            binomial = math.factorial(band) / (2**band * math.factorial(half) ** 2)
            values.append(2.0 * np.pi * (-1) ** (half - 1) / ((band + 2) * (band - 1)) * binomial)
    return np.asarray(values)


def evaluate(sh_coefficients: Any, direction: Any, name: str = "evaluate_environment") -> tf.Tensor:
    """The environment's radiance ``sum_lm L_lm Y_lm(w)`` rebuilt from its coefficients.

    Args:
        sh_coefficients: `[A1, ..., An, K, C]` coefficients, ``K = (L + 1)^2``.
        direction: `[A1, ..., An, 3]` directions.

    Returns:
        `[A1, ..., An, C]` radiance.
    """
    with tf.name_scope(name):
        coefficients, direction = shape.checked(
            sh_coefficients=(sh_coefficients, (None, None)), direction=(direction, 3)
        )
        basis = _basis(direction, _max_band(coefficients))
        return tf.reduce_sum(basis[..., tf.newaxis] * coefficients, axis=-2)


def irradiance(sh_coefficients: Any, surface_normal: Any, name: str = "irradiance") -> tf.Tensor:
    """Irradiance ``E(n) = sum_lm A_l L_lm Y_lm(n)`` at surface normals.

    Args:
        sh_coefficients: `[A1, ..., An, K, C]` environment coefficients, ``K = (L + 1)^2``.
        surface_normal: `[A1, ..., An, 3]` normals (normalized inside).

    Returns:
        `[A1, ..., An, C]` irradiance: the integral of ``L(w) max(n . w, 0)`` over directions.

    Raises:
        ValueError: if ``K`` is not a square, ``surface_normal`` does not end in 3, a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        coefficients, normal = shape.checked(
            sh_coefficients=(sh_coefficients, (None, None)), surface_normal=(surface_normal, 3)
        )
        max_band = _max_band(coefficients)
        degree, _ = spherical_harmonics.generate_l_m_permutations(max_band)
        per_band = tf.constant(clamped_cosine_coefficients(max_band), coefficients.dtype)
        weights = tf.gather(per_band, degree)
        basis = _basis(normal, max_band) * weights
        return tf.reduce_sum(basis[..., tf.newaxis] * coefficients, axis=-2)


def shade_diffuse(
    sh_coefficients: Any, surface_normal: Any, albedo: Any, name: str = "shade_diffuse"
) -> tf.Tensor:
    """Radiance reflected by a Lambertian surface under an SH environment: ``a / pi * E(n)``.

    Args:
        sh_coefficients: `[A1, ..., An, K, C]` environment coefficients.
        surface_normal: `[A1, ..., An, 3]` normals.
        albedo: `[A1, ..., An, C]` albedos.

    Returns:
        `[A1, ..., An, C]` outgoing radiance.
    """
    with tf.name_scope(name):
        coefficients, normal, albedo = shape.checked(
            sh_coefficients=(sh_coefficients, (None, None)),
            surface_normal=(surface_normal, 3),
            albedo=(albedo, (None,)),
        )
        return albedo / np.pi * irradiance(coefficients, normal)
