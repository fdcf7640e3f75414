"""Triangle meshes: face normals, area-weighted vertex normals and the edge list.

A mesh is ``vertices`` `[A1, ..., An, V, 3]` (a batch of meshes that share one connectivity)
and ``triangles`` `[F, 3]` integer vertex indices. A triangle ``(a, b, c)`` whose vertices run
counter-clockwise when seen from outside has the outward normal ``(b - a) x (c - a)`` (in a
right-handed frame, such as the camera frame x right, y down, z forward).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.util import safe_ops, shape


def check_triangles(triangles: Any, num_vertices: int | None = None) -> tf.Tensor:
    """``triangles`` as an int32 `[F, 3]` tensor; ``ValueError`` naming it when it is not one.

    Indices must lie in ``[0, num_vertices)``: checked at once when their values are known
    (eagerly, or constants in a graph), otherwise by assertions that raise TensorFlow's
    ``InvalidArgumentError`` when the graph runs.
    """
    if isinstance(triangles, (tf.Tensor, tf.Variable, np.ndarray)):
        dtype = tf.as_dtype(triangles.dtype)
        if not dtype.is_integer:
            raise ValueError(f"triangles must be an integer tensor, got {dtype.name}")
        triangles = tf.convert_to_tensor(triangles)
    else:
        array = np.asarray(triangles)
        if array.size == 0:
            array = array.astype(np.int32).reshape(-1, 3)
        if array.dtype.kind not in "iu":
            raise ValueError(f"triangles must be integer indices, got {array.dtype} values")
        triangles = tf.convert_to_tensor(array)
    if triangles.shape.rank != 2 or triangles.shape[-1] not in (3, None):
        raise ValueError(f"triangles must have shape [F, 3], got {tuple(triangles.shape)}")
    triangles = tf.cast(triangles, tf.int32)
    value = tf.get_static_value(triangles)
    if value is not None and value.size:
        if num_vertices is not None and (value.min() < 0 or value.max() >= num_vertices):
            raise ValueError(
                f"triangles index vertices out of range: indices must lie in [0, {num_vertices})"
                f", got [{value.min()}, {value.max()}]"
            )
    elif value is None:
        triangles = tf.ensure_shape(triangles, [None, 3])
        checks = [tf.debugging.assert_non_negative(triangles, message="triangles out of range")]
        if num_vertices is not None:
            checks.append(
                tf.debugging.assert_less(triangles, num_vertices, message="triangles out of range")
            )
        with tf.control_dependencies(checks):
            triangles = tf.identity(triangles)
    return triangles


def _checked_mesh(vertices: Any, triangles: Any) -> tuple[tf.Tensor, tf.Tensor]:
    (vertices,) = shape.checked(vertices=(vertices, (None, 3)))
    triangles = check_triangles(triangles, vertices.shape[-2])
    return vertices, triangles


def face_normals(
    vertices: Any, triangles: Any, normalize: bool = True, name: str = "mesh_face_normals"
) -> tf.Tensor:
    """The normal of every triangle, ``(b - a) x (c - a)``.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions.
        triangles: `[F, 3]` integer vertex indices.
        normalize: if True, unit normals (zero for a zero-area triangle); if False, the raw cross
            products, whose length is twice the triangle's area.

    Returns:
        `[A1, ..., An, F, 3]` face normals.

    Raises:
        ValueError: if ``vertices`` does not end in ``[V, 3]`` or is not floating, or
            ``triangles`` is not an integer `[F, 3]` tensor of indices in ``[0, V)``.
    """
    with tf.name_scope(name):
        vertices, triangles = _checked_mesh(vertices, triangles)
        corners = tf.gather(vertices, triangles, axis=-2)  # [..., F, 3, 3]
        a, b, c = corners[..., 0, :], corners[..., 1, :], corners[..., 2, :]
        normal = tf.linalg.cross(b - a, c - a)
        return safe_ops.normalize(normal) if normalize else normal


def vertex_normals(vertices: Any, triangles: Any, name: str = "mesh_vertex_normals") -> tf.Tensor:
    """Area-weighted vertex normals: the normalized sum of the adjacent faces' cross products.

    Each triangle contributes ``(b - a) x (c - a)`` (twice its area times its unit normal) to
    its three vertices, so large faces weigh more than slivers. A vertex that no triangle uses,
    or whose contributions cancel, gets the zero vector (never NaN).

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions.
        triangles: `[F, 3]` integer vertex indices.

    Returns:
        `[A1, ..., An, V, 3]` unit vertex normals.

    Raises:
        ValueError: if ``vertices`` does not end in ``[V, 3]`` or is not floating, or
            ``triangles`` is not an integer `[F, 3]` tensor of indices in ``[0, V)``.
    """
    with tf.name_scope(name):
        vertices, triangles = _checked_mesh(vertices, triangles)
        weighted = face_normals(vertices, triangles, normalize=False)  # [..., F, 3]
        batch = tf.shape(vertices)[:-2]
        num_vertices = tf.shape(vertices)[-2]
        # Put faces first so that one segment sum scatters them onto the vertices.
        flat = tf.reshape(weighted, [-1, tf.shape(weighted)[-2], 3])  # [B, F, 3]
        per_corner = tf.tile(tf.transpose(flat, [1, 0, 2]), [3, 1, 1])  # [3F, B, 3]
        ids = tf.reshape(tf.transpose(triangles), [-1])  # corner k of every face, then k + 1
        summed = tf.math.unsorted_segment_sum(per_corner, ids, num_vertices)  # [V, B, 3]
        summed = tf.reshape(
            tf.transpose(summed, [1, 0, 2]), tf.concat([batch, [num_vertices, 3]], 0)
        )
        return safe_ops.normalize(summed)


def edges(triangles: Any) -> np.ndarray:
    """The unique undirected edges of a mesh, sorted, as an int32 NumPy array `[E, 2]`.

    Each edge ``(i, j)`` has ``i < j``. Useful for smoothness terms (differences of a quantity
    along every edge) and for wire-frame plots.

    Raises:
        ValueError: if ``triangles`` is not an integer `[F, 3]` array.
    """
    triangles = check_triangles(triangles).numpy()
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0).astype(np.int32).reshape(-1, 2)
