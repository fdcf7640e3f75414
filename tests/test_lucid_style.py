"""Gram matrices and the Gram-matrix style loss of ``lucid.misc.style``."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.graphics.util.testing import assert_jacobian_matches
from course_lib.lucid.misc import style


def _numpy_gram(features):
    height, width = features.shape[-3:-1]
    return np.einsum("...ijc,...ijd->...cd", features, features) / (height * width)


def test_gram_matrix_matches_numpy_on_batches(rng):
    features = rng.normal(size=(2, 3, 5, 6, 4))
    for dtype in (np.float32, np.float64):
        got = style.gram_matrix(features.astype(dtype))
        assert got.dtype == dtype and got.shape == (2, 3, 4, 4)
        np.testing.assert_allclose(got, _numpy_gram(features), rtol=1e-5, atol=1e-6)
    plain = style.gram_matrix(features[0, 0], normalize=False)
    np.testing.assert_allclose(plain, 30 * _numpy_gram(features[0, 0]), rtol=1e-5)


def test_gram_matrix_is_symmetric_psd_and_ignores_where_features_are(rng):
    features = rng.normal(size=(7, 9, 5)).astype(np.float32)
    gram = style.gram_matrix(features).numpy()
    np.testing.assert_allclose(gram, gram.T, atol=1e-6)
    assert np.linalg.eigvalsh(gram.astype(np.float64)).min() > -1e-5
    shuffled = rng.permutation(features.reshape(-1, 5)).reshape(9, 7, 5)
    np.testing.assert_allclose(style.gram_matrix(shuffled), gram, rtol=1e-5, atol=1e-6)
    tiled = np.tile(features, (2, 3, 1))  # a larger image of the same texture: same statistics
    np.testing.assert_allclose(style.gram_matrix(tiled), gram, rtol=1e-5, atol=1e-6)


def test_gram_matrix_jacobian(rng):
    assert_jacobian_matches(style.gram_matrix, [rng.normal(size=(2, 3, 2))])


def _assert_mappings_pair_layers_by_name(loss, targets, activations, want, rtol):
    """Mappings in another key order, with weights 0.5 and 2.0, give the weighted ``want``."""
    by_name = loss(
        {"conv1": targets[0], "conv2": targets[1]},
        {"conv2": activations[1], "conv1": activations[0]},
        {"conv1": 0.5, "conv2": 2.0},
    )
    np.testing.assert_allclose(by_name, want, rtol=rtol)


def test_style_loss_matches_numpy_with_weights_and_mappings(rng):
    first = rng.normal(size=(3, 6, 6, 4))
    second = rng.normal(size=(3, 3, 3, 5))
    targets = [_numpy_gram(rng.normal(size=(8, 8, 4))), _numpy_gram(rng.normal(size=(4, 4, 5)))]
    weights = [0.5, 2.0]
    want = sum(
        w * np.mean((_numpy_gram(f) - t) ** 2, axis=(-2, -1)).mean()
        for f, t, w in zip((first, second), targets, weights, strict=True)
    )
    got = style.style_loss(targets, [first, second], weights)
    assert got.shape == ()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    _assert_mappings_pair_layers_by_name(style.style_loss, targets, [first, second], want, 1e-5)
    single = style.style_loss(targets[0], first)
    np.testing.assert_allclose(single, np.mean((_numpy_gram(first) - targets[0]) ** 2), rtol=1e-5)


def test_style_loss_is_zero_on_the_style_itself_and_has_gradients(rng):
    features = tf.constant(rng.normal(size=(1, 5, 5, 3)).astype(np.float32))
    target = style.gram_matrix(features[0])
    assert float(style.style_loss([target], [features])) == pytest.approx(0.0, abs=1e-10)
    moved = tf.Variable(features + 0.3)
    with tf.GradientTape() as tape:
        loss = style.style_loss([target], [moved])
    gradient = tape.gradient(loss, moved)
    assert float(loss) > 0 and np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0


def test_content_loss_matches_numpy_with_weights_mappings_and_broadcasting(rng):
    first, second = rng.normal(size=(3, 6, 6, 4)), rng.normal(size=(3, 3, 3, 5))
    targets = [rng.normal(size=(3, 6, 6, 4)), rng.normal(size=(3, 3, 3, 5))]
    want = 0.5 * np.mean((first - targets[0]) ** 2) + 2.0 * np.mean((second - targets[1]) ** 2)
    got = style.content_loss(targets, [first, second], [0.5, 2.0])
    assert got.shape == ()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    _assert_mappings_pair_layers_by_name(style.content_loss, targets, [first, second], want, 1e-6)
    one_target = targets[0][:1]  # one content image for a batch of three
    np.testing.assert_allclose(
        style.content_loss(one_target, first), np.mean((first - one_target) ** 2), rtol=1e-6
    )


def test_content_loss_is_zero_on_the_content_keeps_layout_and_has_gradients(rng):
    features = rng.normal(size=(1, 5, 5, 3)).astype(np.float32)
    assert float(style.content_loss([features], [features])) == 0.0
    # the style loss forgets where features are; the content loss does not
    shuffled = rng.permutation(features.reshape(-1, 3)).reshape(1, 5, 5, 3)
    assert float(style.content_loss([features], [shuffled])) > 0.1
    gram = style.gram_matrix(features[0])
    assert float(style.style_loss([gram], [shuffled])) == pytest.approx(0.0, abs=1e-10)
    moved = tf.Variable(features + 0.3)
    with tf.GradientTape() as tape:
        loss = style.content_loss([features], [moved])
    np.testing.assert_allclose(tape.gradient(loss, moved), 2 * 0.3 / features.size, rtol=1e-4)


def test_content_loss_jacobian(rng):
    target = rng.normal(size=(1, 2, 3, 2))
    assert_jacobian_matches(
        lambda features: style.content_loss(target, features), [rng.normal(size=(1, 2, 3, 2))]
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: style.gram_matrix(np.zeros([4, 3], np.float32)), "activations"),
        (lambda: style.gram_matrix(np.zeros([2, 4, 3], np.int32)), "activations"),
        (lambda: style.style_loss([np.eye(3)], []), "one activation tensor per"),
        (
            lambda: style.style_loss([np.eye(3)], [np.zeros([1, 2, 2, 4], np.float32)]),
            "4 channels",
        ),
        (lambda: style.style_loss({"a": np.eye(3)}, {"b": np.zeros([1, 2, 2, 3])}), "keys"),
        (lambda: style.style_loss([np.eye(3)], [np.zeros([1, 2, 2, 3])], [1.0, 2.0]), "weights"),
        (lambda: style.content_loss([], []), "one activation tensor per"),
        (
            lambda: style.content_loss([np.zeros([1, 2, 2, 3])], [np.zeros([1, 2, 2, 4])]),
            "broadcast",
        ),
        (lambda: style.content_loss({"a": np.zeros(3)}, {"b": np.zeros(3)}), "keys"),
        (lambda: style.content_loss([np.zeros(3)], [np.zeros(3, np.int32)]), "activations"),
        (lambda: style.content_loss([np.zeros(3)], [np.zeros(3)], {"a": 1.0}), "mapping"),
    ],
)
def test_bad_inputs_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
