"""Graph convolutions on meshes: FeaStNet's feature-steered convolution and edge convolutions.

A graph signal is ``data`` `[A1, ..., An, V, C]` (C channels on each of V vertices) and its
neighbourhoods a ``tf.sparse.SparseTensor`` ``neighbors`` `[A1, ..., An, V, V]` whose entry
``(i, j)`` is the weight ``w_ij`` of vertex j in vertex i's neighbourhood (for example
:func:`course_lib.graphics.geometry.representation.mesh.adjacency`, rows normalized, with self
loops). ``sizes`` `[A1, ..., An]` gives the true vertex count of each padded graph of a batch
(None: no padding); padded vertices get zero outputs and their edges are ignored.

Argument meanings and shapes follow TensorFlow Graphics' ``geometry.convolution``. Unlike it,
a vertex with an empty neighbourhood is allowed: it aggregates nothing (the convolution gives
just the bias, the edge template zero) instead of NaN or the dtype's lowest value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.util import shape


def check_data(data: Any) -> tf.Tensor:
    """``data`` `[A1, ..., An, V, C]` as a float tensor with static ``V`` and ``C``."""
    data = shape.to_float("data", data, tf.as_dtype(getattr(data, "dtype", tf.float32)))
    if data.shape.rank is None or data.shape.rank < 2:
        raise ValueError(f"data must have shape [A1, ..., An, V, C], got {tuple(data.shape)}")
    if data.shape[-1] is None or data.shape[-2] is None:
        raise ValueError(f"data must have static V and C dimensions, got {tuple(data.shape)}")
    return data


def _check_neighbors(neighbors: Any, data: tf.Tensor) -> tf.sparse.SparseTensor:
    """``neighbors`` checked against ``data``'s shape and cast to its dtype."""
    if not isinstance(neighbors, tf.sparse.SparseTensor):
        raise ValueError(f"neighbors must be a tf.sparse.SparseTensor, got {type(neighbors)}")
    expected = tuple(data.shape[:-1]) + (data.shape[-2],)
    rank = neighbors.shape.rank
    if rank is not None and rank != len(expected):
        raise ValueError(
            f"neighbors must have rank {len(expected)} (shape [A1, ..., An, V, V] for data of "
            f"shape {tuple(data.shape)}), got rank {rank}"
        )
    dense_shape = tf.get_static_value(neighbors.dense_shape)
    if dense_shape is not None and any(
        e is not None and int(d) != e for d, e in zip(dense_shape, expected, strict=True)
    ):
        raise ValueError(
            f"neighbors must have shape {expected} to match data {tuple(data.shape)}, "
            f"got {tuple(int(d) for d in dense_shape)}"
        )
    if not neighbors.dtype.is_floating and not neighbors.dtype.is_integer:
        raise ValueError(f"neighbors must hold numeric weights, got {neighbors.dtype.name}")
    indices = tf.get_static_value(neighbors.indices)
    if indices is not None and None not in expected:
        bound = np.asarray(expected, dtype=np.int64)
        if indices.size and (indices.min() < 0 or np.any(indices.max(axis=0) >= bound)):
            raise ValueError(
                f"neighbors indices out of range: each must lie in [0, {expected}), "
                f"got minimum {indices.min(axis=0).tolist()}, "
                f"maximum {indices.max(axis=0).tolist()}"
            )
        checked_indices = neighbors.indices
    else:
        asserts = [
            tf.debugging.assert_non_negative(neighbors.indices, message="neighbors out of range"),
            tf.debugging.assert_less(
                neighbors.indices,
                tf.concat([tf.shape(data, out_type=tf.int64)[:-1], [data.shape[-2]]], 0)[None],
                message="neighbors out of range",
            ),
        ]
        with tf.control_dependencies(asserts):
            checked_indices = tf.identity(neighbors.indices)
    return tf.sparse.SparseTensor(
        checked_indices, tf.cast(neighbors.values, data.dtype), neighbors.dense_shape
    )


def _check_sizes(sizes: Any, data: tf.Tensor) -> tf.Tensor | None:
    if sizes is None:
        return None
    batch = tuple(data.shape[:-2])
    sizes_tensor = tf.convert_to_tensor(sizes)
    if not sizes_tensor.dtype.is_integer:
        raise ValueError(f"sizes must be an integer tensor, got {sizes_tensor.dtype.name}")
    if tuple(sizes_tensor.shape) != batch:
        raise ValueError(
            f"sizes must have data's batch shape {batch}, got {tuple(sizes_tensor.shape)}"
        )
    value = tf.get_static_value(sizes_tensor)
    num_vertices = data.shape[-2]
    if value is not None and value.size and (value.min() < 0 or value.max() > num_vertices):
        raise ValueError(f"sizes must lie in [0, {num_vertices}], got {value.tolist()}")
    return tf.cast(sizes_tensor, tf.int64)


