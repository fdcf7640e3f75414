"""The losses of analysis by synthesis: how well a warped image explains the target, and a prior.

- :func:`ssim`: the structural similarity map of two images over 3 x 3 windows (box filter,
  reflected borders), ``((2 mx my + C1)(2 sxy + C2)) / ((mx^2 + my^2 + C1)(sx + sy + C2))``
  with ``C1 = 0.01^2``, ``C2 = 0.03^2`` for images in [0, 1].
- :func:`photometric_error`: per pixel, ``alpha (1 - SSIM) / 2 + (1 - alpha) |target - warped|``
  averaged over the channels (``alpha = 0.85``): SSIM tolerates changes of brightness, L1 keeps
  the colours.
- :func:`photometric_loss`: its mean over the valid pixels of a mask.
- :func:`smoothness_loss`: edge-aware smoothness, ``mean |dx d| exp(-|dx I|) + mean |dy d|
  exp(-|dy I|)``: a field (depth, flow) may jump where the image has an edge and should be flat
  elsewhere. Pass depth as mean-normalized inverse depth so that shrinking the scene does not
  lower the loss.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.util import shape

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2
ALPHA = 0.85


def _images(name: str, image: object, dtype: tf.DType | None = None) -> tf.Tensor:
    if dtype is None:
        (image,) = shape.checked(**{name: (image, None)})
    else:
        image = shape.to_float(name, image, dtype)
    if image.shape.rank is not None and image.shape.rank != 4:
        raise ValueError(f"{name} must have shape [B, H, W, C], got {tuple(image.shape)}")
    if any(side is not None and side < 2 for side in image.shape[1:3]):
        raise ValueError(f"{name} must be at least 2 x 2 pixels, got shape {tuple(image.shape)}")
    return image


def _same_shape(name: str, tensor: tf.Tensor, reference: tf.Tensor, other: str) -> None:
    if not tensor.shape.is_compatible_with(reference.shape):
        raise ValueError(
            f"{name} must have the shape of {other} {tuple(reference.shape)}, "
            f"got {tuple(tensor.shape)}"
        )


def _box3(image: tf.Tensor) -> tf.Tensor:
    """3 x 3 mean of `[B, H, W, C]` images with reflected borders (same size)."""
    padded = tf.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    return tf.nn.avg_pool2d(padded, 3, 1, "VALID")


def ssim(x: tf.Tensor, y: tf.Tensor, name: str = "synthesis_ssim") -> tf.Tensor:
    """Structural similarity of two images at every pixel, over 3 x 3 windows.

    Args:
        x, y: `[B, H, W, C]` images in [0, 1] (H, W >= 2), the same shape and float dtype.

    Returns:
        `[B, H, W, C]` SSIM in [-1, 1], 1 where the windows are identical.

    Raises:
        ValueError: naming the argument, for a rank other than 4, differing shapes, or a
            non-floating dtype.
    """
    with tf.name_scope(name):
        x = _images("x", x)
        y = _images("y", y, x.dtype)
        _same_shape("y", y, x, "x")
        mx, my = _box3(x), _box3(y)
        sx = _box3(x * x) - mx * mx
        sy = _box3(y * y) - my * my
        sxy = _box3(x * y) - mx * my
        numerator = (2 * mx * my + SSIM_C1) * (2 * sxy + SSIM_C2)
        denominator = (mx * mx + my * my + SSIM_C1) * (sx + sy + SSIM_C2)
        return numerator / denominator


def photometric_error(
    target: tf.Tensor, warped: tf.Tensor, alpha: float = ALPHA, name: str = "photometric_error"
) -> tf.Tensor:
    """Per-pixel ``alpha (1 - SSIM) / 2 + (1 - alpha) |target - warped|``, channel mean.

    Args:
        target, warped: `[B, H, W, C]` images in [0, 1], the same shape.
        alpha: the weight of the SSIM term, in [0, 1].

    Returns:
        `[B, H, W]` errors, 0 where the images agree.

    Raises:
        ValueError: naming the argument, for ranks or shapes that differ, or alpha outside [0, 1].
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    with tf.name_scope(name):
        target = _images("target", target)
        warped = _images("warped", warped, target.dtype)
        _same_shape("warped", warped, target, "target")
        dssim = tf.clip_by_value((1.0 - ssim(target, warped)) / 2.0, 0.0, 1.0)
        l1 = tf.abs(target - warped)
        return tf.reduce_mean(alpha * dssim + (1.0 - alpha) * l1, axis=-1)


def photometric_loss(
    target: tf.Tensor,
    warped: tf.Tensor,
    mask: tf.Tensor | None = None,
    alpha: float = ALPHA,
    name: str = "photometric_loss",
) -> tf.Tensor:
    """The mean :func:`photometric_error` over the pixels where ``mask`` is 1.

    Args:
        target, warped: `[B, H, W, C]` images in [0, 1].
        mask: `[B, H, W]` weights in [0, 1] (e.g. :func:`~.warp.inverse_warp`'s validity mask);
            None: every pixel.
        alpha: the weight of the SSIM term, in [0, 1].

    Returns:
        A scalar; 0 when no pixel is valid (never NaN).

    Raises:
        ValueError: naming the argument, for shapes that differ or a mask not `[B, H, W]`.
    """
    with tf.name_scope(name):
        error = photometric_error(target, warped, alpha)
        if mask is None:
            return tf.reduce_mean(error)
        mask = shape.to_float("mask", mask, error.dtype)
        _same_shape("mask", mask, error, "the images without channels")
        return tf.reduce_sum(error * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def smoothness_loss(field: tf.Tensor, image: tf.Tensor, name: str = "smoothness_loss") -> tf.Tensor:
    """Edge-aware smoothness of a field: its gradients, down-weighted where the image has edges.

    Args:
        field: `[B, H, W]` or `[B, H, W, D]` (e.g. normalized inverse depth, or 3D flow).
        image: `[B, H, W, C]` the image whose edges allow the field to jump.

    Returns:
        A scalar, ``mean |dx f| exp(-mean_c |dx I|) + mean |dy f| exp(-mean_c |dy I|)`` (the
        field's channels are summed).

    Raises:
        ValueError: naming the argument, for ranks other than 3 or 4 and 4, or sizes that differ.
    """
    with tf.name_scope(name):
        image = _images("image", image)
        field = shape.to_float("field", field, image.dtype)
        if field.shape.rank == 3:
            field = field[..., tf.newaxis]
        if field.shape.rank != 4:
            raise ValueError(
                f"field must have shape [B, H, W] or [B, H, W, D], got {tuple(field.shape)}"
            )
        if not field.shape[:3].is_compatible_with(image.shape[:3]):
            raise ValueError(
                f"field must have the image's batch, height and width {tuple(image.shape[:3])}, "
                f"got {tuple(field.shape)}"
            )
        total = 0.0
        for axis in (1, 2):
            size = tf.shape(field)[axis]
            df = tf.abs(
                tf.gather(field, tf.range(1, size), axis=axis)
                - tf.gather(field, tf.range(size - 1), axis=axis)
            )
            di = tf.reduce_mean(
                tf.abs(
                    tf.gather(image, tf.range(1, size), axis=axis)
                    - tf.gather(image, tf.range(size - 1), axis=axis)
                ),
                axis=-1,
                keepdims=True,
            )
            total += tf.reduce_mean(tf.reduce_sum(df, axis=-1, keepdims=True) * tf.exp(-di))
        return total
