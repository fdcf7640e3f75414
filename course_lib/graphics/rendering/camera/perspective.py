"""The pinhole (perspective) camera.

The camera sits at the origin and looks down +z. A point ``[x, y, z]`` lands on the pixel

    x' = fx * x / z + cx,    y' = fy * y / z + cy,

with ``focal = [fx, fy]`` and ``principal_point = [cx, cy]`` in pixels. The same numbers form the
intrinsic matrix ``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``, and ``[x', y', 1] ~ K [x, y, z]``.
Points at ``z = 0`` give large but finite values and finite gradients.

Also here, for code ported from TensorFlow Graphics: :func:`right_handed` and
:func:`parameters_from_right_handed` (OpenGL's 4x4 projection matrix, whose camera looks down
-z), and :func:`random_rays` and :func:`random_patches` (rays through random pixels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from course_lib.graphics.util import asserts, safe_ops, shape


def project(
    point_3d: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    name: str = "perspective_project",
) -> tf.Tensor:
    """Projects 3-D points in camera coordinates to pixels.

    Args:
        point_3d: `[A1, ..., An, 3]` points in camera coordinates.
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.

    Returns:
        `[A1, ..., An, 2]` pixels `[fx * x / z + cx, fy * y / z + cy]`.

    Raises:
        ValueError: if a last dimension is not 3 (`point_3d`) or 2 (`focal`,
            `principal_point`), the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        point_3d, focal, principal_point = shape.checked(
            point_3d=(point_3d, 3), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        return focal * safe_ops.divide(point_3d[..., :2], point_3d[..., 2:]) + principal_point


def unproject(
    point_2d: tf.Tensor,
    depth: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    name: str = "perspective_unproject",
) -> tf.Tensor:
    """Lifts pixels back to 3-D points at the given depths (the inverse of `project`).

    Args:
        point_2d: `[A1, ..., An, 2]` pixels `[x', y']`.
        depth: `[A1, ..., An, 1]` depths (camera z, not the distance to the camera).
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.

    Returns:
        `[A1, ..., An, 3]` points `[(x' - cx) / fx * z, (y' - cy) / fy * z, z]`.

    Raises:
        ValueError: if a last dimension is not 2 (`point_2d`, `focal`, `principal_point`) or 1
            (`depth`), the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        point_2d, depth, focal, principal_point = shape.checked(
            point_2d=(point_2d, 2),
            depth=(depth, 1),
            focal=(focal, 2),
            principal_point=(principal_point, 2),
        )
        xy = safe_ops.divide(point_2d - principal_point, focal) * depth
        xy, depth = shape.broadcast_batch((xy, 1), (depth, 1))
        return tf.concat([xy, depth], axis=-1)


def ray(
    point_2d: tf.Tensor,
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    normalize: bool = False,
    name: str = "perspective_ray",
) -> tf.Tensor:
    """The direction of the ray from the camera centre through each pixel.

    Every point `t * ray` (t > 0) projects back to the pixel; with the default z = 1 scaling,
    `t` is the depth, so `unproject(point_2d, depth, ...) == depth * ray(point_2d, ...)`.

    Args:
        point_2d: `[A1, ..., An, 2]` pixels.
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        normalize: if True, return unit-length directions instead of z = 1 ones.

    Returns:
        `[A1, ..., An, 3]` directions `[(x' - cx) / fx, (y' - cy) / fy, 1]` (or those scaled to
        unit length).

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        point_2d, focal, principal_point = shape.checked(
            point_2d=(point_2d, 2), focal=(focal, 2), principal_point=(principal_point, 2)
        )
        xy = safe_ops.divide(point_2d - principal_point, focal)
        direction = tf.concat([xy, tf.ones_like(xy[..., :1])], axis=-1)
        return safe_ops.normalize(direction) if normalize else direction


def pixel_rays(
    image_size: Sequence[int],
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    normalize: bool = False,
    name: str = "perspective_pixel_rays",
) -> tf.Tensor:
    """The ray through the centre of every pixel of an image.

    Pixel (row i, column j) is sampled at its centre, `[x', y'] = [j + 0.5, i + 0.5]`.

    Args:
        image_size: `(height, width)` in pixels (Python ints).
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        normalize: if True, unit-length directions instead of z = 1 ones.

    Returns:
        `[A1, ..., An, height, width, 3]` ray directions (see `ray`).

    Raises:
        ValueError: if `image_size` is not two positive ints, a last dimension is not 2, the
            batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        focal, principal_point = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2)
        )
        height, width = shape.image_size(image_size)
        rows, columns = tf.meshgrid(
            tf.range(height, dtype=focal.dtype) + 0.5,
            tf.range(width, dtype=focal.dtype) + 0.5,
            indexing="ij",
        )
        grid = tf.stack([columns, rows], axis=-1)  # [H, W, 2] as [x', y']
        return ray(grid, focal[..., None, None, :], principal_point[..., None, None, :], normalize)


def _whole(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as a Python int >= ``minimum``; ``ValueError`` naming ``name`` otherwise."""
    try:
        whole = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError):
        whole = False
    if not whole or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _random_integers(
    shape_: tf.Tensor, low: int, high: int, seed: int | None, stream: int
) -> tf.Tensor:
    """int32 uniform in ``[low, high)``; stateless (reproducible) when ``seed`` is an int."""
    if seed is None:
        return tf.random.uniform(shape_, minval=low, maxval=high, dtype=tf.int32)
    return tf.random.stateless_uniform(
        shape_, seed=[int(seed), stream], minval=low, maxval=high, dtype=tf.int32
    )


