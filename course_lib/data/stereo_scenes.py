"""Procedural stereo video: small textured scenes seen by a moving stereo rig at t and t + 1.

The data of "analysis by synthesis" (Cao, Kar, Häne, Malik, CVPR 2019): a network predicts the
depth and the 3D motion (scene flow) of the left image at time t and is trained only by warping
the three other images (right at t, left and right at t + 1) into it with
:func:`course_lib.synthesis.inverse_warp`. The true depth and flow are kept for evaluation.

Scene (:func:`make_scene`, deterministic from its seed). World z up, the ground is the plane
z = 0 (a fine grid of small squares: the rasterizer draws only triangles entirely in front of
the camera). On it stand 2 or 3 :func:`course_lib.data.shapes3d.make_shape` shapes, each
scaled so that its largest side is in :data:`OBJECT_SIZE_RANGE`, turned by a random yaw and
resting on the ground (lowest point at z = 0), placed without overlapping where the left camera
sees them, apart enough that none hides another. Exactly one of them (``Scene.moving``)
translates between t and t + 1 by a horizontal vector of length in :data:`OBJECT_MOTION_RANGE`
(no rotation); the others and the ground are static.

Cameras: pinhole, ``K = shapes3d.intrinsics(image_size)`` (focal = image side, a 53 degree
field of view), world to camera ``x_cam = R x_world + t`` with camera x right, y down (image
rows), z forward (``look_at.right_handed`` with world z up). The left camera at t stands
:data:`CAMERA_HEIGHT_RANGE` above the ground, pitched down by :data:`CAMERA_PITCH_RANGE_DEG`
(enough that even the top image row sees the ground within a depth of about 6: every pixel sees
the ground or an object) and looks at the scene centre, 1.7 to 2.5 away; its yaw is random. The
right camera is the left one moved by :data:`BASELINE` along the left camera's +x axis, same
orientation: a left-camera point ``x`` is at ``x + STEREO_T``, ``STEREO_T = [-BASELINE, 0, 0]``,
in the right camera's frame. From t to t + 1 the rig moves forward (horizontally) by up to
:data:`FORWARD_MOTION_RANGE` and turns about the vertical by up to :data:`YAW_MOTION_DEG`, with
the same height, pitch and baseline: a static point at ``x`` in the left camera at t is at
``motion_R x + motion_t`` in the left camera at t + 1 and at ``motion_R x + motion_t +
STEREO_T`` in the right camera at t + 1.

Flow: for each left-t pixel, the 3D displacement between t and t + 1 of the surface point it
sees due to object motion alone, in the left-t camera frame: ``object_motion`` on the moving
object, zero elsewhere (the camera motion is not in it). So, with the true depth ``d`` of the
left image at t and ``inverse_warp(source, depth, K, R, t, flow)`` (target point ``x`` plus flow
``f`` is at ``R (x + f) + t`` in the source camera):

- ``inverse_warp(right_t, d, K, I, STEREO_T)``,
- ``inverse_warp(left_t1, d, K, motion_R, motion_t, flow)``,
- ``inverse_warp(right_t1, d, K, motion_R, motion_t + STEREO_T, flow)``

all reproduce ``left_t`` wherever its point is seen in the source (up to resampling).

Appearance. Every surface (the ground, each object) has a solid procedural colour texture, a
function of the 3D position (world position for the ground, object-local for the objects, so the
texture moves with its object and is the same in every view and at both times): a base colour
plus :data:`NUM_WAVES` 3D sinusoids of wavelengths in :data:`WAVELENGTH_RANGE` with per-channel
amplitudes, in :data:`COLOUR_RANGE`; each surface has its own palette (base hues spread around
the colour wheel). It is multiplied by Lambertian shading, ``AMBIENT + (1 - AMBIENT) max(n .
l, 0)`` with flat face normals and the light ``shapes3d.LIGHT_DIRECTION`` fixed in the world (the
ground's normal is +z); no shadows. Anti-aliasing: the images are rendered at
:data:`SUPERSAMPLING` times the size and each block of samples averaged (the block's centre is
the final pixel's centre), and each sinusoid is pre-filtered analytically, its amplitude damped
by ``exp(-2 pi^2 sigma^2 |g|^2)`` where ``g`` is its frequency in cycles per rendered sample
(from the surface's slope, exact for planar faces) and ``sigma`` = :data:`TEXTURE_BLUR`
samples: the far, grazing ground fades to its base colour instead of aliasing. Depths, flow,
``moving`` and ``surfaces`` are taken at the final pixels' centres ``(j + 0.5, i + 0.5)``.

:func:`render_scenes` renders a list of seeds (the course's TensorFlow rasterizer, a batch of
:data:`RENDER_BATCH` scenes, all eight views, per call) into a :class:`StereoVideo`;
:func:`make_stereo_video` caches it on disk (``np.savez_compressed``, file named by
:data:`VERSION`, the seeds and the size) under ``shapes3d.default_cache_dir()``. Everything is
float32 and deterministic from the seeds.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib import checks, config
from course_lib.data import shapes3d

#: Bump when anything that changes the generated data changes (it keys the cache files).
VERSION = 1
#: Distance between the left and right cameras, along the left camera's +x axis.
BASELINE = 0.3
#: The right camera's translation relative to the left one: ``x_right = x_left + STEREO_T``.
STEREO_T = (-BASELINE, 0.0, 0.0)
#: The left camera's height above the ground and its downward pitch (degrees) at time t.
CAMERA_HEIGHT_RANGE = (1.2, 1.6)
CAMERA_PITCH_RANGE_DEG = (40.0, 46.0)
#: The rig's motion from t to t + 1: forward (horizontal) distance and yaw (degrees, +-).
FORWARD_MOTION_RANGE = (0.0, 0.15)
YAW_MOTION_DEG = 3.0
#: The number of objects (inclusive range), the range of their largest side, and the length of
#: the moving object's horizontal translation.
NUM_OBJECTS_RANGE = (2, 3)
OBJECT_SIZE_RANGE = (0.5, 0.9)
OBJECT_MOTION_RANGE = (0.15, 0.35)
#: The ground grid: a square of half side GROUND_HALF_SIZE around the scene centre, in squares of
#: side GROUND_CELL (two triangles each).
GROUND_HALF_SIZE = 7.0
GROUND_CELL = 0.5
#: Textures: sinusoids per surface, their wavelengths (world units; the ground's, the objects')
#: and the colour range.
NUM_WAVES = 6
WAVELENGTH_RANGE = (0.2, 1.0)
OBJECT_WAVELENGTH_RANGE = (0.15, 0.6)
COLOUR_RANGE = (0.1, 0.9)
#: Ambient fraction of the shading (the light is ``shapes3d.LIGHT_DIRECTION``).
AMBIENT = shapes3d.AMBIENT
#: Rendered samples per pixel side, and the texture pre-filter's width (in rendered samples).
SUPERSAMPLING = 2
TEXTURE_BLUR = 0.5
#: The smallest image side :func:`render_scenes` accepts.
MIN_IMAGE_SIZE = 8
#: Scenes rendered together in one rasterizer call.
RENDER_BATCH = 16
#: Settings of the course's two run profiles (``config.profile()``).
PROFILES: dict[str, dict[str, int]] = {"quick": {"image_size": 32}, "full": {"image_size": 64}}

_RNG_KEY = 7_340_033  # the seed's companion in numpy's SeedSequence
_MAX_SURFACES = 1 + NUM_OBJECTS_RANGE[1]
_TRIES = 200  # object placements tried per camera
_CAMERAS = 10  # cameras tried before dropping an object


@dataclass(frozen=True)
class Scene:
    """One scene: its triangles, cameras, object motion and textures (float64 NumPy).

    Surface 0 is the ground, surfaces 1..M the objects (``M`` = ``len(kinds)``).

    Attributes:
        seed: the seed it was made from.
        corners: ``[F, 3, 3]`` world corners of the triangles at time t (counter-clockwise seen
            from outside or above).
        surfaces: int32 ``[F]`` the surface of each triangle.
        normals: ``[F, 3]`` unit world face normals (the same at both times).
        kinds: the objects' ``shapes3d.SHAPE_KINDS``.
        yaws: ``[M]`` the objects' turns about the vertical (radians): object ``k``'s world
            corners are ``Rz(yaws[k - 1]) local + position``, its texture a function of
            ``local``.
        moving: the surface index (1..M) of the moving object.
        translation: ``[3]`` the moving object's world translation from t to t + 1 (z = 0).
        R: ``[2, 2, 3, 3]`` world-to-camera rotations, ``[time, eye]`` (eye 0 left, 1 right).
        t: ``[2, 2, 3]`` world-to-camera translations: ``x_cam = R x_world + t``.
        waves: ``[S, NUM_WAVES, 3]`` the texture sinusoids' wave vectors (cycles per unit) in
            the world frame (each object's turned by its yaw), ``S = M + 1``.
        phases: ``[S, NUM_WAVES]`` their phases (radians).
        amplitudes: ``[S, NUM_WAVES, 3]`` their RGB amplitudes.
        base: ``[S, 3]`` the base colours.
        origins: ``[2, S, 3]`` each surface's texture origin in the world at t and t + 1: the
            albedo at world point ``p`` at time ``k`` is ``base + sum_w amplitudes_w
            sin(2 pi waves_w . (p - origins[k]) + phases_w)`` (before pre-filtering).
    """

    seed: int
    corners: np.ndarray
    surfaces: np.ndarray
    normals: np.ndarray
    kinds: tuple[str, ...]
    yaws: np.ndarray
    moving: int
    translation: np.ndarray
    R: np.ndarray
    t: np.ndarray
    waves: np.ndarray
    phases: np.ndarray
    amplitudes: np.ndarray
    base: np.ndarray
    origins: np.ndarray

    @property
    def num_objects(self) -> int:
        return len(self.kinds)

    @property
    def motion_R(self) -> np.ndarray:
        """``[3, 3]`` left camera at t to left camera at t + 1 rotation (of static points)."""
        return self.R[1, 0] @ self.R[0, 0].T

    @property
    def motion_t(self) -> np.ndarray:
        """``[3]``: a static point ``x`` of the left camera at t is at ``motion_R x + motion_t``
        in the left camera at t + 1."""
        return self.t[1, 0] - self.motion_R @ self.t[0, 0]

    @property
    def object_motion(self) -> np.ndarray:
        """``[3]`` the moving object's translation in the left camera's frame at t."""
        return self.R[0, 0] @ self.translation

    def corners_at(self, time: int) -> np.ndarray:
        """``[F, 3, 3]`` world triangle corners at time 0 (t) or 1 (t + 1)."""
        time = checks.integer("time", time, minimum=0, maximum=1)
        moved = (self.surfaces == self.moving)[:, None, None] * self.translation
        return self.corners + time * moved


@dataclass(frozen=True)
class StereoVideo:
    """Stereo pairs at t and t + 1 of N scenes, with the true depth and scene flow.

    ``H = W = image_size``; axis ``time`` is (t, t + 1), axis ``eye`` is (left, right).

    Attributes:
        images: float32 ``[N, 2, 2, H, W, 3]`` RGB in [0, 1], ``[n, time, eye]``.
        depths: float32 ``[N, 2, 2, H, W]`` camera z of the surface seen at each pixel centre.
        flow: float32 ``[N, H, W, 3]`` the 3D motion of each left-t pixel's surface point
            from t to t + 1, left-t camera frame, object motion only.
        moving: bool ``[N, H, W]`` left-t pixels on the moving object.
        surfaces: int8 ``[N, H, W]`` the surface each left-t pixel sees (0 ground, 1..3 the
            objects, -1 nothing: never, in practice).
        object_motion: float32 ``[N, 3]`` the moving object's translation, left-t frame.
        K: float32 ``[3, 3]`` intrinsics of all the cameras.
        stereo_t: float32 ``[3]`` ``[-BASELINE, 0, 0]``: ``x_right = x_left + stereo_t``.
        motion_R: float32 ``[N, 3, 3]``, motion_t: float32 ``[N, 3]``: a static point ``x`` of
            the left camera at t is at ``motion_R x + motion_t`` in the left camera at t + 1.
        seeds: int64 ``[N]`` the scenes' seeds.
    """

    images: np.ndarray
    depths: np.ndarray
    flow: np.ndarray
    moving: np.ndarray
    surfaces: np.ndarray
    object_motion: np.ndarray
    K: np.ndarray
    stereo_t: np.ndarray
    motion_R: np.ndarray
    motion_t: np.ndarray
    seeds: np.ndarray

    @property
    def image_size(self) -> int:
        return self.images.shape[3]

    def __len__(self) -> int:
        return len(self.seeds)


# --- scenes ---------------------------------------------------------------------------------


def camera_rotation(yaw: float, pitch: float) -> np.ndarray:
    """``[3, 3]`` world-to-camera rotation of a camera with heading ``yaw`` (radians, from the
    world x axis toward y) pitched down by ``pitch`` (radians); rows: camera x (right), y (down),
    z (forward) in world coordinates, as ``look_at.right_handed`` with world z up."""
    forward = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), -np.sin(pitch)])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def _yaw_matrix(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _ground() -> tuple[np.ndarray, np.ndarray]:
    """``(corners [F, 3, 3], normals [F, 3])`` of the ground grid around the origin."""
    count = int(round(2 * GROUND_HALF_SIZE / GROUND_CELL))
    edges = np.linspace(-GROUND_HALF_SIZE, GROUND_HALF_SIZE, count + 1)
    x0, y0 = np.meshgrid(edges[:-1], edges[:-1], indexing="ij")
    x0, y0 = x0.ravel(), y0.ravel()
    x1, y1 = x0 + GROUND_CELL, y0 + GROUND_CELL
    zero = np.zeros_like(x0)
    a = np.stack([x0, y0, zero], -1)
    b = np.stack([x1, y0, zero], -1)
    c = np.stack([x1, y1, zero], -1)
    d = np.stack([x0, y1, zero], -1)
    corners = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])  # up: CCW
    normals = np.tile([0.0, 0.0, 1.0], (len(corners), 1))
    return corners, normals


def _texture(rng: np.random.Generator, hue: float, flat: bool) -> tuple[np.ndarray, ...]:
    """``(waves [K, 3], phases [K], amplitudes [K, 3], base [3])`` of one surface's texture.

    ``flat``: horizontal wave vectors (the ground, where z is constant).
    """
    low, high = COLOUR_RANGE
    angles = hue + np.array([0.0, -2.0, 2.0]) * np.pi / 3
    base = (low + high) / 2 + 0.17 * np.cos(angles) + rng.uniform(-0.06, 0.06)
    directions = rng.normal(size=(NUM_WAVES, 3))
    if flat:
        directions[:, 2] = 0.0
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    wavelength_range = WAVELENGTH_RANGE if flat else OBJECT_WAVELENGTH_RANGE
    wavelengths = np.exp(rng.uniform(*np.log(wavelength_range), size=NUM_WAVES))
    waves = directions / wavelengths[:, None]
    phases = rng.uniform(0.0, 2 * np.pi, NUM_WAVES)
    # Mostly luminance (the same sign in the three channels), some colour; the amplitudes of
    # each channel sum to its distance to the colour range, so the albedo stays inside it.
    signs = rng.choice([-1.0, 1.0], NUM_WAVES)
    amplitudes = 0.65 * signs[:, None] + 0.35 * rng.uniform(-1.0, 1.0, (NUM_WAVES, 3))
    amplitudes *= rng.uniform(0.4, 1.0, (NUM_WAVES, 1))
    room = np.minimum(base - low, high - base)
    amplitudes *= room / np.abs(amplitudes).sum(0)
    return waves, phases, amplitudes, base


def _place_objects(
    rng: np.random.Generator, sizes: np.ndarray, heights: np.ndarray, R: np.ndarray, centre_cam
) -> tuple[np.ndarray, int, np.ndarray] | None:
    """Object positions ``[M, 3]`` on the ground, the moving one and its translation, or None.

    ``sizes``: ``[M]`` footprint radii; ``heights``: ``[M]``; ``R``: the left-t rotation;
    ``centre_cam``: a function of world points ``[..., 3]`` to left-t camera points. Objects
    do not overlap (also after the motion) and their centres project inside the image, apart
    from each other by at least about their apparent radii.
    """
    count = len(sizes)
    forward = np.array([R[2, 0], R[2, 1], 0.0])
    forward /= np.linalg.norm(forward)
    right = R[0]
    moving = int(rng.integers(count))
    angle = rng.uniform(0.0, 2 * np.pi)
    length = rng.uniform(*OBJECT_MOTION_RANGE)
    translation = length * np.array([np.cos(angle), np.sin(angle), 0.0])
    positions: list[np.ndarray] = []
    for index in range(count):
        for _ in range(_TRIES):
            along = rng.uniform(-0.3, 0.7)
            across = rng.uniform(-0.8, 0.8)
            position = along * forward + across * right
            places = [position] + ([position + translation] if index == moving else [])
            if all(_fits(p, sizes, heights, index, positions, centre_cam) for p in places):
                positions.append(position)
                break
        else:
            return None
    end = positions[moving] + translation  # at t + 1, against the objects placed after it
    for k, other in enumerate(positions):
        if k != moving and np.linalg.norm((end - other)[:2]) < sizes[moving] + sizes[k] + 0.05:
            return None
    return np.stack(positions), moving, translation


def _fits(position, sizes, heights, index, placed, centre_cam) -> bool:
    """Whether object ``index`` at ``position`` is in view and clear of the ``placed`` ones."""
    middle = centre_cam(position + [0.0, 0.0, heights[index] / 2])
    if middle[2] < 0.8:
        return False
    u, v = middle[0] / middle[2], middle[1] / middle[2]
    if abs(u) > 0.33 or not -0.35 <= v <= 0.4:
        return False
    for k, other in enumerate(placed):
        if np.linalg.norm((position - other)[:2]) < sizes[index] + sizes[k] + 0.05:
            return False
        seen = centre_cam(other + [0.0, 0.0, heights[k] / 2])
        apart = abs(u - seen[0] / seen[2])
        if apart < 0.5 * (sizes[index] / middle[2] + sizes[k] / seen[2]):
            return False
    return True


def make_scene(seed: int) -> Scene:
    """The scene of ``seed``: ground, 2-3 objects (one moving), the stereo rig at t and t + 1.

    Args:
        seed: a non-negative int; the same seed gives the same scene.

    Returns:
        A :class:`Scene` (float64 arrays; see the module docstring for the conventions).

    Raises:
        ValueError: naming ``seed`` if it is negative; TypeError if it is not an int.
    """
    seed = checks.non_negative_int("seed", seed)
    rng = np.random.default_rng([seed, _RNG_KEY])
    shapes = [
        shapes3d.make_shape(int(rng.integers(2**31 - 1)))
        for _ in range(rng.integers(NUM_OBJECTS_RANGE[0], NUM_OBJECTS_RANGE[1] + 1))
    ]
    meshes = []
    for shape in shapes:
        vertices = shape.vertices.astype(np.float64)
        scale = rng.uniform(*OBJECT_SIZE_RANGE) / (vertices.max(0) - vertices.min(0)).max()
        vertices = vertices * scale
        vertices[:, 2] -= vertices[:, 2].min()
        angle = rng.uniform(0.0, 2 * np.pi)
        yaw = _yaw_matrix(angle)
        meshes.append((vertices @ yaw.T, shape.normals.astype(np.float64) @ yaw.T, yaw, angle))
    sizes = np.array([np.linalg.norm(v[:, :2], axis=-1).max() for v, *_ in meshes])
    heights = np.array([v[:, 2].max() for v, *_ in meshes])
    for attempt in itertools.count():  # a camera, then the objects in its view
        if attempt == _CAMERAS and len(shapes) > NUM_OBJECTS_RANGE[0]:  # too crowded: one less
            shapes, meshes = shapes[:-1], meshes[:-1]
            sizes, heights = sizes[:-1], heights[:-1]
        yaw = rng.uniform(0.0, 2 * np.pi)
        pitch = np.deg2rad(rng.uniform(*CAMERA_PITCH_RANGE_DEG))
        height = rng.uniform(*CAMERA_HEIGHT_RANGE)
        R0 = camera_rotation(yaw, pitch)
        heading = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        position0 = -height / np.tan(pitch) * heading + [0.0, 0.0, height]

        def centre_cam(points, R0=R0, position0=position0):
            return (np.asarray(points) - position0) @ R0.T

        placed = _place_objects(rng, sizes, heights, R0, centre_cam)
        if placed is not None:
            break
    positions, moving, translation = placed
    count = len(shapes)
    advance = rng.uniform(*FORWARD_MOTION_RANGE)
    turn = np.deg2rad(rng.uniform(-YAW_MOTION_DEG, YAW_MOTION_DEG))
    R1 = camera_rotation(yaw + turn, pitch)
    position1 = position0 + advance * heading
    R = np.stack([np.stack([R0, R0]), np.stack([R1, R1])])
    t = np.zeros((2, 2, 3))
    for time, (rotation, position) in enumerate(((R0, position0), (R1, position1))):
        t[time, 0] = -rotation @ position
        t[time, 1] = t[time, 0] + STEREO_T
    ground, ground_normals = _ground()
    corners, normals, surfaces = [ground], [ground_normals], [np.zeros(len(ground), np.int32)]
    for index, ((vertices, face_normals, *_), shape) in enumerate(zip(meshes, shapes, strict=True)):
        corners.append(vertices[shape.triangles] + positions[index])
        normals.append(face_normals)
        surfaces.append(np.full(len(shape.triangles), index + 1, np.int32))
    hue = rng.uniform(0.0, 2 * np.pi)
    textures = [_texture(rng, hue, flat=True)]
    for index, (_, _, yaw_matrix, _) in enumerate(meshes):
        hue_k = hue + 2 * np.pi * (index + 1) / (count + 1) + rng.uniform(-0.3, 0.3)
        waves, phases, amplitudes, base = _texture(rng, hue_k, flat=False)
        textures.append((waves @ yaw_matrix.T, phases, amplitudes, base))
    waves, phases, amplitudes, base = (np.stack(parts) for parts in zip(*textures, strict=True))
    origins = np.zeros((2, count + 1, 3))
    origins[:, 1:] = positions
    origins[1, moving + 1] += translation
    return Scene(
        seed=seed,
        corners=np.concatenate(corners),
        surfaces=np.concatenate(surfaces),
        normals=np.concatenate(normals),
        kinds=tuple(s.kind for s in shapes),
        yaws=np.array([mesh[3] for mesh in meshes]),
        moving=moving + 1,
        translation=translation,
        R=R,
        t=t,
        waves=waves,
        phases=phases,
        amplitudes=amplitudes,
        base=base,
        origins=origins,
    )


# --- rendering ------------------------------------------------------------------------------


def _rays(image_size: int, K: np.ndarray) -> np.ndarray:
    """``[H * W, 3]`` ``K^-1 [j + 0.5, i + 0.5, 1]`` (z = 1), row-major."""
    rows, columns = np.meshgrid(
        np.arange(image_size) + 0.5, np.arange(image_size) + 0.5, indexing="ij"
    )
    pixels = np.stack([columns.ravel(), rows.ravel(), np.ones(image_size**2)], -1)
    return pixels @ np.linalg.inv(K.astype(np.float64)).T


def _render_batch(scenes: list[Scene], image_size: int) -> dict[str, np.ndarray]:
    """The images, depths, flow and masks of a few scenes (one call of the rasterizer per size).

    Views are ``v = 2 time + eye``; everything in float32 but the camera set-up.
    """
    from course_lib.graphics.rendering import rasterizer

    count, views, big = len(scenes), 4, SUPERSAMPLING * image_size
    faces = max(len(s.surfaces) for s in scenes)
    R = np.stack([s.R.reshape(views, 3, 3) for s in scenes])  # [B, 4, 3, 3]
    t = np.stack([s.t.reshape(views, 3) for s in scenes])
    world = np.zeros((count, 2, faces, 3, 3))  # zero-area padding triangles are never drawn
    surfaces = np.zeros((count, faces), np.int32)
    normals = np.zeros((count, faces, 3))
    for n, scene in enumerate(scenes):
        size = len(scene.surfaces)
        world[n, :, :size] = np.stack([scene.corners_at(0), scene.corners_at(1)])
        surfaces[n, :size] = scene.surfaces
        normals[n, :size] = scene.normals
    world = np.repeat(world, 2, axis=1).reshape(count, views, faces * 3, 3)
    camera = np.einsum("bvij,bvpj->bvpi", R, world) + t[:, :, None, :]
    camera = camera.astype(np.float32)
    triangles = np.arange(3 * faces, dtype=np.int32).reshape(faces, 3)
    light = -np.asarray(shapes3d.LIGHT_DIRECTION)
    shade = (AMBIENT + (1 - AMBIENT) * np.maximum(normals @ light, 0.0)).astype(np.float32)

    def raster(size: int):
        K = shapes3d.intrinsics(size)
        focal = np.broadcast_to(np.float32([K[0, 0], K[1, 1]]), (count, views, 2))
        principal = np.broadcast_to(np.float32([K[0, 2], K[1, 2]]), (count, views, 2))
        out = rasterizer.rasterize(
            camera, triangles, focal, principal, (size, size), cull_backfaces=True
        )
        return out.depth.numpy(), out.triangle_index.numpy(), K

    # The supersampled images.
    depth, index, K_big = raster(big)
    pixels = big * big
    covered = (index >= 0).reshape(count, views, pixels)
    index = np.maximum(index, 0).reshape(count, views, pixels)
    batch = np.arange(count)[:, None, None]
    surface = surfaces[batch, index]  # [B, 4, P]
    normal = np.einsum("bvij,bvpj->bvpi", R, normals[batch, index]).astype(np.float32)
    rays = _rays(big, K_big).astype(np.float32)  # [P, 3]
    depth = depth.reshape(count, views, pixels, 1)
    points = depth * rays  # [B, 4, P, 3] camera frame
    # The texture's phases, affine in camera coordinates: with the camera centre
    # c = -R^T t, w . (R^T (x - t) - origin) = (R w) . x + w . (c - origin).
    width = _MAX_SURFACES
    waves = np.zeros((count, width, NUM_WAVES, 3))
    phases = np.zeros((count, width, NUM_WAVES))
    amplitudes = np.zeros((count, width, NUM_WAVES, 3))
    base = np.zeros((count, width, 3))
    origins = np.zeros((count, 2, width, 3))
    for n, scene in enumerate(scenes):
        used = len(scene.base)
        waves[n, :used], phases[n, :used] = scene.waves, scene.phases
        amplitudes[n, :used], base[n, :used] = scene.amplitudes, scene.base
        origins[n, :, :used] = scene.origins
    origins = np.repeat(origins, 2, axis=1)  # [B, 4, S, 3]
    centres = -np.einsum("bvji,bvj->bvi", R, t)  # camera centres in the world
    camera_waves = np.einsum("bvij,bskj->bvski", R, waves)  # [B, 4, S, K, 3]
    offsets = np.einsum("bskj,bvsj->bvsk", waves, centres[:, :, None, :] - origins)
    pick = (np.arange(count)[:, None, None] * views + np.arange(views)[None, :, None]) * width
    pick = pick + surface  # [B, 4, P] into the flattened [B * 4 * S]
    wave = camera_waves.reshape(-1, NUM_WAVES, 3).astype(np.float32)[pick]  # [B, 4, P, K, 3]
    offset = offsets.reshape(-1, NUM_WAVES).astype(np.float32)[pick]
    phase = 2 * np.pi * (np.einsum("bvpkc,bvpc->bvpk", wave, points) + offset)
    phase += phases.astype(np.float32)[batch, surface]
    # Pre-filter: the wave's frequency per rendered sample from the surface's slope,
    # dx/du = z (r_u - r (n . r_u) / (n . r)) with r_u = [1 / f, 0, 0] (v likewise).
    focal = K_big[0, 0]
    facing = np.minimum(np.einsum("bvpc,pc->bvp", normal, rays), -1e-3)[..., None]
    along_u = -rays * (normal[..., 0:1] / focal / facing)
    along_u[..., 0] += 1 / focal
    along_v = -rays * (normal[..., 1:2] / focal / facing)
    along_v[..., 1] += 1 / focal
    slope_u = np.einsum("bvpkc,bvpc->bvpk", wave, depth * along_u)
    slope_v = np.einsum("bvpkc,bvpc->bvpk", wave, depth * along_v)
    damping = np.exp(-2 * np.pi**2 * TEXTURE_BLUR**2 * (slope_u**2 + slope_v**2))
    amplitude = amplitudes.astype(np.float32)[batch, surface]  # [B, 4, P, K, 3]
    albedo = base.astype(np.float32)[batch, surface]
    albedo += np.einsum("bvpk,bvpkc->bvpc", damping * np.sin(phase), amplitude)
    colour = albedo * shade[batch, index][..., None] * covered[..., None]
    colour = colour.reshape(count, views, image_size, SUPERSAMPLING, image_size, SUPERSAMPLING, 3)
    images = np.clip(colour.mean(axis=(3, 5)), 0.0, 1.0).astype(np.float32)

    # Depth, surfaces, flow at the final pixels' centres.
    depth, index, _ = raster(image_size)
    left = index[:, 0]  # [B, H, W]
    seen = np.where(left >= 0, surfaces[np.arange(count)[:, None, None], np.maximum(left, 0)], -1)
    moving = seen == np.array([s.moving for s in scenes])[:, None, None]
    object_motion = np.stack([s.object_motion for s in scenes]).astype(np.float32)
    flow = moving[..., None] * object_motion[:, None, None, :]
    return {
        "images": images.reshape(count, 2, 2, image_size, image_size, 3),
        "depths": depth.reshape(count, 2, 2, image_size, image_size).astype(np.float32),
        "flow": flow.astype(np.float32),
        "moving": moving,
        "surfaces": seen.astype(np.int8),
        "object_motion": object_motion,
        "motion_R": np.stack([s.motion_R for s in scenes]).astype(np.float32),
        "motion_t": np.stack([s.motion_t for s in scenes]).astype(np.float32),
    }


def _check_seeds(seeds: Iterable[int]) -> np.ndarray:
    return np.asarray(checks.integers("seeds", seeds, minimum=0), np.int64)


def _check_size(image_size: object) -> int:
    return checks.integer("image_size", image_size, minimum=MIN_IMAGE_SIZE)


def render_scenes(seeds: Iterable[int], image_size: int) -> StereoVideo:
    """Makes and renders the scenes of ``seeds``: :data:`RENDER_BATCH` per rasterizer call.

    Args:
        seeds: N non-negative ints; scene ``n`` is ``make_scene(seeds[n])``.
        image_size: the image side S >= :data:`MIN_IMAGE_SIZE` in pixels.

    Returns:
        A :class:`StereoVideo` of N scenes (images ``[N, 2, 2, S, S, 3]`` and the rest).

    Raises:
        ValueError: naming the argument, for empty or negative ``seeds`` or ``image_size`` <
            :data:`MIN_IMAGE_SIZE`; TypeError for a non-int ``image_size``.
    """
    seeds = _check_seeds(seeds)
    image_size = _check_size(image_size)
    parts = []
    for start in range(0, len(seeds), RENDER_BATCH):
        scenes = [make_scene(int(s)) for s in seeds[start : start + RENDER_BATCH]]
        parts.append(_render_batch(scenes, image_size))
    return StereoVideo(
        **{k: np.concatenate([p[k] for p in parts]) for k in parts[0]},
        K=shapes3d.intrinsics(image_size),
        stereo_t=np.asarray(STEREO_T, np.float32),
        seeds=seeds,
    )


# --- the cached data set --------------------------------------------------------------------


def profile_settings(profile: str | None = None) -> dict[str, int]:
    """``{"image_size": ...}`` of a profile (default ``config.profile()``): 32 for ``"quick"``,
    64 for ``"full"``."""
    profile = config.profile() if profile is None else profile
    return dict(PROFILES[checks.one_of("profile", profile, tuple(PROFILES))])


def cache_path(seeds: Iterable[int], image_size: int, cache_dir: str | Path | None = None) -> Path:
    """The file :func:`make_stereo_video` caches these seeds at this size in (version-keyed),
    under ``cache_dir`` (default ``shapes3d.default_cache_dir()``)."""
    seeds = _check_seeds(seeds)
    image_size = _check_size(image_size)
    digest = hashlib.sha256(seeds.tobytes()).hexdigest()[:12]
    name = f"stereo_video_v{VERSION}_n{len(seeds)}_{digest}_img{image_size}.npz"
    return Path(shapes3d.default_cache_dir() if cache_dir is None else cache_dir) / name


def make_stereo_video(
    seeds: Iterable[int],
    image_size: int | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> StereoVideo:
    """The stereo video of ``seeds`` (:func:`render_scenes`), cached on disk.

    Loaded from :func:`cache_path` when that file exists, else rendered and saved there
    (``np.savez_compressed``, written atomically).

    Args:
        seeds: N non-negative ints.
        image_size: the image side S >= :data:`MIN_IMAGE_SIZE`; None for the profile's
            (:func:`profile_settings`: 32 quick, 64 full).
        cache_dir: the folder of the cache files (default ``shapes3d.default_cache_dir()``).
        use_cache: False to neither read nor write the cache.

    Returns:
        A :class:`StereoVideo` (scenes in the order of ``seeds``).

    Raises:
        ValueError: naming the argument, for empty or negative ``seeds`` or ``image_size`` <
            :data:`MIN_IMAGE_SIZE`; TypeError for a non-int ``image_size`` or ``use_cache``
            not a bool.
    """
    seeds = _check_seeds(seeds)
    image_size = profile_settings()["image_size"] if image_size is None else image_size
    image_size = _check_size(image_size)
    checks.boolean("use_cache", use_cache)
    path = cache_path(seeds, image_size, cache_dir)
    if use_cache and path.is_file():
        try:
            with np.load(path) as stored:
                data = StereoVideo(**{k: stored[k] for k in StereoVideo.__dataclass_fields__})
            if np.array_equal(data.seeds, seeds) and data.image_size == image_size:
                return data
        except (OSError, ValueError, KeyError):
            pass  # unreadable or stale: make it again
    data = render_scenes(seeds, image_size)
    if use_cache:
        try:
            shapes3d._save(data, path)
        except OSError as error:  # a read-only or full disk: the data is still good
            config.announce(f"stereo_scenes: could not cache the stereo video in {path}: {error}")
    return data
