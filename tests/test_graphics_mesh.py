"""Mesh ops: face and area-weighted vertex normals, edges."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.util.testing import assert_gradient_finite, assert_jacobian_matches


def _vertex_normals_numpy(vertices, faces):
    """An independent reference: loop-free NumPy with np.add.at, normalized per vertex."""
    a, b, c = (vertices[..., faces[:, k], :] for k in range(3))
    cross = np.cross(b - a, c - a)
    total = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(total, (..., faces[:, k], slice(None)), cross)
    return total / np.linalg.norm(total, axis=-1, keepdims=True)


@pytest.mark.parametrize("name", ["cube", "tetrahedron", "icosphere", "torus"])
def test_vertex_normals_match_numpy_on_random_batched_deformations(rng, name):
    vertices, faces = data.load_mesh(name)
    batch = vertices + rng.normal(scale=0.05, size=(2, 3) + vertices.shape)
    expected = _vertex_normals_numpy(batch.astype(np.float64), faces)
    got = mesh.vertex_normals(batch.astype(np.float32), faces)
    assert got.shape == batch.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_vertex_normals_of_the_icosphere_point_outward_along_the_radius():
    vertices, faces = data.load_mesh("icosphere", 3)
    normals = mesh.vertex_normals(vertices, faces).numpy()
    radial = vertices / np.linalg.norm(vertices, axis=-1, keepdims=True)
    # Within one degree of the radius (the faces of a subdivided icosahedron are not regular).
    assert np.min(np.sum(normals * radial, axis=-1)) > np.cos(np.radians(1.0))


def test_cube_vertex_normals_are_the_diagonals():
    vertices, faces = data.load_mesh("cube")
    normals = mesh.vertex_normals(vertices.astype(np.float64), faces).numpy()
    # Every corner touches three faces of equal area, two triangles each but of varying count
    # per face; the direction still points into the corner's octant.
    assert np.all(np.sign(normals) == np.sign(vertices))
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, rtol=1e-12)


def test_face_normals_are_outward_unit_vectors_and_raw_ones_are_twice_the_area():
    vertices, faces = data.load_mesh("octahedron")
    unit = mesh.face_normals(vertices, faces).numpy()
    centroids = vertices[faces].mean(axis=1)
    assert np.all(np.sum(unit * centroids, axis=-1) > 0)
    raw = mesh.face_normals(vertices, faces, normalize=False).numpy()
    # Each face of the unit octahedron is equilateral with side sqrt(2): area sqrt(3) / 2.
    np.testing.assert_allclose(np.linalg.norm(raw, axis=-1), np.sqrt(3.0), rtol=1e-6)


def test_vertex_normals_jacobian_matches_finite_differences():
    vertices, faces = data.load_mesh("tetrahedron")
    perturbed = vertices + np.random.default_rng(0).normal(scale=0.1, size=vertices.shape)
    assert_jacobian_matches(lambda v: mesh.vertex_normals(v, faces), [perturbed])


def test_face_normals_jacobian_matches_finite_differences():
    vertices, faces = data.load_mesh("tetrahedron")
    assert_jacobian_matches(lambda v: mesh.face_normals(v, faces), [vertices])


def test_degenerate_triangles_and_unused_vertices_give_finite_zero_normals():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [5, 5, 5]], np.float32)
    faces = np.array([[0, 1, 2]], np.int32)  # collinear: zero area; vertex 3 is unused
    normals = mesh.vertex_normals(vertices, faces).numpy()
    np.testing.assert_array_equal(normals, 0.0)
    assert_gradient_finite(lambda v: mesh.vertex_normals(v, faces), vertices)
    assert_gradient_finite(lambda v: mesh.face_normals(v, faces), vertices)


def test_float64_and_int64_triangles_work():
    vertices, faces = data.load_mesh("icosphere", 1)
    normals = mesh.vertex_normals(vertices.astype(np.float64), faces.astype(np.int64))
    assert normals.dtype == np.float64


def test_edges_follow_euler_characteristic():
    for name in ("tetrahedron", "cube", "icosphere"):
        vertices, faces = data.load_mesh(name)
        edges = mesh.edges(faces)
        assert edges.dtype == np.int32 and np.all(edges[:, 0] < edges[:, 1])
        assert len(edges) == 3 * len(faces) // 2
        assert len(vertices) - len(edges) + len(faces) == 2
    assert mesh.edges(np.zeros((0, 3), np.int32)).shape == (0, 2)


@pytest.mark.parametrize(
    ("vertices", "faces", "match"),
    [
        (np.zeros((4, 2), np.float32), [[0, 1, 2]], "vertices"),
        (np.zeros((4, 3), np.int32), [[0, 1, 2]], "vertices"),
        (np.zeros((4, 3), np.float32), [[0.0, 1.0, 2.0]], "triangles"),
        (np.zeros((4, 3), np.float32), [[0, 1, 2, 3]], "triangles"),
        (np.zeros((4, 3), np.float32), [[0, 1, 4]], "triangles"),
        (np.zeros((4, 3), np.float32), [[0, -1, 2]], "triangles"),
    ],
)
def test_bad_input_raises_naming_the_argument(vertices, faces, match):
    with pytest.raises(ValueError, match=match):
        mesh.vertex_normals(vertices, faces)
