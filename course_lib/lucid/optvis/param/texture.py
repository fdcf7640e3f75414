"""Textures on 3D meshes: UV-mapped procedural meshes rendered from random views.

A texture is an ordinary image ``[Ht, Wt, C]``; a UV-mapped mesh says which point ``(u, v)`` of
that image colours each vertex. Rendering a view is then two steps:

1. rasterize the mesh (:func:`course_lib.graphics.rendering.rasterizer.rasterize`) and
   interpolate the vertices' UVs, which gives a *UV map*: for every pixel, the texture
   coordinates of the surface point seen there. It depends on the mesh and the view only;
2. look the texture up at those coordinates (bilinear
   :func:`~course_lib.graphics.rendering.rasterizer.sample_texture`). This step is linear in the
   texture, so the gradient of anything computed from the images flows back into the texels.

So optimizing a texture "through the renderer" is optimizing an image whose pixels are seen
through a differentiable, view-dependent resampling: the same objectives, parameterizations
(e.g. :func:`course_lib.lucid.optvis.param.image` for the texture) and optimizers apply.

Conventions. Object space is right-handed with +y up. A view rotation ``R`` (``[B, 3, 3]``)
turns the object, then the camera looks at it from ``distance`` along the object's +z: object
point ``p`` lands at camera point ``diag(1, -1, -1) @ R @ p + [0, 0, distance]`` (camera
conventions of :mod:`course_lib.graphics.rendering.rasterizer`: looking down +z, image y down),
so with ``R = I`` the object's +x is to the right, +y up and its +z side faces the viewer.
Texture coordinates follow ``sample_texture``: ``u`` along the texture's width, ``v`` along its
height, ``(0, 0)`` the top-left corner. The sphere's UVs are ``u = 0.5 + atan2(x, z) / (2 pi)``,
``v = acos(y / radius) / pi`` (north pole at the top row, the seam ``u = 0 | 1`` at the back,
facing -z). Renders are unlit: the pixel colour is the texel colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.transformation import rotation_matrix_3d
from course_lib.graphics.rendering import rasterizer
from course_lib.graphics.util import safe_ops, shape

# Camera point = _FLIP @ (R @ p) + [0, 0, distance]: a rotation by pi about x, so that the
# object's +y is up in the image (whose y axis points down) and its +z side faces the camera.
_FLIP = np.diag([1.0, -1.0, -1.0])


# --- procedural UV-mapped meshes -------------------------------------------------------------


def _grid_triangles(rows: int, cols: int, skip_top: bool, skip_bottom: bool) -> np.ndarray:
    """Two triangles per cell of a ``(rows + 1) x (cols + 1)`` vertex grid (row-major).

    Cell ``(i, j)`` has corners ``a = (i, j)``, ``b = (i + 1, j)``, ``c = (i + 1, j + 1)``,
    ``d = (i, j + 1)``; its triangles are ``(a, b, c)`` and ``(a, c, d)``, which face outward for
    the parameterizations below. ``skip_top`` drops ``(a, c, d)`` on the first row of cells (a
    pole: ``a`` and ``d`` coincide), ``skip_bottom`` drops ``(a, b, c)`` on the last row.
    """
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    a = i * (cols + 1) + j
    b, c, d = a + cols + 1, a + cols + 2, a + 1
    first = np.stack([a, b, c], -1)
    second = np.stack([a, c, d], -1)
    if skip_bottom:
        first = first[:-1]
    if skip_top:
        second = second[1:]
    return np.concatenate([first.reshape(-1, 3), second.reshape(-1, 3)]).astype(np.int32)


def _check_grid(rows: int, cols: int, min_rows: int) -> None:
    for name, value, low in (("rows", rows, min_rows), ("cols", cols, 3)):
        if not checks.is_int(value) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def uv_sphere(
    rows: int = 16, cols: int = 32, radius: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A UV sphere: rings of latitude and meridians, with texture coordinates.

    The grid has ``rows + 1`` rings (the first and last at the poles) of ``cols + 1`` vertices
    (the first and last meridian coincide in space but carry ``u = 0`` and ``u = 1``, so the
    texture does not wrap back across the sphere). Vertex ``(i, j)`` sits at polar angle
    ``theta = pi i / rows`` and has ``(u, v) = (j / cols, i / rows)``; its position is
    ``radius * (-sin(theta) sin(2 pi u), cos(theta), -sin(theta) cos(2 pi u))``, which is the
    convention ``u = 0.5 + atan2(x, z) / (2 pi)``, ``v = acos(y / radius) / pi`` of
    :func:`sphere_uv`. Triangles are counter-clockwise seen from outside; the degenerate ones at
    the poles are left out.

    Args:
        rows: number of latitude bands (>= 2).
        cols: number of longitude segments (>= 3).
        radius: the sphere's radius.

    Returns:
        ``(vertices, triangles, uv)``: float32 ``[V, 3]``, int32 ``[F, 3]``, float32 ``[V, 2]``
        with ``V = (rows + 1) (cols + 1)`` and ``F = 2 rows cols - 2 cols``.

    Raises:
        ValueError: if ``rows < 2``, ``cols < 3`` or they are not integers.
    """
    _check_grid(rows, cols, 2)
    v, u = np.meshgrid(np.arange(rows + 1) / rows, np.arange(cols + 1) / cols, indexing="ij")
    theta, phi = math.pi * v, 2.0 * math.pi * u
    vertices = radius * np.stack(
        [-np.sin(theta) * np.sin(phi), np.cos(theta), -np.sin(theta) * np.cos(phi)], -1
    )
    uv = np.stack([u, v], -1)
    triangles = _grid_triangles(rows, cols, skip_top=True, skip_bottom=True)
    return (
        vertices.reshape(-1, 3).astype(np.float32),
        triangles,
        uv.reshape(-1, 2).astype(np.float32),
    )