def random_rays(
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    height: int,
    width: int,
    n_rays: int,
    margin: int = 0,
    seed: int | None = None,
    name: str = "random_rays",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Rays through ``n_rays`` pixels drawn uniformly (with replacement) from an image.

    Pixel ``[x, y]`` (column, row) is drawn with ``margin <= x < width - margin`` and
    ``margin <= y < height - margin``, independently for every camera in the batch, and its
    ray goes through the pixel's centre ``[x + 0.5, y + 0.5]``, as in :func:`pixel_rays` (so
    ``rays[..., k, :] == pixel_rays(...)[..., y_k, x_k, :]``).

    Args:
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        height: the image height in pixels.
        width: the image width in pixels.
        n_rays: the number ``M`` of rays per camera.
        margin: pixels left out along every border.
        seed: an int for reproducible draws (stateless random ops); None uses TensorFlow's
            global generator.

    Returns:
        ``(rays, pixels)``: `[A1, ..., An, M, 3]` ray directions with ``z = 1`` (see
        :func:`ray`) and `[A1, ..., An, M, 2]` int32 pixels ``[x, y]``.

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, a dtype
            is not floating, ``height``, ``width`` or ``n_rays`` is not a positive int, or
            ``margin`` is negative or leaves no pixel.
    """
    with tf.name_scope(name):
        focal, principal_point = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2)
        )
        height, width = _whole("height", height), _whole("width", width)
        n_rays, margin = _whole("n_rays", n_rays), _whole("margin", margin, minimum=0)
        if 2 * margin >= min(height, width):
            raise ValueError(f"margin {margin} leaves no pixel of a {height}x{width} image")
        batch = tf.broadcast_dynamic_shape(tf.shape(focal)[:-1], tf.shape(principal_point)[:-1])
        draws = tf.concat([batch, [n_rays]], axis=0)
        x = _random_integers(draws, margin, width - margin, seed, 0)
        y = _random_integers(draws, margin, height - margin, seed, 1)
        pixels = tf.stack([x, y], axis=-1)
        centres = tf.cast(pixels, focal.dtype) + 0.5
        rays = ray(centres, focal[..., None, :], principal_point[..., None, :])
        return rays, pixels


def random_patches(
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    height: int,
    width: int,
    patch_height: int,
    patch_width: int,
    scale: float = 1.0,
    seed: int | None = None,
    name: str = "random_patches",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Rays through a ``patch_height x patch_width`` grid of pixels at a random place.

    The grid's rows and columns are ``scale`` pixels apart; its top-left pixel ``[x0, y0]`` is
    an integer drawn uniformly (one per camera in the batch) among the places where the whole
    grid lies inside the image. Grid point ``(i, j)`` is the pixel position
    ``[x0 + j scale, y0 + i scale]``, and its ray goes through ``position + 0.5`` (the pixel
    centre when ``scale`` is an integer), as in :func:`random_rays`.

    Args:
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        height: the image height in pixels.
        width: the image width in pixels.
        patch_height: the number ``M`` of grid rows.
        patch_width: the number ``N`` of grid columns.
        scale: the grid spacing in pixels (> 0).
        seed: an int for reproducible draws; None uses TensorFlow's global generator.

    Returns:
        ``(rays, pixels)``: `[A1, ..., An, M * N, 3]` ray directions with ``z = 1`` and
        `[A1, ..., An, M * N, 2]` positions ``[x, y]`` (floating, in the focal's dtype), both in
        row-major grid order.

    Raises:
        ValueError: if a last dimension is not 2, the batch dimensions do not broadcast, a dtype
            is not floating, a size is not a positive int, ``scale`` is not positive, or the
            grid does not fit in the image.
    """
    with tf.name_scope(name):
        focal, principal_point = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2)
        )
        height, width = _whole("height", height), _whole("width", width)
        patch_height = _whole("patch_height", patch_height)
        patch_width = _whole("patch_width", patch_width)
        if not float(scale) > 0.0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        span_y = math.ceil((patch_height - 1) * float(scale))
        span_x = math.ceil((patch_width - 1) * float(scale))
        if span_y >= height or span_x >= width:
            raise ValueError(
                f"a {patch_height}x{patch_width} patch at scale {scale} does not fit in a "
                f"{height}x{width} image"
            )
        batch = tf.broadcast_dynamic_shape(tf.shape(focal)[:-1], tf.shape(principal_point)[:-1])
        x0 = _random_integers(batch, 0, width - span_x, seed, 0)
        y0 = _random_integers(batch, 0, height - span_y, seed, 1)
        origin = tf.cast(tf.stack([x0, y0], axis=-1), focal.dtype)[..., None, :]
        rows, columns = tf.meshgrid(
            tf.range(patch_height, dtype=focal.dtype),
            tf.range(patch_width, dtype=focal.dtype),
            indexing="ij",
        )
        grid = float(scale) * tf.reshape(tf.stack([columns, rows], axis=-1), [-1, 2])
        pixels = origin + grid
        rays = ray(pixels + 0.5, focal[..., None, :], principal_point[..., None, :])
        return rays, pixels


