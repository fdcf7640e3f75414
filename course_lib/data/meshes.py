"""The course's meshes, made procedurally (no download): the cube of the listings and a few more.

``load_cube()`` gives the eight corners of the cube ``[-1, 1]^3`` as the course's listings use
them; ``load_mesh(name)`` gives ``(vertices, faces)``: float32 ``[V, 3]`` and int32 ``[F, 3]``
with every triangle counter-clockwise seen from outside (right-hand rule: normals point out).
"""

from __future__ import annotations

import numpy as np

from course_lib.checks import integer, positive_int

#: Names accepted by :func:`load_mesh`.
MESH_NAMES: tuple[str, ...] = (
    "cube",
    "tetrahedron",
    "octahedron",
    "icosphere",
    "torus",
    "cylinder",
)

_CUBE_VERTICES = np.array(
    [[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)], np.float32
)
# Vertex k has bits (x, y, z) = (k >> 2, k >> 1, k) & 1; two triangles per face, outward.
_CUBE_FACES = np.array(
    [
        [0, 1, 3], [0, 3, 2],  # x = -1
        [4, 6, 7], [4, 7, 5],  # x = +1
        [0, 4, 5], [0, 5, 1],  # y = -1
        [2, 3, 7], [2, 7, 6],  # y = +1
        [0, 2, 6], [0, 6, 4],  # z = -1
        [1, 5, 7], [1, 7, 3],  # z = +1
    ],
    np.int32,
)  # fmt: skip


def load_cube() -> np.ndarray:
    """The cube's eight corners, float32 ``[8, 3]``, coordinates -1 or 1."""
    return _CUBE_VERTICES.copy()


def _outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flips triangles whose normal points toward the origin (meshes here are star-shaped)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) < 0
    faces = faces.copy()
    faces[inward] = faces[inward][:, ::-1]
    return faces


def _icosphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    t = (1.0 + 5.0**0.5) / 2.0
    vertices = [
        [-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0],
        [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
        [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1],
    ]  # fmt: skip
    faces = [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ]  # fmt: skip
    vertices = [list(np.asarray(v, float) / np.linalg.norm(v)) for v in vertices]
    for _ in range(subdivisions):
        midpoints: dict[tuple[int, int], int] = {}

        def midpoint(i: int, j: int, midpoints: dict = midpoints) -> int:
            key = (min(i, j), max(i, j))
            if key not in midpoints:
                m = (np.asarray(vertices[i]) + np.asarray(vertices[j])) / 2.0
                vertices.append(list(m / np.linalg.norm(m)))
                midpoints[key] = len(vertices) - 1
            return midpoints[key]

        new_faces = []
        for a, b, c in faces:
            ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
            new_faces += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
        faces = new_faces
    return np.asarray(vertices, np.float32), np.asarray(faces, np.int32)


def _torus(major: int = 24, minor: int = 12, radius: float = 1.0, tube: float = 0.4):
    u = np.arange(major) * 2 * np.pi / major
    v = np.arange(minor) * 2 * np.pi / minor
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = radius + tube * np.cos(vv)
    vertices = np.stack([ring * np.cos(uu), ring * np.sin(uu), tube * np.sin(vv)], -1)
    i, j = np.meshgrid(np.arange(major), np.arange(minor), indexing="ij")
    a = i * minor + j
    b = ((i + 1) % major) * minor + j
    c = ((i + 1) % major) * minor + (j + 1) % minor
    d = i * minor + (j + 1) % minor
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)
    return vertices.reshape(-1, 3).astype(np.float32), faces.astype(np.int32)


def cylinder(segments: int = 32, stacks: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A capped cylinder of radius 1 along z from -1 to 1: float32 ``[V, 3]``, int32 ``[F, 3]``.

    The side is ``segments`` facets around and ``stacks`` rings of quads high (so
    ``V = segments * (stacks + 1) + 2``); each cap is a fan around its centre vertex.
    """
    segments = integer("segments", segments, minimum=3)
    stacks = positive_int("stacks", stacks)
    angle = np.arange(segments) * 2 * np.pi / segments
    z = np.linspace(-1.0, 1.0, stacks + 1)
    zz, aa = np.meshgrid(z, angle, indexing="ij")
    side = np.stack([np.cos(aa), np.sin(aa), zz], -1).reshape(-1, 3)
    vertices = np.concatenate([side, [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]]])
    i, j = np.meshgrid(np.arange(stacks), np.arange(segments), indexing="ij")
    a = i * segments + j
    b = i * segments + (j + 1) % segments
    c = b + segments
    d = a + segments
    # Counter-clockwise seen from outside: angle grows to the left, z upward.
    quads = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)
    bottom, top = len(side), len(side) + 1
    ring = np.arange(segments)
    following = (ring + 1) % segments
    bottom_fan = np.stack([np.full(segments, bottom), following, ring], -1)
    top_fan = np.stack(
        [np.full(segments, top), ring + stacks * segments, following + stacks * segments], -1
    )
    faces = np.concatenate([quads, bottom_fan, top_fan])
    return vertices.astype(np.float32), faces.astype(np.int32)


def load_mesh(name: str, subdivisions: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, faces)`` of a procedural mesh: float32 ``[V, 3]``, int32 ``[F, 3]``.

    Args:
        name: one of :data:`MESH_NAMES`. ``icosphere`` is the unit sphere, subdivided
            ``subdivisions`` times (20 * 4**subdivisions triangles); ``torus`` lies in the
            xy-plane, radii 1 and 0.4; ``cylinder`` has radius 1 and spans z in [-1, 1]
            (32 facets around, see :func:`cylinder`).

    Raises:
        ValueError: for an unknown name.
    """
    if name == "cube":
        return load_cube(), _CUBE_FACES.copy()
    if name == "tetrahedron":
        vertices = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], np.float32)
        faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], np.int32)
        return vertices, _outward(vertices, faces)
    if name == "octahedron":
        vertices = np.concatenate([np.eye(3), -np.eye(3)]).astype(np.float32)
        faces = np.array([[a, b, c] for a in (0, 3) for b in (1, 4) for c in (2, 5)], np.int32)
        return vertices, _outward(vertices, faces)
    if name == "icosphere":
        if isinstance(subdivisions, int) and subdivisions == 0:
            return _icosphere(0)
        return _icosphere(positive_int("subdivisions", subdivisions))
    if name == "torus":
        return _torus()
    if name == "cylinder":
        return cylinder()
    raise ValueError(f"unknown mesh {name!r}; choose one of {', '.join(MESH_NAMES)}")
