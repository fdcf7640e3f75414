"""Real spherical harmonics: associated Legendre polynomials, the SH basis, zonal rotation.

Conventions (binding for the whole course):

- ``theta`` is the polar angle in ``[0, pi]`` measured from the +z axis, ``phi`` the azimuth
  about +z measured from +x: the direction is ``(sin t cos p, sin t sin p, cos t)``.
- :func:`evaluate_legendre_polynomial` is the associated Legendre polynomial **with** the
  Condon-Shortley phase ``(-1)^m``, exactly as ``scipy.special.lpmv``:
  ``P_1^1(x) = -sqrt(1 - x^2)``.
- :func:`evaluate_spherical_harmonics` is the **real**, orthonormal basis of graphics
  (Sloan; Ramamoorthi and Hanrahan), in which the Condon-Shortley phase of the Legendre
  polynomial is cancelled by a factor ``(-1)^m``::

      Y_l^m = sqrt(2) K_l^m (-1)^m P_l^m(cos t) cos(m p)        m > 0
      Y_l^0 =         K_l^0        P_l^0(cos t)
      Y_l^m = sqrt(2) K_l^|m| (-1)^m P_l^|m|(cos t) sin(|m| p)  m < 0

  with ``K_l^m = sqrt((2l + 1) / (4 pi) (l - m)! / (l + m)!)``. In terms of SciPy's complex
  harmonics ``Y = scipy.special.sph_harm_y(l, m, theta, phi)`` (which include the phase) this is
  ``sqrt(2) (-1)^m Re Y_l^m`` for ``m > 0`` and ``sqrt(2) (-1)^m Im Y_l^|m|`` for ``m < 0``.
  So the first band reads ``(Y_1^-1, Y_1^0, Y_1^1) = sqrt(3 / (4 pi)) (y, z, x)``, all positive
  along their axes.
- Coefficient vectors are ordered by band, ``l = 0, 1, ...``, and within a band by
  ``m = -l, ..., l``: entry ``l (l + 1) + m`` (see :func:`generate_l_m_permutations`).

Degrees and orders are integers known when the op is built (NumPy arrays, Python lists or
constant tensors): the recurrences run a Python loop over the bands, never over samples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.util import asserts, safe_ops, shape


def _static_integers(name: str, value: Any) -> np.ndarray:
    """``value`` as a NumPy integer array; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, (tf.Tensor, tf.Variable)):
        static = tf.get_static_value(value)
        if static is None:
            raise ValueError(f"{name} must be known when the op is built (a constant), got {value}")
        value = static
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integers, got {array.dtype} values "
            f"({name} must be of an integer type)"
        )
    return array.astype(np.int64)


def _check_degree_order(degree_l: Any, order_m: Any) -> tuple[np.ndarray, np.ndarray]:
    degree = _static_integers("degree_l", degree_l)
    order = _static_integers("order_m", order_m)
    if np.any(degree < 0):
        raise asserts.InvalidValueError(f"degree_l must be >= 0, got {degree}")
    try:
        degree_b, order_b = np.broadcast_arrays(degree, order)
    except ValueError as error:
        raise ValueError(
            f"the shapes of degree_l {degree.shape} and order_m {order.shape} do not broadcast: "
            "degree_l and order_m must have the same number of dimensions in axes -1 (or 1)"
        ) from error
    if np.any(np.abs(order_b) > degree_b):
        raise asserts.InvalidValueError(
            f"order_m must satisfy |order_m| <= degree_l, got {order} for {degree}"
        )
    return degree, order


def _check_angle_shape(name: str, angle: tf.Tensor, degree: np.ndarray) -> None:
    """``angle`` must end in 1 or in the harmonics' last dimension (TFG allows only 1)."""
    count = degree.shape[-1] if degree.ndim else 1
    last = angle.shape[-1] if angle.shape.rank else 1
    if last not in (None, 1, count):
        raise ValueError(
            f"{name} must have shape [A1, ..., An, 1] (or end in degree_l's {count}), got "
            f"{tuple(angle.shape)}: {name} must have exactly 1 dimensions in axis -1"
        )


