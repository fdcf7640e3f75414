"""Slerp and uniform B-splines against SciPy and closed forms written in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import BSpline
from scipy.spatial.transform import Rotation, Slerp

from course_lib.graphics.math.interpolation import bspline, slerp, weighted
from course_lib.graphics.util import asserts
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

QUATERNION, VECTOR = slerp.InterpolationType.QUATERNION, slerp.InterpolationType.VECTOR


def random_quaternions(rng, n):
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def slerp_numpy(v1, v2, t):
    """The textbook formula in float64: sin((1 - t) W) / sin W * v1 + sin(t W) / sin W * v2."""
    v1, v2, t = (np.asarray(a, np.float64) for a in (v1, v2, t))
    u1 = v1 / np.linalg.norm(v1, axis=-1, keepdims=True)
    u2 = v2 / np.linalg.norm(v2, axis=-1, keepdims=True)
    omega = np.arccos(np.clip(np.sum(u1 * u2, -1, keepdims=True), -1.0, 1.0))
    return (np.sin((1 - t) * omega) * v1 + np.sin(t * omega) * v2) / np.sin(omega)


def quaternion_angle(q1, q2):
    """The rotation angle between unit quaternions, 2 arccos |q1 . q2|, computed stably.

    ``4 atan2(|q1 - q2|, |q1 + q2|)`` with q2's sign chosen so that ``q1 . q2 >= 0``; unlike
    arccos it keeps its accuracy for small angles.
    """
    q1, q2 = np.asarray(q1, np.float64), np.asarray(q2, np.float64)
    q2 = q2 * np.where(np.sum(q1 * q2, axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return 4.0 * np.arctan2(np.linalg.norm(q1 - q2, axis=-1), np.linalg.norm(q1 + q2, axis=-1))


# --- slerp: values --------------------------------------------------------------------------


def test_quaternion_slerp_matches_scipy(rng):
    q1, q2 = random_quaternions(rng, 64), random_quaternions(rng, 64)
    t = rng.uniform(0.0, 1.0, (64, 1))
    expected = np.stack(
        [
            Slerp([0.0, 1.0], Rotation.from_quat([a, b]))(s[0]).as_quat()
            for a, b, s in zip(q1, q2, t, strict=True)
        ]
    )
    got = slerp.interpolate(q1.astype(np.float32), q2.astype(np.float32), t.astype(np.float32))
    assert got.dtype == tf.float32
    expected *= np.sign(np.sum(expected * got.numpy(), axis=-1, keepdims=True))  # q ~ -q
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_quaternion_slerp_matches_the_closed_form_on_the_shorter_path(rng):
    q1, q2 = random_quaternions(rng, 64), random_quaternions(rng, 64)
    t = rng.uniform(-0.25, 1.25, (64, 1))
    shorter = np.where(np.sum(q1 * q2, -1, keepdims=True) < 0, -q2, q2)
    got = slerp.interpolate(q1, 2.5 * q2, t)  # float64, and inputs need not be unit length
    assert got.dtype == tf.float64
    np.testing.assert_allclose(got, slerp_numpy(q1, shorter, t), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dimension", [2, 3, 5])
def test_vector_slerp_matches_the_closed_form(rng, dimension):
    v1, v2 = rng.normal(size=(32, dimension)), rng.normal(size=(32, dimension))
    t = rng.uniform(0.0, 1.0, (32, 1))
    got = slerp.interpolate(*(a.astype(np.float32) for a in (v1, v2, t)), method=VECTOR)
    np.testing.assert_allclose(got, slerp_numpy(v1, v2, t), rtol=1e-5, atol=1e-5)


def test_weights_are_those_of_the_closed_form(rng):
    q1, q2 = random_quaternions(rng, 16), random_quaternions(rng, 16)
    q2 = np.where(np.sum(q1 * q2, -1, keepdims=True) < 0, -q2, q2)
    t = rng.uniform(0.0, 1.0, (16, 1))
    omega = np.arccos(np.sum(q1 * q2, -1, keepdims=True))
    w1, w2 = slerp.quaternion_weights(q1, q2, t)
    np.testing.assert_allclose(w1, np.sin((1 - t) * omega) / np.sin(omega), rtol=1e-10)
    np.testing.assert_allclose(w2, np.sin(t * omega) / np.sin(omega), rtol=1e-10)
    w1, w2 = slerp.quaternion_weights(q1, -q2, t)
    np.testing.assert_allclose(w2, -np.sin(t * omega) / np.sin(omega), rtol=1e-10)
    v1, v2 = slerp.vector_weights(q1, -q2, t)  # no flip: the long way round
    np.testing.assert_allclose(v2, np.sin(t * (np.pi - omega)) / np.sin(np.pi - omega), 1e-10)
    mixed = slerp.interpolate_with_weights(q1, -q2, v1, v2)
    np.testing.assert_allclose(mixed, slerp.interpolate(q1, -q2, t, method=VECTOR), rtol=1e-12)


def test_quaternion_slerp_takes_the_shorter_path_and_vector_slerp_does_not(rng):
    q1, q2 = random_quaternions(rng, 32), random_quaternions(rng, 32)
    t = np.linspace(0.0, 1.0, 11)[:, None, None]
    forward = slerp.interpolate(q1, q2, t).numpy()
    flipped = slerp.interpolate(q1, -q2, t).numpy()
    np.testing.assert_allclose(forward, flipped, atol=1e-12)  # q2 and -q2: the same rotation
    assert np.all(np.sum(forward * q1, axis=-1) >= -1e-12)  # never more than 90 deg from q1
    # The rotation angle from q1 grows to at most 180 degrees, proportionally to t.
    total = quaternion_angle(q1, q2)
    np.testing.assert_allclose(quaternion_angle(q1, forward), t[..., 0] * total, atol=1e-6)
    assert np.all(total <= np.pi + 1e-12)
    # With a negative dot, the vector method goes the long way: its midpoint is further away.
    negative = np.sum(q1 * q2, axis=-1) < 0
    middle = slerp.interpolate(q1, q2, 0.5, method=VECTOR).numpy()
    assert np.all(np.sum(middle * q1, axis=-1)[negative] < np.cos(np.pi / 4))


def test_endpoints_are_exact(rng):
    q1, q2 = random_quaternions(rng, 32).astype(np.float32), random_quaternions(rng, 32)
    q2 = q2.astype(np.float32)
    shorter = np.where(np.sum(q1 * q2, -1, keepdims=True) < 0, -q2, q2)
    np.testing.assert_allclose(slerp.interpolate(q1, q2, 0.0), q1, rtol=0, atol=2e-7)
    np.testing.assert_allclose(slerp.interpolate(q1, q2, 1.0), shorter, rtol=0, atol=2e-7)
    v1, v2 = rng.normal(size=(2, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(slerp.interpolate(v1, v2, 0.0, VECTOR), v1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(slerp.interpolate(v1, v2, 1.0, VECTOR), v2, rtol=0, atol=1e-6)


def test_angular_speed_is_constant(rng):
    q1, q2 = random_quaternions(rng, 8), random_quaternions(rng, 8)
    t = np.linspace(0.0, 1.0, 41)[:, None, None]
    frames = slerp.interpolate(q1.astype(np.float32), q2.astype(np.float32), t.astype(np.float32))
    steps = quaternion_angle(frames.numpy()[1:], frames.numpy()[:-1])  # [40, 8]
    np.testing.assert_allclose(steps, np.broadcast_to(steps.mean(axis=0), steps.shape), atol=1e-4)
    np.testing.assert_allclose(steps.sum(axis=0), quaternion_angle(q1, q2), atol=1e-4)


def test_percent_broadcasts(rng):
    q1, q2 = random_quaternions(rng, 1), random_quaternions(rng, 1)
    t = np.linspace(0.0, 1.0, 5)[:, None]
    frames = slerp.interpolate(q1, q2, t)
    assert frames.shape == (5, 4)
    for row, s in zip(frames.numpy(), t[:, 0], strict=True):
        np.testing.assert_allclose(row, slerp.interpolate(q1[0], q2[0], s), rtol=1e-12)
    assert slerp.interpolate(q1, q2, tf.constant(0.5, tf.float64)).shape == (1, 4)


def test_nearly_parallel_inputs_fall_back_to_linear_with_finite_gradients():
    q = np.array([[0.1, -0.3, 0.5, 0.8]], np.float32)
    q /= np.linalg.norm(q)
    for other in (q, q + 1e-6, -q, -(q + 1e-6)):
        result = slerp.interpolate(q, other, [[0.3]])
        np.testing.assert_allclose(np.abs(np.sum(result * q)), 1.0, atol=1e-6)
        assert_gradient_finite(slerp.interpolate, q, other, [[0.3]])
        assert_gradient_finite(
            lambda a, b, t: slerp.interpolate(a, b, t, method=VECTOR), q, other, [[0.3]]
        )
    # Zero vectors and exactly opposite vectors (no unique great arc) stay finite too.
    assert_gradient_finite(
        lambda a, b, t: slerp.interpolate(a, b, t, VECTOR),
        [[0.0, 0.0, 0.0]],
        [[1.0, 0.0, 0.0]],
        [[0.5]],
    )
    assert_gradient_finite(
        lambda a, b, t: slerp.interpolate(a, b, t, VECTOR),
        [[1.0, 0.0, 0.0]],
        [[-1.0, 0.0, 0.0]],
        [[0.5]],
    )


def test_nearly_parallel_float32_is_accurate():
    # The angle comes from atan2, not arccos of the dot, so small angles are not lost in float32.
    angle = 1e-3
    q1 = np.array([0.0, 0.0, 0.0, 1.0])
    q2 = np.array([0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)])
    got = slerp.interpolate(q1.astype(np.float32), q2.astype(np.float32), [0.25]).numpy()
    expected = [0.0, 0.0, np.sin(angle / 8), np.cos(angle / 8)]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


# --- slerp: gradients -----------------------------------------------------------------------


def test_slerp_jacobians_match_finite_differences(rng):
    q1, q2 = random_quaternions(rng, 2), random_quaternions(rng, 2)
    q2[1] *= -1.0 if np.dot(q1[1], q2[1]) > 0 else 1.0  # one on each side of the flip
    t = np.array([[0.3], [0.8]])
    assert_jacobian_matches(slerp.interpolate, [q1, q2, t])
    v1, v2 = rng.normal(size=(2, 2, 3))
    assert_jacobian_matches(lambda a, b, s: slerp.interpolate(a, b, s, VECTOR), [v1, v2, t])
    assert_jacobian_matches(lambda a, b, s: slerp.quaternion_weights(a, b, s)[1], [q1, q2, t])
    assert_jacobian_matches(lambda a, b, s: slerp.vector_weights(a, b, s)[0], [v1, v2, t])


# --- slerp: properties and bad input --------------------------------------------------------

unit_interval = st.floats(0.0, 1.0, allow_nan=False)
components = st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=4, max_size=4).filter(
    lambda q: np.linalg.norm(q) > 0.1
)


@settings(max_examples=50, deadline=None)
@given(components, components, unit_interval)
def test_slerp_output_is_a_unit_quaternion(q1, q2, t):
    result = slerp.interpolate(np.float32(q1), np.float32(q2), np.float32(t)).numpy()
    np.testing.assert_allclose(np.linalg.norm(result), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vector1": [[0.0, 0.0, 1.0]]}, "vector1"),
        ({"vector2": [[0.0, 0.0, 0.0, 1.0, 0.0]]}, "vector2"),
        ({"percent": [[0.5, 0.5]]}, "percent"),
        ({"vector2": np.tile(np.float32([0, 0, 0, 1]), (3, 1))}, "broadcast"),
        ({"vector1": np.array([[0, 0, 0, 1]])}, "vector1"),
        ({"method": "slerp"}, "method"),
        ({"method": 2}, r"^method .* Unknown interpolation type supplied\."),
    ],
)
def test_slerp_rejects_bad_input(kwargs, match):
    arguments = {
        "vector1": np.tile(np.float32([0, 0, 0, 1]), (2, 1)),
        "vector2": np.tile(np.float32([1, 0, 0, 0]), (2, 1)),
        "percent": np.full((2, 1), 0.5, np.float32),
    } | kwargs
    with pytest.raises(ValueError, match=match):
        slerp.interpolate(**arguments)


def test_vector_slerp_rejects_different_dimensions():
    with pytest.raises(ValueError, match="vector2"):
        slerp.interpolate([[1.0, 0.0, 0.0]], [[0.0, 1.0]], [[0.5]], method=VECTOR)
    with pytest.raises(ValueError, match="weight1"):
        slerp.interpolate_with_weights([[1.0, 0.0]], [[0.0, 1.0]], [[0.5, 0.5]], [[0.5]])


# --- B-splines: weights ---------------------------------------------------------------------


def scipy_knot_weights(x, num_knots, degree, cyclical):
    """Knot weights from scipy's B-spline basis on the uniform knot vector (wrapped if cyclical)."""
    count = num_knots + degree if cyclical else num_knots  # basis functions
    knot_vector = np.arange(-degree, count + 1, dtype=np.float64)
    weights = np.zeros((len(x), num_knots))
    for j in range(count):
        basis = BSpline(knot_vector, np.eye(count)[j], degree, extrapolate=False)(x)
        weights[:, j % num_knots] += np.nan_to_num(basis)
    return weights


