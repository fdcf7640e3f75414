"""Mesh ops: face and area-weighted vertex normals, edges, surface sampling, Chamfer distance."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

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


# Surface sampling and the Chamfer distance (references: trimesh, SciPy's k-d tree, closed forms).


def test_sampled_points_lie_on_the_mesh_surface():
    vertices, faces = data.load_mesh("torus")
    points = mesh.sample_points(vertices.astype(np.float64), faces, 500, seed=3).numpy()
    reference = trimesh.Trimesh(vertices, faces, process=False)
    _, distance, _ = trimesh.proximity.closest_point(reference, points)
    assert points.shape == (500, 3)
    assert distance.max() < 1e-6


def test_sampling_is_uniform_by_area_across_and_within_triangles():
    # Two disjoint triangles: the right triangle (0,0),(1,0),(0,1) (area 1/2) and one three
    # times its area, far off along x.
    vertices = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [10, 0, 0], [13, 0, 0], [10, 1, 0]], np.float64
    )
    faces = np.array([[0, 1, 2], [3, 4, 5]], np.int32)
    points = mesh.sample_points(vertices, faces, 40_000, seed=0).numpy()
    in_first = points[:, 0] < 5.0
    areas = trimesh.Trimesh(vertices, faces, process=False).area_faces
    sigma = np.sqrt(0.25 * 0.75 / len(points))
    assert abs(in_first.mean() - areas[0] / areas.sum()) < 4 * sigma
    first = points[in_first, :2]
    # Uniform inside the triangle: mean at the centroid, a quarter of the area below x + y = 1/2.
    np.testing.assert_allclose(
        first.mean(axis=0), [1 / 3, 1 / 3], atol=4 * 0.24 / np.sqrt(len(first))
    )
    below = (first.sum(axis=1) < 0.5).mean()
    assert abs(below - 0.25) < 4 * np.sqrt(0.25 * 0.75 / len(first))


def test_sampling_is_seeded_and_batched_meshes_use_their_own_areas():
    vertices, faces = data.load_mesh("icosphere", 1)
    stretched = vertices * np.float32([3.0, 1.0, 1.0])
    batch = np.stack([vertices, stretched])  # [2, V, 3]
    points = mesh.sample_points(batch, faces, 300, seed=7).numpy()
    assert points.shape == (2, 300, 3)
    np.testing.assert_array_equal(points, mesh.sample_points(batch, faces, 300, seed=7))
    assert not np.allclose(points[0], mesh.sample_points(vertices, faces, 300, seed=8))
    for k, shape in enumerate([vertices, stretched]):
        reference = trimesh.Trimesh(shape, faces, process=False)
        _, distance, _ = trimesh.proximity.closest_point(reference, points[k])
        assert distance.max() < 1e-5


def test_sample_points_jacobian_matches_finite_differences():
    vertices, faces = data.load_mesh("tetrahedron")
    assert_jacobian_matches(lambda v: mesh.sample_points(v, faces, 6, seed=1), [vertices])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_points": 0}, ValueError, "num_points"),
        ({"num_points": 2.5}, ValueError, "num_points"),
        ({"num_points": 4, "seed": "one"}, TypeError, "seed"),
        ({"num_points": 4, "triangles": np.zeros((0, 3), np.int32)}, ValueError, "triangles"),
        ({"num_points": 4, "vertices": np.zeros((4, 2), np.float32)}, ValueError, "vertices"),
    ],
)
def test_sample_points_rejects_bad_input(kwargs, error, match):
    vertices, faces = data.load_mesh("tetrahedron")
    arguments = {"vertices": vertices, "triangles": faces, **kwargs}
    with pytest.raises(error, match=match):
        mesh.sample_points(**arguments)


def test_ellipsoid_samples_lie_on_it_and_a_sphere_follows_archimedes():
    axes = np.array([1.3, 0.8, 0.9])
    points = mesh.sample_ellipsoid(axes, 1000, seed=0)
    assert points.shape == (1000, 3) and points.dtype == np.float32
    np.testing.assert_allclose(np.sum((points / axes) ** 2, axis=-1), 1.0, atol=1e-5)
    # On the unit sphere, the zone above height h holds (1 - h) / 2 of the area (Archimedes).
    sphere = mesh.sample_ellipsoid([1.0, 1.0, 1.0], 20_000, seed=1)
    for h in (-0.5, 0.0, 0.3, 0.8):
        expected = (1.0 - h) / 2.0
        sigma = np.sqrt(expected * (1.0 - expected) / len(sphere))
        assert abs((sphere[:, 2] > h).mean() - expected) < 4 * sigma


def test_ellipsoid_samples_are_uniform_by_area_against_a_fine_mesh():
    axes = np.array([3.0, 1.0, 0.5])
    directions, faces = data.load_mesh("icosphere", 5)  # 20,480 triangles
    fine = trimesh.Trimesh(directions.astype(np.float64) * axes, faces, process=False)
    cap = fine.triangles_center[:, 0] > 1.5
    expected = fine.area_faces[cap].sum() / fine.area
    points = mesh.sample_ellipsoid(axes, 20_000, seed=2)
    sigma = np.sqrt(expected * (1.0 - expected) / len(points))
    assert abs((points[:, 0] > 1.5).mean() - expected) < 4 * sigma
    # The test can fail: stretching uniform sphere directions without the rejection step
    # over-weights the flat sides and misses the reference by far more than the tolerance.
    u = np.random.default_rng(2).normal(size=(20_000, 3))
    naive = u / np.linalg.norm(u, axis=-1, keepdims=True) * axes
    assert abs((naive[:, 0] > 1.5).mean() - expected) > 10 * sigma


@pytest.mark.parametrize(
    ("semi_axes", "num_points", "match"),
    [
        ([1.0, 1.0], 10, "semi_axes"),
        ([1.0, 0.0, 1.0], 10, "semi_axes"),
        ([1.0, np.inf, 1.0], 10, "semi_axes"),
        ([1.0, 1.0, 1.0], 0, "num_points"),
    ],
)
def test_sample_ellipsoid_rejects_bad_input(semi_axes, num_points, match):
    with pytest.raises(ValueError, match=match):
        mesh.sample_ellipsoid(semi_axes, num_points)


def _chamfer_kdtree(a, b):
    return 0.5 * (cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean())


@pytest.mark.parametrize(
    ("dtype", "offset", "rtol"), [(np.float64, 0.0, 1e-12), (np.float32, 1e3, 1e-4)]
)
def test_chamfer_distance_matches_scipy_kdtree(rng, dtype, offset, rtol):
    a = (rng.normal(size=(300, 3)) + offset).astype(dtype)
    b = (rng.normal(size=(200, 3)) * 1.5 + offset).astype(dtype)
    got = mesh.chamfer_distance(a, b)
    assert got.dtype == dtype and got.shape == ()
    expected = _chamfer_kdtree(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(float(got), expected, rtol=rtol)
    np.testing.assert_allclose(float(mesh.chamfer_distance(b, a)), expected, rtol=rtol)


def test_chamfer_distance_broadcasts_batch_dimensions(rng):
    a = rng.normal(size=(2, 3, 50, 3))
    b = rng.normal(size=(3, 40, 3))
    got = mesh.chamfer_distance(a, b).numpy()
    assert got.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(got[i, j], _chamfer_kdtree(a[i, j], b[j]), rtol=1e-12)


def test_chamfer_distance_of_concentric_spheres_is_the_gap():
    inner = mesh.sample_ellipsoid([1.0, 1.0, 1.0], 5000, seed=0)
    outer = mesh.sample_ellipsoid([1.5, 1.5, 1.5], 5000, seed=1)
    distance = float(mesh.chamfer_distance(inner, outer))
    # Every point is at least the gap 0.5 from the other sphere, and dense samples put its
    # nearest neighbour almost straight across.
    assert 0.5 <= distance < 0.505


def test_chamfer_distance_gradients_match_finite_differences_and_are_finite_at_zero(rng):
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    assert_jacobian_matches(mesh.chamfer_distance, [a, b])
    same = rng.normal(size=(6, 3)).astype(np.float32)
    assert float(mesh.chamfer_distance(same, same)) == 0.0
    assert_gradient_finite(mesh.chamfer_distance, same, same)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros((4, 2)), np.zeros((4, 3)), "points_a"),
        (np.zeros((4, 3)), np.zeros((0, 3)), "points_b"),
        (np.zeros((4, 3), np.int32), np.zeros((4, 3)), "points_a"),
        (np.zeros((2, 4, 3)), np.zeros((3, 4, 3)), "do not broadcast"),
    ],
)
def test_chamfer_distance_rejects_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        mesh.chamfer_distance(a, b)
