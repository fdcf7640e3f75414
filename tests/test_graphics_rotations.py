"""course_lib.graphics.geometry.transformation: every rotation op against SciPy, its Jacobian,
its singularities, its bad inputs, and property tests across the four representations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

import course_lib.graphics.geometry.transformation as tfg
from course_lib.graphics.geometry.transformation import (
    axis_angle,
    euler,
    look_at,
    quaternion,
    rotation_matrix_2d,
    rotation_matrix_3d,
)
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches

RTOL, ATOL = 1e-5, 1e-6
F32 = np.float32


def random_rotations(rng, shape):
    """SciPy rotations, flat, and their float32 quaternions reshaped to ``shape + (4,)``."""
    count = int(np.prod(shape))
    rotations = Rotation.random(count, random_state=int(rng.integers(1 << 31)))
    quat = rotations.as_quat().astype(F32)
    return Rotation.from_quat(quat.astype(np.float64)), quat.reshape(*shape, 4)


def random_axis(rng, n):
    axis = rng.normal(size=(n, 3))
    return axis / np.linalg.norm(axis, axis=-1, keepdims=True)


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol)


def same_rotation_quaternions(q1, q2, atol=2e-6):
    """Quaternions equal up to sign."""
    q1, q2 = np.asarray(q1, np.float64), np.asarray(q2, np.float64)
    sign = np.where(np.sum(q1 * q2, axis=-1, keepdims=True) < 0, -1.0, 1.0)
    np.testing.assert_allclose(q1 * sign, q2, atol=atol)


def half_turns():
    """Float32 180-degree rotation matrices: the three axes and a few oblique axes."""
    axes = np.concatenate(
        [np.eye(3), random_axis(np.random.default_rng(5), 5), [[1.0, -1.0, 0.0]]], axis=0
    )
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    return Rotation.from_rotvec(np.pi * axes).as_matrix().astype(F32)


# --- rotation_matrix_2d -------------------------------------------------------------------------


def test_rotation_matrix_2d_matches_the_closed_form(rng):
    angle = rng.uniform(-np.pi, np.pi, (4, 5, 1)).astype(F32)
    c, s = np.cos(angle[..., 0]), np.sin(angle[..., 0])
    expected = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    matrix = rotation_matrix_2d.from_euler(angle)
    close(matrix, expected)
    point = rng.normal(size=(4, 5, 2)).astype(F32)
    close(rotation_matrix_2d.rotate(point, matrix), np.einsum("...ij,...j->...i", expected, point))
    close(rotation_matrix_2d.inverse(matrix), np.swapaxes(expected, -1, -2))
    assert np.all(rotation_matrix_2d.is_valid(matrix))
    assert rotation_matrix_2d.is_valid(matrix).shape == (4, 5, 1)
    assert not np.any(rotation_matrix_2d.is_valid(np.diag([1.0, -1.0]).astype(F32)))
    assert not np.any(rotation_matrix_2d.is_valid(2.0 * np.eye(2, dtype=F32)))


def test_rotation_matrix_2d_jacobians(rng):
    angle = rng.uniform(-3, 3, (3, 1))
    assert_jacobian_matches(rotation_matrix_2d.from_euler, [angle])
    matrix = rotation_matrix_2d.from_euler(angle).numpy()
    assert_jacobian_matches(rotation_matrix_2d.rotate, [rng.normal(size=(3, 2)), matrix])
    assert_jacobian_matches(rotation_matrix_2d.inverse, [matrix])


# --- rotation_matrix_3d -------------------------------------------------------------------------


def test_rotation_matrix_3d_from_euler_matches_scipy(rng):
    angles = rng.uniform(-np.pi, np.pi, (4, 6, 3)).astype(F32)
    expected = Rotation.from_euler("xyz", angles.reshape(-1, 3)).as_matrix().reshape(4, 6, 3, 3)
    close(rotation_matrix_3d.from_euler(angles), expected)


def test_rotation_matrix_3d_from_axis_angle_matches_scipy_and_broadcasts(rng):
    axis = random_axis(rng, 24).astype(F32)
    angle = rng.uniform(-np.pi, np.pi, (24, 1)).astype(F32)
    expected = Rotation.from_rotvec(axis * angle.astype(np.float64)).as_matrix()
    close(rotation_matrix_3d.from_axis_angle(axis, angle), expected)
    # One angle for every axis.
    expected = Rotation.from_rotvec(axis * np.float64(angle[0])).as_matrix()
    close(rotation_matrix_3d.from_axis_angle(axis, angle[0]), expected)


def test_rotation_matrix_3d_from_quaternion_rotate_and_inverse_match_scipy(rng):
    rotations, quat = random_rotations(rng, (3, 8))
    expected = rotations.as_matrix().reshape(3, 8, 3, 3)
    matrix = rotation_matrix_3d.from_quaternion(quat)
    close(matrix, expected)
    point = rng.normal(size=(3, 8, 3)).astype(F32)
    close(
        rotation_matrix_3d.rotate(point, matrix),
        rotations.apply(point.reshape(-1, 3)).reshape(3, 8, 3),
        atol=2e-6,
    )
    # One matrix for many points (the broadcast fast path) and a matrix per point agree.
    one = matrix[0, 0]
    close(
        rotation_matrix_3d.rotate(point, one),
        rotations[0].apply(point.reshape(-1, 3)).reshape(3, 8, 3),
        atol=2e-6,
    )
    close(rotation_matrix_3d.inverse(matrix), rotations.inv().as_matrix().reshape(3, 8, 3, 3))


def test_rotation_matrix_3d_is_valid(rng):
    _, quat = random_rotations(rng, (5,))
    matrix = rotation_matrix_3d.from_quaternion(quat).numpy()
    assert rotation_matrix_3d.is_valid(matrix).shape == (5, 1)
    assert np.all(rotation_matrix_3d.is_valid(matrix))
    assert not np.any(rotation_matrix_3d.is_valid(-matrix))  # det = -1
    assert not np.any(rotation_matrix_3d.is_valid(1.1 * matrix))


def test_rotation_matrix_3d_works_in_float64(rng):
    angles = rng.uniform(-np.pi, np.pi, (5, 3))
    matrix = rotation_matrix_3d.from_euler(angles)
    assert matrix.dtype == tf.float64
    np.testing.assert_allclose(matrix, Rotation.from_euler("xyz", angles).as_matrix(), atol=1e-12)


def test_rotation_matrix_3d_jacobians(rng):
    angles = rng.uniform(-3, 3, (2, 3))
    assert_jacobian_matches(rotation_matrix_3d.from_euler, [angles])
    assert_jacobian_matches(
        rotation_matrix_3d.from_axis_angle, [random_axis(rng, 2), rng.uniform(-3, 3, (2, 1))]
    )
    quat = Rotation.random(2, random_state=3).as_quat()
    assert_jacobian_matches(rotation_matrix_3d.from_quaternion, [quat])
    matrix = rotation_matrix_3d.from_quaternion(quat).numpy()
    assert_jacobian_matches(rotation_matrix_3d.rotate, [rng.normal(size=(2, 3)), matrix])
    assert_jacobian_matches(rotation_matrix_3d.rotate, [rng.normal(size=(2, 3)), matrix[0]])
    assert_jacobian_matches(rotation_matrix_3d.inverse, [matrix])


# --- quaternion ---------------------------------------------------------------------------------


def test_quaternion_from_axis_angle_and_from_euler_match_scipy(rng):
    axis = random_axis(rng, 16).astype(F32)
    angle = rng.uniform(-np.pi, np.pi, (16, 1)).astype(F32)
    expected = Rotation.from_rotvec(axis * angle.astype(np.float64)).as_quat()
    same_rotation_quaternions(quaternion.from_axis_angle(axis, angle), expected)
    angles = rng.uniform(-np.pi, np.pi, (2, 8, 3)).astype(F32)
    expected = Rotation.from_euler("xyz", angles.reshape(-1, 3)).as_quat().reshape(2, 8, 4)
    same_rotation_quaternions(quaternion.from_euler(angles), expected)


def test_quaternion_from_rotation_matrix_matches_scipy_including_half_turns(rng):
    rotations, _ = random_rotations(rng, (64,))
    matrix = np.concatenate([rotations.as_matrix().astype(F32), half_turns()], axis=0)
    expected = Rotation.from_matrix(matrix.astype(np.float64)).as_quat()
    got = quaternion.from_rotation_matrix(matrix)
    same_rotation_quaternions(got, expected)
    close(np.linalg.norm(got, axis=-1), 1.0)


def test_quaternion_rotate_matches_scipy_batched_and_broadcast(rng):
    rotations, quat = random_rotations(rng, (4, 5))
    point = rng.normal(size=(4, 5, 3)).astype(F32)
    expected = rotations.apply(point.reshape(-1, 3)).reshape(4, 5, 3)
    close(quaternion.rotate(point, quat), expected, atol=2e-6)
    expected = rotations[0].apply(point.reshape(-1, 3)).reshape(4, 5, 3)
    close(quaternion.rotate(point, quat[0, 0]), expected, atol=2e-6)  # one quaternion
    close(quaternion.rotate(point, quat[:1, :1]), expected, atol=2e-6)  # broadcast batch dims


def test_quaternion_multiply_conjugate_inverse_normalize_match_scipy(rng):
    r1, q1 = random_rotations(rng, (12,))
    r2, q2 = random_rotations(rng, (12,))
    same_rotation_quaternions(quaternion.multiply(q1, q2), (r1 * r2).as_quat())
    same_rotation_quaternions(quaternion.conjugate(q1), r1.inv().as_quat())
    scale = rng.uniform(0.5, 2.0, (12, 1)).astype(F32)
    scaled = q1 * scale
    same_rotation_quaternions(quaternion.inverse(scaled) * scale, r1.inv().as_quat())
    identity = quaternion.multiply(scaled, quaternion.inverse(scaled))
    close(identity, np.tile([0.0, 0.0, 0.0, 1.0], (12, 1)), atol=2e-6)
    close(quaternion.normalize(scaled), q1, atol=2e-6)
    assert quaternion.multiply(q1[:, None], q2[None]).shape == (12, 12, 4)


def test_quaternion_relative_angle_matches_scipy(rng):
    r1, q1 = random_rotations(rng, (20,))
    r2, q2 = random_rotations(rng, (20,))
    expected = (r1.inv() * r2).magnitude()[:, None]
    close(quaternion.relative_angle(q1, q2), expected, atol=2e-6)
    # Insensitive to sign and length, and accurate for a small angle.
    close(quaternion.relative_angle(-3.0 * q1, q2), expected, atol=2e-6)
    small = quaternion.from_axis_angle([0.0, 0.0, 1.0], [1e-4])
    close(quaternion.relative_angle([0.0, 0.0, 0.0, 1.0], small), [1e-4], rtol=1e-3)


def test_quaternion_relative_angle_keepdims_false_drops_the_last_dimension(rng):
    _, q1 = random_rotations(rng, (3, 5))
    _, q2 = random_rotations(rng, (3, 5))
    kept = quaternion.relative_angle(q1, q2)
    dropped = quaternion.relative_angle(q1, q2, keepdims=False)
    assert kept.shape == (3, 5, 1) and dropped.shape == (3, 5)
    np.testing.assert_array_equal(dropped, kept[..., 0])
    # 90 degrees about x, then the inverse of 90 degrees about y: a turn of 2 pi / 3.
    qx = quaternion.from_axis_angle([1.0, 0.0, 0.0], [np.pi / 2])
    qy = quaternion.from_axis_angle([0.0, 1.0, 0.0], [np.pi / 2])
    close(quaternion.relative_angle(qx, qy, keepdims=False), 2.0 * np.pi / 3.0)


def test_quaternion_between_two_vectors_3d(rng):
    v1 = rng.normal(size=(16, 3)).astype(F32)
    v2 = rng.normal(size=(16, 3)).astype(F32)
    # Add parallel, opposite and axis-aligned opposite pairs.
    v1 = np.concatenate([v1, v1[:2], v1[2:4], [[1.0, 0.0, 0.0]], [[0.0, 0.0, 2.0]]]).astype(F32)
    v2 = np.concatenate(
        [v2, 3.0 * v1[:2], -0.5 * v1[2:4], [[-1.0, 0.0, 0.0]], [[0.0, 0.0, -1.0]]]
    ).astype(F32)
    q = quaternion.between_two_vectors_3d(v1, v2)
    close(np.linalg.norm(q, axis=-1), 1.0)
    u1 = v1 / np.linalg.norm(v1, axis=-1, keepdims=True)
    u2 = v2 / np.linalg.norm(v2, axis=-1, keepdims=True)
    close(quaternion.rotate(u1, q), u2, atol=2e-6)
    # The shortest arc: its angle is the angle between the vectors.
    expected = np.arccos(np.clip(np.sum(u1 * u2, -1), -1, 1))
    rotations = Rotation.from_quat(np.asarray(q, np.float64))
    np.testing.assert_allclose(rotations.magnitude(), expected, atol=1e-3)


def test_quaternion_between_opposite_vectors_turns_about_tensorflow_graphics_axis(rng):
    v1 = np.concatenate([np.eye(3), rng.normal(size=(6, 3))])
    q = quaternion.between_two_vectors_3d(v1, -2.0 * v1).numpy()
    u = v1 / np.linalg.norm(v1, axis=-1, keepdims=True)
    x, y, z = u.T
    axis = np.where(
        (np.abs(x) > np.abs(z))[:, None],
        np.stack([-y, x, np.zeros_like(x)], -1),
        np.stack([np.zeros_like(x), -z, y], -1),
    )
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    np.testing.assert_allclose(q, np.concatenate([axis, np.zeros((9, 1))], -1), atol=1e-12)
    np.testing.assert_allclose(np.sum(axis * u, -1), 0.0, atol=1e-12)


def test_quaternion_jacobians(rng):
    quat = Rotation.random(2, random_state=4).as_quat()
    other = Rotation.random(2, random_state=5).as_quat()
    angle = rng.uniform(-3, 3, (2, 1))
    assert_jacobian_matches(quaternion.from_axis_angle, [random_axis(rng, 2), angle])
    assert_jacobian_matches(quaternion.from_euler, [rng.uniform(-3, 3, (2, 3))])
    matrix = Rotation.from_quat(quat).as_matrix()
    assert_jacobian_matches(quaternion.from_rotation_matrix, [matrix])
    assert_jacobian_matches(quaternion.from_rotation_matrix, [half_turns()[[0, 4]].astype(float)])
    assert_jacobian_matches(quaternion.rotate, [rng.normal(size=(2, 3)), quat])
    assert_jacobian_matches(quaternion.rotate, [rng.normal(size=(2, 3)), quat[0]])
    assert_jacobian_matches(quaternion.multiply, [quat, other])
    assert_jacobian_matches(quaternion.conjugate, [quat])
    assert_jacobian_matches(quaternion.inverse, [1.5 * quat])
    assert_jacobian_matches(quaternion.normalize, [1.5 * quat])
    assert_jacobian_matches(quaternion.relative_angle, [quat, other])
    assert_jacobian_matches(
        quaternion.between_two_vectors_3d, [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))]
    )


def test_quaternion_gradients_are_finite_at_singularities():
    identity = [[0.0, 0.0, 0.0, 1.0]]
    assert_gradient_finite(quaternion.normalize, [[0.0, 0.0, 0.0, 0.0]])
    assert_gradient_finite(quaternion.inverse, [[0.0, 0.0, 0.0, 0.0]])
    assert_gradient_finite(quaternion.relative_angle, identity, identity)
    assert_gradient_finite(quaternion.relative_angle, identity, [[1.0, 0.0, 0.0, 0.0]])
    assert_gradient_finite(quaternion.from_rotation_matrix, np.eye(3)[None])
    assert_gradient_finite(quaternion.from_rotation_matrix, half_turns())
    assert_gradient_finite(quaternion.from_axis_angle, [[0.0, 0.0, 1.0]], [[0.0]])
    parallel = [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]
    assert_gradient_finite(quaternion.between_two_vectors_3d, parallel, parallel)
    assert_gradient_finite(quaternion.between_two_vectors_3d, parallel, -np.asarray(parallel))


# --- axis_angle ---------------------------------------------------------------------------------


def test_axis_angle_rotate_matches_scipy(rng):
    axis = random_axis(rng, 64).astype(F32)
    angle = rng.uniform(-np.pi, np.pi, (64, 1)).astype(F32)
    point = rng.normal(size=(64, 3)).astype(F32)
    expected = Rotation.from_rotvec(axis * angle.astype(np.float64)).apply(point)
    close(axis_angle.rotate(point, axis, angle), expected, atol=2e-6)
    # One axis and angle for all points (the matrix fast path), and broadcast batch dimensions.
    expected = Rotation.from_rotvec(axis[0] * np.float64(angle[0])).apply(point)
    close(axis_angle.rotate(point, axis[0], angle[0]), expected, atol=2e-6)
    close(axis_angle.rotate(point[None], axis[:1], angle[:1])[0], expected, atol=2e-6)


def test_the_course_cube_listing_runs():
    from course_lib.data import load_cube

    cube = load_cube()
    axis = (0.0, 1.0, 0.0)
    angle = (np.pi / 4.0,)
    cube_rotated = tfg.axis_angle.rotate(cube, axis, angle)
    expected = Rotation.from_rotvec([0.0, np.pi / 4.0, 0.0]).apply(cube)
    assert cube_rotated.shape == (8, 3) and cube_rotated.dtype == tf.float32
    close(cube_rotated, expected, atol=2e-6)


def test_axis_angle_conversions_match_scipy(rng):
    rotations, quat = random_rotations(rng, (32,))
    rotvec = rotations.as_rotvec()
    for axis, angle in [
        axis_angle.from_quaternion(quat),
        axis_angle.from_quaternion(-quat),
        axis_angle.from_rotation_matrix(rotations.as_matrix().astype(F32)),
    ]:
        close(np.asarray(axis) * np.asarray(angle), rotvec, atol=5e-6)
        close(np.linalg.norm(axis, axis=-1), 1.0)
        assert np.all((np.asarray(angle) >= 0) & (np.asarray(angle) <= np.pi + 1e-6))
    angles = rng.uniform(-np.pi, np.pi, (32, 3)).astype(F32)
    axis, angle = axis_angle.from_euler(angles)
    close(
        np.asarray(axis) * np.asarray(angle),
        Rotation.from_euler("xyz", angles).as_rotvec(),
        atol=5e-6,
    )
    inverse_axis, inverse_angle = axis_angle.inverse(axis, angle)
    close(inverse_axis, axis)
    close(inverse_angle, -np.asarray(angle))


def test_axis_angle_at_zero_and_half_turn():
    axis, angle = axis_angle.from_quaternion([[0.0, 0.0, 0.0, 1.0]])
    close(axis, [[1.0, 0.0, 0.0]])
    close(angle, [[0.0]])
    axis, angle = axis_angle.from_rotation_matrix(half_turns())
    close(angle, np.full((half_turns().shape[0], 1), np.pi), rtol=1e-6)
    close(rotation_matrix_3d.from_axis_angle(axis, angle), half_turns(), atol=2e-6)


def test_axis_angle_jacobians(rng):
    point, axis, angle = rng.normal(size=(2, 3)), random_axis(rng, 2), rng.uniform(-3, 3, (2, 1))
    assert_jacobian_matches(axis_angle.rotate, [point, axis, angle])
    assert_jacobian_matches(axis_angle.rotate, [point, axis[0], angle[0]])
    quat = Rotation.random(2, random_state=6).as_quat()

    def flat(pair):
        return tf.concat(pair, axis=-1)

    assert_jacobian_matches(lambda q: flat(axis_angle.from_quaternion(q)), [quat])
    matrix = Rotation.from_quat(quat).as_matrix()
    assert_jacobian_matches(lambda m: flat(axis_angle.from_rotation_matrix(m)), [matrix])
    assert_jacobian_matches(lambda e: flat(axis_angle.from_euler(e)), [rng.uniform(-3, 3, (2, 3))])
    assert_jacobian_matches(lambda a, b: flat(axis_angle.inverse(a, b)), [axis, angle])


def test_axis_angle_gradients_are_finite_at_zero_and_half_turn():
    assert_gradient_finite(axis_angle.rotate, [[1.0, 2.0, 3.0]], [[0.0, 0.0, 1.0]], [[0.0]])
    assert_gradient_finite(axis_angle.rotate, [[1.0, 2.0, 3.0]], [[0.0, 0.0, 1.0]], [[np.pi]])
    for index in (0, 1):
        identity, half = [[0.0, 0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0, 0.0]]
        assert_gradient_finite(lambda q, i=index: axis_angle.from_quaternion(q)[i], identity)
        assert_gradient_finite(lambda q, i=index: axis_angle.from_quaternion(q)[i], half)
        assert_gradient_finite(
            lambda m, i=index: axis_angle.from_rotation_matrix(m)[i], np.eye(3)[None]
        )
        assert_gradient_finite(
            lambda m, i=index: axis_angle.from_rotation_matrix(m)[i], half_turns()
        )
        assert_gradient_finite(lambda e, i=index: axis_angle.from_euler(e)[i], [[0.0, 0.0, 0.0]])


# --- euler --------------------------------------------------------------------------------------


def test_euler_conversions_rebuild_the_rotation(rng):
    rotations, quat = random_rotations(rng, (64,))
    matrix = rotations.as_matrix()
    angles = euler.from_rotation_matrix(matrix.astype(F32))
    close(rotation_matrix_3d.from_euler(angles), matrix, atol=2e-6)
    # Away from gimbal lock the angles are unique (x, z in [-pi, pi], y in [-pi/2, pi/2]).
    close(angles, rotations.as_euler("xyz"), atol=2e-5)
    close(rotation_matrix_3d.from_euler(euler.from_quaternion(quat)), matrix, atol=2e-6)
    rotvec = rotations.as_rotvec()
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    angles = euler.from_axis_angle((rotvec / angle).astype(F32), angle.astype(F32))
    close(rotation_matrix_3d.from_euler(angles), matrix, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_euler_at_gimbal_lock_rebuilds_the_matrix_with_z_zero(dtype):
    angles = np.array(
        [
            [0.3, np.pi / 2, -0.7],
            [1.2, -np.pi / 2, 0.4],
            [0.0, np.pi / 2, 0.0],
            [0.2, np.pi / 2 - 1e-5, 0.1],
        ],
        dtype,
    )
    matrix = rotation_matrix_3d.from_euler(angles)
    recovered = euler.from_rotation_matrix(matrix).numpy()
    close(rotation_matrix_3d.from_euler(recovered), matrix, atol=2e-6)
    np.testing.assert_array_equal(recovered[:3, 2], 0.0)
    assert np.all(np.isfinite(recovered))


def test_euler_inverse_is_the_inverse_rotation(rng):
    angles = rng.uniform(-np.pi, np.pi, (4, 6, 3)) * np.array([1.0, 0.45, 1.0])
    inverse = euler.inverse(angles)
    assert inverse.shape == (4, 6, 3)
    expected = Rotation.from_euler("xyz", angles.reshape(-1, 3)).inv().as_matrix()
    got = rotation_matrix_3d.from_euler(inverse).numpy().reshape(-1, 3, 3)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    # Only for a single non-zero angle is the inverse the negation.
    single = np.array([[0.3, 0.0, 0.0], [0.0, -0.7, 0.0], [0.0, 0.0, 1.1]])
    np.testing.assert_allclose(euler.inverse(single), -single, atol=1e-12)
    assert not np.allclose(euler.inverse(angles), -angles, atol=1e-3)
    assert_jacobian_matches(euler.inverse, [angles[0, :3]])


def test_euler_jacobians(rng):
    matrix = Rotation.random(2, random_state=7).as_matrix()
    assert_jacobian_matches(euler.from_rotation_matrix, [matrix])
    assert_jacobian_matches(euler.from_quaternion, [Rotation.random(2, random_state=8).as_quat()])
    assert_jacobian_matches(
        euler.from_axis_angle, [random_axis(rng, 2), rng.uniform(-3, 3, (2, 1))]
    )


def test_euler_gradients_are_finite_at_gimbal_lock():
    locked = np.array([[0.3, np.pi / 2, -0.7], [1.2, -np.pi / 2, 0.4]], F32)

    def through_matrix(a):
        return euler.from_rotation_matrix(rotation_matrix_3d.from_euler(a))

    def through_quaternion(a):
        return euler.from_quaternion(quaternion.from_euler(a))

    assert_gradient_finite(through_matrix, locked)
    assert_gradient_finite(through_quaternion, locked)
    assert_gradient_finite(euler.from_rotation_matrix, rotation_matrix_3d.from_euler(locked))
    assert_gradient_finite(euler.from_axis_angle, [[0.0, 1.0, 0.0]], [[np.pi / 2]])
    assert_gradient_finite(euler.from_rotation_matrix, np.eye(3)[None])


# --- look_at ------------------------------------------------------------------------------------


def test_look_at_puts_the_target_on_the_camera_z_axis(rng):
    camera = rng.normal(size=(10, 3)).astype(F32) * 5.0
    target = rng.normal(size=(10, 3)).astype(F32)
    up = np.array([0.0, 1.0, 0.0], F32)
    matrix = look_at.right_handed(camera, target, up).numpy()
    assert matrix.shape == (10, 3, 3)
    assert np.all(rotation_matrix_3d.is_valid(matrix))
    in_camera = np.einsum("nij,nj->ni", matrix, target - camera)
    close(in_camera[:, :2], 0.0, atol=1e-5)
    close(in_camera[:, 2], np.linalg.norm(target - camera, axis=-1), rtol=1e-5)
    up_in_camera = np.einsum("nij,j->ni", matrix, up)
    close(up_in_camera[:, 0], 0.0, atol=1e-6)  # the horizon stays level
    assert np.all(up_in_camera[:, 1] < 0)  # camera y points down


def test_look_at_matches_an_independent_construction():
    # A camera on the -z axis looking at the origin with y up: the world's x points left in the
    # image (we look toward +z), y points up, so camera axes are (-x, -y, +z).
    matrix = look_at.right_handed([0.0, 0.0, -5.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    close(matrix, np.diag([-1.0, -1.0, 1.0]))
    args = [[1.0, 2.0, -4.0], [0.2, -0.1, 0.3], [0.1, 1.0, 0.2]]
    assert_jacobian_matches(look_at.right_handed, args)
    assert_gradient_finite(
        look_at.right_handed, [[0.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]], [[0.0, 1.0, 0.0]]
    )


def _glu_look_at(eye, center, up):
    """NumPy gluLookAt (the OpenGL reference page's construction) for one camera."""
    f = (center - eye) / np.linalg.norm(center - eye)
    s = np.cross(f, up)
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    rotation = np.stack([s, u, -f])
    view = np.eye(4)
    view[:3, :3], view[:3, 3] = rotation, -rotation @ eye
    return view


def test_opengl_view_matrix_is_glu_look_at(rng):
    eye, center, up = rng.normal(size=(3, 6, 3))
    got = look_at.opengl_view_matrix(eye, center, up).numpy()
    assert got.shape == (6, 4, 4)
    for k in range(6):
        close(got[k], _glu_look_at(eye[k], center[k], up[k]), atol=1e-12)
    # The camera sits at the origin and the target straight ahead on -z.
    target = np.einsum("nij,nj->ni", got, np.concatenate([center, np.ones((6, 1))], -1))
    close(target[:, :2], 0.0, atol=1e-12)
    close(-target[:, 2], np.linalg.norm(center - eye, axis=-1))
    # Batch dimensions broadcast: one camera position for three targets.
    assert look_at.opengl_view_matrix(eye[0], center[:3], up[0]).shape == (3, 4, 4)
    assert_jacobian_matches(look_at.opengl_view_matrix, [eye[0], center[0], up[0]])
    with pytest.raises(ValueError, match="up_vector"):
        look_at.opengl_view_matrix(eye[0], center[0], up[0, :2])


# --- TensorFlow Graphics' extra API: is_normalized, random quaternions, small angles -------------


def _hamilton(q1, q2):
    """NumPy Hamilton product of `[..., 4]` quaternions ``[x, y, z, w]``."""
    v1, w1, v2, w2 = q1[..., :3], q1[..., 3:], q2[..., :3], q2[..., 3:]
    return np.concatenate(
        [w1 * v2 + w2 * v1 + np.cross(v1, v2), w1 * w2 - (v1 * v2).sum(-1, keepdims=True)], -1
    )


def _small_angle_quaternion(angles):
    """NumPy reference: ``qz * qy * qx`` of Taylor-approximated half-angle rotations, normalized."""
    half = 0.5 * angles
    factors = []
    for axis in range(3):
        q = np.zeros(angles.shape[:-1] + (4,))
        q[..., axis] = half[..., axis]
        q[..., 3] = 1.0 - 0.5 * half[..., axis] ** 2
        factors.append(q)
    product = _hamilton(_hamilton(factors[2], factors[1]), factors[0])
    return product / np.linalg.norm(product, axis=-1, keepdims=True)


def _small_angle_matrix(angles):
    """NumPy reference: ``Rz @ Ry @ Rx`` with ``sin a -> a`` and ``cos a -> 1 - a^2 / 2``."""
    s, c = angles, 1.0 - 0.5 * angles**2
    one, zero = np.ones(angles.shape[:-1]), np.zeros(angles.shape[:-1])

    def matrix(rows):
        return np.stack([np.stack(row, -1) for row in rows], -2)

    rx = matrix([[one, zero, zero], [zero, c[..., 0], -s[..., 0]], [zero, s[..., 0], c[..., 0]]])
    ry = matrix([[c[..., 1], zero, s[..., 1]], [zero, one, zero], [-s[..., 1], zero, c[..., 1]]])
    rz = matrix([[c[..., 2], -s[..., 2], zero], [s[..., 2], c[..., 2], zero], [zero, zero, one]])
    return rz @ ry @ rx


def test_quaternion_is_normalized(rng):
    _, quat = random_rotations(rng, (3, 4))
    assert quaternion.is_normalized(quat).shape == (3, 4, 1)
    assert np.all(quaternion.is_normalized(quat))
    assert not np.any(quaternion.is_normalized(1.01 * quat))
    assert np.all(quaternion.is_normalized(1.01 * quat, atol=0.02))
    assert np.all(quaternion.is_normalized(quat.astype(np.float64)))
    assert not np.any(quaternion.is_normalized(np.zeros((2, 4), F32)))


def test_normalized_random_uniform_is_seeded_unit_and_uniform_on_so3():
    first = quaternion.normalized_random_uniform([3, 2], seed=7)
    assert first.shape == (3, 2, 4) and first.dtype == tf.float32
    np.testing.assert_array_equal(first, quaternion.normalized_random_uniform([3, 2], seed=7))
    assert not np.allclose(first, quaternion.normalized_random_uniform([3, 2], seed=8))
    assert quaternion.normalized_random_uniform([], seed=1).shape == (4,)
    quat = quaternion.normalized_random_uniform([20000], seed=3, dtype=tf.float64).numpy()
    np.testing.assert_allclose(np.linalg.norm(quat, axis=-1), 1.0, atol=1e-12)
    # Haar measure: the rotation angle t has the CDF (t - sin t) / pi, and the mean matrix is 0.
    angle = Rotation.from_quat(quat).magnitude()
    cdf = lambda t: (t - np.sin(t)) / np.pi  # noqa: E731
    assert scipy.stats.kstest(angle, cdf).pvalue > 1e-3
    np.testing.assert_allclose(Rotation.from_quat(quat).as_matrix().mean(axis=0), 0.0, atol=0.02)
    # Both hemispheres (q and -q) are drawn: w is symmetric about 0.
    assert abs(np.mean(quat[:, 3] > 0) - 0.5) < 0.02
    unseeded = quaternion.normalized_random_uniform([5])
    np.testing.assert_allclose(np.linalg.norm(unseeded, axis=-1), 1.0, rtol=1e-6)


def test_normalized_random_uniform_initializer():
    initializer = quaternion.normalized_random_uniform_initializer(seed=2)
    variable = tf.Variable(initializer([5, 4]))
    assert variable.shape == (5, 4) and variable.dtype == tf.float32
    np.testing.assert_allclose(np.linalg.norm(variable.numpy(), axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(initializer([5, 4]), quaternion.normalized_random_uniform([5], 2))
    assert initializer((2, 3, 4), dtype=tf.float64).dtype == tf.float64
    with pytest.raises(ValueError, match="'dtype' must be tf.float32"):
        initializer([2, 4], dtype=tf.uint8)
    with pytest.raises(ValueError, match="Last dimension of 'shape' must be 4"):
        initializer([2, 3])


def test_quaternion_from_euler_with_small_angles_approximation(rng):
    angles = rng.uniform(-0.3, 0.3, (6, 5, 3))
    got = quaternion.from_euler_with_small_angles_approximation(angles)
    np.testing.assert_allclose(got, _small_angle_quaternion(angles), atol=1e-12)
    exact = Rotation.from_euler("xyz", angles.reshape(-1, 3)).as_quat().reshape(6, 5, 4)
    same_rotation_quaternions(got, exact, atol=1e-3)
    got32 = quaternion.from_euler_with_small_angles_approximation(angles.astype(F32))
    np.testing.assert_allclose(got32, _small_angle_quaternion(angles), atol=1e-6)
    assert_jacobian_matches(quaternion.from_euler_with_small_angles_approximation, [angles[0]])


def test_rotation_matrix_from_euler_with_small_angles_approximation(rng):
    angles = rng.uniform(-0.16, 0.16, (4, 7, 3))
    got = rotation_matrix_3d.from_euler_with_small_angles_approximation(angles)
    np.testing.assert_allclose(got, _small_angle_matrix(angles), atol=1e-12)
    exact = Rotation.from_euler("xyz", angles.reshape(-1, 3)).as_matrix().reshape(4, 7, 3, 3)
    np.testing.assert_allclose(got, exact, atol=1e-3)
    assert_jacobian_matches(
        rotation_matrix_3d.from_euler_with_small_angles_approximation, [angles[0]]
    )
    angle = rng.uniform(-0.2, 0.2, (5, 1))
    got2d = rotation_matrix_2d.from_euler_with_small_angles_approximation(angle)
    a = angle[:, 0]
    c = 1.0 - 0.5 * a**2
    np.testing.assert_allclose(got2d, np.stack([np.stack([c, -a], -1), np.stack([a, c], -1)], -2))
    # The Taylor remainders: |sin a - a| <= |a|^3 / 6 and |cos a - (1 - a^2 / 2)| <= a^4 / 24.
    bound = 0.2**3 / 6.0
    np.testing.assert_allclose(got2d, rotation_matrix_2d.from_euler(angle), atol=bound)
    assert_jacobian_matches(rotation_matrix_2d.from_euler_with_small_angles_approximation, [angle])


def test_axis_angle_small_angles_and_is_normalized(rng):
    angles = rng.uniform(-0.23, 0.23, (8, 3))
    axis, angle = axis_angle.from_euler_with_small_angles_approximation(angles)
    rotvec = Rotation.from_quat(_small_angle_quaternion(angles)).as_rotvec()
    np.testing.assert_allclose(axis * angle, rotvec, atol=1e-12)
    np.testing.assert_allclose(angle[:, 0], np.linalg.norm(rotvec, axis=-1), atol=1e-12)
    exact_axis, exact_angle = axis_angle.from_euler(angles)
    close(axis, exact_axis, atol=1e-3)
    close(angle, exact_angle, atol=1e-3)
    assert np.all(axis_angle.is_normalized(axis, angle))
    assert axis_angle.is_normalized(axis[:, None], angle[None]).shape == (8, 8, 1)
    assert not np.any(axis_angle.is_normalized(1.01 * axis, angle))
    assert np.all(axis_angle.is_normalized(1.01 * axis, angle, atol=0.02))


def test_assert_rotation_matrix_normalized(rng):
    matrix = Rotation.random(6, random_state=4).as_matrix()
    np.testing.assert_array_equal(
        rotation_matrix_3d.assert_rotation_matrix_normalized(matrix), matrix
    )
    for bad in (1.01 * matrix, matrix @ np.diag([1.0, 1.0, -1.0])):
        with pytest.raises(tf.errors.InvalidArgumentError):
            rotation_matrix_3d.assert_rotation_matrix_normalized(bad)
    assert_in_graph = tf.function(rotation_matrix_3d.assert_rotation_matrix_normalized)
    np.testing.assert_array_equal(assert_in_graph(matrix.astype(F32)), matrix.astype(F32))
    with pytest.raises(tf.errors.InvalidArgumentError):
        assert_in_graph(1.01 * matrix.astype(F32))
    rotation_matrix_3d.assert_rotation_matrix_normalized(1.0002 * matrix)
    with pytest.raises(tf.errors.InvalidArgumentError):
        rotation_matrix_3d.assert_rotation_matrix_normalized(1.0002 * matrix, eps=1e-4)


# --- bad input ----------------------------------------------------------------------------------

Q, P, A, M = [[0.0, 0.0, 0.0, 1.0]], [[1.0, 2.0, 3.0]], [[0.5]], np.eye(3, dtype=F32)[None]
BAD = [
    # (op, args, argument named in the error)
    (axis_angle.rotate, (P, [[0.0, 1.0]], A), "axis"),
    (axis_angle.rotate, ([[1.0, 2.0]], P, A), "point"),
    (axis_angle.rotate, (P, P, [[0.5, 0.5]]), "angle"),
    (axis_angle.rotate, (np.ones((2, 3), F32), np.ones((5, 3), F32), A), "axis"),
    (axis_angle.rotate, (np.ones((2, 3), np.int32), P, A), "point"),
    (axis_angle.from_quaternion, (P,), "quaternion"),
    (axis_angle.from_rotation_matrix, (np.ones((3, 2), F32),), "matrix"),
    (axis_angle.from_euler, (Q,), "angles"),
    (axis_angle.inverse, (P, [[1.0, 2.0]]), "angle"),
    (quaternion.rotate, (P, P), "quaternion"),
    (quaternion.rotate, (np.ones((2, 3), F32), np.ones((3, 4), F32)), "quaternion"),
    (quaternion.multiply, (Q, P), "quaternion2"),
    (quaternion.multiply, (np.ones((2, 4), np.int64), Q), "quaternion1"),
    (quaternion.from_axis_angle, ([[1.0, 0.0]], A), "axis"),
    (quaternion.from_euler, (Q,), "angles"),
    (quaternion.from_rotation_matrix, (np.ones((2, 2), F32),), "matrix"),
    (quaternion.conjugate, (P,), "quaternion"),
    (quaternion.inverse, (P,), "quaternion"),
    (quaternion.normalize, (np.ones((2, 4), np.int32),), "quaternion"),
    (quaternion.relative_angle, (Q, P), "quaternion2"),
    (quaternion.between_two_vectors_3d, (P, Q), "vector2"),
    (rotation_matrix_3d.from_euler, ([[1.0, 2.0]],), "angles"),
    (rotation_matrix_3d.from_axis_angle, (P, [[1.0, 2.0]]), "angle"),
    (rotation_matrix_3d.from_quaternion, (P,), "quaternion"),
    (rotation_matrix_3d.rotate, (P, np.ones((3, 2), F32)), "matrix"),
    (rotation_matrix_3d.rotate, (np.ones((2, 3), F32), np.ones((4, 3, 3), F32)), "matrix"),
    (rotation_matrix_3d.inverse, (np.ones((3, 3), np.int32),), "matrix"),
    (rotation_matrix_3d.is_valid, (np.ones((2, 3), F32),), "matrix"),
    (rotation_matrix_2d.from_euler, ([[1.0, 2.0]],), "angle"),
    (rotation_matrix_2d.rotate, (P, np.eye(2, dtype=F32)), "point"),
    (rotation_matrix_2d.inverse, (M,), "matrix"),
    (rotation_matrix_2d.is_valid, (M,), "matrix"),
    (euler.from_rotation_matrix, (np.ones((3, 4), F32),), "matrix"),
    (euler.from_quaternion, (P,), "quaternion"),
    (euler.from_axis_angle, (P, [[1, 2]]), "angle"),
    (look_at.right_handed, (P, P, [[0.0, 1.0]]), "up_vector"),
    (euler.inverse, (Q,), "euler_angle"),
    (look_at.right_handed, (np.ones((2, 3), F32), np.ones((3, 3), F32), P), "look_at"),
    (quaternion.is_normalized, (P,), "quaternion"),
    (quaternion.from_euler_with_small_angles_approximation, (Q,), "angles"),
    (quaternion.normalized_random_uniform, ([2, -1],), "quaternion_shape"),
    (quaternion.normalized_random_uniform, ([[2]],), "quaternion_shape"),
    (quaternion.normalized_random_uniform_initializer(), ([2, 3],), "shape"),
    (axis_angle.is_normalized, (Q, A), "axis"),
    (axis_angle.is_normalized, (P, P), "angle"),
    (axis_angle.from_euler_with_small_angles_approximation, (Q,), "angles"),
    (rotation_matrix_3d.from_euler_with_small_angles_approximation, (A,), "angles"),
    (rotation_matrix_3d.assert_rotation_matrix_normalized, (np.ones((3, 2), F32),), "matrix"),
    (rotation_matrix_2d.from_euler_with_small_angles_approximation, ([[1.0, 2.0]],), "angles"),
]


@pytest.mark.parametrize(
    ("op", "args", "argument"),
    BAD,
    ids=[f"{op.__module__.rsplit('.', 1)[1]}.{op.__name__}-{arg}" for op, _, arg in BAD],
)
def test_bad_input_raises_value_error_naming_the_argument(op, args, argument):
    with pytest.raises(ValueError, match=argument):
        op(*args)


# --- properties (hypothesis) --------------------------------------------------------------------

unit_quaternions = st.lists(
    st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(
        lambda q: float(np.linalg.norm(q)) > 0.1
    ),
    min_size=1,
    max_size=6,
).map(lambda qs: (np.asarray(qs) / np.linalg.norm(qs, axis=-1, keepdims=True)).astype(F32))


def _to_matrix(kind, value):
    if kind == "matrix":
        return np.asarray(value)
    if kind == "quaternion":
        return rotation_matrix_3d.from_quaternion(value).numpy()
    if kind == "axis_angle":
        return rotation_matrix_3d.from_axis_angle(*value).numpy()
    return rotation_matrix_3d.from_euler(value).numpy()


CONVERT = {
    ("matrix", "quaternion"): quaternion.from_rotation_matrix,
    ("matrix", "axis_angle"): axis_angle.from_rotation_matrix,
    ("matrix", "euler"): euler.from_rotation_matrix,
    ("quaternion", "matrix"): rotation_matrix_3d.from_quaternion,
    ("quaternion", "axis_angle"): axis_angle.from_quaternion,
    ("quaternion", "euler"): euler.from_quaternion,
    ("axis_angle", "matrix"): lambda v: rotation_matrix_3d.from_axis_angle(*v),
    ("axis_angle", "quaternion"): lambda v: quaternion.from_axis_angle(*v),
    ("axis_angle", "euler"): lambda v: euler.from_axis_angle(*v),
    ("euler", "matrix"): rotation_matrix_3d.from_euler,
    ("euler", "quaternion"): quaternion.from_euler,
    ("euler", "axis_angle"): axis_angle.from_euler,
}


@settings(max_examples=40, deadline=None, database=None)
@given(unit_quaternions)
def test_round_trips_between_every_pair_of_representations(quat):
    matrix = rotation_matrix_3d.from_quaternion(quat).numpy()
    start = {
        "matrix": matrix,
        "quaternion": quat,
        "axis_angle": axis_angle.from_quaternion(quat),
        "euler": euler.from_quaternion(quat),
    }
    for (a, b), forward in CONVERT.items():
        there = forward(start[a])
        back = CONVERT[(b, a)](there)
        np.testing.assert_allclose(_to_matrix(a, back), matrix, atol=2e-5, err_msg=f"{a}->{b}->{a}")
        np.testing.assert_allclose(_to_matrix(b, there), matrix, atol=2e-5, err_msg=f"{a}->{b}")


@settings(max_examples=40, deadline=None, database=None)
@given(unit_quaternions, unit_quaternions)
def test_quaternion_product_is_the_matrix_product(q1, q2):
    q2 = np.resize(q2, q1.shape)
    product = rotation_matrix_3d.from_quaternion(quaternion.multiply(q1, q2))
    expected = (
        rotation_matrix_3d.from_quaternion(q1).numpy()
        @ rotation_matrix_3d.from_quaternion(q2).numpy()
    )
    np.testing.assert_allclose(product, expected, atol=2e-6)


vectors = st.lists(st.floats(-10.0, 10.0), min_size=3, max_size=3)


@settings(max_examples=40, deadline=None, database=None)
@given(unit_quaternions, vectors, vectors)
def test_rotations_preserve_norms_and_handedness(quat, u, v):
    u, v = np.asarray(u, F32), np.asarray(v, F32)
    matrix = rotation_matrix_3d.from_quaternion(quat).numpy()
    np.testing.assert_allclose(np.linalg.det(matrix), 1.0, atol=1e-5)
    axis, angle = axis_angle.from_quaternion(quat)
    rotations = [
        lambda p: quaternion.rotate(p, quat).numpy(),
        lambda p: rotation_matrix_3d.rotate(p, matrix).numpy(),
        lambda p: axis_angle.rotate(p, axis, angle).numpy(),
    ]
    scale = 1e-5 * (1.0 + np.linalg.norm(u) * (1.0 + np.linalg.norm(v)))
    for rotate in rotations:
        ru, rv = rotate(u), rotate(v)
        np.testing.assert_allclose(np.linalg.norm(ru, axis=-1), np.linalg.norm(u), atol=scale)
        np.testing.assert_allclose(rotate(np.cross(u, v)), np.cross(ru, rv), atol=10 * scale)