@pytest.mark.parametrize("cyclical", [False, True])
@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
def test_knot_weights_match_scipy(rng, degree, cyclical):
    num_knots = 9
    end = num_knots if cyclical else num_knots - degree
    x = rng.uniform(0.0, end, 64)
    expected = scipy_knot_weights(x, num_knots, degree, cyclical)
    got = bspline.knot_weights(x.astype(np.float32), num_knots, degree, cyclical)
    assert got.shape == (64, num_knots) and got.dtype == tf.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        bspline.knot_weights(x, num_knots, degree, cyclical), expected, rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
def test_sparse_mode_gives_the_same_weights(rng, degree):
    num_knots = 7
    for cyclical, end in ((False, num_knots - degree), (True, num_knots)):
        x = rng.uniform(0.0, end, (4, 5))
        dense = bspline.knot_weights(x, num_knots, degree, cyclical).numpy()
        local, shift = bspline.knot_weights(x, num_knots, degree, cyclical, sparse_mode=True)
        assert local.shape == (4, 5, degree + 1) and shift.dtype == tf.int32
        rebuilt = np.zeros_like(dense)
        for j in range(degree + 1):
            index = (shift.numpy() + j) % num_knots
            np.put_along_axis(rebuilt, index[..., None], local.numpy()[..., j : j + 1], axis=-1)
        np.testing.assert_allclose(rebuilt, dense, atol=1e-15)