def right_handed(
    vertical_field_of_view: tf.Tensor,
    aspect_ratio: tf.Tensor,
    near: tf.Tensor,
    far: tf.Tensor,
    name: str = "perspective_right_handed",
) -> tf.Tensor:
    """OpenGL's right-handed perspective projection matrix (``gluPerspective``).

    Unlike the rest of this module, the camera here looks down **-z** with y up (OpenGL eye
    space). With ``f = 1 / tan(fov / 2)`` the matrix is::

        [[f / aspect, 0, 0, 0],
         [0, f, 0, 0],
         [0, 0, (far + near) / (near - far), 2 far near / (near - far)],
         [0, 0, -1, 0]]

    It maps the view frustum to the clip cube: after division by ``w = -z``, the near plane
    goes to ``z = -1``, the far plane to ``z = +1`` and the frustum's edges to ``x, y = +-1``.
    The ranges (``0 < fov < pi``, ``aspect > 0``, ``0 < near < far``) are checked only when
    value checks are on (:mod:`course_lib.graphics.util.asserts`).

    Args:
        vertical_field_of_view: `[A1, ..., An, 1]` vertical fields of view in radians.
        aspect_ratio: `[A1, ..., An, 1]` width / height.
        near: `[A1, ..., An, 1]` distances to the near clipping plane.
        far: `[A1, ..., An, 1]` distances to the far clipping plane.

    Returns:
        `[A1, ..., An, 4, 4]` projection matrices.

    Raises:
        ValueError: if a last dimension is not 1, the batch dimensions do not broadcast, or a
            dtype is not floating.
    """
    with tf.name_scope(name):
        fov, aspect, near, far = shape.checked(
            vertical_field_of_view=(vertical_field_of_view, 1),
            aspect_ratio=(aspect_ratio, 1),
            near=(near, 1),
            far=(far, 1),
        )
        fov, aspect, near, far = shape.broadcast_batch((fov, 1), (aspect, 1), (near, 1), (far, 1))
        fov = asserts.assert_all_in_range(
            fov, 0.0, math.pi, "vertical_field_of_view", open_bounds=True
        )
        aspect = asserts.assert_all_above(aspect, 0.0, "aspect_ratio", open_bound=True)
        near = asserts.assert_all_above(near, 0.0, "near", open_bound=True)
        far = asserts.assert_that(far, lambda: far > near, "far must be > near")
        f = 1.0 / tf.tan(0.5 * fov)[..., 0]
        aspect, near, far = aspect[..., 0], near[..., 0], far[..., 0]
        zero = tf.zeros_like(f)
        rows = [
            [f / aspect, zero, zero, zero],
            [zero, f, zero, zero],
            [zero, zero, (far + near) / (near - far), 2.0 * far * near / (near - far)],
            [zero, zero, -tf.ones_like(f), zero],
        ]
        return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def parameters_from_right_handed(
    projection_matrix: tf.Tensor, name: str = "perspective_parameters_from_right_handed"
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """The ``(vertical_field_of_view, aspect_ratio, near, far)`` of :func:`right_handed` matrices.

    From ``m11 = f``, ``m00 = f / aspect``, ``m22 = (far + near) / (near - far)`` and
    ``m23 = 2 far near / (near - far)``: ``fov = 2 atan2(1, m11)``, ``aspect = m11 / m00``,
    ``far = m23 / (m22 + 1)`` and ``near = m23 / (m22 - 1)``.

    Args:
        projection_matrix: `[A1, ..., An, 4, 4]` matrices built as :func:`right_handed`'s.

    Returns:
        Four `[A1, ..., An, 1]` tensors: the vertical field of view in radians, the aspect
        ratio, and the near and far distances.

    Raises:
        ValueError: if ``projection_matrix``'s last two dimensions are not ``(4, 4)`` or it is
            not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(projection_matrix=(projection_matrix, (4, 4)))
        m00, m11 = matrix[..., 0, 0:1], matrix[..., 1, 1:2]
        m22, m23 = matrix[..., 2, 2:3], matrix[..., 2, 3:4]
        fov = 2.0 * tf.atan2(tf.ones_like(m11), m11)
        aspect = safe_ops.divide(m11, m00)
        far = safe_ops.divide(m23, m22 + 1.0)
        near = safe_ops.divide(m23, m22 - 1.0)
        return fov, aspect, near, far


def matrix_from_intrinsics(
    focal: tf.Tensor,
    principal_point: tf.Tensor,
    skew: tf.Tensor = (0.0,),
    name: str = "perspective_matrix_from_intrinsics",
) -> tf.Tensor:
    """The intrinsic matrix `K = [[fx, s, cx], [0, fy, cy], [0, 0, 1]]` (``s``: the skew).

    Args:
        focal: `[A1, ..., An, 2]` focal lengths `[fx, fy]` in pixels.
        principal_point: `[A1, ..., An, 2]` principal points `[cx, cy]` in pixels.
        skew: `[A1, ..., An, 1]` skew coefficients (default 0; the projections of this module
            assume 0).

    Returns:
        `[A1, ..., An, 3, 3]` matrices.

    Raises:
        ValueError: if a last dimension is not 2 (``focal``, ``principal_point``) or 1
            (``skew``), the batch dimensions do not broadcast, or a dtype is not floating.
    """
    with tf.name_scope(name):
        focal, principal_point, skew = shape.checked(
            focal=(focal, 2), principal_point=(principal_point, 2), skew=(skew, 1)
        )
        focal, principal_point, skew = shape.broadcast_batch(
            (focal, 1), (principal_point, 1), (skew, 1)
        )
        fx, fy = tf.unstack(focal, axis=-1)
        cx, cy = tf.unstack(principal_point, axis=-1)
        zero, one = tf.zeros_like(fx), tf.ones_like(fx)
        rows = [[fx, skew[..., 0], cx], [zero, fy, cy], [zero, zero, one]]
        return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def intrinsics_from_matrix(
    matrix: tf.Tensor,
    return_skew: bool = False,
    name: str = "perspective_intrinsics_from_matrix",
) -> tuple[tf.Tensor, ...]:
    """Reads focal lengths and principal points (and the skew, on request) off intrinsic matrices.

    `K[0, 0]`, `K[1, 1]`, `K[0, 2]` and `K[1, 2]` are read, and `K[0, 1]` with ``return_skew``.

    Args:
        matrix: `[A1, ..., An, 3, 3]` intrinsic matrices.
        return_skew: also return the skew, as TensorFlow Graphics' function always does.

    Returns:
        `(focal, principal_point)`, each `[A1, ..., An, 2]`; with ``return_skew``,
        `(focal, principal_point, skew)` with `skew` `[A1, ..., An, 1]`.

    Raises:
        ValueError: if the last two dimensions of `matrix` are not `(3, 3)`, or its dtype is
            not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        focal = tf.stack([matrix[..., 0, 0], matrix[..., 1, 1]], axis=-1)
        principal_point = tf.stack([matrix[..., 0, 2], matrix[..., 1, 2]], axis=-1)
        if return_skew:
            return focal, principal_point, matrix[..., 0, 1:2]
        return focal, principal_point
