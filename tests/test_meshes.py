"""course_lib.data.meshes: the course's cube and the procedural meshes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from course_lib import data


def test_load_cube_is_the_eight_corners_of_the_unit_cube():
    cube = data.load_cube()
    assert cube.shape == (8, 3) and cube.dtype == np.float32
    assert {tuple(v) for v in cube} == {
        (x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)
    }
    cube[0] = 7.0  # a copy: the next call is unchanged
    assert data.load_cube()[0, 0] == -1.0


@pytest.mark.parametrize("name", data.MESH_NAMES)
def test_meshes_are_closed_and_oriented_outward(name):
    vertices, faces = data.load_mesh(name)
    assert vertices.dtype == np.float32 and faces.dtype == np.int32
    assert faces.min() == 0 and faces.max() == len(vertices) - 1
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume > 0  # positive volume: normals point out


@pytest.mark.parametrize(
    ("name", "volume", "rtol"),
    [
        ("cube", 8.0, 1e-6),
        ("tetrahedron", 8.0 / 3.0, 1e-6),
        ("octahedron", 4.0 / 3.0, 1e-6),
        ("icosphere", 4.0 / 3.0 * np.pi, 0.04),  # inscribed polyhedron, 320 faces
        ("torus", 2 * np.pi**2 * 1.0 * 0.4**2, 0.06),  # Pappus, 24 x 12 facets
    ],
)
def test_mesh_volumes_match_the_closed_forms(name, volume, rtol):
    vertices, faces = data.load_mesh(name)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    np.testing.assert_allclose(mesh.volume, volume, rtol=rtol)


def test_icosphere_subdivisions_and_radius():
    for level, count in [(0, 20), (1, 80), (3, 1280)]:
        vertices, faces = data.load_mesh("icosphere", subdivisions=level)
        assert len(faces) == count
        np.testing.assert_allclose(np.linalg.norm(vertices, axis=-1), 1.0, rtol=1e-6)


def test_load_mesh_rejects_unknown_names_and_bad_subdivisions():
    with pytest.raises(ValueError, match="unknown mesh 'teapot'"):
        data.load_mesh("teapot")
    with pytest.raises(ValueError, match="subdivisions"):
        data.load_mesh("icosphere", subdivisions=-1)
