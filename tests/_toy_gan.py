"""A 2-D GAN for testing ``gan.training`` (imported by tests/test_gan_training.py)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from course_lib import gan


class ToyGAN(gan.GANTrainer):
    # A 2-D GAN: the generator moves Gaussian noise onto the data's mean.

    def build(self):
        self.models = {
            "generator": keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]),
            "discriminator": keras.Sequential(
                [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
            ),
        }
        self.optimizers = {name: keras.optimizers.Adam(1e-2) for name in self.models}

    def step(self, real):
        noise = tf.random.normal(tf.shape(real))
        with tf.GradientTape(persistent=True) as tape:
            fake = self.models["generator"](noise, training=True)
            real_logits = self.models["discriminator"](real, training=True)
            fake_logits = self.models["discriminator"](fake, training=True)
            generator = gan.generator_loss(fake_logits)
            discriminator = gan.discriminator_loss(real_logits, fake_logits)
        self.apply(tape, generator, "generator")
        self.apply(tape, discriminator, "discriminator")
        return {"generator": generator, "discriminator": discriminator}

    def samples(self):
        points = self.models["generator"](np.zeros((4, 2), np.float32)).numpy()
        return np.clip(points, 0.0, 1.0)[:, None, None, :]


def toy_data(batch_size=32):
    points = np.random.default_rng(0).normal(3.0, 1.0, size=(256, 2)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(points).batch(batch_size)
