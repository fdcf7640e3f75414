"""Procedural 3D shapes, voxelized and rendered from random cameras: multi-view data for the LSM.

A shape (:func:`make_shape`) is a union of convex pieces, one of :data:`SHAPE_KINDS` (its label
is the index there): a box, an ellipsoid, a vertical cylinder, a flat torus (24 convex wedges),
an L-shape (two boxes), a chair (seat, four legs, back) or a table (top, four legs). Each piece
is the convex hull of a :mod:`course_lib.data.meshes` primitive (cube, icosphere, cylinder,
torus) under a random affine map, so the one shape has two exact, consistent descriptions: a
triangle mesh (the hulls' triangles, concatenated, outward) to render, and an inside test
(inside one piece = on the inner side of all its face planes) to voxelize. Shapes stand on no
floor: each is rotated about the vertical axis (world z up), centred on its bounding box and
scaled so that its largest side is in :data:`SIZE_RANGE`, inside the unit cube ``[-0.5, 0.5]^3``.

Voxel grid (:func:`voxel_centres`, the mapping the LSM's unprojection uses): a grid of side
``R`` covers the unit cube; voxel ``grid[i, j, k]`` is the cube of side ``1 / R`` centred at

    x = -0.5 + (i + 0.5) / R,  y = -0.5 + (j + 0.5) / R,  z = -0.5 + (k + 0.5) / R

(first index x, second y, third z, z up), and it is occupied when its centre is inside the shape.

Cameras (:func:`random_cameras`): pinhole cameras at :data:`CAMERA_DISTANCE` from the origin,
random azimuth in [0, 2 pi) and elevation in :data:`ELEVATION_RANGE_DEG`, looking at the origin
with world z up (``look_at.right_handed``: camera x right, y down, z forward). World to camera:
``x_cam = R x_world + t``; a camera point lands on pixel ``K x_cam / z_cam`` with
``K = [[f, 0, c], [0, f, c], [0, 0, 1]]``, ``f = FOCAL * image_size``, ``c = image_size / 2``:
the whole unit cube is in view. Pixel ``(i, j)`` (row, column) is sampled at ``(j + 0.5, i + 0.5)``.

Rendering (:func:`render`): the course's rasterizer and ``shading.shade`` (Lambertian, flat
face normals, one directional light fixed in the world, so a surface point looks the same from
every view, plus an ambient term), the shape's colour on a black background. Per view: RGB
float32 in [0, 1], depth (camera z of the surface seen, 0 on the background: a pixel's world
point is ``R^T (depth K^-1 [j + 0.5, i + 0.5, 1] - t)``) and mask.

:func:`make_multiview_set` stacks all of it for a list of seeds into a :class:`MultiViewSet`,
cached on disk (``np.savez_compressed``) under :func:`default_cache_dir`, the file name keyed by
:data:`VERSION` and the parameters. Everything is deterministic from the seeds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from course_lib import checks, config
from course_lib.data.meshes import cylinder, load_mesh

#: The shape kinds, indexed by label.
SHAPE_KINDS: tuple[str, ...] = (
    "box",
    "ellipsoid",
    "cylinder",
    "torus",
    "l_shape",
    "chair",
    "table",
)
#: Bump when anything that changes the generated data changes (it keys the cache files).
VERSION = 1
#: Range of a shape's largest bounding-box side (the unit cube has side 1).
SIZE_RANGE = (0.7, 0.95)
#: Camera distance from the origin, and the range of its elevation above the xy-plane (degrees).
CAMERA_DISTANCE = 2.0
ELEVATION_RANGE_DEG = (10.0, 60.0)
#: Focal length in units of the image side (1.0: a 53 degree field of view).
FOCAL = 1.0
#: The light, fixed in the world: its direction from the light toward the scene (unit).
LIGHT_DIRECTION = tuple(
    (np.array([-0.4, -0.3, -1.0]) / np.linalg.norm([-0.4, -0.3, -1.0])).tolist()
)
#: Ambient term (a fraction of the colour added everywhere) and the range of the shape colours.
AMBIENT = 0.3
COLOUR_RANGE = (0.3, 0.75)
#: Settings of the course's two run profiles (``config.profile()``).
PROFILES: dict[str, dict[str, int]] = {
    "quick": {"resolution": 16, "image_size": 32},
    "full": {"resolution": 32, "image_size": 64},
}
#: Shapes rendered together in one rasterizer call by :func:`make_multiview_set`.
RENDER_BATCH = 16
#: The environment variable that overrides :func:`default_cache_dir`.
CACHE_ENV = "COURSE_CACHE_DIR"

_TORUS_MAJOR, _TORUS_MINOR = 24, 12  # the segments of load_mesh("torus")
_CYLINDER_SEGMENTS = 24


@dataclass(frozen=True)
class Shape3D:
    """A procedural shape: a union of convex pieces, as a mesh and as half-spaces.

    Attributes:
        kind: one of :data:`SHAPE_KINDS`; ``label`` its index there.
        vertices: float32 ``[V, 3]`` world positions (inside ``[-0.5, 0.5]^3``).
        triangles: int32 ``[F, 3]``, counter-clockwise seen from outside (normals out).
        normals: float32 ``[F, 3]`` outward unit face normals.
        pieces: int32 ``[F]``, the convex piece each triangle bounds (0..P-1); each piece's
            triangles form a closed convex surface (pieces may overlap).
        planes: float64 ``[P, Q, 4]``: piece ``p`` is the set of ``x`` with
            ``planes[p, :, :3] @ x + planes[p, :, 3] <= 0`` (unit normals; rows ``[0, 0, 0, -1]``
            pad pieces with fewer planes).
        colour: float32 ``[3]`` diffuse colour.
        seed: the seed it was made from.
    """

    kind: str
    label: int
    vertices: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray
    pieces: np.ndarray
    planes: np.ndarray
    colour: np.ndarray
    seed: int


class Cameras(NamedTuple):
    """Pinhole cameras, ``[A1, ..., An]`` of them: ``x_cam = R x_world + t``, pixel ``~ K x_cam``.

    Attributes:
        K: float32 `[A1, ..., An, 3, 3]` intrinsics (pixels).
        R: float32 `[A1, ..., An, 3, 3]` world-to-camera rotations.
        t: float32 `[A1, ..., An, 3]` world-to-camera translations.
    """

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray


class Views(NamedTuple):
    """Rendered views, ``[A1, ..., An]`` of them, ``H = W = image_size``.

    Attributes:
        images: float32 `[A1, ..., An, H, W, 3]` RGB in [0, 1], black background.
        depths: float32 `[A1, ..., An, H, W]` camera z of the surface seen, 0 on the background.
        masks: bool `[A1, ..., An, H, W]` True where the shape covers the pixel centre.
    """

    images: np.ndarray
    depths: np.ndarray
    masks: np.ndarray


@dataclass(frozen=True)
class MultiViewSet:
    """Shapes seen from random cameras, with their voxels; ``N`` shapes, ``V`` views each.

    Attributes:
        images: float32 ``[N, V, H, W, 3]`` RGB in [0, 1] (``H = W = image_size``).
        depths: float32 ``[N, V, H, W]`` camera z, 0 on the background.
        masks: bool ``[N, V, H, W]``.
        K: float32 ``[N, V, 3, 3]``; R: float32 ``[N, V, 3, 3]``; t: float32 ``[N, V, 3]``
            (``x_cam = R x_world + t``).
        voxels: bool ``[N, R, R, R]`` occupancy, ``voxels[n, i, j, k]`` at
            ``voxel_centres(R)[i, j, k]``.
        labels: int32 ``[N]``, indices into :data:`SHAPE_KINDS`.
        seeds: int64 ``[N]``, the seeds the shapes and cameras were made from.
    """

    images: np.ndarray
    depths: np.ndarray
    masks: np.ndarray
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    voxels: np.ndarray
    labels: np.ndarray
    seeds: np.ndarray

    @property
    def num_views(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[2]

    @property
    def resolution(self) -> int:
        return self.voxels.shape[1]

    def __len__(self) -> int:
        return len(self.labels)


# --- shapes ---------------------------------------------------------------------------------


def _boxed(centre: Sequence[float], half: Sequence[float]) -> np.ndarray:
    """The cube's corners mapped to the axis-aligned box of ``centre`` and half sides ``half``."""
    return load_mesh("cube")[0].astype(np.float64) * np.asarray(half) + np.asarray(centre)