def uv_torus(
    rows: int = 16, cols: int = 48, major_radius: float = 1.0, minor_radius: float = 0.4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A torus around the y axis with texture coordinates (``u`` around the ring, ``v`` around
    the tube).

    Vertex ``(i, j)`` has ``(u, v) = (j / cols, i / rows)``, ring direction
    ``c = (-sin(2 pi u), 0, -cos(2 pi u))`` (as the sphere's meridians) and tube angle
    ``t = 2 pi v``; its position is ``(R + r cos t) c - r sin t * (0, 1, 0)`` with ``R`` the
    major and ``r`` the minor radius: ``v = 0`` is the outer equator, ``v = 0.25`` the bottom.
    The first and last row and column are duplicated in space (the texture does not wrap).
    Triangles are counter-clockwise seen from outside.

    Args:
        rows: segments around the tube (>= 3).
        cols: segments around the ring (>= 3).
        major_radius: distance from the centre to the tube's axis.
        minor_radius: the tube's radius (below ``major_radius``).

    Returns:
        ``(vertices, triangles, uv)``: float32 ``[V, 3]``, int32 ``[F, 3]``, float32 ``[V, 2]``
        with ``V = (rows + 1) (cols + 1)`` and ``F = 2 rows cols``.

    Raises:
        ValueError: if ``rows`` or ``cols`` is below 3 or not an integer, or the radii are not
            ``0 < minor_radius < major_radius``.
    """
    _check_grid(rows, cols, 3)
    if not 0.0 < minor_radius < major_radius:
        raise ValueError(
            "minor_radius must be positive and below major_radius, got "
            f"minor_radius={minor_radius!r}, major_radius={major_radius!r}"
        )
    v, u = np.meshgrid(np.arange(rows + 1) / rows, np.arange(cols + 1) / cols, indexing="ij")
    phi, tube = 2.0 * math.pi * u, 2.0 * math.pi * v
    ring = major_radius + minor_radius * np.cos(tube)
    vertices = np.stack(
        [-ring * np.sin(phi), -minor_radius * np.sin(tube), -ring * np.cos(phi)], -1
    )
    uv = np.stack([u, v], -1)
    triangles = _grid_triangles(rows, cols, skip_top=False, skip_bottom=False)
    return (
        vertices.reshape(-1, 3).astype(np.float32),
        triangles,
        uv.reshape(-1, 2).astype(np.float32),
    )


def sphere_uv(points: tf.Tensor, name: str = "texture_sphere_uv") -> tf.Tensor:
    """Texture coordinates of points on a sphere centred at the origin (the :func:`uv_sphere`
    convention).

    ``u = 0.5 + atan2(x, z) / (2 pi)`` (the azimuth: ``u = 0.5`` faces +z, the seam ``u = 0 | 1``
    faces -z) and ``v = acos(y / |p|) / pi`` (0 at the north pole, +y, and 1 at the south pole).

    Args:
        points: `[A1, ..., An, 3]` points (any radius; the direction counts).

    Returns:
        `[A1, ..., An, 2]` ``(u, v)`` in [0, 1]; finite gradients everywhere, including the poles
        and the origin.

    Raises:
        ValueError: if ``points`` is not floating with last dimension 3.
    """
    with tf.name_scope(name):
        (points,) = shape.checked(points=(points, 3))
        x, y, z = tf.unstack(points, axis=-1)
        u = 0.5 + safe_ops.atan2(x, z) / (2.0 * math.pi)
        cos_polar = safe_ops.divide(y, safe_ops.norm(points, keepdims=False))
        v = safe_ops.acos(tf.clip_by_value(cos_polar, -1.0, 1.0)) / math.pi
        return tf.stack([u, v], axis=-1)


# --- views -----------------------------------------------------------------------------------


def view_rotation(
    azimuth: tf.Tensor, elevation: tf.Tensor, name: str = "texture_view_rotation"
) -> tf.Tensor:
    """The view that turns the object by ``azimuth`` about its vertical axis, then tilts it by
    ``elevation`` about the horizontal one: ``R = Rx(elevation) @ Ry(azimuth)``.

    With the camera on the object's +z side (see the module docstring), ``azimuth = pi / 2``
    shows the side that faced -x, and a positive ``elevation`` shows more of the top.

    Args:
        azimuth: `[A1, ..., An]` radians.
        elevation: `[A1, ..., An]` radians (broadcast against ``azimuth``).

    Returns:
        `[A1, ..., An, 3, 3]` rotation matrices.

    Raises:
        ValueError: if the two are not floating or their shapes do not broadcast.
    """
    with tf.name_scope(name):
        azimuth, elevation = shape.checked(azimuth=(azimuth, None), elevation=(elevation, None))
        zeros = tf.zeros_like(azimuth * elevation)
        spin = rotation_matrix_3d.from_euler(tf.stack([zeros, azimuth + zeros, zeros], -1))
        tilt = rotation_matrix_3d.from_euler(tf.stack([elevation + zeros, zeros, zeros], -1))
        return tf.linalg.matmul(tilt, spin)


def random_views(
    batch_size: int,
    max_elevation: float = math.pi / 3,
    seed: int | None = None,
    dtype: tf.DType = tf.float32,
    name: str = "texture_random_views",
) -> tf.Tensor:
    """Random view rotations: azimuth uniform in ``[0, 2 pi)``, elevation uniform in
    ``[-max_elevation, max_elevation]`` (see :func:`view_rotation`).

    The angles come from ``tf.random.uniform`` (op seed ``seed``), so inside a ``tf.function``
    every call draws new views, reproducibly under ``config.seed_everything`` / a global seed.

    Args:
        batch_size: number of views (a positive Python int).
        max_elevation: largest tilt in radians, in ``[0, pi / 2]``.
        seed: optional op-level seed.
        dtype: float dtype of the result.

    Returns:
        `[batch_size, 3, 3]` rotation matrices.

    Raises:
        ValueError: if ``batch_size`` is not a positive int or ``max_elevation`` is outside
            ``[0, pi / 2]``.
    """
    if not checks.is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not 0.0 <= max_elevation <= math.pi / 2:
        raise ValueError(f"max_elevation must be in [0, pi / 2], got {max_elevation!r}")
    with tf.name_scope(name):
        angles = tf.random.uniform([2, batch_size], dtype=dtype, seed=seed)
        azimuth = 2.0 * math.pi * angles[0]
        elevation = max_elevation * (2.0 * angles[1] - 1.0)
        return view_rotation(azimuth, elevation)


# --- the renderer ----------------------------------------------------------------------------


class TexturedMeshRenderer:
    """A differentiable renderer ``(texture, view_rotation) -> [B, H, W, C]`` for one mesh.

    Each call rasterizes the mesh from the given views (no gradient needed there: the views are
    not optimized), interpolates the vertex UVs and samples the texture bilinearly, so the
    images are a linear function of the texture. Works inside ``tf.function``.

    Args:
        vertices: `[V, 3]` object-space positions (e.g. from :func:`uv_sphere`), centred near
            the origin and within about 1.2 units of it for the default camera.
        triangles: `[F, 3]` integer vertex indices, counter-clockwise seen from outside (back
            faces are skipped unless ``cull_backfaces=False``, needed for open meshes).
        uv: `[V, 2]` texture coordinates in [0, 1].
        image_size: ``H`` or ``(H, W)`` of the output images.
        distance: the camera's distance from the object's origin.
        field_of_view: the angle the image's shorter side spans, in radians.
        background: the colour where no triangle is seen (a number or a `[C]` colour).
        supersample: render at ``supersample`` times the size and average (anti-aliasing).
        cull_backfaces: skip triangles facing away from the camera (a closed mesh's hidden
            half, drawn faster).

    Call it as ``renderer(texture, view_rotation)``, or ``renderer.uv_map(view_rotation)`` for
    the UV images and coverage. ``textured_mesh_renderer`` is the same class.

    Raises:
        ValueError: if ``vertices`` is not `[V, 3]`, ``uv`` not `[V, 2]`, the sizes or camera
            settings are not valid.
    """

    def __init__(
        self,
        vertices,
        triangles,
        uv,
        image_size: int | Sequence[int],
        distance: float = 3.0,
        field_of_view: float = math.radians(45.0),
        background: float | Sequence[float] = 0.5,
        supersample: int = 1,
        cull_backfaces: bool = True,
    ):
        (vertices, uv) = shape.checked(vertices=(vertices, 3), uv=(uv, 2))
        if vertices.shape.rank != 2 or uv.shape.rank != 2:
            raise ValueError(
                f"vertices must be [V, 3] and uv [V, 2], got {vertices.shape} and {uv.shape}"
            )
        if vertices.shape[0] != uv.shape[0]:
            raise ValueError(
                f"uv must have one row per vertex: vertices has {vertices.shape[0]}, "
                f"uv has {uv.shape[0]}"
            )
        if checks.is_int(image_size):
            image_size = (int(image_size), int(image_size))
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}")
        if not checks.is_int(supersample) or supersample < 1:
            raise ValueError(f"supersample must be a positive int, got {supersample!r}")
        if not 0.0 < field_of_view < math.pi:
            raise ValueError(f"field_of_view must be in (0, pi) radians, got {field_of_view!r}")
        if distance <= 0.0:
            raise ValueError(f"distance must be positive, got {distance!r}")
        self.vertices = vertices
        self.triangles = tf.convert_to_tensor(triangles, tf.int32)
        self.uv = uv
        self.image_size = image_size
        self.distance = float(distance)
        self.field_of_view = float(field_of_view)
        self.background = background
        self.supersample = int(supersample)
        self.cull_backfaces = bool(cull_backfaces)

    def uv_map(self, view_rotation: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The texture coordinates seen at each pixel, and the coverage.

        Args:
            view_rotation: `[B, 3, 3]` rotations (e.g. :func:`random_views`).

        Returns:
            ``(uv, mask)``: `[B, H * s, W * s, 2]` and `[B, H * s, W * s, 1]` at the
            supersampled size (``s = supersample``); ``uv`` is zero on the background.

        Raises:
            ValueError: if ``view_rotation`` is not `[B, 3, 3]` floating.
        """
        (rotation,) = shape.checked(view_rotation=(view_rotation, (3, 3)))
        if rotation.shape.rank != 3:
            raise ValueError(f"view_rotation must be [B, 3, 3], got {rotation.shape}")
        dtype = self.vertices.dtype
        rotation = tf.cast(rotation, dtype)
        camera = tf.linalg.matmul(tf.constant(_FLIP, dtype), rotation)
        points = tf.linalg.matmul(self.vertices, camera, transpose_b=True)  # [B, V, 3]
        points += tf.constant([0.0, 0.0, self.distance], dtype)
        height, width = (size * self.supersample for size in self.image_size)
        focal = 0.5 * min(height, width) / math.tan(0.5 * self.field_of_view)
        batch = tf.shape(rotation)[:1]
        focal = tf.fill(tf.concat([batch, [2]], 0), tf.constant(focal, dtype))
        centre = tf.constant([0.5 * width, 0.5 * height], dtype) + tf.zeros_like(focal)
        images = rasterizer.rasterize(
            points,
            self.triangles,
            focal,
            centre,
            (height, width),
            cull_backfaces=self.cull_backfaces,
        )
        uv = rasterizer.interpolate(self.uv, self.triangles, images)
        return uv, images.mask[..., tf.newaxis]

    def __call__(self, texture: tf.Tensor, view_rotation: tf.Tensor, background=None) -> tf.Tensor:
        """Renders the textured mesh.

        Args:
            texture: `[Ht, Wt, C]` (shared by the views) or `[B, Ht, Wt, C]` textures.
            view_rotation: `[B, 3, 3]` view rotations.
            background: overrides the renderer's background: a number, `[C]` colour or
                `[B, H, W, C]` images.

        Returns:
            `[B, H, W, C]` images: the bilinearly sampled texture where the mesh is seen,
            the background elsewhere (averaged over ``supersample x supersample`` samples).
            Differentiable with respect to the texture (and the background).

        Raises:
            ValueError: on badly shaped or non-floating inputs.
        """
        texture = tf.convert_to_tensor(texture)
        if not texture.dtype.is_floating:
            raise ValueError(f"texture must be floating, got {texture.dtype.name}")
        if texture.shape.rank not in (3, 4):
            raise ValueError(f"texture must be [Ht, Wt, C] or [B, Ht, Wt, C], got {texture.shape}")
        uv, mask = self.uv_map(view_rotation)
        uv, mask = tf.cast(uv, texture.dtype), tf.cast(mask, texture.dtype)
        colour = rasterizer.sample_texture(texture, uv)
        background = self.background if background is None else background
        background = tf.cast(background, texture.dtype)
        images = mask * colour + (1.0 - mask) * background
        if self.supersample > 1:
            images = tf.nn.avg_pool2d(images, self.supersample, self.supersample, "VALID")
        return images


#: The function-style name the chapter's listings use.
textured_mesh_renderer = TexturedMeshRenderer
