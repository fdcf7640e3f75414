"""Instance normalization, the normalization of CycleGAN's generators and discriminators.

For a batch ``x`` of shape ``[B, H, W, C]``, every image and channel is normalized over its own
pixels, then scaled and shifted by learnt per-channel ``scale`` and ``offset``::

    y[b, i, j, c] = scale[c] * (x[b, i, j, c] - mean[b, c]) / sqrt(var[b, c] + epsilon) + offset[c]

with ``mean`` and ``var`` taken over ``i, j``. Unlike batch normalization it behaves the same in
training and inference and does not mix the images of a batch (CycleGAN trains at batch 1).

``keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)`` computes the same thing (one
group per channel; its outputs agree with :class:`InstanceNormalization`'s and with a NumPy
reference to about 1e-6, see tests/test_gan_layers.py). The course keeps this small layer
anyway: one ``tf.nn.moments`` instead of a reshape into groups, and the TensorFlow tutorial's
initialization of ``scale`` (normal, mean 1, standard deviation 0.02) by default.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib import checks

#: The tutorial's epsilon (Keras' normalization layers default to 1e-3).
EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="course_lib")
class InstanceNormalization(keras.layers.Layer):
    """Normalizes each image's channels over their pixels; ``[B, H, W, C]`` in and out.

    Args:
        epsilon: added to the variance, > 0.
        scale_initializer: initializer of ``scale`` ``[C]`` (default: normal, mean 1, std 0.02).
        offset_initializer: initializer of ``offset`` ``[C]`` (default: zeros).
    """

    def __init__(
        self,
        epsilon: float = EPSILON,
        scale_initializer: str | keras.initializers.Initializer | None = None,
        offset_initializer: str | keras.initializers.Initializer = "zeros",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.epsilon = checks.positive_float("epsilon", epsilon)
        if scale_initializer is None:
            scale_initializer = keras.initializers.RandomNormal(mean=1.0, stddev=0.02)
        self.scale_initializer = keras.initializers.get(scale_initializer)
        self.offset_initializer = keras.initializers.get(offset_initializer)

    def build(self, input_shape) -> None:
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"inputs must be [B, H, W, C] with a known C, got shape {tuple(input_shape)}"
            )
        channels = int(input_shape[-1])
        self.scale = self.add_weight(
            name="scale", shape=(channels,), initializer=self.scale_initializer
        )
        self.offset = self.add_weight(
            name="offset", shape=(channels,), initializer=self.offset_initializer
        )

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, variance = tf.nn.moments(inputs, axes=[1, 2], keepdims=True)
        normalized = (inputs - mean) * tf.math.rsqrt(variance + self.epsilon)
        return self.scale * normalized + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            epsilon=self.epsilon,
            scale_initializer=keras.initializers.serialize(self.scale_initializer),
            offset_initializer=keras.initializers.serialize(self.offset_initializer),
        )
        return config
