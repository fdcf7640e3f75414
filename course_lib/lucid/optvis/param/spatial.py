"""Spatial parameterizations: an image as its pixels, or as its (1/f-scaled) Fourier spectrum.

Both return a :class:`Parameterization`: ``.variables`` (the ``tf.Variable`` s an optimizer
updates) and ``__call__()`` -> the unconstrained image tensor ``[B, H, W, C]`` (values around 0,
not yet in [0, 1]: see :func:`course_lib.lucid.optvis.param.color.to_valid_rgb`).

The FFT image stores the real and imaginary parts of ``rfft2`` coefficients, each multiplied by
``1 / max(f, 1 / max(H, W)) ** decay_power`` (``f`` the frequency in cycles per pixel) before the
inverse transform. With equal-sized variables at every frequency, the image then has the
``1/f`` amplitude spectrum of natural images, and a gradient step changes low frequencies as
much as high ones: the optimization is no longer dominated by high-frequency noise.

Initial values are drawn with ``tf.random.normal``: reproducible after ``tf.random.set_seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from course_lib import checks

#: Standard deviation of the initial values when ``sd`` is None.
DEFAULT_SD = 0.01


class Parameterization:
    """Variables and a function of them that returns an image batch.

    Attributes:
        variables: the ``tf.Variable`` s to optimize.
        fn: zero-argument callable returning the images.
        shape: the shape of the returned images (``[B, H, W, C]``), when known.
    """

    def __init__(
        self,
        fn: Callable[[], tf.Tensor],
        variables: Sequence[tf.Variable],
        shape: Sequence[int] | None = None,
    ):
        self.fn = fn
        self.variables = list(variables)
        self.shape = None if shape is None else tuple(int(s) for s in shape)

    def __call__(self) -> tf.Tensor:
        return self.fn()

    def __repr__(self) -> str:
        return f"Parameterization(shape={self.shape}, variables={len(self.variables)})"


def _checked_shape(shape: Sequence[int]) -> tuple[int, int, int, int]:
    values = tuple(shape)
    if len(values) != 4 or not all(checks.is_int(v) and v > 0 for v in values):
        raise ValueError(f"shape must be 4 positive ints [B, H, W, C], got {shape!r}")
    return tuple(int(v) for v in values)


def _sd(sd: float | None) -> float:
    sd = DEFAULT_SD if sd is None else float(sd)
    if sd < 0:
        raise ValueError(f"sd must be non-negative, got {sd}")
    return sd


def pixel_image(shape: Sequence[int], sd: float | None = None) -> Parameterization:
    """An image ``[B, H, W, C]`` whose pixels are the variables (normal, std ``sd``).

    Raises:
        ValueError: if ``shape`` is not four positive ints or ``sd`` is negative.
    """
    shape = _checked_shape(shape)
    pixels = tf.Variable(tf.random.normal(shape, stddev=_sd(sd)), name="pixels")
    return Parameterization(lambda: tf.identity(pixels), [pixels], shape)


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """Frequency magnitudes ``sqrt(fy^2 + fx^2)`` (cycles/pixel) of ``rfft2``'s ``[h, w//2+1]``."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int, decay_power: float = 1.0) -> np.ndarray:
    """The ``[h, w//2+1]`` factors applied to the spectrum: ``1 / max(f, 1/max(h, w))**decay``.

    Multiplied by ``sqrt(h * w)`` so that unit-variance coefficients give pixel values of order
    one whatever the size.
    """
    freqs = np.maximum(rfft2d_freqs(h, w), 1.0 / max(h, w))
    return (np.sqrt(h * w) / freqs**decay_power).astype(np.float32)


def fft_image(
    shape: Sequence[int], sd: float | None = None, decay_power: float = 1.0
) -> Parameterization:
    """An image ``[B, H, W, C]`` parameterized by its scaled ``rfft2`` spectrum.

    The variable holds ``[B, C, H, W//2+1, 2]`` (real, imaginary) coefficients drawn from a
    normal of std ``sd``; the image is ``irfft2(coefficients * spectrum_scale(H, W)) / 4``.

    Raises:
        ValueError: if ``shape`` is not four positive ints or ``sd`` is negative.
    """
    batch, h, w, channels = _checked_shape(shape)
    scale = tf.constant(spectrum_scale(h, w, decay_power))
    spectrum = tf.Variable(
        tf.random.normal([batch, channels, h, w // 2 + 1, 2], stddev=_sd(sd)), name="spectrum"
    )

    def fn():
        coefficients = tf.complex(spectrum[..., 0] * scale, spectrum[..., 1] * scale)
        planes = tf.signal.irfft2d(coefficients, fft_length=[h, w])  # [B, C, H, W]
        return tf.transpose(planes, [0, 2, 3, 1]) / 4.0

    return Parameterization(fn, [spectrum], (batch, h, w, channels))


__all__ = [
    "DEFAULT_SD",
    "Parameterization",
    "fft_image",
    "pixel_image",
    "rfft2d_freqs",
    "spectrum_scale",
]
