"""course_lib.lsm.gru: the 3D convolutional GRU against a NumPy step, its gates, fuse_views."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.graphics.util import testing
from course_lib.lsm import gru
from course_lib.lsm.gru import ConvGRU3D, fuse_views


def _conv3d_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Cross-correlation `[B, R1, R2, R3, Cin]` * `[k, k, k, Cin, Cout]`, zero padding "same"."""
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, [(0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)])
    _, r1, r2, r3, _ = x.shape
    out = np.zeros((*x.shape[:4], kernel.shape[-1])) + bias
    for a in range(k):
        for b in range(k):
            for c in range(k):
                window = padded[:, a : a + r1, b : b + r2, c : c + r3]
                out += np.einsum("...i,io->...o", window, kernel[a, b, c])
    return out


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_step(cell: ConvGRU3D, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GRU step and its candidate by hand, from the cell's weights."""

    def conv(layer, value):
        return _conv3d_same(value, layer.kernel.numpy(), layer.bias.numpy())

    joint = np.concatenate([x, h], axis=-1)
    z = _sigmoid(conv(cell.update_gate, joint))
    r = _sigmoid(conv(cell.reset_gate, joint))
    candidate = np.tanh(conv(cell.candidate, np.concatenate([x, r * h], axis=-1)))
    return (1 - z) * h + z * candidate, candidate


def _cell(filters=3, kernel_size=3, dtype="float32", seed=0) -> ConvGRU3D:
    cell = ConvGRU3D(
        filters,
        kernel_size,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.3, seed=seed),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed + 1),
        dtype=dtype,
    )
    return cell


def _data(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_step_matches_numpy(kernel_size):
    cell = _cell(kernel_size=kernel_size)
    x, h = _data((2, 4, 3, 5, 2), 1), _data((2, 4, 3, 5, 3), 2)
    out = cell(x, h)
    assert out.shape == (2, 4, 3, 5, 3) and out.dtype == tf.float32
    want, _ = _np_step(cell, x.astype(np.float64), h.astype(np.float64))
    np.testing.assert_allclose(out, want, atol=1e-5)
    assert len(cell.trainable_weights) == 6


def test_zero_update_gate_keeps_the_state():
    cell = _cell()
    x, h = _data((1, 4, 4, 4, 2), 3), _data((1, 4, 4, 4, 3), 4)
    cell(x, h)  # build
    cell.update_gate.kernel.assign(tf.zeros_like(cell.update_gate.kernel))
    cell.update_gate.bias.assign(tf.fill([3], -1e4))  # z = sigmoid(-1e4) = 0 exactly
    np.testing.assert_array_equal(cell(x, h), h)
    np.testing.assert_array_equal(cell(10 * x, h), h)


def test_update_gate_one_takes_the_candidate():
    cell = _cell()
    x, h = _data((1, 3, 4, 5, 2), 5), _data((1, 3, 4, 5, 3), 6)
    cell(x, h)
    cell.update_gate.kernel.assign(tf.zeros_like(cell.update_gate.kernel))
    cell.update_gate.bias.assign(tf.fill([3], 1e4))  # z = 1
    _, candidate = _np_step(cell, x.astype(np.float64), h.astype(np.float64))
    np.testing.assert_allclose(cell(x, h), candidate, atol=1e-5)
    assert not np.allclose(candidate, h, atol=0.1)


def test_missing_state_is_zero():
    cell = _cell()
    x = _data((2, 3, 3, 3, 2), 7)
    zeros = np.zeros((2, 3, 3, 3, 3), np.float32)
    np.testing.assert_array_equal(cell(x), cell(x, zeros))
    np.testing.assert_array_equal(cell.initial_state(x), zeros)
    assert cell.compute_output_shape((None, 3, 3, 3, 2)) == (None, 3, 3, 3, 3)


def test_get_config_round_trip():
    cell = _cell(filters=4, kernel_size=3)
    x, h = _data((1, 3, 3, 3, 2), 8), _data((1, 3, 3, 3, 4), 9)
    out = cell(x, h)
    config = cell.get_config()
    clone = ConvGRU3D.from_config(config)
    assert clone.get_config() == config
    clone(x, h)
    clone.set_weights(cell.get_weights())
    np.testing.assert_array_equal(clone(x, h), out)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert isinstance(revived, ConvGRU3D) and revived.filters == 4 and revived.kernel_size == 3


# Keras' own saving of any model warns so under NumPy 2 (tf variables' __array__ lacks copy=)
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_in_a_functional_model_saved_and_loaded(tmp_path):
    x, h = keras.Input((3, 3, 3, 2)), keras.Input((3, 3, 3, 4))
    model = keras.Model([x, h], _cell(filters=4)(x, h))
    assert model.output_shape == (None, 3, 3, 3, 4)
    inputs = [_data((2, 3, 3, 3, 2), 14), _data((2, 3, 3, 3, 4), 15)]
    path = tmp_path / "gru.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(inputs), model(inputs))


def test_gradients_match_finite_differences_in_float64():
    cell = _cell(filters=2, dtype="float64")
    x, h = _data((1, 3, 3, 2, 2), 10, np.float64), _data((1, 3, 3, 2, 2), 11, np.float64)
    cell(x, h)
    assert cell.candidate.kernel.dtype == "float64"
    testing.assert_jacobian_matches(lambda x, h: cell(x, h), [x, h], atol=1e-6, rtol=1e-5)


def test_gradients_finite_when_saturated():
    cell = _cell(filters=2)
    x, h = 1e3 * _data((1, 2, 2, 2, 2), 12), 1e3 * _data((1, 2, 2, 2, 2), 13)
    testing.assert_gradient_finite(lambda x, h: cell(x, h), x, h)
    grads = cell_weight_gradients(cell, x, h)
    assert all(np.all(np.isfinite(g)) for g in grads)


def cell_weight_gradients(cell, x, h):
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(cell(x, h))
    return [g.numpy() for g in tape.gradient(total, cell.trainable_weights)]


# --- fuse_views -------------------------------------------------------------------------------


@pytest.mark.parametrize("views", [1, 2, 3, 4])
def test_fuse_views_runs_the_views_in_order(views):
    cell = _cell()
    grids = _data((2, views, 3, 3, 3, 2), 20 + views)
    final, states = fuse_views(cell, grids, return_sequences=True)
    assert final.shape == (2, 3, 3, 3, 3) and states.shape == (2, views, 3, 3, 3, 3)
    h = np.zeros((2, 3, 3, 3, 3))
    for v in range(views):
        h, _ = _np_step(cell, grids[:, v].astype(np.float64), h)
        np.testing.assert_allclose(states[:, v], h, atol=1e-5)
    np.testing.assert_allclose(final, h, atol=1e-5)
    np.testing.assert_array_equal(fuse_views(cell, grids), final)


def test_fuse_views_with_an_initial_state_and_an_unknown_view_count():
    cell = _cell()
    grids = _data((1, 3, 3, 3, 3, 2), 30)
    start = _data((1, 3, 3, 3, 3), 31)
    want = cell(grids[:, 2], cell(grids[:, 1], cell(grids[:, 0], start)))
    np.testing.assert_allclose(fuse_views(cell, grids, start), want, atol=1e-6)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, 3, 3, 3, 2]),
            tf.TensorSpec([None, 3, 3, 3, 3]),
        ]
    )
    def compiled(grids, start):
        return fuse_views(cell, grids, start, return_sequences=True)

    final, states = compiled(grids, start)
    np.testing.assert_allclose(final, want, atol=1e-6)
    assert states.shape == (1, 3, 3, 3, 3, 3)
    one_final, one_states = compiled(grids[:, :1], start)
    np.testing.assert_allclose(one_final, cell(grids[:, 0], start), atol=1e-6)
    assert one_states.shape == (1, 1, 3, 3, 3, 3)