def test_domain_ends_and_wrapping():
    num_knots, degree = 6, 3
    end = bspline.knot_weights([float(num_knots - degree)], num_knots, degree, False).numpy()
    np.testing.assert_allclose(end[0], [0, 0, 0, 1 / 6, 4 / 6, 1 / 6], atol=1e-7)  # limit u -> 1
    outside = bspline.knot_weights([-1.0, 10.0], num_knots, degree, False).numpy()
    inside = bspline.knot_weights([0.0, 3.0], num_knots, degree, False).numpy()
    np.testing.assert_allclose(outside, inside)  # clipped to [0, K - d]
    wrapped = bspline.knot_weights([0.5 + num_knots, 0.5 - num_knots], num_knots, degree, True)
    np.testing.assert_allclose(
        wrapped, bspline.knot_weights([0.5, 0.5], num_knots, degree, True), atol=1e-6
    )


@settings(max_examples=50, deadline=None)
@given(
    degree=st.integers(0, 4),
    extra=st.integers(0, 6),
    cyclical=st.booleans(),
    fractions=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=8),
)
def test_knot_weights_are_a_partition_of_unity(degree, extra, cyclical, fractions):
    num_knots = degree + 1 + extra
    end = num_knots if cyclical else num_knots - degree
    x = np.float32(np.array(fractions) * end)
    weights = bspline.knot_weights(x, num_knots, degree, cyclical).numpy()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(weights >= -1e-7)
    assert np.count_nonzero(weights > 1e-6, axis=-1).max() <= degree + 1


