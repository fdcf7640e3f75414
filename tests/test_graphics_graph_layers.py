"""Graph-convolution layers (function and Keras layer) and graph pooling/unpooling."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.graphics.geometry.convolution import graph_convolution as gc
from course_lib.graphics.geometry.convolution import graph_pooling as gp
from course_lib.graphics.nn.layer import graph_convolution as layers
from course_lib.graphics.util.testing import assert_jacobian_matches


def _ring(num_vertices: int, batch: int = 0) -> tf.sparse.SparseTensor:
    """A cycle with self loops, rows normalized (1/3 each); batched if ``batch``."""
    rows = np.repeat(np.arange(num_vertices), 3)
    cols = (rows + np.tile([-1, 0, 1], num_vertices)) % num_vertices
    indices = np.stack([rows, cols], 1)
    shape = (num_vertices, num_vertices)
    if batch:
        indices = np.concatenate(
            [np.concatenate([np.full((len(rows), 1), b), indices], 1) for b in range(batch)]
        )
        shape = (batch,) + shape
    values = np.full(len(indices), 1 / 3, np.float32)
    return tf.sparse.reorder(tf.sparse.SparseTensor(indices.astype(np.int64), values, shape))


class _Recording:
    """An initializer that draws normal values and remembers them in call order."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.values: list[np.ndarray] = []

    def __call__(self, shape, dtype=None):
        value = self.rng.normal(size=shape).astype(np.float32)
        self.values.append(value)
        return tf.constant(value)


@pytest.mark.parametrize("translation_invariant", [True, False])
def test_function_layer_matches_op_with_its_variables(rng, translation_invariant):
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    neighbors = _ring(6, batch=2)
    init = _Recording(0)
    got = layers.feature_steered_convolution_layer(
        x, neighbors, None, translation_invariant, 4, 5, initializer=init
    )
    assert got.shape == (2, 6, 5)
    if translation_invariant:
        u, c, w, b = init.values
        v = -u
    else:
        u, v, c, w, b = init.values
        assert not np.allclose(u, v)
    want = gc.feature_steered_convolution(x, neighbors, None, u, v, c, w, b)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert [value.shape for value in init.values][-2:] == [(4, 3, 5), (5,)]


def test_function_layer_default_output_channels_and_checks(rng):
    x = rng.normal(size=(6, 3)).astype(np.float32)
    assert layers.feature_steered_convolution_layer(x, _ring(6), None).shape == (6, 3)
    # As on the course's slide: sizes defaults to None.
    assert layers.feature_steered_convolution_layer(x, _ring(6)).shape == (6, 3)
    with pytest.raises(ValueError, match="num_weight_matrices"):
        layers.feature_steered_convolution_layer(x, _ring(6), None, num_weight_matrices=0)
    with pytest.raises(ValueError, match="neighbors"):
        layers.feature_steered_convolution_layer(x, _ring(5), None)


def test_keras_layer_matches_op_and_ties_v_to_u(rng):
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    neighbors = _ring(6, batch=2)
    sizes = np.array([6, 4], np.int32)
    layer = layers.FeatureSteeredConvolutionKerasLayer(num_weight_matrices=4, num_output_channels=2)
    got = layer([x, neighbors], sizes=sizes)
    assert got.shape == (2, 6, 2)
    assert [w.path.split("/")[-1] for w in layer.weights] == ["u", "c", "w", "b"]
    u, c, w, b = (np.asarray(weight) for weight in layer.weights)
    want = gc.feature_steered_convolution(x, neighbors, sizes, u, -u, c, w, b)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(got[1, 4:], 0.0)


def test_keras_layer_variant_has_independent_v(rng):
    x = rng.normal(size=(6, 3)).astype(np.float32)
    layer = layers.FeatureSteeredConvolutionKerasLayer(translation_invariant=False)
    got = layer([x, _ring(6)])
    u, v, c, w, b = (np.asarray(weight) for weight in layer.weights)
    assert u.shape == v.shape == (3, 8) and not np.allclose(u, v)
    want = gc.feature_steered_convolution(x, _ring(6), None, u, v, c, w, b)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_keras_layer_config_round_trip(rng):
    layer = layers.FeatureSteeredConvolutionKerasLayer(
        translation_invariant=False,
        num_weight_matrices=3,
        num_output_channels=7,
        initializer=keras.initializers.RandomUniform(-0.2, 0.2, seed=3),
        name="feast",
    )
    clone = layers.FeatureSteeredConvolutionKerasLayer.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.name == "feast" and clone.num_output_channels == 7
    x = rng.normal(size=(6, 2)).astype(np.float32)
    # Same seeded initializer, same weights, same output.
    np.testing.assert_allclose(layer([x, _ring(6)]), clone([x, _ring(6)]), rtol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, layers.FeatureSteeredConvolutionKerasLayer)
    with pytest.raises(ValueError, match="num_weight_matrices"):
        layers.FeatureSteeredConvolutionKerasLayer(num_weight_matrices=0)