def _edges(
    data: tf.Tensor, neighbors: tf.sparse.SparseTensor, sizes: tf.Tensor | None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Flattens the batch: ``(x [N, C], rows [E], cols [E], weights [E], valid [N, 1])``.

    ``N = B * V`` with ``B`` the product of the batch dimensions; ``rows`` and ``cols`` index
    ``x``; edges touching padded vertices are dropped and ``valid`` marks the real vertices.
    """
    num_vertices, channels = data.shape[-2], data.shape[-1]
    x = tf.reshape(data, [-1, channels])
    indices = neighbors.indices  # [E, n + 2]
    batch_rank = data.shape.rank - 2
    batch_shape = tf.shape(data, out_type=tf.int64)[:-2]
    # Row-major linear index of each edge's batch element.
    batch_index = flat_batch_index(indices, batch_shape)
    i, j = indices[:, batch_rank], indices[:, batch_rank + 1]
    rows, cols = batch_index * num_vertices + i, batch_index * num_vertices + j
    weights = neighbors.values
    vertex = tf.range(tf.shape(x, out_type=tf.int64)[0]) % num_vertices
    if sizes is None:
        valid = tf.ones_like(vertex, dtype=tf.bool)
    else:
        flat_sizes = tf.reshape(sizes, [-1])
        size_of_edge = tf.gather(flat_sizes, batch_index)
        keep = (i < size_of_edge) & (j < size_of_edge)
        rows, cols, weights = (tf.boolean_mask(t, keep) for t in (rows, cols, weights))
        valid = vertex < tf.repeat(flat_sizes, num_vertices)
    return x, rows, cols, weights, valid[:, None]


def flat_batch_index(indices: tf.Tensor, batch_shape: tf.Tensor) -> tf.Tensor:
    """Row-major index ``[E]`` of each sparse entry's batch element.

    Args:
        indices: ``[E, n + 2]`` int64 indices of a ``[A1, ..., An, ., .]`` SparseTensor.
        batch_shape: ``[n]`` int64, ``(A1, ..., An)``.
    """
    strides = tf.math.cumprod(batch_shape, exclusive=True, reverse=True)
    return tf.reduce_sum(indices[:, : indices.shape[-1] - 2] * strides[None], axis=1)


def _unflatten(flat: tf.Tensor, data: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    flat = tf.where(valid, flat, tf.zeros_like(flat))
    return tf.reshape(flat, tf.concat([tf.shape(data)[:-1], tf.shape(flat)[-1:]], 0))


def feature_steered_convolution(
    data: Any,
    neighbors: tf.sparse.SparseTensor,
    sizes: Any,
    var_u: Any,
    var_v: Any,
    var_c: Any,
    var_w: Any,
    var_b: Any,
    name: str = "graph_convolution_feature_steered_convolution",
) -> tf.Tensor:
    """FeaStNet's feature-steered graph convolution (Verma, Boyer and Verbeek, CVPR 2018).

    ``y_i = b + sum_{j in N(i)} w_ij sum_m q_m(x_i, x_j) W_m x_j`` with the soft assignment
    ``q_m(x_i, x_j) = softmax_m(u_m . x_i + v_m . x_j + c_m)``: the general form that TensorFlow
    Graphics documents and implements. The paper's translation-invariant form
    ``softmax_m(v_m . (x_j - x_i) + c_m)`` is the case ``var_u = -var_v`` (the assignments then
    ignore a shift of all features).

    Args:
        data: `[A1, ..., An, V, C]` vertex features.
        neighbors: a SparseTensor `[A1, ..., An, V, V]`, entry ``(i, j)`` the weight ``w_ij``.
        sizes: `[A1, ..., An]` int true vertex counts of padded graphs, or None.
        var_u: `[C, W]` (column m is ``u_m``).
        var_v: `[C, W]`.
        var_c: `[W]`.
        var_w: `[W, C, D]` (``W_m`` maps C channels to D).
        var_b: `[D]`.

    Returns:
        `[A1, ..., An, V, D]` features; zero on padded vertices, ``b`` on isolated ones.

    Raises:
        ValueError: naming the argument, for a bad shape or dtype, or indices out of range.
    """
    with tf.name_scope(name):
        data = check_data(data)
        neighbors = _check_neighbors(neighbors, data)
        sizes = _check_sizes(sizes, data)
        channels = data.shape[-1]
        var_u = shape.to_float("var_u", var_u, data.dtype)
        num_matrices = var_u.shape[-1] if var_u.shape.rank == 2 else None
        if var_u.shape.rank != 2 or var_u.shape[0] != channels:
            raise ValueError(f"var_u must have shape [C={channels}, W], got {tuple(var_u.shape)}")
        var_v = shape.to_float("var_v", var_v, data.dtype)
        if tuple(var_v.shape) != (channels, num_matrices):
            raise ValueError(
                f"var_v must have shape {(channels, num_matrices)}, got {tuple(var_v.shape)}"
            )
        var_c = shape.to_float("var_c", var_c, data.dtype)
        if tuple(var_c.shape) != (num_matrices,):
            raise ValueError(f"var_c must have shape ({num_matrices},), got {tuple(var_c.shape)}")
        var_w = shape.to_float("var_w", var_w, data.dtype)
        if var_w.shape.rank != 3 or tuple(var_w.shape[:2]) != (num_matrices, channels):
            raise ValueError(
                f"var_w must have shape [W={num_matrices}, C={channels}, D], "
                f"got {tuple(var_w.shape)}"
            )
        var_b = shape.to_float("var_b", var_b, data.dtype)
        if tuple(var_b.shape) != (var_w.shape[-1],):
            raise ValueError(f"var_b must have shape ({var_w.shape[-1]},), got {var_b.shape}")

        x, rows, cols, weights, valid = _edges(data, neighbors, sizes)
        num_nodes = tf.shape(x)[0]
        logits = tf.gather(x @ var_u, rows) + tf.gather(x @ var_v, cols) + var_c  # [E, W]
        q = tf.nn.softmax(logits, axis=-1) * weights[:, None]
        # Aggregate the neighbours per weight matrix first: [N, W, C], then apply the W_m.
        per_matrix = tf.math.unsorted_segment_sum(
            q[:, :, None] * tf.gather(x, cols)[:, None, :], rows, num_nodes
        )
        out = tf.einsum("nwc,wcd->nd", per_matrix, var_w) + var_b
        return _unflatten(out, data, valid)


def edge_convolution_template(
    data: Any,
    neighbors: tf.sparse.SparseTensor,
    sizes: Any,
    edge_function: Callable[..., tf.Tensor],
    reduction: str,
    edge_function_kwargs: dict[str, Any] | None,
    name: str = "graph_convolution_edge_convolution_template",
) -> tf.Tensor:
    """A convolution defined by a function of every edge's two endpoint features.

    ``"weighted"``: ``y_i = sum_{j in N(i)} w_ij f(x_i, x_j)``; ``"max"``:
    ``y_i = max_{j in N(i)} f(x_i, x_j)`` (channel-wise; the weights are ignored). A vertex with
    no neighbours gets zeros.

    Args:
        data: `[A1, ..., An, V, C]` vertex features.
        neighbors: a SparseTensor `[A1, ..., An, V, V]`, entry ``(i, j)`` the weight ``w_ij``.
        sizes: `[A1, ..., An]` int true vertex counts of padded graphs, or None.
        edge_function: ``f(vertex_features, neighbor_features, **edge_function_kwargs)``, both
            `[E, C]`, returning `[E, D]`.
        reduction: ``"weighted"`` or ``"max"``.
        edge_function_kwargs: extra keyword arguments for ``edge_function`` (or None).

    Returns:
        `[A1, ..., An, V, D]` features; zero on padded vertices.

    Raises:
        ValueError: naming the argument, for a bad shape, dtype or reduction, indices out of
            range, or an edge function that does not return `[E, D]`.
    """
    checks.one_of("reduction", reduction, ("weighted", "max"))
    if not callable(edge_function):
        raise ValueError(f"edge_function must be callable, got {type(edge_function)}")
    with tf.name_scope(name):
        data = check_data(data)
        neighbors = _check_neighbors(neighbors, data)
        sizes = _check_sizes(sizes, data)
        x, rows, cols, weights, valid = _edges(data, neighbors, sizes)
        features = edge_function(
            tf.gather(x, rows), tf.gather(x, cols), **(edge_function_kwargs or {})
        )
        features = tf.convert_to_tensor(features)
        if features.shape.rank != 2:
            raise ValueError(
                f"edge_function must return [E, D] features, got {tuple(features.shape)}"
            )
        num_nodes = tf.shape(x)[0]
        if reduction == "weighted":
            out = tf.math.unsorted_segment_sum(
                features * tf.cast(weights, features.dtype)[:, None], rows, num_nodes
            )
        else:
            out = tf.math.unsorted_segment_max(features, rows, num_nodes)
            has_edge = tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, num_nodes) > 0
            out = tf.where(has_edge[:, None], out, tf.zeros_like(out))
        return _unflatten(out, data, valid)