# --- B-splines: curves ----------------------------------------------------------------------


@pytest.mark.parametrize("cyclical", [False, True])
@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_interpolate_matches_a_scipy_curve(rng, degree, cyclical):
    num_knots = 8
    control = rng.normal(size=(num_knots, 2))  # a planar curve
    count = num_knots + degree if cyclical else num_knots
    coefficients = control[np.arange(count) % num_knots]
    curve = BSpline(np.arange(-degree, count + 1, dtype=np.float64), coefficients, degree)
    end = num_knots if cyclical else num_knots - degree
    x = rng.uniform(0.0, end, 50)
    got = bspline.interpolate(control.T.astype(np.float32), x.astype(np.float32), degree, cyclical)
    assert got.shape == (50, 2)
    np.testing.assert_allclose(got, curve(x), rtol=1e-5, atol=1e-5)


def test_interpolate_broadcasts_batches_of_curves(rng):
    knots = rng.normal(size=(3, 1, 2, 6))  # 3 curves, [C=2, K=6] each
    x = rng.uniform(0.0, 4.0, (3, 7))
    got = bspline.interpolate(knots, x, 2, False)
    assert got.shape == (3, 7, 2)
    for b in range(3):
        np.testing.assert_allclose(got[b], bspline.interpolate(knots[b, 0], x[b], 2, False))
    weights = bspline.knot_weights(x, 6, 2, False)
    np.testing.assert_allclose(bspline.interpolate_with_weights(knots, weights), got)
    assert bspline.interpolate(knots.astype(np.float32), x, 2, False).dtype == tf.float32


