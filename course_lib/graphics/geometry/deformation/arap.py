"""As-rigid-as-possible (ARAP) surface deformation (Sorkine & Alexa 2007).

A mesh at rest ``p`` `[V, 3]` is deformed to ``p'`` `[V, 3]`. Every vertex ``i`` carries a
rotation ``R_i`` that best maps its rest edges ``p_i - p_j`` onto the deformed ones, and the
energy sums what the rotations cannot explain:

    E = sum_i sum_{j in N(i)} w_ij ||(p'_i - p'_j) - R_i (p_i - p_j)||^2

with uniform weights (``w_ij = 1``) or cotangent weights (``w_ij = (cot a_ij + cot b_ij) / 2``,
the angles opposite edge ``ij`` in the rest mesh). :func:`fit_rotations` is the local step (an
SVD per vertex). :func:`deform` either alternates it with the global step, a sparse-in-spirit
but here dense linear solve for the free vertices with the handles held fixed, or descends the
energy's gradient in the free vertices, refitting the rotations before every step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.util import safe_ops, shape

WEIGHTS = ("uniform", "cotangent")
METHODS = ("alternating", "gradient_descent")
DEFAULT_ITERATIONS = {"alternating": 10, "gradient_descent": 300}


def _checked(rest: Any, triangles: Any) -> tuple[tf.Tensor, tf.Tensor]:
    (rest,) = shape.checked(rest=(rest, (None, 3)))
    if rest.shape.rank != 2:
        raise ValueError(f"rest must have shape [V, 3], got {tuple(rest.shape)}")
    return rest, mesh.check_triangles(triangles, rest.shape[0])


def edge_weights(
    rest: Any, triangles: Any, weights: str = "uniform"
) -> tuple[np.ndarray, tf.Tensor]:
    """The mesh's unique edges `[E, 2]` (NumPy, ``i < j``) and their weights `[E]`.

    Args:
        rest: float `[V, 3]` rest vertices (used by the cotangent weights).
        triangles: int `[F, 3]`.
        weights: ``"uniform"`` (all 1) or ``"cotangent"`` (half the sum of the cotangents of
            the angles opposite each edge; negative for very obtuse triangles; a zero-area
            triangle contributes 0).
    """
    rest, triangles = _checked(rest, triangles)
    checks.one_of("weights", weights, WEIGHTS)
    edges = mesh.edges(triangles)
    if weights == "uniform":
        return edges, tf.ones([edges.shape[0]], rest.dtype)
    tri = triangles.numpy()
    index = {(int(i), int(j)): e for e, (i, j) in enumerate(edges)}
    corners, segments = [], []
    for k in range(3):  # the corner k, opposite the edge (k+1, k+2)
        a, b, c = tri[:, k], tri[:, (k + 1) % 3], tri[:, (k + 2) % 3]
        corners.append(np.stack([a, b, c], axis=1))
        pairs = zip(np.minimum(b, c).tolist(), np.maximum(b, c).tolist(), strict=True)
        segments.append([index.get(pair, -1) for pair in pairs])  # -1: a repeated corner
    segments = np.concatenate(segments)
    corners = np.concatenate(corners)[segments >= 0]
    u = tf.gather(rest, corners[:, 1]) - tf.gather(rest, corners[:, 0])
    v = tf.gather(rest, corners[:, 2]) - tf.gather(rest, corners[:, 0])
    cross = safe_ops.norm(tf.linalg.cross(u, v), keepdims=False)
    # A zero-area triangle (sine below tol) adds nothing rather than a huge cotangent.
    tol = 1e-12 if rest.dtype == tf.float64 else 1e-6
    size = safe_ops.norm(u, keepdims=False) * safe_ops.norm(v, keepdims=False)
    flat = cross <= tol * size
    cot = tf.where(flat, 0.0, tf.reduce_sum(u * v, axis=-1) / tf.where(flat, 1.0, cross))
    segment_ids = segments[segments >= 0].astype(np.int32)
    return edges, tf.math.unsorted_segment_sum(0.5 * cot, segment_ids, edges.shape[0])


def closest_rotations(covariance: Any) -> tf.Tensor:
    """The rotation ``R`` maximizing ``trace(R S)`` for each covariance ``S`` `[..., 3, 3]`.

    With ``S = U diag(s) V^T``, ``R = V U^T``; when that is a reflection (det -1), the column
    of ``U`` with the smallest singular value changes sign, so ``R`` is always proper.
    """
    covariance = tf.convert_to_tensor(covariance)
    if (
        covariance.shape.rank is None
        or covariance.shape.rank < 2
        or covariance.shape[-2:] != (3, 3)
    ):
        raise ValueError(f"covariance must have shape [..., 3, 3], got {tuple(covariance.shape)}")
    _, u, v = tf.linalg.svd(covariance)
    sign = tf.sign(tf.linalg.det(tf.matmul(v, u, transpose_b=True)))
    sign = tf.where(sign == 0, tf.ones_like(sign), sign)
    ones = tf.ones_like(sign)
    fix = tf.stack([ones, ones, sign], axis=-1)
    return tf.matmul(v * fix[..., None, :], u, transpose_b=True)


def _directed(edges: np.ndarray, w: tf.Tensor) -> tuple[np.ndarray, np.ndarray, tf.Tensor]:
    return (
        np.concatenate([edges[:, 0], edges[:, 1]]),
        np.concatenate([edges[:, 1], edges[:, 0]]),
        tf.concat([w, w], axis=0),
    )


def _rotations(rest, deformed, i, j, w, num_vertices) -> tf.Tensor:
    e = tf.gather(rest, i) - tf.gather(rest, j)
    e_def = tf.gather(deformed, i) - tf.gather(deformed, j)
    outer = w[:, None, None] * e[:, :, None] * e_def[:, None, :]
    covariance = tf.math.unsorted_segment_sum(outer, i, num_vertices)
    return closest_rotations(covariance)


def fit_rotations(rest: Any, deformed: Any, triangles: Any, weights: str = "uniform") -> tf.Tensor:
    """The local step: the best rotation per vertex `[V, 3, 3]` (proper, det +1).

    ``S_i = sum_j w_ij (p_i - p_j)(p'_i - p'_j)^T`` and ``R_i`` is :func:`closest_rotations`.
    """
    rest, triangles = _checked(rest, triangles)
    (deformed,) = shape.checked(deformed=(deformed, tuple(rest.shape)))
    deformed = tf.cast(deformed, rest.dtype)
    i, j, w = _directed(*edge_weights(rest, triangles, weights))
    return _rotations(rest, deformed, i, j, w, rest.shape[0])


def arap_energy(rest: Any, deformed: Any, triangles: Any, weights: str = "uniform") -> tf.Tensor:
    """The ARAP energy, a scalar, differentiable in ``deformed``.

    The rotations are fitted to ``deformed`` and then held constant (``tf.stop_gradient``), as
    in the local/global method; since they minimize the energy, the gradient is nonetheless
    the energy's total derivative.

    Args:
        rest: float `[V, 3]`.
        deformed: float `[V, 3]`.
        triangles: int `[F, 3]`.
        weights: ``"uniform"`` or ``"cotangent"``.
    """
    rest, triangles = _checked(rest, triangles)
    (deformed,) = shape.checked(deformed=(deformed, tuple(rest.shape)))
    deformed = tf.cast(deformed, rest.dtype)
    i, j, w = _directed(*edge_weights(rest, triangles, weights))
    rotations = tf.stop_gradient(_rotations(rest, deformed, i, j, w, rest.shape[0]))
    return _energy(rest, deformed, i, j, w, rotations)


def _energy(rest, deformed, i, j, w, rotations) -> tf.Tensor:
    e = tf.gather(rest, i) - tf.gather(rest, j)
    e_def = tf.gather(deformed, i) - tf.gather(deformed, j)
    residual = e_def - tf.linalg.matvec(tf.gather(rotations, i), e)
    return tf.reduce_sum(w * tf.reduce_sum(residual**2, axis=-1))


def deform(
    rest: Any,
    triangles: Any,
    handle_indices: Any,
    handle_targets: Any,
    iterations: int | None = None,
    method: str = "alternating",
    weights: str = "uniform",
    learning_rate: float = 1.0,
) -> tf.Tensor:
    """Deforms ``rest`` `[V, 3]` so the handles reach their targets, as rigidly as possible.

    ``method="alternating"`` starts from the rest pose (rotations = identity) and alternates
    ``iterations`` times a global solve of ``L p'_free = b_free - L_free,handles targets``
    (``L`` the weighted graph Laplacian, ``b_i = sum_j w_ij (R_i + R_j)(p_i - p_j) / 2``),
    factorized once by Cholesky, with a local fit of the rotations.

    ``method="gradient_descent"`` starts from the naive pose (only the handles moved) and takes
    ``iterations`` Nesterov-accelerated gradient steps on :func:`arap_energy` with respect to
    the free vertices, refitting the rotations before each step. The step is
    ``learning_rate / (8 max_i sum_j |w_ij|)``: with the rotations fixed the energy is
    quadratic and that bound on its curvature (Gershgorin) keeps the steps stable at any mesh
    scale. Each step is one compiled ``tf.function`` call; no linear solve, so it scales to
    meshes where the dense factorization does not.

    In both methods the handles are hard constraints, met exactly.

    Args:
        rest: float `[V, 3]`.
        triangles: int `[F, 3]`.
        handle_indices: int `[H]`, distinct vertex indices, ``1 <= H < V``.
        handle_targets: float `[H, 3]`.
        iterations: local/global rounds or gradient steps (int >= 1); None for the method's
            default, :data:`DEFAULT_ITERATIONS` (10 rounds, 300 steps: on the 288-vertex torus
            of the tests both end within 1 % of the converged energy).
        method: ``"alternating"`` or ``"gradient_descent"``.
        weights: ``"uniform"`` or ``"cotangent"``.
        learning_rate: a positive factor on the gradient-descent step (at 1 the step is the
            inverse of the curvature bound, the safe choice; larger ones may diverge); unused
            by the alternating method.

    Returns:
        The deformed vertices `[V, 3]`, in ``rest``'s dtype.
    """
    rest, triangles = _checked(rest, triangles)
    checks.one_of("method", method, METHODS)
    if iterations is None:
        iterations = DEFAULT_ITERATIONS[method]
    iterations = checks.positive_int("iterations", iterations)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    num_vertices = rest.shape[0]
    handles = np.asarray(handle_indices)
    if handles.ndim != 1 or handles.dtype.kind not in "iu" or handles.size == 0:
        raise ValueError(f"handle_indices must be a non-empty int [H] array, got {handles!r}")
    if handles.min() < 0 or handles.max() >= num_vertices:
        raise ValueError(f"handle_indices must lie in [0, {num_vertices})")
    if np.unique(handles).size != handles.size or handles.size >= num_vertices:
        raise ValueError("handle_indices must be distinct and leave at least one free vertex")
    (targets,) = shape.checked(handle_targets=(handle_targets, (handles.size, 3)))
    if targets.shape.rank != 2:
        raise ValueError(f"handle_targets must have shape [H, 3], got {tuple(targets.shape)}")

    edges, w = edge_weights(rest, triangles, weights)
    p = tf.cast(rest, tf.float64)
    i, j, w2 = _directed(edges, tf.cast(w, tf.float64))
    free = np.setdiff1d(np.arange(num_vertices), handles)
    targets = tf.cast(targets, tf.float64)

    def assemble(free_positions: tf.Tensor) -> tf.Tensor:
        deformed = tf.scatter_nd(free[:, None], free_positions, [num_vertices, 3])
        return tf.tensor_scatter_nd_update(deformed, handles[:, None], targets)

    if method == "gradient_descent":
        deformed = _gradient_descent(p, i, j, w2, assemble, free, iterations, learning_rate)
    else:
        deformed = _alternating(p, i, j, w2, assemble, free, handles, targets, iterations)
    return tf.cast(deformed, rest.dtype)


def _alternating(p, i, j, w2, assemble, free, handles, targets, iterations) -> tf.Tensor:
    num_vertices = p.shape[0]
    laplacian = tf.math.unsorted_segment_sum(w2, i, num_vertices)
    laplacian = tf.linalg.diag(laplacian) - tf.scatter_nd(
        np.stack([i, j], axis=1), w2, [num_vertices, num_vertices]
    )
    lap_free = tf.gather(tf.gather(laplacian, free), free, axis=1)
    lap_handles = tf.gather(tf.gather(laplacian, free), handles, axis=1)
    chol = tf.linalg.cholesky(lap_free)
    known = tf.matmul(lap_handles, targets)
    e = tf.gather(p, i) - tf.gather(p, j)
    rotations = tf.eye(3, batch_shape=[num_vertices], dtype=tf.float64)
    deformed = p
    for _ in range(iterations):
        mixed = 0.5 * (tf.gather(rotations, i) + tf.gather(rotations, j))
        b = tf.math.unsorted_segment_sum(w2[:, None] * tf.linalg.matvec(mixed, e), i, num_vertices)
        deformed = assemble(tf.linalg.cholesky_solve(chol, tf.gather(b, free) - known))
        rotations = _rotations(p, deformed, i, j, w2, num_vertices)
    return deformed


def _gradient_descent(p, i, j, w2, assemble, free, iterations, rate) -> tf.Tensor:
    num_vertices = p.shape[0]
    curvature = 8.0 * tf.reduce_max(tf.math.unsorted_segment_sum(tf.abs(w2), i, num_vertices))
    step_size = rate / curvature
    x = tf.Variable(tf.gather(p, free))  # the free vertices; the handles sit at their targets
    previous = tf.Variable(x)
    count = tf.Variable(0.0, dtype=tf.float64)

    @tf.function
    def step() -> None:
        count.assign_add(1.0)
        y = x + (count - 1.0) / (count + 2.0) * (x - previous)  # Nesterov's look-ahead
        previous.assign(x)
        with tf.GradientTape() as tape:
            tape.watch(y)
            deformed = assemble(y)
            rotations = tf.stop_gradient(_rotations(p, deformed, i, j, w2, num_vertices))
            energy = _energy(p, deformed, i, j, w2, rotations)
        x.assign(y - step_size * tape.gradient(energy, y))

    for _ in range(iterations):
        step()
    return assemble(x)
