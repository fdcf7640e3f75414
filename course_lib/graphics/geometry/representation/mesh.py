"""Triangle meshes: normals, the edge list, surface samples and the Chamfer distance.

A mesh is ``vertices`` `[A1, ..., An, V, 3]` (a batch of meshes that share one connectivity)
and ``triangles`` `[F, 3]` integer vertex indices. A triangle ``(a, b, c)`` whose vertices run
counter-clockwise when seen from outside has the outward normal ``(b - a) x (c - a)`` (in a
right-handed frame, such as the camera frame x right, y down, z forward).

To compare a mesh with a shape: :func:`sample_points` draws points uniformly by area on the
mesh, :func:`sample_ellipsoid` on an ellipsoid from its closed form, and
:func:`chamfer_distance` measures the mean nearest-neighbour distance between two point sets.
:func:`adjacency` gives the row-normalized vertex adjacency that graph convolutions take.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
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

    Each edge ``(i, j)`` has ``i < j`` (a triangle's repeated corner gives none). Useful for
    smoothness terms (differences of a quantity along every edge) and for wire-frame plots.

    Raises:
        ValueError: if ``triangles`` is not an integer `[F, 3]` array.
    """
    triangles = check_triangles(triangles).numpy()
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]  # a repeated corner is no edge
    return np.unique(pairs, axis=0).astype(np.int32).reshape(-1, 2)


def _check_num_points(num_points: object) -> None:
    """ValueError unless ``num_points`` is a positive int (NumPy ints too, bools not)."""
    if not checks.is_int(num_points) or num_points < 1:
        raise ValueError(f"num_points must be a positive int, got {num_points!r}")


def sample_points(
    vertices: Any,
    triangles: Any,
    num_points: int,
    seed: int = 0,
    name: str = "mesh_sample_points",
) -> tf.Tensor:
    """Points drawn uniformly by area on a mesh's surface, differentiable in the vertices.

    A triangle is chosen with probability proportional to its area, then a point inside it with
    the barycentrics ``(1 - s, s (1 - v), s v)``, ``s = sqrt(u)``, ``u, v`` uniform in [0, 1),
    which is uniform over the triangle. The choices are stateless (the same ``seed`` gives the
    same triangles and barycentrics); the points move with the vertices, so gradients flow to them.

    Args:
        vertices: `[A1, ..., An, V, 3]` vertex positions (each mesh of a batch is sampled
            by its own areas).
        triangles: `[F, 3]` integer vertex indices.
        num_points: N, the number of points per mesh (a positive int).
        seed: an int seeding the choices.

    Returns:
        `[A1, ..., An, N, 3]` points on the surface.

    Raises:
        ValueError: if ``vertices`` does not end in ``[V, 3]``, ``triangles`` is not an integer
            `[F, 3]` tensor of indices in ``[0, V)`` or is empty, or ``num_points`` is not a
            positive int.
        TypeError: if ``seed`` is not an int.
    """
    _check_num_points(num_points)
    checks.integer("seed", seed)
    with tf.name_scope(name):
        vertices, triangles = _checked_mesh(vertices, triangles)
        if triangles.shape[0] == 0:
            raise ValueError("triangles must hold at least one triangle to sample from")
        corners = tf.gather(vertices, triangles, axis=-2)  # [..., F, 3, 3]
        batch = tf.shape(corners)[:-3]
        flat = tf.reshape(corners, tf.concat([[-1], tf.shape(corners)[-3:]], 0))  # [B, F, 3, 3]
        doubled_area = tf.norm(
            tf.linalg.cross(flat[..., 1, :] - flat[..., 0, :], flat[..., 2, :] - flat[..., 0, :]),
            axis=-1,
        )
        logits = tf.math.log(tf.stop_gradient(tf.cast(doubled_area, tf.float64)))  # [B, F]
        seeds = tf.constant([[int(seed), 0], [int(seed), 1]], tf.int64)
        face = tf.random.stateless_categorical(logits, num_points, seed=seeds[0])  # [B, N]
        uv = tf.random.stateless_uniform(
            tf.concat([tf.shape(face), [2]], 0), seed=seeds[1], dtype=vertices.dtype
        )
        s, v = tf.sqrt(uv[..., 0:1]), uv[..., 1:2]
        weights = tf.concat([1.0 - s, s * (1.0 - v), s * v], -1)  # [B, N, 3]
        chosen = tf.gather(flat, face, axis=1, batch_dims=1)  # [B, N, 3, 3]
        points = tf.reduce_sum(weights[..., None] * chosen, axis=-2)
        return tf.reshape(points, tf.concat([batch, [num_points, 3]], 0))


def sample_ellipsoid(semi_axes: Any, num_points: int, seed: int = 0) -> np.ndarray:
    """Points drawn uniformly by area on the ellipsoid ``(x/a)^2 + (y/b)^2 + (z/c)^2 = 1``.

    Exact, from the closed form (no mesh): a direction ``u`` uniform on the unit sphere maps to
    ``p = (a u_x, b u_y, c u_z)``, and the map stretches the area around ``u`` by
    ``a b c |(u_x / a, u_y / b, u_z / c)|``; accepting ``p`` with probability proportional to
    that factor (rejection sampling) makes the accepted points uniform over the surface.

    Args:
        semi_axes: the three positive semi-axes ``(a, b, c)``.
        num_points: N, the number of points (a positive int).
        seed: seeds a NumPy generator.

    Returns:
        A float32 NumPy array `[N, 3]` of points, centred at the origin.

    Raises:
        ValueError: if ``semi_axes`` is not three positive finite numbers or ``num_points`` is
            not a positive int.
    """
    axes = np.asarray(semi_axes, dtype=np.float64)
    if axes.shape != (3,) or not np.all(np.isfinite(axes)) or np.any(axes <= 0):
        raise ValueError(f"semi_axes must be three positive numbers, got {semi_axes!r}")
    _check_num_points(num_points)
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    count = 0
    while count < num_points:
        u = rng.normal(size=(2 * num_points, 3))
        u /= np.linalg.norm(u, axis=-1, keepdims=True)
        stretch = np.linalg.norm(u / axes, axis=-1) * axes.min()  # in (0, 1], 1 at its largest
        accepted = u[rng.uniform(size=len(u)) < stretch] * axes
        kept.append(accepted)
        count += len(accepted)
    return np.concatenate(kept)[:num_points].astype(np.float32)