def test_bspline_jacobians_match_finite_differences(rng):
    knots = rng.normal(size=(2, 6))
    x = np.array([0.3, 1.6, 2.45])
    for degree in (1, 3, 4):
        cyclical_x = x + 2.0
        assert_jacobian_matches(
            lambda k, p, d=degree: bspline.interpolate(k, p, d, False), [knots, x]
        )
        assert_jacobian_matches(
            lambda k, p, d=degree: bspline.interpolate(k, p, d, True), [knots, cyclical_x]
        )
    weights = bspline.knot_weights(x, 6, 3, False)
    assert_jacobian_matches(bspline.interpolate_with_weights, [knots, weights])


def test_bspline_gradients_are_finite_at_segment_joins_and_ends():
    knots = np.arange(12.0, dtype=np.float32).reshape(2, 6)
    for cyclical in (False, True):
        positions = np.array([0.0, 1.0, 2.0, 3.0, 5.99], np.float32)
        assert_gradient_finite(
            lambda k, p, c=cyclical: bspline.interpolate(k, p, 3, c), knots, positions
        )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bspline.knot_weights([0.5], 6, 5, False), "degree"),
        (lambda: bspline.knot_weights([0.5], 6, -1, False), "degree"),
        (lambda: bspline.knot_weights([0.5], 6, 2.0, False), "degree"),
        (lambda: bspline.knot_weights([0.5], 3, 3, True), "num_knots"),
        (lambda: bspline.knot_weights([0.5], 0, 0, False), "num_knots"),
        (lambda: bspline.knot_weights(np.array([1, 2]), 6, 2, False), "positions"),
        (lambda: bspline.interpolate(np.zeros(6), [0.5], 2, False), "knots"),
        (lambda: bspline.interpolate(np.zeros((2, 3)), [0.5], 3, False), "num_knots"),
        (lambda: bspline.interpolate(np.zeros((4, 2, 6)), np.zeros((3, 5)), 2, False), "knots"),
        (lambda: bspline.interpolate(np.zeros((2, 6)), np.array([1, 2]), 2, False), "positions"),
        (lambda: bspline.interpolate_with_weights(np.zeros((2, 6)), np.zeros((3, 5))), "weights"),
    ],
)
def test_bspline_rejects_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_degree_names_the_integer_degrees(rng):
    assert [int(d) for d in bspline.Degree] == [0, 1, 2, 3, 4]
    positions = rng.uniform(0.0, 3.0, (5,))
    np.testing.assert_array_equal(
        bspline.knot_weights(positions, 6, bspline.Degree.CUBIC, False),
        bspline.knot_weights(positions, 6, 3, False),
    )


