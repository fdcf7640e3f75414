"""InstanceNormalization against NumPy, Keras' GroupNormalization and finite differences."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.gan.layers import EPSILON, InstanceNormalization
from course_lib.graphics.util.testing import assert_jacobian_matches


def _numpy_instance_norm(x, scale, offset, epsilon=EPSILON):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    return scale * (x - mean) / np.sqrt(variance + epsilon) + offset


def test_matches_numpy_with_learnt_scale_and_offset(rng):
    x = rng.normal(2.0, 3.0, size=(3, 5, 7, 4)).astype(np.float32)
    layer = InstanceNormalization()
    layer.build(x.shape)
    scale, offset = rng.normal(1.0, 0.5, size=4), rng.normal(0.0, 0.5, size=4)
    layer.set_weights([scale.astype(np.float32), offset.astype(np.float32)])
    np.testing.assert_allclose(layer(x), _numpy_instance_norm(x, scale, offset), atol=2e-5)


def test_equals_group_normalization_with_one_group_per_channel(rng):
    x = rng.normal(-1.0, 2.0, size=(2, 6, 6, 5)).astype(np.float32)
    ours = InstanceNormalization(scale_initializer="ones")
    keras_group = keras.layers.GroupNormalization(groups=-1, epsilon=EPSILON)
    np.testing.assert_allclose(ours(x), keras_group(x), atol=1e-5)
    np.testing.assert_allclose(ours(x), _numpy_instance_norm(x, 1.0, 0.0), atol=1e-5)


def test_images_of_a_batch_do_not_mix(rng):
    x = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    layer = InstanceNormalization()
    changed = x.copy()
    changed[1] = 100.0 * changed[1] + 7.0
    np.testing.assert_allclose(layer(x)[0], layer(changed)[0], atol=1e-6)


def test_gradient_matches_finite_differences(rng):
    x = rng.normal(size=(2, 3, 3, 2))
    scale, offset = rng.normal(1.0, 0.3, size=2), rng.normal(size=2)

    def normalize(images, scale, offset):
        layer = InstanceNormalization(dtype="float64")
        layer.build(images.shape)
        layer.scale.assign(scale)
        layer.offset.assign(offset)
        return layer(images)

    assert_jacobian_matches(normalize, [x, scale, offset], wrt=[0])


def test_config_round_trip_gives_the_same_layer(rng):
    x = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    layer = InstanceNormalization(epsilon=1e-3, name="norm")
    expected = layer(x)
    clone = InstanceNormalization.from_config(layer.get_config())
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    assert clone.epsilon == 1e-3 and clone.name == "norm"
    np.testing.assert_allclose(clone(x), expected, atol=1e-7)


def test_bad_arguments_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="epsilon"):
        InstanceNormalization(epsilon=0.0)
    with pytest.raises(ValueError, match="inputs"):
        InstanceNormalization()(tf.zeros([2, 3]))