def _legs(rng: np.random.Generator, half_x: float, half_y: float, height: float) -> list:
    """Four vertical legs (boxes or cylinders) under the corners of a rectangle, from z = 0."""
    thickness = rng.uniform(0.05, 0.08)
    round_legs = rng.uniform() < 0.5
    legs = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            centre = (sx * (half_x - thickness), sy * (half_y - thickness), height / 2)
            if round_legs:
                points = cylinder(_CYLINDER_SEGMENTS)[0].astype(np.float64)
                legs.append(points * (thickness, thickness, height / 2) + centre)
            else:
                legs.append(_boxed(centre, (thickness, thickness, height / 2)))
    return legs


def _pieces(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Point sets ``[n, 3]`` whose convex hulls are the shape's pieces (any scale, z up)."""
    if kind == "box":
        return [_boxed((0, 0, 0), rng.uniform(0.3, 1.0, 3))]
    if kind == "ellipsoid":
        sphere = load_mesh("icosphere", subdivisions=2)[0].astype(np.float64)
        return [sphere * rng.uniform(0.4, 1.0, 3)]
    if kind == "cylinder":
        points = cylinder(2 * _CYLINDER_SEGMENTS)[0].astype(np.float64)
        radius = rng.uniform(0.3, 0.8)
        return [points * (radius, radius, rng.uniform(0.3, 1.0))]
    if kind == "torus":
        # load_mesh("torus"): 24 rings of 12 vertices; two neighbouring rings bound a convex wedge.
        rings = load_mesh("torus")[0].astype(np.float64).reshape(_TORUS_MAJOR, _TORUS_MINOR, 3)
        rings = rings * (1.0, 1.0, rng.uniform(0.6, 1.5))
        return [
            np.concatenate([rings[i], rings[(i + 1) % _TORUS_MAJOR]]) for i in range(_TORUS_MAJOR)
        ]
    if kind == "l_shape":
        length, height = rng.uniform(0.8, 1.2, 2)
        thickness, depth = rng.uniform(0.15, 0.3), rng.uniform(0.2, 0.5)
        foot = _boxed((0, 0, thickness / 2), (length / 2, depth, thickness / 2))
        upright = _boxed(
            (thickness / 2 - length / 2, 0, height / 2), (thickness / 2, depth, height / 2)
        )
        return [foot, upright]
    if kind == "chair":
        half_x, half_y = rng.uniform(0.35, 0.55, 2)
        seat_height, seat_thickness = rng.uniform(0.6, 0.9), rng.uniform(0.06, 0.12)
        back_height, back_thickness = rng.uniform(0.5, 0.9), rng.uniform(0.06, 0.1)
        seat = _boxed(
            (0, 0, seat_height + seat_thickness / 2), (half_x, half_y, seat_thickness / 2)
        )
        back_bottom = seat_height + seat_thickness
        back = _boxed(
            (0, half_y - back_thickness / 2, back_bottom + back_height / 2),
            (half_x, back_thickness / 2, back_height / 2),
        )
        return [seat, back, *_legs(rng, half_x, half_y, seat_height)]
    if kind == "table":
        half_x, half_y = rng.uniform(0.6, 0.9), rng.uniform(0.35, 0.6)
        height, thickness = rng.uniform(0.5, 0.9), rng.uniform(0.05, 0.1)
        top = _boxed((0, 0, height + thickness / 2), (half_x, half_y, thickness / 2))
        return [top, *_legs(rng, half_x, half_y, height)]
    raise AssertionError(kind)


def _hull(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(vertices [n, 3], triangles [f, 3] outward, planes [f, 4])`` of the convex hull."""
    from scipy.spatial import ConvexHull  # imported when first needed: course_lib.data stays light

    hull = ConvexHull(points)
    used = np.unique(hull.simplices)
    remap = np.zeros(len(points), np.int64)
    remap[used] = np.arange(len(used))
    triangles = remap[hull.simplices]
    vertices = points[used]
    planes = hull.equations  # unit outward normals, inside: n . x + d <= 0
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), planes[:, :3]) < 0
    triangles[inward] = triangles[inward][:, ::-1]
    return vertices, triangles, planes


def make_shape(seed: int, kind: str | None = None) -> Shape3D:
    """A random shape of ``kind`` (by default ``SHAPE_KINDS[seed % 7]``) from ``seed``.

    Args:
        seed: a non-negative int; the same seed (and kind) gives the same shape.
        kind: one of :data:`SHAPE_KINDS`, or None for ``SHAPE_KINDS[seed % len(SHAPE_KINDS)]``.

    Returns:
        A :class:`Shape3D` inside the unit cube ``[-0.5, 0.5]^3``, centred on its bounding box,
        its largest side in :data:`SIZE_RANGE`.

    Raises:
        ValueError: naming the argument, for a negative ``seed`` or an unknown ``kind``.
        TypeError: if ``seed`` is not an int.
    """
    seed = checks.non_negative_int("seed", seed)
    if kind is None:
        kind = SHAPE_KINDS[seed % len(SHAPE_KINDS)]
    checks.one_of("kind", kind, SHAPE_KINDS)
    rng = np.random.default_rng([seed, SHAPE_KINDS.index(kind)])
    pieces = _pieces(kind, rng)
    yaw = rng.uniform(0.0, 2 * np.pi)
    cos, sin = np.cos(yaw), np.sin(yaw)
    rotation = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    pieces = [p @ rotation.T for p in pieces]
    every = np.concatenate(pieces)
    low, high = every.min(0), every.max(0)
    scale = rng.uniform(*SIZE_RANGE) / (high - low).max()
    pieces = [(p - (low + high) / 2) * scale for p in pieces]
    colour = rng.uniform(*COLOUR_RANGE, 3)

    vertices, triangles, planes, piece_index = [], [], [], []
    offset = 0
    for p, points in enumerate(pieces):
        v, f, e = _hull(points)
        vertices.append(v)
        triangles.append(f + offset)
        planes.append(e)
        piece_index.append(np.full(len(f), p))
        offset += len(v)
    vertices, triangles = np.concatenate(vertices), np.concatenate(triangles)
    most = max(len(e) for e in planes)
    padded = np.tile(np.array([0.0, 0.0, 0.0, -1.0]), (len(planes), most, 1))
    for p, e in enumerate(planes):
        padded[p, : len(e)] = e
    normals = np.concatenate([e[:, :3] for e in planes])
    return Shape3D(
        kind=kind,
        label=SHAPE_KINDS.index(kind),
        vertices=vertices.astype(np.float32),
        triangles=triangles.astype(np.int32),
        normals=normals.astype(np.float32),
        pieces=np.concatenate(piece_index).astype(np.int32),
        planes=padded,
        colour=colour.astype(np.float32),
        seed=seed,
    )


def _check_points(points: Any) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim < 1 or points.shape[-1] != 3:
        raise ValueError(f"points must have shape [A1, ..., An, 3], got {points.shape}")
    return points


def plane_value(shape: Shape3D, points: Any) -> np.ndarray:
    """``min`` over pieces of ``max`` over the piece's planes of ``n . x + d``: float64 `[...]`.

    Negative inside the shape, 0 on its surface, positive outside, where it is a lower bound
    of the distance to the shape (inside a single piece, minus the distance to its boundary).

    Args:
        shape: a :class:`Shape3D`.
        points: `[A1, ..., An, 3]` world points.

    Raises:
        ValueError: if ``points`` does not end in 3.
    """
    points = _check_points(points)
    flat = points.reshape(-1, 3)
    value = np.full(len(flat), np.inf)
    for planes in shape.planes:  # [Q, 4], one piece at a time: memory [points, Q]
        value = np.minimum(value, (flat @ planes[:, :3].T + planes[:, 3]).max(-1))
    return value.reshape(points.shape[:-1])


def inside(shape: Shape3D, points: Any) -> np.ndarray:
    """Whether points are in the shape's solid (surface included): bool `[A1, ..., An]`.

    The same as ``plane_value(shape, points) <= 0``, faster: each piece's planes are tested
    only on the points inside the piece's bounding box.

    Args:
        shape: a :class:`Shape3D`.
        points: `[A1, ..., An, 3]` world points.

    Raises:
        ValueError: if ``points`` does not end in 3.
    """
    points = _check_points(points)
    flat = points.reshape(-1, 3)
    result = np.zeros(len(flat), bool)
    corners = shape.vertices[shape.triangles].astype(np.float64)  # [F, 3, 3]
    for piece, planes in enumerate(shape.planes):
        own = corners[shape.pieces == piece].reshape(-1, 3)
        low, high = own.min(0), own.max(0)
        candidate = np.flatnonzero(np.all((flat >= low) & (flat <= high), axis=-1) & ~result)
        if len(candidate):
            near = flat[candidate]
            result[candidate] = np.all(near @ planes[:, :3].T + planes[:, 3] <= 0.0, axis=-1)
    return result.reshape(points.shape[:-1])


def voxel_centres(resolution: int) -> np.ndarray:
    """The centres of a ``R^3`` grid over the unit cube: float32 ``[R, R, R, 3]``.

    ``voxel_centres(R)[i, j, k] = (-0.5 + (i + 0.5) / R, -0.5 + (j + 0.5) / R,
    -0.5 + (k + 0.5) / R)``: the first index is x, the second y, the third z (up).

    Raises:
        ValueError: if ``resolution`` < 1.
        TypeError: if it is not an int.
    """
    resolution = checks.positive_int("resolution", resolution)
    axis = -0.5 + (np.arange(resolution) + 0.5) / resolution
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).astype(np.float32)


def voxelize(shape: Shape3D, resolution: int = 32) -> np.ndarray:
    """bool ``[R, R, R]``: voxel ``[i, j, k]`` is occupied when its centre (:func:`voxel_centres`)
    is inside the shape (as :func:`inside`, up to rounding for centres on the surface).

    Column by column: in each piece, the centres of the column ``(i, j)`` inside the piece are
    those whose z lies between the bounds the piece's planes put on z at that ``(x, y)``
    (``R^2`` bounds per plane rather than ``R^3`` tests).

    Raises:
        ValueError: if ``resolution`` < 2.
    """
    resolution = checks.integer("resolution", resolution, minimum=2)
    axis = -0.5 + (np.arange(resolution) + 0.5) / resolution
    grid = np.zeros((resolution,) * 3, bool)
    corners = shape.vertices[shape.triangles].astype(np.float64)
    for piece, planes in enumerate(shape.planes):
        own = corners[shape.pieces == piece].reshape(-1, 3)
        low, high = own.min(0), own.max(0)
        i = np.flatnonzero((axis >= low[0]) & (axis <= high[0]))
        j = np.flatnonzero((axis >= low[1]) & (axis <= high[1]))
        if not len(i) or not len(j):
            continue
        normal, offset = planes[:, :3], planes[:, 3]
        # n . (x, y, z) + d <= 0  <=>  n_z z <= rhs(x, y): an upper bound on z where n_z > 0, a
        # lower bound where n_z < 0, and no bound on z but rhs >= 0 where n_z is 0.
        rhs = -(offset + axis[i, None, None] * normal[:, 0] + axis[None, j, None] * normal[:, 1])
        vertical = np.abs(normal[:, 2]) < 1e-12
        bound = rhs / np.where(vertical, 1.0, normal[:, 2])  # [I, J, Q]
        top = np.where(~vertical & (normal[:, 2] > 0), bound, np.inf).min(-1)
        bottom = np.where(~vertical & (normal[:, 2] < 0), bound, -np.inf).max(-1)
        allowed = np.all(np.where(vertical, rhs >= 0, True), axis=-1)
        column = allowed[..., None] & (axis >= bottom[..., None]) & (axis <= top[..., None])
        grid[np.ix_(i, j)] |= column
    return grid


# --- cameras and rendering ------------------------------------------------------------------


def intrinsics(image_size: int) -> np.ndarray:
    """float32 ``[3, 3]`` ``K = [[f, 0, c], [0, f, c], [0, 0, 1]]``, ``f = FOCAL * image_size``,
    ``c = image_size / 2``.

    Raises:
        ValueError: if ``image_size`` < 2.
    """
    image_size = checks.integer("image_size", image_size, minimum=2)
    f, c = FOCAL * image_size, image_size / 2.0
    return np.array([[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]], np.float32)


def random_cameras(seed: int, num_views: int, image_size: int) -> Cameras:
    """``num_views`` cameras on the sphere of radius :data:`CAMERA_DISTANCE`, looking at the origin.

    Azimuths are uniform in [0, 2 pi), elevations uniform in :data:`ELEVATION_RANGE_DEG`; the
    first views do not depend on ``num_views`` (view ``v`` of 4 is view ``v`` of 8).

    Args:
        seed: non-negative int.
        num_views: V >= 1.
        image_size: the image side in pixels (>= 2), for ``K``.

    Returns:
        :class:`Cameras` with ``K`` `[V, 3, 3]`, ``R`` `[V, 3, 3]`, ``t`` `[V, 3]`.

    Raises:
        ValueError: naming the argument, for a negative seed, num_views < 1 or image_size < 2.
    """
    from course_lib.graphics.geometry.transformation import look_at

    seed = checks.non_negative_int("seed", seed)
    num_views = checks.positive_int("num_views", num_views)
    K = intrinsics(image_size)
    draws = np.random.default_rng([seed, 1_000_003]).uniform(size=(num_views, 2))
    azimuth = 2 * np.pi * draws[:, 0]
    low, high = np.deg2rad(ELEVATION_RANGE_DEG)
    elevation = low + (high - low) * draws[:, 1]
    position = CAMERA_DISTANCE * np.stack(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ],
        -1,
    )
    R = look_at.right_handed(
        position, np.zeros_like(position), np.tile([0.0, 0.0, 1.0], (num_views, 1))
    )
    R = R.numpy()
    t = -np.einsum("vij,vj->vi", R, position)
    return Cameras(np.tile(K, (num_views, 1, 1)), R.astype(np.float32), t.astype(np.float32))


def _check_camera_arrays(K: Any, R: Any, t: Any, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, value, inner in (("K", K, (3, 3)), ("R", R, (3, 3)), ("t", t, (3,))):
        value = np.asarray(value, dtype=np.float32)
        expected = (*batch, *inner)
        if value.shape != expected:
            raise ValueError(f"{name} must have shape {list(expected)}, got {list(value.shape)}")
        arrays.append(value)
    return tuple(arrays)


def render_shapes(shapes: Sequence[Shape3D], K: Any, R: Any, t: Any, image_size: int) -> Views:
    """Renders N shapes from V cameras each with the course's rasterizer and Lambertian shading.

    Flat shading (face normals), the light :data:`LIGHT_DIRECTION` fixed in the world, ambient
    :data:`AMBIENT`, each shape in its colour on black; back faces culled (shapes are closed).

    Args:
        shapes: N :class:`Shape3D`.
        K: `[N, V, 3, 3]` intrinsics; R: `[N, V, 3, 3]`, t: `[N, V, 3]` world to camera.
        image_size: the side S of the square images (>= 2).

    Returns:
        :class:`Views`: images `[N, V, S, S, 3]`, depths `[N, V, S, S]`, masks `[N, V, S, S]`.

    Raises:
        ValueError: naming the argument, for camera arrays of the wrong shape, no shapes, or
            image_size < 2.
    """
    import tensorflow as tf

    from course_lib.graphics.rendering import rasterizer, shading

    image_size = checks.integer("image_size", image_size, minimum=2)
    shapes = list(shapes)
    if not shapes:
        raise ValueError("shapes must hold at least one shape")
    K = np.asarray(K, np.float32)
    if K.ndim != 4:
        raise ValueError(f"K must have shape [N, V, 3, 3], got {list(K.shape)}")
    K, R, t = _check_camera_arrays(K, R, t, (len(shapes), K.shape[1]))
    # Unwelded triangles (three vertices each, one shared index array): flat normals, and
    # shapes of different sizes batch together, padded with zero-area triangles (never drawn).
    most = max(len(s.triangles) for s in shapes)
    corners = np.zeros((len(shapes), most, 3, 3), np.float32)
    normals = np.zeros((len(shapes), most, 3), np.float32)
    for n, s in enumerate(shapes):
        corners[n, : len(s.triangles)] = s.vertices[s.triangles]
        normals[n, : len(s.triangles)] = s.normals
    corners = corners.reshape(len(shapes), 1, 3 * most, 3)
    normals = np.repeat(normals, 3, axis=1)[:, None]  # [N, 1, 3F, 3]
    camera_points = np.einsum("nvij,nupj->nvpi", R, corners) + t[:, :, None, :]
    camera_normals = np.einsum("nvij,nupj->nvpi", R, normals)
    light = np.einsum("nvij,j->nvi", R, np.asarray(LIGHT_DIRECTION, np.float32))
    triangles = np.arange(3 * most, dtype=np.int32).reshape(most, 3)
    focal = np.stack([K[..., 0, 0], K[..., 1, 1]], -1)
    principal = np.stack([K[..., 0, 2], K[..., 1, 2]], -1)
    rasterized = rasterizer.rasterize(
        camera_points, triangles, focal, principal, (image_size, image_size), cull_backfaces=True
    )
    colours = np.stack([s.colour for s in shapes])[:, None, :]  # [N, 1, 3]
    images = shading.shade(
        camera_points,
        triangles,
        rasterized,
        light_direction=light,
        reflectance="lambertian",
        diffuse_albedo=colours,
        ambient=AMBIENT,
        background=(0.0, 0.0, 0.0),
        normals=camera_normals,
    )
    images = tf.clip_by_value(images, 0.0, 1.0)
    return Views(
        images=images.numpy().astype(np.float32),
        depths=rasterized.depth.numpy().astype(np.float32),
        masks=rasterized.mask.numpy() > 0,
    )


def render(shape: Shape3D, K: Any, R: Any, t: Any, image_size: int) -> Views:
    """Renders one shape from V cameras: :func:`render_shapes` for ``K`` `[V, 3, 3]`, ``R``
    `[V, 3, 3]`, ``t`` `[V, 3]`; :class:`Views` of `[V, S, S, ...]`."""
    K = np.asarray(K, np.float32)
    if K.ndim != 3:
        raise ValueError(f"K must have shape [V, 3, 3], got {list(K.shape)}")
    K, R, t = _check_camera_arrays(K, R, t, (K.shape[0],))
    views = render_shapes([shape], K[None], R[None], t[None], image_size)
    return Views(*(v[0] for v in views))


# --- the data set ---------------------------------------------------------------------------


def profile_settings(profile: str | None = None) -> dict[str, int]:
    """``{"resolution": ..., "image_size": ...}`` of a profile (default ``config.profile()``):
    16 and 32 for ``"quick"``, 32 and 64 for ``"full"``; pass them to :func:`make_multiview_set`.
    """
    profile = config.profile() if profile is None else profile
    return dict(PROFILES[checks.one_of("profile", profile, tuple(PROFILES))])


def default_cache_dir() -> Path:
    """``$COURSE_CACHE_DIR/shapes3d`` when set, else ``$XDG_CACHE_HOME`` (default ``~/.cache``)
    ``/course_lib/shapes3d``."""
    root = os.environ.get(CACHE_ENV, "").strip()
    if root:
        return Path(root).expanduser() / "shapes3d"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "course_lib" / "shapes3d"


def _check_seeds(seeds: Iterable[int]) -> np.ndarray:
    return np.asarray(checks.integers("seeds", seeds, minimum=0), np.int64)


def cache_path(
    seeds: Iterable[int],
    num_views: int,
    resolution: int,
    image_size: int,
    cache_dir: str | Path | None = None,
) -> Path:
    """The file :func:`make_multiview_set` caches these arguments' set in (version-keyed)."""
    seeds = _check_seeds(seeds)
    digest = hashlib.sha256(seeds.tobytes()).hexdigest()[:12]
    name = (
        f"multiview_v{VERSION}_n{len(seeds)}_{digest}"
        f"_views{num_views}_res{resolution}_img{image_size}.npz"
    )
    return Path(default_cache_dir() if cache_dir is None else cache_dir) / name


def _generate(seeds: np.ndarray, num_views: int, resolution: int, image_size: int) -> MultiViewSet:
    shapes = [make_shape(int(seed)) for seed in seeds]
    cameras = [random_cameras(int(seed), num_views, image_size) for seed in seeds]
    K, R, t = (np.stack([c[k] for c in cameras]) for k in range(3))
    views = []
    for start in range(0, len(shapes), RENDER_BATCH):
        part = slice(start, start + RENDER_BATCH)
        views.append(render_shapes(shapes[part], K[part], R[part], t[part], image_size))
    images, depths, masks = (np.concatenate([v[k] for v in views]) for k in range(3))
    return MultiViewSet(
        images=images,
        depths=depths,
        masks=masks,
        K=K,
        R=R,
        t=t,
        voxels=np.stack([voxelize(s, resolution) for s in shapes]),
        labels=np.array([s.label for s in shapes], np.int32),
        seeds=seeds,
    )


def _save(data: MultiViewSet, path: Path) -> None:
    """Writes ``data`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(file, **data.__dict__)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def make_multiview_set(
    seeds: Iterable[int],
    num_views: int = 4,
    resolution: int = 32,
    image_size: int = 64,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> MultiViewSet:
    """Shapes ``make_shape(seed)``, their voxels and their views from ``random_cameras(seed)``.

    Shape ``n`` is ``make_shape(seeds[n])`` (kind ``SHAPE_KINDS[seed % 7]``: consecutive seeds
    cycle through the kinds). The set is loaded from :func:`cache_path` when that file exists,
    else generated and saved there (``np.savez_compressed``, written atomically).

    Args:
        seeds: N non-negative ints.
        num_views: V >= 1 views per shape.
        resolution: voxel grid side R >= 2 (32; 16 for quick runs: :func:`profile_settings`).
        image_size: image side S >= 2 in pixels (64; 32 for quick runs).
        cache_dir: the folder of the cache files (default :func:`default_cache_dir`).
        use_cache: False to neither read nor write the cache.

    Returns:
        A :class:`MultiViewSet` (shapes in the order of ``seeds``).

    Raises:
        ValueError: naming the argument, for an empty or negative ``seeds``, ``num_views`` < 1,
            ``resolution`` < 2 or ``image_size`` < 2.
        TypeError: for a non-integer ``num_views``, ``resolution`` or ``image_size``.
    """
    seeds = _check_seeds(seeds)
    num_views = checks.positive_int("num_views", num_views)
    resolution = checks.integer("resolution", resolution, minimum=2)
    image_size = checks.integer("image_size", image_size, minimum=2)
    checks.boolean("use_cache", use_cache)
    path = cache_path(seeds, num_views, resolution, image_size, cache_dir)
    if use_cache and path.is_file():
        try:
            with np.load(path) as stored:
                data = MultiViewSet(**{k: stored[k] for k in MultiViewSet.__dataclass_fields__})
            if np.array_equal(data.seeds, seeds):
                return data
        except (OSError, ValueError, KeyError):
            pass  # unreadable or stale: make it again
    data = _generate(seeds, num_views, resolution, image_size)
    if use_cache:
        try:
            _save(data, path)
        except OSError as error:  # a read-only or full disk: the data is still good
            config.announce(f"shapes3d: could not cache the multi-view set in {path}: {error}")
    return data