# --- weighted --------------------------------------------------------------------------------


def test_weighted_interpolate_matches_numpy_gather_and_sum(rng):
    points = rng.normal(size=(4, 5, 3))  # a 4 x 5 grid of 3-D points
    indices = np.stack([rng.integers(0, 4, (2, 6, 7)), rng.integers(0, 5, (2, 6, 7))], -1)
    weights = rng.uniform(0.1, 1.0, (2, 6, 7))
    picked = points[indices[..., 0], indices[..., 1]]  # [2, 6, 7, 3]
    normalized = weights / weights.sum(-1, keepdims=True)
    expected = np.einsum("...p,...pm->...m", normalized, picked)
    got = weighted.interpolate(points, weights, indices)
    assert got.shape == (2, 6, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    raw = weighted.interpolate(points, weights, indices, normalize=False)
    np.testing.assert_allclose(raw, np.einsum("...p,...pm->...m", weights, picked), rtol=1e-12)
    # Weights broadcast against the indices' batch dimensions.
    shared = weighted.interpolate(points, weights[:1], indices[:, :1])
    assert shared.shape == (2, 6, 3)
    assert_jacobian_matches(
        lambda p, w: weighted.interpolate(p, w, indices[0, :2]), [points, weights[0, :2]]
    )


def test_weighted_interpolate_value_checks_follow_the_asserts_switch():
    points = np.array([[-1.0, 1.0], [1.0, 1.0], [3.0, 1.0], [-1.0, -1.0]])
    indices = [[[0], [1], [2], [3]]]
    negative = [[1.0, -1.0, 1.0, 0.5]]
    np.testing.assert_allclose(
        weighted.interpolate(points, negative, indices),
        [np.dot(np.array(negative[0]) / 1.5, points)],
        rtol=1e-12,
    )
    unnormalizable = [[1.0, -1.0, 1.0, -1.0]]
    zero = weighted.interpolate(points, unnormalizable, indices, allow_negative_weights=True)
    np.testing.assert_array_equal(zero, [[0.0, 0.0]])
    with asserts.enabled():
        with pytest.raises(tf.errors.InvalidArgumentError):
            weighted.interpolate(points, negative, indices)
        with pytest.raises(tf.errors.InvalidArgumentError):
            weighted.interpolate(points, unnormalizable, indices, allow_negative_weights=True)
        weighted.interpolate(points, negative, indices, allow_negative_weights=True)
    assert not asserts.is_enabled()


def test_get_barycentric_coordinates_reconstruct_the_pixels(rng):
    triangles = rng.uniform(0.0, 10.0, (4, 3, 2))
    pixels = rng.uniform(0.0, 10.0, (4, 50, 2))
    coordinates, valid = weighted.get_barycentric_coordinates(triangles, pixels)
    assert coordinates.shape == (4, 50, 3) and valid.shape == (4, 50)
    np.testing.assert_allclose(np.sum(coordinates, -1), 1.0, rtol=1e-12)
    rebuilt = np.einsum("bnk,bkd->bnd", coordinates, triangles)
    np.testing.assert_allclose(rebuilt, pixels, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(valid, np.all(coordinates.numpy() >= 0.0, axis=-1))
    assert np.any(valid) and not np.all(valid)
    at_vertices, inside = weighted.get_barycentric_coordinates(triangles, triangles)
    np.testing.assert_allclose(at_vertices, np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-9)
    assert np.all(inside)
    assert_jacobian_matches(
        lambda t, p: weighted.get_barycentric_coordinates(t, p)[0], [triangles[0], pixels[0, :4]]
    )


GRID = np.zeros((4, 5, 3))
WEIGHTS = np.ones((2, 3))
INDICES = np.zeros((2, 3, 2), np.int32)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: weighted.interpolate(np.zeros(3), WEIGHTS, INDICES), "points"),
        (lambda: weighted.interpolate(GRID, WEIGHTS, INDICES.astype(np.float64)), "indices"),
        (lambda: weighted.interpolate(GRID, WEIGHTS, np.zeros((2, 3, 1), np.int32)), "indices"),
        (lambda: weighted.interpolate(GRID, WEIGHTS, np.zeros((2, 4, 2), np.int32)), "indices"),
        (lambda: weighted.interpolate(GRID, np.ones((5, 3)), INDICES), "indices"),
        (lambda: weighted.interpolate(GRID, np.ones((2, 3), np.int32), INDICES), "weights"),
        (lambda: weighted.get_barycentric_coordinates(np.zeros((3, 3)), np.zeros((4, 2))),
         "triangle_vertices"),
        (lambda: weighted.get_barycentric_coordinates(np.zeros((3, 2)), np.zeros((4, 3))),
         "pixels"),
        (lambda: weighted.get_barycentric_coordinates(np.zeros((2, 3, 2)), np.zeros((3, 4, 2))),
         "pixels"),
    ],
)  # fmt: skip
def test_weighted_rejects_bad_input(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


# --- TensorFlow Graphics' sign convention (flip="quaternion1") ---------------------------------

H = np.sqrt(0.5)


@pytest.mark.parametrize(
    ("q1", "q2", "t", "tfg_result"),
    [
        # Values from TensorFlow Graphics' slerp tests (computed there with numpy-quaternion).
        ((H, 0.0, H, 0.0), (-H, 0.0, -H, 0.0), 0.2, (-H, 0.0, -H, 0.0)),
        ((H, 0.0, H, 0.0), (-H, 0.0, -H, 0.0), 0.8, (-H, 0.0, -H, 0.0)),
        ((H, 0.0, H, 0.0), (-H, H, 0.0, 0.0), -0.5, (-0.408248290463863, -0.408248290463863,
                                                    -0.816496580927726, 0.0)),
        ((H, 0.0, H, 0.0), (0.0, 0.0, H, H), 0.5, (0.408248290463863, 0.0, 0.816496580927726,
                                                   0.408248290463863)),
    ],
)  # fmt: skip
def test_flip_quaternion1_gives_tensorflow_graphics_sign(q1, q2, t, tfg_result):
    tfg_style = slerp.interpolate(q1, q2, t, flip="quaternion1")
    np.testing.assert_allclose(tfg_style, tfg_result, atol=1e-6)
    ours = slerp.interpolate(q1, q2, t)
    opposite = np.dot(q1, q2) < 0.0
    np.testing.assert_allclose(ours, -np.array(tfg_result) if opposite else tfg_result, atol=1e-6)
    w1, w2 = slerp.quaternion_weights(q1, q2, t, flip="quaternion1")
    np.testing.assert_allclose(w1 * np.array(q1) + w2 * np.array(q2), tfg_style, atol=1e-6)


def test_flip_keeps_the_rotation_and_moves_the_endpoint(rng):
    q1 = Rotation.random(50, random_state=3).as_quat()
    q2 = Rotation.random(50, random_state=4).as_quat()
    t = rng.uniform(0.0, 1.0, (50, 1))
    ours = slerp.interpolate(q1, q2, t).numpy()
    tfg_style = slerp.interpolate(q1, q2, t, flip="quaternion1").numpy()
    sign = np.where(np.sum(q1 * q2, -1, keepdims=True) < 0.0, -1.0, 1.0)
    np.testing.assert_allclose(tfg_style, sign * ours, atol=1e-12)
    np.testing.assert_allclose(slerp.interpolate(q1, q2, 0.0), q1, atol=1e-12)
    np.testing.assert_allclose(slerp.interpolate(q1, q2, 0.0, flip="quaternion1"), sign * q1,
                               atol=1e-12)  # fmt: skip
    with pytest.raises(ValueError, match="flip"):
        slerp.interpolate(q1, q2, t, flip="q1")
    with pytest.raises(ValueError, match="flip"):
        slerp.quaternion_weights(q1, q2, t, flip=None)


@pytest.mark.parametrize(
    ("function", "at_zero", "at_one"),
    [
        ("_constant", [1.0], [1.0]),
        ("_linear", [1.0, 0.0], [0.0, 1.0]),
        ("_quadratic", [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]),
        ("_cubic", [1 / 6, 2 / 3, 1 / 6, 0.0], [0.0, 1 / 6, 2 / 3, 1 / 6]),
        (
            "_quartic",
            [1 / 24, 11 / 24, 11 / 24, 1 / 24, 0.0],
            [0.0, 1 / 24, 11 / 24, 11 / 24, 1 / 24],
        ),
    ],
)
def test_tensorflow_graphics_private_basis_names(function, at_zero, at_one):
    basis = getattr(bspline, function)
    np.testing.assert_allclose(basis(0.0), at_zero, atol=1e-7)
    np.testing.assert_allclose(basis(1.0), at_one, atol=1e-7)


def test_knot_weight_errors_also_use_tensorflow_graphics_wording():
    with pytest.raises(ValueError, match=r"^degree .* Degree should be between 0 and 4\."):
        bspline.knot_weights([0.5], 6, 5, True)
    with pytest.raises(ValueError, match=r"^num_knots .* Degree cannot be >= number of knots\."):
        bspline.knot_weights([0.5], 2, 2, True)


def test_vector_slerp_between_opposite_vectors_is_the_mean_of_all_great_arcs():
    v1 = np.array([0.6, 0.0, 0.8])
    helper = np.cross(v1, [1.0, 0.0, 0.0])
    u1 = helper / np.linalg.norm(helper)
    u2 = np.cross(v1, u1)
    for t in (0.0, 0.25, 0.5, 0.9, 1.0):
        # The arcs from v1 to -v1 through each direction u orthogonal to v1, averaged.
        arcs = [
            np.cos(np.pi * t) * v1 + np.sin(np.pi * t) * (np.cos(a) * u1 + np.sin(a) * u2)
            for a in np.linspace(0.0, 2.0 * np.pi, 360, endpoint=False)
        ]
        got = slerp.interpolate(v1, -v1, [t], method=VECTOR)
        np.testing.assert_allclose(got, np.mean(arcs, axis=0), atol=1e-12)
    # Unnormalized opposite vectors still start at vector1 and end at vector2.
    np.testing.assert_allclose(slerp.interpolate([4.0, 0.0], [-1.0, 0.0], [1.0], VECTOR), [-1, 0])
    np.testing.assert_allclose(slerp.interpolate([4.0, 0.0], [-1.0, 0.0], [0.0], VECTOR), [4, 0])


def test_mismatched_last_dimensions_name_both_arguments_in_tfg_wording():
    wording = "must have the same number of dimensions in axes -1"
    with pytest.raises(ValueError, match=f"^vector1 and vector2 .*vector2 {wording}"):
        slerp.vector_weights(np.ones((2, 3)), np.ones((2, 4)), [0.5])
    with pytest.raises(ValueError, match=f"^knots and weights .*weights {wording}"):
        bspline.interpolate_with_weights(np.ones(2), np.ones(3))
