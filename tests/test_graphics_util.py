"""course_lib.graphics.util (shape checks, safe ops, test helpers) and math.vector."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.util import asserts, safe_ops, shape
from course_lib.graphics.util.testing import (
    assert_gradient_finite,
    assert_jacobian_matches,
    peak_memory,
)

# --- shape ----------------------------------------------------------------------------------


def test_checked_converts_lists_to_the_dtype_of_the_first_float_tensor():
    point, axis, angle = shape.checked(
        point=(np.ones((8, 3)), 3), axis=((0.0, 1.0, 0.0), 3), angle=([0.5], 1)
    )
    assert point.dtype == axis.dtype == angle.dtype == tf.float64
    (values,) = shape.checked(values=([1, 2, 3], 3))
    assert values.dtype == tf.float32  # Python ints become floats; only int tensors are refused


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_checked_rejects_integer_and_bool_tensors_naming_the_argument(dtype):
    with pytest.raises(ValueError, match="point must be a floating-point tensor"):
        shape.checked(point=(np.ones((2, 3), dtype), 3))


def test_checked_rejects_mixed_float_dtypes():
    with pytest.raises(ValueError, match="axis has dtype float32"):
        shape.checked(point=(np.ones(3), 3), axis=(np.ones(3, np.float32), 3))


def test_checked_rejects_a_wrong_last_dimension_naming_argument_and_shape():
    with pytest.raises(ValueError, match=r"axis must have shape \[A1, \.\.\., An, 3\], got \(2,\)"):
        shape.checked(point=(np.ones(3), 3), axis=(np.ones(2), 3))
    with pytest.raises(ValueError, match=r"matrix must have shape \[A1, \.\.\., An, 3, 3\]"):
        shape.checked(matrix=(np.ones((4, 3, 2)), (3, 3)))
    with pytest.raises(ValueError, match="scalar"):
        shape.checked(scalar=(1.0, 1))


@pytest.mark.parametrize(
    ("value", "inner", "tfg_wording"),
    [
        (np.ones(2), 3, "must have exactly 3 dimensions in axis -1"),
        (np.ones((4, 3, 2)), (3, 3), "must have exactly 3 dimensions in axis -1"),
        (np.ones((2, 3)), (3, 3), "must have exactly 3 dimensions in axis -2"),
        (np.ones(3), (3, 3), "must have a rank greater than 1"),
        (np.ones(()), 1, "must have a rank greater than 0"),
    ],
)
def test_shape_errors_also_use_tensorflow_graphics_wording(value, inner, tfg_wording):
    with pytest.raises(ValueError) as error:
        shape.checked(matrix=(value, inner))
    message = str(error.value)
    assert message.startswith("matrix must have shape [A1, ..., An, ")
    assert f"matrix {tfg_wording}" in message


def test_broadcast_errors_also_use_tensorflow_graphics_wording():
    with pytest.raises(ValueError, match="Not all batch dimensions are broadcast-compatible.") as e:
        shape.checked(point=(np.ones((2, 3)), 3), axis=(np.ones((5, 3)), 3))
    assert str(e.value).startswith("the batch dimensions of point and axis do not broadcast")
    assert "Not all batch dimensions are identical." in str(e.value)


def test_checked_rejects_batch_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="batch dimensions of point and axis do not broadcast"):
        shape.checked(point=(np.ones((2, 3)), 3), axis=(np.ones((5, 3)), 3))
    # Broadcastable ones pass, as in NumPy.
    shape.checked(point=(np.ones((4, 1, 3)), 3), axis=(np.ones((6, 3)), 3), angle=(np.ones(1), 1))


def test_check_broadcast_matches_numpy(rng):
    for _ in range(20):
        a = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(0, 4)))
        b = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(0, 4)))
        try:
            expected = np.broadcast_shapes(a, b)
        except ValueError:
            with pytest.raises(ValueError):
                shape.check_broadcast(a=a, b=b)
        else:
            assert shape.check_broadcast(a=a, b=b) == expected


def test_checked_accepts_unknown_dimensions_inside_tf_function():
    @tf.function(input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([None, 1])])
    def scale(point, factor):
        point, factor = shape.checked(point=(point, 3), factor=(factor, 1))
        return point * factor

    assert scale(tf.ones((5, 3)), tf.fill((5, 1), 2.0)).numpy().sum() == 30.0


def test_broadcast_batch_gives_equal_batch_dimensions():
    a, m = shape.broadcast_batch((tf.ones((4, 1, 3)), 3), (tf.ones((5, 3, 3)), (3, 3)))
    assert a.shape == (4, 5, 3) and m.shape == (4, 5, 3, 3)


@pytest.mark.parametrize(
    ("shape_", "batch", "inner_rank", "inner_shape"),
    [
        ((5, 3), (4, 2), 2, None),  # no batch dimensions: tiled over the batch
        ((2, 5, 3), (4, 2), 2, None),  # broadcast along the first batch dimension
        ((4, 1, 6, 7, 3), (4, 2), 3, [-1, 3]),  # inner dimensions merged too
        ((4, 2, 3), (4, 2), 1, None),  # nothing to broadcast
        ((3, 1, 2), (2, 3, 4), 1, [2, 1]),
    ],
)
def test_broadcast_and_flatten_matches_numpy(rng, shape_, batch, inner_rank, inner_shape):
    values = rng.normal(size=shape_).astype(np.float32)
    inner = shape_[len(shape_) - inner_rank :]
    expected = np.broadcast_to(values, batch + inner).reshape(
        (int(np.prod(batch)), *(inner if inner_shape is None else inner_shape))
    )
    result = shape.broadcast_and_flatten(
        tf.constant(values), tf.constant(batch), inner_rank, inner_shape
    )
    np.testing.assert_array_equal(result.numpy(), expected)

    @tf.function(
        input_signature=[tf.TensorSpec([None] * len(shape_)), tf.TensorSpec([len(batch)], tf.int32)]
    )
    def relaxed(tensor, batch_shape):
        return shape.broadcast_and_flatten(tensor, batch_shape, inner_rank, inner_shape)

    np.testing.assert_array_equal(relaxed(values, np.array(batch, np.int32)).numpy(), expected)


def test_broadcast_and_flatten_keeps_given_inner_dims_static_for_unknown_ranks():
    @tf.function(input_signature=[tf.TensorSpec(None), tf.TensorSpec([None], tf.int32)])
    def unknown_rank(tensor, batch_shape):
        flat = shape.broadcast_and_flatten(tensor, batch_shape, 2, [-1, 3])
        assert flat.shape.as_list() == [None, None, 3]
        return flat

    result = unknown_rank(tf.ones((2, 5, 3)), tf.constant([4, 2]))
    assert result.shape == (8, 5, 3)


# --- safe ops -------------------------------------------------------------------------------


def test_norm_and_normalize_match_numpy(rng):
    v = rng.normal(size=(6, 4))
    np.testing.assert_allclose(safe_ops.norm(v), np.linalg.norm(v, axis=-1, keepdims=True))
    expected = v / np.linalg.norm(v, axis=-1, keepdims=True)
    np.testing.assert_allclose(safe_ops.normalize(tf.constant(v)), expected, rtol=1e-12)


def test_normalize_of_zero_is_zero_with_finite_gradient():
    np.testing.assert_array_equal(safe_ops.normalize(tf.zeros((2, 3))), np.zeros((2, 3)))
    assert_gradient_finite(safe_ops.normalize, [[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    assert_gradient_finite(safe_ops.norm, [[0.0, 0.0, 0.0]])


def test_divide_keeps_sign_and_stays_finite_at_zero():
    out = safe_ops.divide(tf.ones(4), tf.constant([0.0, -1e-12, 2.0, -4.0])).numpy()
    assert out[0] > 1e6 and out[1] < -1e6
    np.testing.assert_allclose(out[2:], [0.5, -0.25])
    assert_gradient_finite(lambda n, d: safe_ops.divide(n, d), [1.0, 1.0], [0.0, 3.0])


@pytest.mark.parametrize(
    ("op", "reference", "inputs"),
    [
        (safe_ops.acos, np.arccos, [-0.9, 0.0, 0.3, 0.99]),
        (safe_ops.asin, np.arcsin, [-0.9, 0.0, 0.3, 0.99]),
        (safe_ops.sqrt, np.sqrt, [0.25, 1.0, 9.0]),
        (safe_ops.sinc, lambda x: np.sinc(x / np.pi), [-2.0, -1e-4, 0.0, 1e-4, 0.5, 3.0]),
    ],
)
def test_safe_ops_match_numpy(op, reference, inputs):
    x = np.asarray(inputs)
    np.testing.assert_allclose(op(tf.constant(x)), reference(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("op", "singular"),
    [(safe_ops.acos, [1.0, -1.0]), (safe_ops.asin, [1.0, -1.0]), (safe_ops.sqrt, [0.0])],
)
def test_safe_ops_have_finite_gradients_at_their_singularities(op, singular):
    assert_gradient_finite(op, singular)


def test_atan2_matches_numpy_and_is_finite_at_the_origin(rng):
    y, x = rng.normal(size=8), rng.normal(size=8)
    np.testing.assert_allclose(safe_ops.atan2(tf.constant(y), tf.constant(x)), np.arctan2(y, x))
    assert_gradient_finite(safe_ops.atan2, [0.0, 1.0], [0.0, 1.0])


def test_sinc_jacobian_is_smooth_through_zero():
    assert_jacobian_matches(safe_ops.sinc, [np.array([0.0, 2e-4, -5e-4, 0.5, 2.0])])


# --- vector ---------------------------------------------------------------------------------


def test_cross_broadcasts_and_matches_numpy(rng):
    u, v = rng.normal(size=(4, 1, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(vector.cross(u, v), np.cross(u, v), rtol=1e-12)
    np.testing.assert_allclose(vector.dot(u, v), np.sum(u * v, axis=-1, keepdims=True), rtol=1e-12)


def test_reflect_matches_the_closed_form(rng):
    v = rng.normal(size=(6, 3))
    n = rng.normal(size=(6, 3))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    expected = v - 2 * np.sum(v * n, -1, keepdims=True) * n
    np.testing.assert_allclose(vector.reflect(v, n), expected, rtol=1e-12)


def test_vector_jacobians(rng):
    u, v = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    assert_jacobian_matches(vector.cross, [u, v])
    assert_jacobian_matches(vector.dot, [u, v])
    assert_jacobian_matches(vector.reflect, [u, v / np.linalg.norm(v, axis=-1, keepdims=True)])


def test_vector_ops_name_the_bad_argument():
    with pytest.raises(ValueError, match="v must have shape"):
        vector.cross([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="v must have shape"):
        vector.dot([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="normal must have shape"):
        vector.reflect([1.0, 2.0, 3.0], [1.0, 0.0])


# --- the test helpers themselves ------------------------------------------------------------


def test_assert_jacobian_matches_catches_a_wrong_gradient():
    @tf.custom_gradient
    def wrong_square(x):
        return tf.square(x), lambda upstream: upstream * x  # should be 2x

    with pytest.raises(AssertionError, match="Jacobian of argument 0"):
        assert_jacobian_matches(wrong_square, [np.array([1.0, 2.0])])


def test_assert_gradient_finite_catches_nan():
    with pytest.raises(AssertionError, match="gradient of argument 0"):
        assert_gradient_finite(tf.sqrt, [0.0])


def test_vector_ops_reject_scalars():
    with pytest.raises(ValueError, match=r"u must have shape \[A1, \.\.\., An, \?\]"):
        vector.dot(1.0, [1.0])


def test_image_size_accepts_two_positive_integers_and_names_the_argument():
    assert shape.image_size((3, 4)) == (3, 4)
    assert shape.image_size(np.array([5, 6])) == (5, 6)
    for bad in [(0, 4), (3,), (2.5, 4), "ab", None, (True, 2)]:
        with pytest.raises(ValueError, match="image_size must be"):
            shape.image_size(bad)


def test_peak_memory_sees_a_temporary_allocation():
    def allocate():
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        return float(block.sum())

    result, before, peak = peak_memory(allocate)
    assert result == 64 * 2**20 // 8
    assert peak - before > 32 * 2**20


# --- asserts (optional value checks) --------------------------------------------------------


def test_asserts_are_off_by_default_and_pass_tensors_through():
    assert not asserts.is_enabled()
    tensor = tf.constant([-1.0, 2.0])
    assert asserts.assert_all_above(tensor, 0.0, "x") is tensor
    assert asserts.assert_all_in_range(tensor, 0.0, 1.0, "x") is tensor
    zeros = tf.zeros(2)
    assert asserts.assert_nonzero(zeros, "x") is zeros
    assert asserts.assert_normalized(tensor, "x") is tensor
    assert asserts.assert_that(tensor, lambda: 1 / 0, "never computed") is tensor


def test_invalid_value_error_is_both_a_value_error_and_tensorflows_invalid_argument():
    import pickle

    error = asserts.InvalidValueError("degree_l must be >= 0, got [-1]")
    assert isinstance(error, ValueError) and isinstance(error, tf.errors.InvalidArgumentError)
    assert str(error) == error.message == "degree_l must be >= 0, got [-1]"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is asserts.InvalidValueError and copy.message == error.message


def test_check_same_last_names_both_arguments_in_both_wordings():
    shape.check_same_last("a", np.ones((2, 3)), "b", [[1.0, 2.0, 3.0]])
    shape.check_same_last("a", tf.ones((2, 3)), "b", [[1.0], [2.0, 3.0]])  # ragged: unknown
    with pytest.raises(ValueError) as error:
        shape.check_same_last("harmonics1", tf.ones((2, 4)), "harmonics2", np.ones((2, 9)))
    assert str(error.value) == (
        "harmonics1 and harmonics2 must have the same last dimension, got shapes (2, 4) and "
        "(2, 9): harmonics1 and harmonics2 must have the same number of dimensions in axes -1"
    )


def test_asserts_switch_is_scoped_and_restored_after_errors():
    with asserts.enabled():
        assert asserts.is_enabled()
        with asserts.enabled(False):
            assert not asserts.is_enabled()
        assert asserts.is_enabled()
    assert not asserts.is_enabled()
    with pytest.raises(tf.errors.InvalidArgumentError), asserts.enabled():
        asserts.assert_nonzero(tf.constant([1.0, 0.0]), "total")
    assert not asserts.is_enabled()


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (lambda t: asserts.assert_all_above(t, 0.0, "x"), [0.0, 1.0], [-1e-3, 1.0]),
        (lambda t: asserts.assert_all_above(t, 0.0, "x", open_bound=True), [1e-3], [0.0]),
        (lambda t: asserts.assert_all_in_range(t, 0.0, 1.0, "x"), [0.0, 1.0], [1.001]),
        (lambda t: asserts.assert_all_in_range(t, 0, 1, "x", open_bounds=True), [0.5], [1.0]),
        (lambda t: asserts.assert_nonzero(t, "x"), [1.0, -2.0], [1.0, 0.0]),
        (lambda t: asserts.assert_normalized(t, "x"), [[0.6, 0.8]], [[0.6, 0.9]]),
    ],
)
def test_asserts_raise_only_for_bad_values_when_on(check, good, bad):
    with asserts.enabled():
        good = tf.constant(good)
        np.testing.assert_array_equal(check(good), good)
        with pytest.raises(tf.errors.InvalidArgumentError):
            check(tf.constant(bad))
        in_graph = tf.function(check)
        with pytest.raises(tf.errors.InvalidArgumentError):
            in_graph(tf.constant(bad))
    check(tf.constant(bad))  # off again: no check


def _ops_with_value_checks():
    from course_lib.graphics.geometry.transformation import (
        axis_angle,
        euler,
        quaternion,
        rotation_matrix_3d,
    )
    from course_lib.graphics.math import math_helpers, spherical_harmonics
    from course_lib.graphics.math.interpolation import slerp
    from course_lib.graphics.rendering.camera import perspective
    from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian, phong

    half = np.diag([1.0, 1.0, -1.0])  # a reflection, not a rotation
    p, q2, a2 = [1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 2.0], [0.0, 2.0, 0.0]
    return [
        lambda: quaternion.rotate(p, q2),
        lambda: quaternion.from_axis_angle(a2, [1.0]),
        lambda: quaternion.from_rotation_matrix(half),
        lambda: axis_angle.rotate(p, a2, [1.0]),
        lambda: axis_angle.inverse(a2, [1.0]),
        lambda: axis_angle.from_rotation_matrix(half),
        lambda: rotation_matrix_3d.from_axis_angle(a2, [1.0]),
        lambda: rotation_matrix_3d.from_quaternion(q2),
        lambda: rotation_matrix_3d.rotate(p, half),
        lambda: euler.from_rotation_matrix(half),
        lambda: vector.reflect(p, a2),
        lambda: math_helpers.spherical_to_cartesian_coordinates([-1.0, 0.5, 0.5]),
        lambda: math_helpers.square_to_spherical_coordinates([1.5, 0.5]),
        lambda: perspective.right_handed([4.0], [1.0], [0.1], [10.0]),
        lambda: perspective.right_handed([1.0], [0.0], [0.1], [10.0]),
        lambda: perspective.right_handed([1.0], [1.0], [0.0], [10.0]),
        lambda: perspective.right_handed([1.0], [1.0], [1.0], [0.5]),
        lambda: slerp.quaternion_weights([0.0, 0.0, 0.0, 1.0], q2, [0.5]),
        lambda: spherical_harmonics.evaluate_legendre_polynomial(2, 1, [1.5]),
        # A BRDF's directions and normal must be unit vectors and its albedo in [0, 1].
        lambda: lambertian.brdf([0.0, 0.0, -2.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.5]),
        lambda: lambertian.brdf([0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.5]),
        lambda: phong.brdf([0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 3.0], [9.0], [0.5]),
        lambda: blinn_phong.brdf([0.0, 0.0, -1.0], a2, [0.0, 0.0, 1.0], [9.0], [0.5]),
    ]


@pytest.mark.parametrize("index", range(len(_ops_with_value_checks())))
def test_ops_check_values_only_when_asserts_are_on(index):
    call = _ops_with_value_checks()[index]
    call()  # off: computes something
    with asserts.enabled(), pytest.raises(tf.errors.InvalidArgumentError):
        call()


def test_vector_ops_take_an_axis_and_dot_keepdims(rng):
    u, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(vector.dot(u, v, axis=1), np.sum(u * v, 1, keepdims=True))
    np.testing.assert_allclose(vector.dot(u, v, keepdims=False), np.sum(u * v, -1))
    np.testing.assert_allclose(vector.dot(u, v, axis=-3, keepdims=False), np.sum(u * v, 1))
    np.testing.assert_allclose(vector.cross(u, v, axis=1), np.cross(u, v, axis=1), atol=1e-12)
    normal = v / np.linalg.norm(v, axis=1, keepdims=True)
    expected = u - 2.0 * np.sum(u * normal, 1, keepdims=True) * normal
    np.testing.assert_allclose(vector.reflect(u, normal, axis=1), expected, atol=1e-12)
    with pytest.raises(ValueError, match="axis 4 is out of range for u"):
        vector.dot(u, v, axis=4)
    with pytest.raises(ValueError, match="u must have shape"):
        vector.cross(u, v, axis=2)