def _legendre(degree: np.ndarray, order: np.ndarray, x: tf.Tensor, s: tf.Tensor) -> tf.Tensor:
    """``P_l^m(x)`` for ``m >= 0`` with ``s = sqrt(1 - x^2)`` given (Condon-Shortley phase).

    ``degree`` and ``order`` are NumPy integer arrays broadcastable with ``x``; the loops run over
    degrees only. ``P_m^m = (-1)^m (2m - 1)!! s^m``, ``P_{m+1}^m = (2m + 1) x P_m^m``, then
    ``(l - m) P_l^m = (2l - 1) x P_{l-1}^m - (l + m - 1) P_{l-2}^m``.
    """
    dtype = x.dtype
    max_degree = int(degree.max()) if degree.size else 0
    l_t = tf.constant(degree, dtype=tf.int64)
    m_t = tf.constant(order, dtype=tf.int64)
    m_f = tf.cast(m_t, dtype)
    x, s = x + tf.zeros_like(m_f), s + tf.zeros_like(m_f)
    p_mm = tf.ones_like(x)
    for i in range(1, max_degree + 1):
        p_mm = tf.where(m_t >= i, p_mm * (-(2.0 * i - 1.0)) * s, p_mm)
    p_prev2, p_prev1 = p_mm, x * (2.0 * m_f + 1.0) * p_mm
    result = tf.where(l_t == m_t, p_prev2, p_prev1)
    for k in range(2, max_degree + 1):
        d = m_f + k
        p_k = ((2.0 * d - 1.0) * x * p_prev1 - (d + m_f - 1.0) * p_prev2) / k
        result = tf.where(l_t == m_t + k, p_k, result)
        p_prev2, p_prev1 = p_prev1, p_k
    return result


def evaluate_legendre_polynomial(
    degree_l: Any, order_m: Any, x: Any, name: str = "evaluate_legendre_polynomial"
) -> tf.Tensor:
    """Associated Legendre polynomials ``P_l^m(x)``, with the Condon-Shortley phase.

    Matches ``scipy.special.lpmv(m, l, x)``: ``P_1^1(x) = -sqrt(1 - x^2)``.

    Args:
        degree_l: integer degrees ``l >= 0``, any shape broadcastable with the others (constants).
        order_m: integer orders with ``0 <= m <= l``, broadcastable with ``degree_l``.
        x: floating values in ``[-1, 1]``, broadcastable with ``degree_l`` and ``order_m``.

    Returns:
        The broadcast of the three shapes, ``P_l^m(x)`` in the dtype of ``x``. The factor
        ``sqrt(1 - x^2)`` has a zero (finite) gradient at ``x = +-1``.

    Raises:
        ValueError: if ``degree_l`` or ``order_m`` are not integers, ``order_m`` is negative or
            larger than ``degree_l`` (then an ``asserts.InvalidValueError``, also a
            ``tf.errors.InvalidArgumentError`` as in TFG), ``x`` is not floating, or the shapes do
            not broadcast.
        tf.errors.InvalidArgumentError: with value checks on, if ``x`` is outside ``[-1, 1]``.
    """
    with tf.name_scope(name):
        degree, order = _check_degree_order(degree_l, order_m)
        if np.any(order < 0):
            raise asserts.InvalidValueError(
                f"order_m must be >= 0 for the Legendre polynomial, got {order}"
            )
        (x,) = shape.checked(x=(x, None))
        shape.check_broadcast(degree_l=degree.shape, order_m=order.shape, x=tuple(x.shape))
        x = asserts.assert_all_in_range(x, -1.0, 1.0, "x")
        return _legendre(degree, order, x, safe_ops.sqrt(1.0 - tf.square(x)))


