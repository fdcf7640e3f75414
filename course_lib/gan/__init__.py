"""Part 1's advanced tutorials: generative adversarial networks (DCGAN, pix2pix, CycleGAN).

- :mod:`~course_lib.gan.losses`: the adversarial, L1, cycle and identity losses.
- :mod:`~course_lib.gan.training`: :class:`GANTrainer` (networks and optimizers under a
  ``tf.distribute`` strategy, a compiled step, checkpoints) and the :func:`fit` loop.
"""

from course_lib.gan import cyclegan, dcgan, layers, losses, metrics, pix2pix, training
from course_lib.gan.cyclegan import CycleGAN
from course_lib.gan.layers import InstanceNormalization
from course_lib.gan.losses import (
    cycle_consistency_loss,
    discriminator_loss,
    generator_loss,
    identity_loss,
    pix2pix_generator_loss,
)
from course_lib.gan.training import GANTrainer, History, fit, save_samples

__all__ = [
    "CycleGAN",
    "InstanceNormalization",
    "cyclegan",
    "layers",
    "GANTrainer",
    "History",
    "cycle_consistency_loss",
    "dcgan",
    "discriminator_loss",
    "fit",
    "generator_loss",
    "identity_loss",
    "losses",
    "metrics",
    "pix2pix",
    "pix2pix_generator_loss",
    "save_samples",
    "training",
]
