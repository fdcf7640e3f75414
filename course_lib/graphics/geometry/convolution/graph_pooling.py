"""Graph pooling and unpooling: coarsening a graph signal through a sparse pooling map.

A pooling map ``pool_map`` is a ``tf.sparse.SparseTensor`` `[A1, ..., An, V2, V1]`: its entry
``(k, j)`` puts fine vertex j (of V1) in the window of coarse vertex k (of V2), with a weight
used by weighted pooling. ``sizes`` `[A1, ..., An, 2]` gives the true counts of padded graphs:
``sizes[..., 0] <= V2`` coarse and ``sizes[..., 1] <= V1`` fine vertices (None: no padding).
Entries touching padded vertices are ignored and padded outputs are zero.

Argument meanings and shapes follow TensorFlow Graphics' ``geometry.convolution.graph_pooling``.
Unlike it, an empty pooling window gives zeros (not the dtype's lowest value for ``"max"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.convolution.graph_convolution import (
    check_data,
    flat_batch_index,
)


def _check_pool_map(pool_map: Any, data: tf.Tensor, data_axis: int) -> tf.sparse.SparseTensor:
    """``pool_map`` `[A1, ..., An, V2, V1]` checked against ``data``; ``data_axis``: -1 if
    ``data`` has V1 vertices (pooling), -2 if it has V2 (unpooling)."""
    if not isinstance(pool_map, tf.sparse.SparseTensor):
        raise ValueError(f"pool_map must be a tf.sparse.SparseTensor, got {type(pool_map)}")
    rank = data.shape.rank
    if pool_map.shape.rank is not None and pool_map.shape.rank != rank:
        raise ValueError(
            f"pool_map must have rank {rank} (shape [A1, ..., An, V2, V1] for data of shape "
            f"{tuple(data.shape)}), got rank {pool_map.shape.rank}"
        )
    if not pool_map.dtype.is_floating and not pool_map.dtype.is_integer:
        raise ValueError(f"pool_map must hold numeric weights, got {pool_map.dtype.name}")
    dense_shape = tf.get_static_value(pool_map.dense_shape)
    if dense_shape is not None:
        expected = list(data.shape[:-2]) + [None, None]
        expected[data_axis] = data.shape[-2]
        if any(e is not None and int(d) != e for d, e in zip(dense_shape, expected, strict=True)):
            axis = "V1" if data_axis == -1 else "V2"
            raise ValueError(
                f"pool_map must have shape [A1, ..., An, V2, V1] with data's batch shape and "
                f"{axis} = {data.shape[-2]} (data {tuple(data.shape)}), "
                f"got {tuple(int(d) for d in dense_shape)}"
            )
        indices = tf.get_static_value(pool_map.indices)
        if indices is not None and indices.size:
            bound = np.asarray(dense_shape, dtype=np.int64)
            if indices.min() < 0 or np.any(indices.max(axis=0) >= bound):
                raise ValueError(
                    f"pool_map indices out of range: each must lie in [0, {tuple(bound)}), got "
                    f"minimum {indices.min(axis=0).tolist()}, "
                    f"maximum {indices.max(axis=0).tolist()}"
                )
    return tf.sparse.SparseTensor(
        pool_map.indices, tf.cast(pool_map.values, data.dtype), pool_map.dense_shape
    )


def _check_sizes(sizes: Any, data: tf.Tensor, pool_map: tf.sparse.SparseTensor) -> Any:
    if sizes is None:
        return None
    batch = tuple(data.shape[:-2])
    sizes_tensor = tf.convert_to_tensor(sizes)
    if not sizes_tensor.dtype.is_integer:
        raise ValueError(f"sizes must be an integer tensor, got {sizes_tensor.dtype.name}")
    if tuple(sizes_tensor.shape) != batch + (2,):
        raise ValueError(
            f"sizes must have shape {batch + (2,)} (data's batch shape, then 2), "
            f"got {tuple(sizes_tensor.shape)}"
        )
    value = tf.get_static_value(sizes_tensor)
    dense_shape = tf.get_static_value(pool_map.dense_shape)
    if value is not None and dense_shape is not None and value.size:
        bounds = np.asarray(dense_shape[-2:])
        if value.min() < 0 or np.any(value.reshape(-1, 2).max(axis=0) > bounds):
            raise ValueError(
                f"sizes must lie in [0, (V2, V1) = {tuple(bounds.tolist())}], got {value.tolist()}"
            )
    return tf.cast(sizes_tensor, tf.int64)


def _flat_entries(
    pool_map: tf.sparse.SparseTensor, sizes: tf.Tensor | None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(rows [E], cols [E], weights [E], valid_coarse [B*V2, 1], valid_fine [B*V1, 1],
    batch_shape)``: entries indexing the flattened batch, padded ones dropped."""
    indices = pool_map.indices
    dense_shape = tf.cast(pool_map.dense_shape, tf.int64)
    batch_shape, v2, v1 = dense_shape[:-2], dense_shape[-2], dense_shape[-1]
    batch_rank = indices.shape[-1] - 2
    batch_index = flat_batch_index(indices, batch_shape)
    k, j = indices[:, batch_rank], indices[:, batch_rank + 1]
    rows, cols, weights = batch_index * v2 + k, batch_index * v1 + j, pool_map.values
    num_batch = tf.reduce_prod(batch_shape)
    coarse = tf.range(num_batch * v2) % v2
    fine = tf.range(num_batch * v1) % v1
    if sizes is None:
        valid_coarse = tf.ones_like(coarse, dtype=tf.bool)
        valid_fine = tf.ones_like(fine, dtype=tf.bool)
    else:
        flat_sizes = tf.reshape(sizes, [-1, 2])
        entry_sizes = tf.gather(flat_sizes, batch_index)
        keep = (k < entry_sizes[:, 0]) & (j < entry_sizes[:, 1])
        rows, cols, weights = (tf.boolean_mask(t, keep) for t in (rows, cols, weights))
        valid_coarse = coarse < tf.repeat(flat_sizes[:, 0], v2)
        valid_fine = fine < tf.repeat(flat_sizes[:, 1], v1)
    return rows, cols, weights, valid_coarse[:, None], valid_fine[:, None], batch_shape