def test_fuse_views_gradient_reaches_every_view():
    cell = _cell()
    grids = tf.constant(_data((1, 3, 3, 3, 3, 2), 32))
    with tf.GradientTape() as tape:
        tape.watch(grids)
        total = tf.reduce_sum(fuse_views(cell, grids))
    grad = tape.gradient(total, grids).numpy()
    assert np.all(np.isfinite(grad))
    assert all(np.abs(grad[:, v]).sum() > 0 for v in range(3))

    @tf.function(input_signature=[tf.TensorSpec([1, None, 3, 3, 3, 2])])
    def compiled(grids):  # V unknown: the while-loop branch
        with tf.GradientTape() as tape:
            tape.watch(grids)
            total = tf.reduce_sum(fuse_views(cell, grids))
        return tape.gradient(total, grids)

    np.testing.assert_allclose(compiled(grids), grad, atol=1e-5)


# --- argument checks --------------------------------------------------------------------------


def test_bad_arguments_raise_naming_them():
    cell = _cell()
    x = _data((1, 3, 3, 3, 2), 40)
    with pytest.raises(ValueError, match="inputs"):
        cell(x[0], None)
    with pytest.raises(ValueError, match="state"):
        cell(x, np.zeros((1, 3, 3, 3, 5), np.float32))
    with pytest.raises(ValueError, match="state"):
        cell(x, np.zeros((1, 3, 3, 2, 3), np.float32))
    with pytest.raises(ValueError, match="grids"):
        fuse_views(cell, x)
    with pytest.raises(ValueError, match="grids"):
        fuse_views(cell, np.zeros((1, 0, 3, 3, 3, 2), np.float32))
    with pytest.raises(ValueError, match="initial_state"):
        fuse_views(cell, x[:, None], np.zeros((1, 3, 3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="initial_state"):
        fuse_views(cell, x[:, None], np.zeros((3, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="filters"):
        ConvGRU3D(0)
    with pytest.raises(ValueError, match="kernel_size"):
        ConvGRU3D(2, kernel_size=0)
    assert gru.fuse_views is fuse_views
