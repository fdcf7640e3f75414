"""``image``: the default parameterization of feature visualization (FFT + decorrelated colour)."""

from __future__ import annotations

import tensorflow as tf

from course_lib.lucid.optvis.param.color import to_valid_rgb
from course_lib.lucid.optvis.param.spatial import Parameterization, fft_image, pixel_image


def image(
    w: int,
    h: int | None = None,
    batch: int = 1,
    sd: float | None = None,
    decorrelate: bool = True,
    fft: bool = True,
    alpha: bool = False,
    sigmoid: bool = True,
) -> Parameterization:
    """A batch of ``batch`` images ``[batch, h, w, 3]`` in [0, 1] (``h`` defaults to ``w``).

    Args:
        w, h: width and height in pixels.
        batch: number of images optimized together.
        sd: standard deviation of the initial variables (default 0.01: a near-grey start).
        decorrelate: optimize decorrelated colour channels (see ``param.color``).
        fft: parameterize by the 1/f-scaled Fourier spectrum (``spatial.fft_image``) rather than
            pixels (``spatial.pixel_image``).
        alpha: add a fourth channel, an opacity in [0, 1] (sigmoid): images are
            ``[batch, h, w, 4]``.
        sigmoid: map to [0, 1] with a sigmoid (else a straight-through clip).

    Returns:
        A :class:`Parameterization` (``.variables``; call it for the images).

    Raises:
        ValueError: for non-positive sizes.
    """
    h = w if h is None else h
    channels = 4 if alpha else 3
    shape = (batch, h, w, channels)
    spatial = fft_image(shape, sd=sd) if fft else pixel_image(shape, sd=sd)

    def fn():
        t = spatial()
        rgb = to_valid_rgb(t[..., :3], decorrelate=decorrelate, sigmoid=sigmoid)
        if alpha:
            return tf.concat([rgb, tf.sigmoid(t[..., 3:])], axis=-1)
        return rgb

    return Parameterization(fn, spatial.variables, shape)


__all__ = ["image"]
