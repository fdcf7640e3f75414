"""ARAP deformation: rigid invariance, stretch, proper rotations, the solver, gradients, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import load_mesh
from course_lib.graphics.geometry.deformation import arap
from course_lib.graphics.util.testing import assert_jacobian_matches


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _torus_handles() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    vertices, faces = load_mesh("torus")
    vertices = vertices.astype(np.float64)
    fixed = np.flatnonzero(vertices[:, 0] < -1.0)
    moved = np.flatnonzero(vertices[:, 0] > 1.0)
    handles = np.concatenate([fixed, moved])
    targets = vertices[handles].copy()
    targets[fixed.size :] += [0.0, 0.0, 0.5]
    return vertices, faces, handles, targets


@pytest.mark.parametrize("weights", arap.WEIGHTS)
@pytest.mark.parametrize("name", ["icosphere", "torus"])
def test_rigid_motion_has_zero_energy(name, weights):
    vertices, faces = load_mesh(name)
    vertices = vertices.astype(np.float64)
    moved = vertices @ _rotation(1).T + [0.3, -1.2, 2.0]
    assert float(arap.arap_energy(vertices, moved, faces, weights)) < 1e-6


@pytest.mark.parametrize("weights", arap.WEIGHTS)
def test_energy_grows_with_stretch(weights):
    vertices, faces = load_mesh("icosphere")
    energies = [
        float(arap.arap_energy(vertices, vertices * [1.0 + s, 1.0, 1.0], faces, weights))
        for s in (0.0, 0.1, 0.3, 0.6)
    ]
    assert energies[0] < 1e-6
    assert np.all(np.diff(energies) > 0), energies


def test_cotangent_weights_of_a_regular_mesh_are_positive():
    vertices, faces = load_mesh("icosphere")
    edges, w = arap.edge_weights(vertices, faces, "cotangent")
    assert edges.shape == (480, 2) and np.all(w.numpy() > 0)


def test_rotations_are_proper_even_for_reflections():
    covariances = np.stack([np.diag([1.0, 1.0, -1.0]), np.diag([-2.0, 1.0, 0.5]), -np.eye(3)])
    covariances = np.concatenate([covariances, np.random.default_rng(0).normal(size=(50, 3, 3))])
    rotations = arap.closest_rotations(covariances).numpy()
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0, atol=1e-9)
    eye = np.broadcast_to(np.eye(3), rotations.shape)
    np.testing.assert_allclose(rotations @ np.swapaxes(rotations, -1, -2), eye, atol=1e-9)
    # a mirrored mesh: every covariance is a reflection, every fitted rotation stays proper
    vertices, faces = load_mesh("icosphere")
    mirrored = vertices * [-1.0, 1.0, 1.0]
    fitted = arap.fit_rotations(vertices, mirrored, faces).numpy()
    np.testing.assert_allclose(np.linalg.det(fitted), 1.0, atol=1e-5)


def test_fit_rotations_recovers_a_rigid_rotation():
    vertices, faces = load_mesh("torus")
    rotation = _rotation(3)
    fitted = arap.fit_rotations(vertices, vertices @ rotation.T, faces).numpy()
    np.testing.assert_allclose(fitted, np.broadcast_to(rotation, fitted.shape), atol=1e-5)


@pytest.mark.parametrize("weights", arap.WEIGHTS)
def test_deform_meets_handles_and_beats_moving_only_the_handles(weights):
    vertices, faces, handles, targets = _torus_handles()
    deformed = arap.deform(vertices, faces, handles, targets, iterations=10, weights=weights)
    error = np.abs(deformed.numpy()[handles] - targets).max()
    assert error < 1e-3
    # baseline: the naive deformation that moves only the handle vertices
    naive = vertices.copy()
    naive[handles] = targets
    e_arap = float(arap.arap_energy(vertices, deformed, faces, weights))
    e_naive = float(arap.arap_energy(vertices, naive, faces, weights))
    e_one = float(
        arap.arap_energy(
            vertices,
            arap.deform(vertices, faces, handles, targets, 1, weights=weights),
            faces,
            weights,
        )
    )
    assert e_arap < e_one < e_naive, (e_arap, e_one, e_naive)
    assert e_arap < 0.2 * e_naive


@pytest.mark.parametrize("weights", arap.WEIGHTS)
def test_energy_gradient_matches_finite_differences(weights):
    vertices, faces = load_mesh("octahedron")
    deformed = vertices + 0.2 * np.random.default_rng(0).normal(size=vertices.shape)

    def energy(x):
        return arap.arap_energy(vertices.astype(np.float64), x, faces, weights)

    assert_jacobian_matches(energy, [deformed])


def test_energy_gradient_is_zero_at_a_rigid_pose():
    vertices, faces = load_mesh("icosphere")
    moved = tf.constant(vertices.astype(np.float64) @ _rotation(5).T)
    with tf.GradientTape() as tape:
        tape.watch(moved)
        energy = arap.arap_energy(vertices.astype(np.float64), moved, faces)
    assert np.abs(tf.convert_to_tensor(tape.gradient(energy, moved))).max() < 1e-6


def test_bad_arguments_raise():
    vertices, faces = load_mesh("octahedron")
    with pytest.raises(ValueError, match="rest"):
        arap.arap_energy(vertices[:, :2], vertices, faces)
    with pytest.raises(ValueError, match="deformed"):
        arap.arap_energy(vertices, vertices[:4], faces)
    with pytest.raises(ValueError, match="triangles"):
        arap.arap_energy(vertices, vertices, faces[:, :2])
    with pytest.raises(ValueError, match="triangles"):
        arap.arap_energy(vertices, vertices, faces + 10)
    with pytest.raises(ValueError, match="weights"):
        arap.arap_energy(vertices, vertices, faces, "harmonic")
    with pytest.raises(ValueError, match="covariance"):
        arap.closest_rotations(np.eye(2))
    with pytest.raises(ValueError, match="handle_indices"):
        arap.deform(vertices, faces, [0, 9], vertices[:2], 2)
    with pytest.raises(ValueError, match="handle_indices"):
        arap.deform(vertices, faces, [1, 1], vertices[:2], 2)
    with pytest.raises(ValueError, match="handle_targets"):
        arap.deform(vertices, faces, [0, 1], vertices[:3], 2)
    with pytest.raises(ValueError, match="method"):
        arap.deform(vertices, faces, [0, 1], vertices[:2], 2, method="newton")
    with pytest.raises(TypeError, match="iterations"):
        arap.deform(vertices, faces, [0, 1], vertices[:2], 2.5)


@pytest.mark.parametrize("weights", arap.WEIGHTS)
def test_gradient_descent_meets_handles_and_nears_the_alternating_energy(weights):
    vertices, faces, handles, targets = _torus_handles()
    descended = arap.deform(
        vertices, faces, handles, targets, method="gradient_descent", weights=weights
    )
    np.testing.assert_array_equal(descended.numpy()[handles], targets)  # hard constraints
    naive = vertices.copy()
    naive[handles] = targets
    e_gd = float(arap.arap_energy(vertices, descended, faces, weights))
    e_alt = float(
        arap.arap_energy(vertices, arap.deform(vertices, faces, handles, targets), faces, weights)
    )
    e_naive = float(arap.arap_energy(vertices, naive, faces, weights))
    e_short = float(
        arap.arap_energy(
            vertices,
            arap.deform(vertices, faces, handles, targets, 20, "gradient_descent", weights),
            faces,
            weights,
        )
    )
    # measured: e_gd / e_alt = 0.996 (uniform), 0.997 (cotangent); 20 steps are not enough
    assert e_gd < e_short < e_naive, (e_gd, e_short, e_naive)
    assert e_gd <= 1.05 * e_alt, (e_gd, e_alt)


def test_gradient_descent_keeps_the_dtype_and_checks_its_step():
    vertices, faces = load_mesh("torus")  # float32
    handles = np.array([0, 100])
    targets = vertices[handles] + [0.0, 0.0, 0.1]
    deformed = arap.deform(vertices, faces, handles, targets, 5, method="gradient_descent")
    assert deformed.dtype == tf.float32 and np.all(np.isfinite(deformed.numpy()))
    # the step follows the mesh's scale: a 100x larger problem gives the 100x larger result
    base = arap.deform(vertices, faces, handles, targets, 30, "gradient_descent").numpy()
    large = arap.deform(100 * vertices, faces, handles, 100 * targets, 30, "gradient_descent")
    np.testing.assert_allclose(large.numpy(), 100 * base, rtol=1e-4, atol=1e-3)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="learning_rate"):
            arap.deform(vertices, faces, handles, targets, 5, "gradient_descent", learning_rate=bad)


def _degenerate_mesh() -> tuple[np.ndarray, np.ndarray]:
    """A tetrahedron plus a collinear (zero-area) triangle and one with a repeated vertex."""
    vertices = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 0, 0], [0.5, 0.5, 0.0]], np.float64
    )
    faces = np.array(
        [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2], [0, 1, 4], [1, 2, 5], [3, 3, 4]], np.int32
    )
    return vertices, faces


@pytest.mark.parametrize("weights", arap.WEIGHTS)
def test_zero_area_faces_give_finite_weights_energy_and_gradients(weights):
    vertices, faces = _degenerate_mesh()
    rest = tf.constant(vertices)
    moved = tf.constant(vertices + 0.1 * np.random.default_rng(0).normal(size=vertices.shape))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([rest, moved])
        _, w = arap.edge_weights(rest, faces, weights)
        energy = arap.arap_energy(rest, moved, faces, weights)
    assert np.all(np.isfinite(w.numpy())) and np.isfinite(energy.numpy())
    zero = tf.UnconnectedGradients.ZERO  # the uniform weights do not depend on rest
    for gradient in (
        tape.gradient(w, rest, unconnected_gradients=zero),
        tape.gradient(energy, moved),
        tape.gradient(energy, rest),
    ):
        assert np.all(np.isfinite(tf.convert_to_tensor(gradient).numpy()))
    if weights == "cotangent":  # a zero-area triangle adds nothing, not a huge cotangent
        assert np.abs(w.numpy()).max() < 10.0, w.numpy()