def _associated_normalization(degree: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``K_l^|m| = sqrt((2l + 1) / (4 pi) * (l - |m|)! / (l + |m|)!)`` in float64."""
    absm = np.abs(order)
    log_ratio = np.vectorize(lambda a, b: math.lgamma(a + 1) - math.lgamma(b + 1))(
        degree - absm, degree + absm
    )
    return np.sqrt((2.0 * degree + 1.0) / (4.0 * np.pi) * np.exp(log_ratio))


def _normalization(degree: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``K_l^|m|`` (times sqrt(2) for ``m != 0``) in float64."""
    k = _associated_normalization(degree, order)
    return np.where(order == 0, k, np.sqrt(2.0) * k)


def _spherical_harmonics_normalization(
    l: Any,  # noqa: E741 - TensorFlow Graphics' argument names
    m: Any,
    var_type: tf.DType = tf.float64,
) -> tf.Tensor:
    """``K_l^|m|`` under TensorFlow Graphics' private name (its tests call it).

    Args:
        l: `[A1, ..., An]` integer degrees ``>= 0``, known when the op is built.
        m: `[A1, ..., An]` integer orders with ``|m| <= l`` (broadcast against ``l``).
        var_type: the dtype of the result.

    Returns:
        `[A1, ..., An]` normalization constants.

    Raises:
        ValueError: if ``l`` or ``m`` is not integer, ``l < 0``, ``|m| > l`` or the shapes do not
            broadcast.
    """
    degree, order = _check_degree_order(l, m)
    return tf.constant(_associated_normalization(degree, order), dtype=var_type)


def _factor(degree: np.ndarray, order: np.ndarray, keep_phase: bool, dtype: tf.DType) -> tf.Tensor:
    """The constant factor of each harmonic: its normalization times ``(-1)^m``, which cancels
    the Legendre polynomial's phase, or without that sign to keep the phase (TFG)."""
    sign = 1.0 if keep_phase else np.where(np.abs(order) % 2 == 1, -1.0, 1.0)
    return tf.constant(_normalization(degree, order) * sign, dtype=dtype)


def evaluate_spherical_harmonics(
    degree_l: Any,
    order_m: Any,
    theta: Any,
    phi: Any,
    name: str = "evaluate_spherical_harmonics",
    *,
    condon_shortley_phase: bool = False,
) -> tf.Tensor:
    """Real, orthonormal spherical harmonics ``Y_l^m(theta, phi)`` (see the module docstring).

    Args:
        degree_l: integer degrees, e.g. `[K]` from :func:`generate_l_m_permutations` (constants).
        order_m: integer orders ``-l <= m <= l``, broadcastable with ``degree_l``.
        theta: polar angles in ``[0, pi]`` from +z, e.g. `[A1, ..., An, 1]`.
        phi: azimuths from +x about +z, broadcastable with ``theta``.
        condon_shortley_phase: keep the phase ``(-1)^m`` of the Legendre polynomials, as
            TensorFlow Graphics does: every harmonic with odd ``|m|`` changes sign (band 1
            becomes ``sqrt(3 / 4 pi) (-y, z, -x)``).

    Returns:
        The broadcast of the four shapes: `[A1, ..., An, K]` for the shapes above.

    Raises:
        ValueError: if ``degree_l``/``order_m`` are not integers with ``|m| <= l`` (out of range:
            an ``asserts.InvalidValueError``, also a ``tf.errors.InvalidArgumentError``),
            ``theta`` or ``phi`` are not floating or end in neither 1 nor ``K``, or the shapes do
            not broadcast.
        TypeError: if ``condon_shortley_phase`` is not a bool.
    """
    with tf.name_scope(name):
        keep_phase = checks.boolean("condon_shortley_phase", condon_shortley_phase)
        degree, order = np.broadcast_arrays(*_check_degree_order(degree_l, order_m))
        theta, phi = shape.checked(theta=(theta, None), phi=(phi, None))
        _check_angle_shape("theta", theta, degree)
        _check_angle_shape("phi", phi, degree)
        shape.check_broadcast(degree_l=degree.shape, theta=tuple(theta.shape), phi=tuple(phi.shape))
        absm = np.abs(order)
        # The sin(theta) factor comes from theta itself, so the poles have finite gradients.
        legendre = _legendre(degree, absm, tf.cos(theta), tf.sin(theta))
        factor = _factor(degree, order, keep_phase, theta.dtype)
        m_f = tf.constant(absm, dtype=theta.dtype)
        order_t = tf.constant(order)
        azimuthal = tf.where(
            order_t > 0, tf.cos(m_f * phi), tf.where(order_t < 0, tf.sin(m_f * phi), 1.0)
        )
        return factor * legendre * azimuthal


def evaluate_spherical_harmonics_from_direction(
    degree_l: Any,
    order_m: Any,
    direction: Any,
    name: str = "evaluate_spherical_harmonics_xyz",
    *,
    condon_shortley_phase: bool = False,
) -> tf.Tensor:
    """The same real harmonics as :func:`evaluate_spherical_harmonics`, at unit directions.

    Written as polynomials in ``(x, y, z)`` (``sin^m(t) cos(m p) = Re (x + i y)^m``), so the
    gradient with respect to the direction is exact everywhere, the poles included.

    Args:
        degree_l: integer degrees, e.g. `[K]` (constants).
        order_m: integer orders ``-l <= m <= l``, broadcastable with ``degree_l``.
        direction: `[A1, ..., An, 3]` directions (normalized inside).
        condon_shortley_phase: TensorFlow Graphics' signs (see
            :func:`evaluate_spherical_harmonics`).

    Returns:
        `[A1, ..., An, K]` for `[K]` degrees and orders (the broadcast of the batch shapes).

    Raises:
        ValueError: as :func:`evaluate_spherical_harmonics`, or if ``direction`` does not end in 3.
    """
    with tf.name_scope(name):
        keep_phase = checks.boolean("condon_shortley_phase", condon_shortley_phase)
        degree, order = _check_degree_order(degree_l, order_m)
        (direction,) = shape.checked(direction=(direction, 3))
        shape.check_broadcast(
            degree_l=degree.shape, order_m=order.shape, direction=tuple(direction.shape[:-1]) + (1,)
        )
        degree, order = np.broadcast_arrays(degree, order)
        absm = np.abs(order)
        x, y, z = tf.split(safe_ops.normalize(direction), 3, axis=-1)
        polar = _legendre(degree, absm, z, tf.ones_like(z))  # P_l^m(z) / sin^m(theta)
        order_t = tf.constant(order)
        azimuthal = tf.ones_like(polar)
        real, imaginary = tf.ones_like(x), tf.zeros_like(x)
        for m in range(1, int(absm.max()) + 1 if absm.size else 1):
            real, imaginary = x * real - y * imaginary, x * imaginary + y * real
            azimuthal = tf.where(order_t == m, real, azimuthal)
            azimuthal = tf.where(order_t == -m, imaginary, azimuthal)
        factor = _factor(degree, order, keep_phase, direction.dtype)
        return factor * polar * azimuthal


def generate_l_m_permutations(max_band: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(l, m)`` with ``l <= max_band`` and ``m = -l, ..., l``, in the coefficient order.

    Args:
        max_band: the highest band ``L >= 0``.

    Returns:
        ``(degree_l, order_m)``: two constant int32 tensors of shape `[(L + 1)^2]`; entry
        ``l (l + 1) + m`` is ``(l, m)``.

    Raises:
        ValueError: if ``max_band`` is not a non-negative integer.
    """
    max_band = checks.non_negative_int("max_band", max_band)
    degree, order = _l_m_permutations(max_band)
    return tf.constant(degree), tf.constant(order)


def _l_m_permutations(max_band: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`generate_l_m_permutations` as NumPy arrays (for indexing when the op is built)."""
    degree = np.concatenate([np.full(2 * b + 1, b) for b in range(max_band + 1)]).astype(np.int32)
    order = np.concatenate([np.arange(-b, b + 1) for b in range(max_band + 1)]).astype(np.int32)
    return degree, order


def generate_l_m_zonal(max_band: int) -> tuple[np.ndarray, np.ndarray]:
    """The zonal ``(l, 0)`` for ``l = 0, ..., max_band``.

    Args:
        max_band: the highest band ``L >= 0``.

    Returns:
        ``(degree_l, order_m)``: two constant int32 tensors of shape `[L + 1]`, ``0, ..., L``
        and zeros.

    Raises:
        ValueError: if ``max_band`` is not a non-negative integer.
    """
    max_band = checks.non_negative_int("max_band", max_band)
    return tf.range(max_band + 1, dtype=tf.int32), tf.zeros(max_band + 1, tf.int32)


def tile_zonal_coefficients(
    coefficients: Any, name: str = "spherical_harmonics_tile_zonal_coefficients"
) -> tf.Tensor:
    """Repeats each band's zonal coefficient over that band's ``2 l + 1`` orders.

    Args:
        coefficients: `[A1, ..., An, L + 1]` one coefficient per band.

    Returns:
        `[A1, ..., An, (L + 1)^2]`: entry ``l (l + 1) + m`` is ``coefficients[..., l]`` (the
        order of :func:`generate_l_m_permutations`).

    Raises:
        ValueError: if ``coefficients`` is not floating or its last dimension is unknown.
    """
    with tf.name_scope(name):
        (coefficients,) = shape.checked(coefficients=(coefficients, (None,)))
        if not coefficients.shape[-1]:
            raise ValueError(
                "coefficients must have a known, non-zero last dimension L + 1, got shape "
                f"{coefficients.shape}"
            )
        degree, _ = _l_m_permutations(coefficients.shape[-1] - 1)
        return tf.gather(coefficients, degree, axis=-1)


def rotate_zonal_harmonics(
    zonal_coeffs: Any, theta: Any, phi: Any, name: str = "rotate_zonal_harmonics"
) -> tf.Tensor:
    """SH coefficients of a zonal function turned so that its axis points along ``(theta, phi)``.

    A zonal function is symmetric about +z; its coefficients are ``z_l`` (those of ``Y_l^0``).
    Turned to the axis ``a``, its coefficients are ``sqrt(4 pi / (2l + 1)) z_l Y_l^m(a)``.

    Args:
        zonal_coeffs: `[A1, ..., An, L + 1]` zonal coefficients, one per band.
        theta: `[A1, ..., An, 1]` polar angle of the new axis.
        phi: `[A1, ..., An, 1]` azimuth of the new axis.

    Returns:
        `[A1, ..., An, (L + 1)^2]` SH coefficients of the turned function.

    Raises:
        ValueError: if ``theta`` or ``phi`` do not end in 1, a dtype is not floating, or the
            batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        zonal_coeffs, theta, phi = shape.checked(
            zonal_coeffs=(zonal_coeffs, (None,)), theta=(theta, 1), phi=(phi, 1)
        )
        if zonal_coeffs.shape[-1] is None:
            raise ValueError("zonal_coeffs must have a known last dimension L + 1")
        max_band = zonal_coeffs.shape[-1] - 1
        degree, order = _l_m_permutations(max_band)
        harmonics = evaluate_spherical_harmonics(degree, order, theta, phi)
        scale = tf.constant(np.sqrt(4.0 * np.pi / (2.0 * degree + 1.0)), zonal_coeffs.dtype)
        return scale * tf.gather(zonal_coeffs, degree, axis=-1) * harmonics


def integration_product(
    harmonics1: Any, harmonics2: Any, keepdims: bool = True, name: str = "integration_product"
) -> tf.Tensor:
    """The integral over the sphere of the product of two functions given by SH coefficients.

    The basis is orthonormal, so the integral is the dot product of the coefficient vectors.

    Args:
        harmonics1: `[A1, ..., An, K]` coefficients of the first function.
        harmonics2: `[A1, ..., An, K]` coefficients of the second function.
        keepdims: keep the last axis, of size 1.

    Returns:
        `[A1, ..., An, 1]` integrals (`[A1, ..., An]` when ``keepdims`` is False).

    Raises:
        ValueError: if the last dimensions differ, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        harmonics1, harmonics2 = shape.checked(
            harmonics1=(harmonics1, (None,)), harmonics2=(harmonics2, (None,))
        )
        shape.check_same_last("harmonics1", harmonics1, "harmonics2", harmonics2)
        return tf.reduce_sum(harmonics1 * harmonics2, axis=-1, keepdims=keepdims)