def chamfer_distance(
    points_a: Any, points_b: Any, name: str = "mesh_chamfer_distance"
) -> tf.Tensor:
    """The symmetric Chamfer distance between two point sets, in units of length.

    ``0.5 * (mean_a min_b |a - b| + mean_b min_a |a - b|)``: the mean distance from a point of
    either set to the nearest point of the other, halves averaged (not squared). For points
    sampled densely on two surfaces it approximates their mean surface-to-surface distance;
    two samples of the same surface give a small positive value that shrinks with density.
    The nearest neighbours are found by brute force (memory `N x M` per batch element); the
    distances are then measured exactly and are differentiable in both sets.

    Args:
        points_a: `[A1, ..., An, N, 3]` points.
        points_b: `[A1, ..., An, M, 3]` points (batch dimensions broadcast with ``points_a``).

    Returns:
        `[A1, ..., An]` distances.

    Raises:
        ValueError: if a set does not end in ``[?, 3]`` or is empty, or the batch dimensions do
            not broadcast.
    """
    with tf.name_scope(name):
        points_a, points_b = shape.checked(
            points_a=(points_a, (None, 3)), points_b=(points_b, (None, 3))
        )
        for label, points in (("points_a", points_a), ("points_b", points_b)):
            if points.shape[-2] == 0:
                raise ValueError(f"{label} must hold at least one point, got shape {points.shape}")
        batch = tf.broadcast_dynamic_shape(tf.shape(points_a)[:-2], tf.shape(points_b)[:-2])
        points_a = tf.broadcast_to(points_a, tf.concat([batch, tf.shape(points_a)[-2:]], 0))
        points_b = tf.broadcast_to(points_b, tf.concat([batch, tf.shape(points_b)[-2:]], 0))

        def nearest_distance(source: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
            # Squared distances |s|^2 - 2 s.t + |t|^2 pick the neighbour; centring both sets on
            # a shared point first keeps the expansion accurate far from the origin.
            centre = tf.stop_gradient(tf.reduce_mean(target, axis=-2, keepdims=True))
            s, t = tf.stop_gradient(source - centre), tf.stop_gradient(target - centre)
            squared = (
                tf.reduce_sum(s * s, -1)[..., :, None]
                - 2.0 * tf.linalg.matmul(s, t, transpose_b=True)
                + tf.reduce_sum(t * t, -1)[..., None, :]
            )
            index = tf.argmin(squared, axis=-1, output_type=tf.int32)  # [..., N]
            nearest = tf.gather(target, index, axis=-2, batch_dims=len(target.shape) - 2)
            return tf.reduce_mean(safe_ops.norm(source - nearest, keepdims=False), axis=-1)

        return 0.5 * (nearest_distance(points_a, points_b) + nearest_distance(points_b, points_a))


def adjacency(
    triangles: Any,
    num_vertices: int,
    self_loops: bool = False,
    dtype: tf.DType = tf.float32,
) -> tf.sparse.SparseTensor:
    """The mesh's vertex adjacency as a row-normalized SparseTensor `[V, V]`.

    Entry ``(i, j)`` is ``1 / deg(i)`` when ``i`` and ``j`` share an edge (or ``i == j`` with
    ``self_loops``), ``deg(i)`` counting the entries of row ``i``: each row of a vertex that
    has any neighbour sums to 1 (TensorFlow Graphics' degree-based edge weights). A vertex that
    no triangle uses has an empty row (a single 1 on the diagonal with ``self_loops``). The
    indices are in row-major order; pass it as ``neighbors`` to
    :mod:`course_lib.graphics.geometry.convolution.graph_convolution`.

    Args:
        triangles: `[F, 3]` integer vertex indices.
        num_vertices: V, the number of vertices (a positive int).
        self_loops: whether each vertex is its own neighbour (FeaStNet's choice).
        dtype: the floating dtype of the weights.

    Raises:
        ValueError: if ``triangles`` is not an integer `[F, 3]` tensor of indices in
            ``[0, num_vertices)``, or ``num_vertices`` is not a positive int.
    """
    if not checks.is_int(num_vertices) or num_vertices < 1:
        raise ValueError(f"num_vertices must be a positive int, got {num_vertices!r}")
    checks.boolean("self_loops", self_loops)
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating dtype, got {dtype.name}")
    unique = edges(check_triangles(triangles, num_vertices))
    pairs = [unique, unique[:, ::-1]]
    if self_loops:
        pairs.append(np.repeat(np.arange(num_vertices, dtype=np.int32)[:, None], 2, axis=1))
    indices = np.concatenate(pairs).astype(np.int64).reshape(-1, 2)
    indices = indices[np.lexsort((indices[:, 1], indices[:, 0]))]
    degree = np.bincount(indices[:, 0], minlength=num_vertices)
    values = 1.0 / degree[indices[:, 0]]
    return tf.sparse.SparseTensor(
        indices, tf.constant(values, dtype=dtype), [num_vertices, num_vertices]
    )
