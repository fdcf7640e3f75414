"""The adversarial losses of DCGAN, pix2pix and CycleGAN (book/part1/07_dcgan to 09_cyclegan).

A discriminator ``D`` outputs *logits* (one per image for DCGAN, one per patch for PatchGAN):
``sigmoid(logit)`` is its belief that the image is real. With the binary cross-entropy
``bce(y, l) = -y log sigmoid(l) - (1 - y) log(1 - sigmoid(l))``, averaged over every logit,

- the discriminator loss is ``bce(1, D(real)) + bce(0, D(fake))``: call real images real and
  generated ones fake;
- the generator loss is ``bce(1, D(fake))``: make the discriminator call its images real (the
  "non-saturating" loss, which keeps a useful gradient while the discriminator wins);
- pix2pix adds ``lambda * mean |target - generated|`` (``lambda = 100``) to the generator loss;
- CycleGAN uses least squares instead of cross-entropy in its published form, but the
  TensorFlow tutorial keeps the cross-entropy; ours follows the tutorial. Its cycle loss is
  ``lambda * mean |x - F(G(x))|`` (``lambda = 10``) and its identity loss
  ``0.5 * lambda * mean |y - G(y)|``.

``bce`` is computed from logits as ``max(l, 0) - l y + log(1 + exp(-|l|))``, which is finite
for any logit (``tf.nn.sigmoid_cross_entropy_with_logits``).
"""

from __future__ import annotations

import tensorflow as tf

from course_lib import checks

#: pix2pix's weight of the L1 term against the adversarial term.
PIX2PIX_LAMBDA = 100.0
#: CycleGAN's weight of the cycle-consistency loss (the identity loss weighs half as much).
CYCLE_LAMBDA = 10.0


def _logits(name: str, value) -> tf.Tensor:
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_floating:
        raise ValueError(f"{name} must be floating logits, got {tensor.dtype.name}")
    if tensor.shape.rank == 0:
        raise ValueError(f"{name} must have a batch dimension, got a scalar")
    return tensor


def _images(name: str, value, like: tf.Tensor | None = None) -> tf.Tensor:
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_floating:
        raise ValueError(f"{name} must be floating images, got {tensor.dtype.name}")
    if like is not None:
        tensor = tf.cast(tensor, like.dtype)
        if not tensor.shape.is_compatible_with(like.shape):
            raise ValueError(f"{name} has shape {tensor.shape}, expected {like.shape}")
    return tensor


def binary_cross_entropy(labels: float, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy of every logit against one label (1 real, 0 fake).

    Args:
        labels: the target for every logit, 1.0 or 0.0 (any value in [0, 1] works).
        logits: ``[B, ...]`` discriminator logits.

    Returns:
        A scalar.
    """
    logits = _logits("logits", logits)
    targets = tf.fill(tf.shape(logits), tf.cast(labels, logits.dtype))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, logits))


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """``bce(1, real_logits) + bce(0, fake_logits)``: real called real, generated called fake.

    Args:
        real_logits: ``[B, ...]`` the discriminator's logits on real images.
        fake_logits: ``[B', ...]`` its logits on generated images.

    Returns:
        A scalar; ``2 log 2 ~ 1.386`` for a discriminator that outputs 0 everywhere.
    """
    real_logits = _logits("real_logits", real_logits)
    fake_logits = _logits("fake_logits", fake_logits)
    return binary_cross_entropy(1.0, real_logits) + binary_cross_entropy(0.0, fake_logits)


def generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """``bce(1, fake_logits)``: the non-saturating generator loss.

    Args:
        fake_logits: ``[B, ...]`` the discriminator's logits on generated images.

    Returns:
        A scalar; ``log 2 ~ 0.693`` when the discriminator cannot tell (logits 0).
    """
    return binary_cross_entropy(1.0, _logits("fake_logits", fake_logits))


def mean_absolute_error(target: tf.Tensor, generated: tf.Tensor) -> tf.Tensor:
    """``mean |target - generated|`` over every pixel and image, a scalar.

    Args:
        target: ``[B, H, W, C]`` images.
        generated: images of the same shape.
    """
    return _l1("target", target, "generated", generated)


def _l1(first_name: str, first, second_name: str, second) -> tf.Tensor:
    first = _images(first_name, first)
    second = _images(second_name, second, like=first)
    return tf.reduce_mean(tf.abs(first - second))


def pix2pix_generator_loss(
    fake_logits: tf.Tensor,
    target: tf.Tensor,
    generated: tf.Tensor,
    l1_weight: float = PIX2PIX_LAMBDA,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """pix2pix's generator loss ``bce(1, D(x, G(x))) + lambda * mean |y - G(x)|``.

    Args:
        fake_logits: ``[B, h, w, 1]`` the PatchGAN's logits on (input, generated) pairs.
        target: ``[B, H, W, C]`` the paired target images ``y``.
        generated: ``[B, H, W, C]`` the generator's images ``G(x)``.
        l1_weight: ``lambda`` (100 in pix2pix).

    Returns:
        ``(total, adversarial, l1)`` scalars.
    """
    l1_weight = checks.real("l1_weight", l1_weight, minimum=0.0)
    adversarial = generator_loss(fake_logits)
    l1 = mean_absolute_error(target, generated)
    return adversarial + l1_weight * l1, adversarial, l1


def cycle_consistency_loss(
    real: tf.Tensor, cycled: tf.Tensor, weight: float = CYCLE_LAMBDA
) -> tf.Tensor:
    """CycleGAN's cycle loss ``lambda * mean |x - F(G(x))|``.

    Args:
        real: ``[B, H, W, C]`` images ``x`` of one domain.
        cycled: ``[B, H, W, C]`` the same images translated there and back, ``F(G(x))``.
        weight: ``lambda`` (10 in CycleGAN).
    """
    weight = checks.real("weight", weight, minimum=0.0)
    return weight * _l1("real", real, "cycled", cycled)


def identity_loss(real: tf.Tensor, same: tf.Tensor, weight: float = CYCLE_LAMBDA) -> tf.Tensor:
    """CycleGAN's identity loss ``0.5 * lambda * mean |y - G(y)|``.

    A generator into domain Y given an image already in Y should leave it alone; this keeps
    colours from drifting.

    Args:
        real: ``[B, H, W, C]`` images ``y`` of the generator's target domain.
        same: ``[B, H, W, C]`` the generator's output on them, ``G(y)``.
        weight: ``lambda`` of the cycle loss; the identity loss weighs half of it.
    """
    weight = checks.real("weight", weight, minimum=0.0)
    return 0.5 * weight * _l1("real", real, "same", same)