def test_keras_layer_trains(rng):
    """A few Adam steps lower a regression loss on a tiny ring graph."""
    keras.utils.set_random_seed(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    target = np.roll(x[:, :2], 1, axis=0)  # each vertex predicts a neighbour's features
    neighbors = _ring(8)
    layer = layers.FeatureSteeredConvolutionKerasLayer(num_weight_matrices=4, num_output_channels=2)
    optimizer = keras.optimizers.Adam(0.05)

    def loss() -> tf.Tensor:
        return tf.reduce_mean((layer([x, neighbors]) - target) ** 2)

    before = float(loss())
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, layer.trainable_variables)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, layer.trainable_variables, strict=True))
    assert float(loss()) < 0.5 * before


def test_keras_layer_rejects_bad_inputs(rng):
    layer = layers.FeatureSteeredConvolutionKerasLayer()
    x = rng.normal(size=(6, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="inputs"):
        layer(x)
    with pytest.raises(ValueError, match="neighbors"):
        layers.FeatureSteeredConvolutionKerasLayer()([x, _ring(4)])


# --- pooling ---------------------------------------------------------------------------------


def _pool_map(rng, v2, v1, batch=(), dtype=np.float64):
    """Each fine vertex in one or two random windows, positive weights; plus dense copy."""
    dense = np.zeros(batch + (v2, v1))
    for index in np.ndindex(*batch):
        for j in range(v1):
            for k in rng.choice(v2, size=rng.integers(1, 3), replace=False):
                dense[index + (k, j)] = rng.uniform(0.2, 1.0)
    indices = np.argwhere(dense != 0)
    sparse = tf.sparse.SparseTensor(
        indices.astype(np.int64), dense[dense != 0].astype(dtype), dense.shape
    )
    return sparse, dense


def _pool_reference(x, dense, algorithm, sizes=None):
    """NumPy loops over batch, coarse and fine vertices."""
    batch = dense.shape[:-2]
    v2, v1 = dense.shape[-2:]
    out = np.zeros(batch + (v2, x.shape[-1]))
    for index in np.ndindex(*batch):
        n2, n1 = (v2, v1) if sizes is None else sizes[index]
        for k in range(n2):
            members = [j for j in range(n1) if dense[index + (k, j)] != 0]
            if not members:
                continue
            if algorithm == "max":
                out[index + (k,)] = np.max([x[index + (j,)] for j in members], axis=0)
            else:
                out[index + (k,)] = sum(dense[index + (k, j)] * x[index + (j,)] for j in members)
    return out


def _unpool_reference(y, dense, sizes=None):
    batch = dense.shape[:-2]
    v2, v1 = dense.shape[-2:]
    out = np.zeros(batch + (v1, y.shape[-1]))
    for index in np.ndindex(*batch):
        n2, n1 = (v2, v1) if sizes is None else sizes[index]
        for j in range(n1):
            for k in range(n2):
                if dense[index + (k, j)] != 0:
                    out[index + (j,)] += y[index + (k,)]
    return out


@pytest.mark.parametrize("algorithm", ["max", "weighted"])
@pytest.mark.parametrize("batch", [(), (2, 3)])
def test_pool_matches_numpy_loop(rng, algorithm, batch):
    pool_map, dense = _pool_map(rng, 4, 9, batch)
    x = rng.normal(size=batch + (9, 3))
    got = gp.pool(x, pool_map, None, algorithm)
    assert got.shape == batch + (4, 3)
    np.testing.assert_allclose(got, _pool_reference(x, dense, algorithm), rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["max", "weighted"])
def test_pool_and_unpool_with_padding(rng, algorithm):
    pool_map, dense = _pool_map(rng, 4, 9, (3,))
    sizes = np.array([[4, 9], [3, 6], [2, 5]], np.int32)
    x = rng.normal(size=(3, 9, 2))
    got = gp.pool(x, pool_map, sizes, algorithm)
    np.testing.assert_allclose(got, _pool_reference(x, dense, algorithm, sizes), rtol=1e-12)
    y = rng.normal(size=(3, 4, 2))
    got = gp.unpool(y, pool_map, sizes)
    np.testing.assert_allclose(got, _unpool_reference(y, dense, sizes), rtol=1e-12)
    np.testing.assert_array_equal(got[2, 5:], 0.0)


def test_unpool_matches_numpy_loop_and_copies_a_partition(rng):
    pool_map, dense = _pool_map(rng, 5, 11, (2,))
    y = rng.normal(size=(2, 5, 4))
    got = gp.unpool(y, pool_map, None)
    assert got.shape == (2, 11, 4)
    np.testing.assert_allclose(got, _unpool_reference(y, dense), rtol=1e-12)
    # A partition (each fine vertex in one window): unpooling copies its window's features.
    cluster = np.array([0, 0, 1, 2, 2, 2, 1])
    partition = tf.sparse.SparseTensor(
        np.stack([cluster, np.arange(7)], 1).astype(np.int64), np.ones(7), (3, 7)
    )
    y = rng.normal(size=(3, 2))
    np.testing.assert_allclose(gp.unpool(y, tf.sparse.reorder(partition), None), y[cluster])


def test_empty_window_gives_zeros(rng):
    pool_map = tf.sparse.SparseTensor([[0, 0], [0, 1]], [1.0, 1.0], (2, 3))
    x = -np.abs(rng.normal(size=(3, 2))).astype(np.float32)
    out = gp.pool(x, pool_map, None, "max")
    np.testing.assert_allclose(out, [x[:2].max(0), [0.0, 0.0]])


def test_pool_and_unpool_jacobians(rng):
    pool_map, _ = _pool_map(rng, 3, 6, (2,))
    x = rng.normal(size=(2, 6, 2))
    for algorithm in ("max", "weighted"):
        assert_jacobian_matches(lambda d, a=algorithm: gp.pool(d, pool_map, None, a), [x])
    y = rng.normal(size=(2, 3, 2))
    assert_jacobian_matches(lambda d: gp.unpool(d, pool_map, None), [y])


def test_pool_inside_tf_function(rng):
    pool_map, dense = _pool_map(rng, 4, 9, (2,))
    x = rng.normal(size=(2, 9, 3))
    got = tf.function(lambda d: gp.pool(d, pool_map, None, "weighted"))(x)
    np.testing.assert_allclose(got, _pool_reference(x, dense, "weighted"), rtol=1e-12)


def test_pool_and_unpool_reject_bad_arguments(rng):
    pool_map, _ = _pool_map(rng, 4, 9, (2,))
    x = rng.normal(size=(2, 9, 3))
    with pytest.raises(ValueError, match="algorithm"):
        gp.pool(x, pool_map, None, "mean")
    with pytest.raises(ValueError, match="pool_map"):
        gp.pool(x, tf.sparse.to_dense(pool_map), None)
    with pytest.raises(ValueError, match="pool_map"):
        gp.pool(x[:, :8], pool_map, None)
    with pytest.raises(ValueError, match="pool_map"):
        gp.pool(x[0], pool_map, None)
    with pytest.raises(ValueError, match="pool_map"):
        gp.unpool(x, pool_map, None)
    with pytest.raises(ValueError, match="data"):
        gp.pool(np.zeros(9), pool_map, None)
    with pytest.raises(ValueError, match="data"):
        gp.pool(np.zeros((2, 9, 3), np.int32), pool_map, None)
    with pytest.raises(ValueError, match="sizes"):
        gp.pool(x, pool_map, np.array([4, 9]))
    with pytest.raises(ValueError, match="sizes"):
        gp.pool(x, pool_map, np.array([[4, 9], [5, 9]]))
    with pytest.raises(ValueError, match="sizes"):
        gp.pool(x, pool_map, np.array([[4.0, 9.0], [4.0, 9.0]]))
    out_of_range = tf.sparse.SparseTensor([[0, 0, 9]], [1.0], (2, 4, 9))
    with pytest.raises(ValueError, match="pool_map indices out of range"):
        gp.pool(x, out_of_range, None)