def _static(data: tf.Tensor, pool_map: tf.sparse.SparseTensor, axis: int) -> list:
    """The output's static shape: data's batch, pool_map's V2 (-2) or V1 (-1), data's C."""
    dense_shape = tf.get_static_value(pool_map.dense_shape)
    vertices = None if dense_shape is None else int(dense_shape[axis])
    return list(data.shape[:-2]) + [vertices, data.shape[-1]]


def _reshape(flat: tf.Tensor, valid: tf.Tensor, batch_shape: tf.Tensor, static: list) -> tf.Tensor:
    flat = tf.where(valid, flat, tf.zeros_like(flat))
    out = tf.reshape(flat, tf.concat([batch_shape, [-1, tf.shape(flat, tf.int64)[-1]]], 0))
    return tf.ensure_shape(out, static)


def pool(
    data: Any,
    pool_map: tf.sparse.SparseTensor,
    sizes: Any,
    algorithm: str = "max",
    name: str = "graph_pooling_pool",
) -> tf.Tensor:
    """Pools vertex features over the windows of ``pool_map``.

    ``"max"``: ``y_k = max_{j : (k, j) in pool_map} x_j`` channel-wise (the map's values are
    ignored); ``"weighted"``: ``y_k = sum_j pool_map[k, j] x_j``.

    Args:
        data: `[A1, ..., An, V1, C]` features of the fine graph.
        pool_map: a SparseTensor `[A1, ..., An, V2, V1]`.
        sizes: `[A1, ..., An, 2]` int true (V2, V1) counts of padded graphs, or None.
        algorithm: ``"max"`` or ``"weighted"``.

    Returns:
        `[A1, ..., An, V2, C]` features of the coarse graph; zero on padded and empty windows.

    Raises:
        ValueError: naming the argument, for a bad shape, dtype or algorithm, or indices out
            of range.
    """
    checks.one_of("algorithm", algorithm, ("max", "weighted"))
    with tf.name_scope(name):
        data = check_data(data)
        pool_map = _check_pool_map(pool_map, data, -1)
        sizes = _check_sizes(sizes, data, pool_map)
        rows, cols, weights, valid, _, batch_shape = _flat_entries(pool_map, sizes)
        x = tf.reshape(data, [-1, data.shape[-1]])
        num_coarse = tf.shape(valid, tf.int64)[0]
        neighbours = tf.gather(x, cols)
        if algorithm == "weighted":
            out = tf.math.unsorted_segment_sum(neighbours * weights[:, None], rows, num_coarse)
        else:
            out = tf.math.unsorted_segment_max(neighbours, rows, num_coarse)
            counts = tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, num_coarse)
            out = tf.where(counts[:, None] > 0, out, tf.zeros_like(out))
        return _reshape(out, valid, batch_shape, _static(data, pool_map, -2))


def unpool(
    data: Any,
    pool_map: tf.sparse.SparseTensor,
    sizes: Any,
    name: str = "graph_pooling_unpool",
) -> tf.Tensor:
    """Upsamples coarse features by applying ``pool_map`` in reverse.

    ``x_j = sum_{k : (k, j) in pool_map} y_k`` (the map's values are ignored): with the map and
    sizes used by :func:`pool`, each fine vertex gets the features of the windows it belongs
    to (a copy of its one window's, for a partition).

    Args:
        data: `[A1, ..., An, V2, C]` features of the coarse graph.
        pool_map: a SparseTensor `[A1, ..., An, V2, V1]`, as given to :func:`pool`.
        sizes: `[A1, ..., An, 2]` int true (V2, V1) counts of padded graphs, or None.

    Returns:
        `[A1, ..., An, V1, C]` features of the fine graph; zero on padded vertices.

    Raises:
        ValueError: naming the argument, for a bad shape or dtype, or indices out of range.
    """
    with tf.name_scope(name):
        data = check_data(data)
        pool_map = _check_pool_map(pool_map, data, -2)
        sizes = _check_sizes(sizes, data, pool_map)
        rows, cols, _, _, valid, batch_shape = _flat_entries(pool_map, sizes)
        y = tf.reshape(data, [-1, data.shape[-1]])
        out = tf.math.unsorted_segment_sum(tf.gather(y, rows), cols, tf.shape(valid, tf.int64)[0])
        return _reshape(out, valid, batch_shape, _static(data, pool_map, -1))
