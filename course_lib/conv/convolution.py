"""2-D convolution from scratch in NumPy: the deep-learning kind and the signal-processing kind.

Deep learning calls "convolution" what signal processing calls *cross-correlation*: the kernel
slides over the image unflipped and each output is ``sum(kernel * patch)``.

- :func:`conv2d` is that operation, equal to ``tf.nn.conv2d`` (strides, ``"valid"``/``"same"``
  padding, channels, batches), vectorized: Python loops only over the kernel's taps or columns,
  NumPy/BLAS over the pixels;
- :func:`conv2d_naive` is the same computation with explicit loops over the output pixels, the
  version the chapter writes first;
- :func:`convolve2d` is the textbook convolution, which flips the kernel, equal to
  ``scipy.signal.convolve2d`` with zero fill (``"full"``, ``"same"`` and ``"valid"`` modes);
- :func:`output_size` is the formula for the output's height or width.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course_lib.checks import positive_int

PADDINGS = ("valid", "same")
MODES = ("full", "same", "valid")


# --- argument checks ---------------------------------------------------------------------------


def _array(name: str, value: object) -> np.ndarray:
    """``value`` as a NumPy array of real numbers; TypeError naming ``name`` otherwise."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


def _float_pair(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays in their common floating dtype (float64 unless both are float32/16)."""
    dtype = np.result_type(image.dtype, kernel.dtype)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    return image.astype(dtype, copy=False), kernel.astype(dtype, copy=False)


def _strides(stride: object) -> tuple[int, int]:
    """``stride`` (an int or a pair of ints, each >= 1) as ``(rows, columns)``."""
    if isinstance(stride, (tuple, list)):
        if len(stride) != 2:
            raise ValueError(f"stride must be an int or a pair of ints, got {stride!r}")
        return positive_int("stride", stride[0]), positive_int("stride", stride[1])
    value = positive_int("stride", stride)
    return value, value


def _padding(padding: object) -> str | int:
    """``"valid"``, ``"same"`` (any case) or a non-negative int."""
    if isinstance(padding, str):
        if padding.lower() not in PADDINGS:
            raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")
        return padding.lower()
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral):
        raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")
    if padding < 0:
        raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding}")
    return int(padding)


def _pads(size: int, kernel: int, stride: int, padding: str | int) -> tuple[int, int]:
    """Zeros added before and after one axis, as ``tf.nn.conv2d`` adds them."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2  # the odd zero goes to the bottom/right
    return padding, padding


def output_size(
    input_size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid"
) -> int:
    """Height (or width) of a convolution's output along one axis.

    With ``p`` zeros on each side, ``out = floor((n + 2p - k) / s) + 1``. ``"valid"`` is
    ``p = 0``, so ``out = floor((n - k) / s) + 1``; ``"same"`` pads just enough that
    ``out = ceil(n / s)`` (``n`` itself at stride 1), as TensorFlow does.

    Args:
        input_size: ``n``, the input's size along the axis (>= 1).
        kernel_size: ``k``, the kernel's size along the axis (>= 1).
        stride: ``s`` (>= 1).
        padding: ``"valid"``, ``"same"`` or ``p``, an int >= 0 of zeros on each side.

    Returns:
        The output size, an int >= 1.

    Raises:
        TypeError: if a size or the stride is not an int.
        ValueError: if a size or the stride is < 1, ``padding`` is unknown, or the kernel is
            larger than the (padded) input.
    """
    n = positive_int("input_size", input_size)
    k = positive_int("kernel_size", kernel_size)
    s = positive_int("stride", stride)
    padding = _padding(padding)
    if padding == "same":
        return math.ceil(n / s)
    p = 0 if padding == "valid" else padding
    if k > n + 2 * p:
        raise ValueError(
            f"kernel_size {k} is larger than the input ({n} with {p} zeros on each side)"
        )
    return (n + 2 * p - k) // s + 1


def _prepare(
    image: object, kernel: object, stride: object, padding: object
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], int]:
    """Checks the arguments once; returns the padded ``[N, H, W, C]`` image, the
    ``[kh, kw, C, O]`` kernel, the strides and the image's original rank."""
    image = _array("image", image)
    kernel = _array("kernel", kernel)
    strides = _strides(stride)
    padding = _padding(padding)
    rank = image.ndim
    if rank == 2:
        if kernel.ndim != 2:
            raise ValueError(
                f"kernel must be [kh, kw] for a 2-D image, got shape {list(kernel.shape)}"
            )
        image4, kernel4 = image[np.newaxis, :, :, np.newaxis], kernel[:, :, np.newaxis, np.newaxis]
    elif rank in (3, 4):
        if kernel.ndim != 4:
            raise ValueError(
                f"kernel must be [kh, kw, C_in, C_out] for a rank-{rank} image, "
                f"got shape {list(kernel.shape)}"
            )
        image4, kernel4 = (image[np.newaxis] if rank == 3 else image), kernel
        if image4.shape[-1] != kernel4.shape[2]:
            raise ValueError(
                f"kernel has {kernel4.shape[2]} input channels (shape {list(kernel.shape)}) but "
                f"image has {image4.shape[-1]} (shape {list(image.shape)})"
            )
    else:
        raise ValueError(
            f"image must be [H, W], [H, W, C_in] or [N, H, W, C_in], got shape {list(image.shape)}"
        )
    if kernel4.size == 0:
        raise ValueError(f"kernel must not be empty, got shape {list(kernel.shape)}")
    if image4.shape[1] == 0 or image4.shape[2] == 0:
        raise ValueError(f"image must not be empty, got shape {list(image.shape)}")
    pads = []
    for axis in (0, 1):
        size, k = image4.shape[1 + axis], kernel4.shape[axis]
        before, after = _pads(size, k, strides[axis], padding)
        if size + before + after < k:
            raise ValueError(
                f"kernel is larger than the image with padding={padding!r}: kernel "
                f"{list(kernel.shape[:2])}, image {list(image4.shape[1:3])} (height, width)"
            )
        pads.append((before, after))
    image4, kernel4 = _float_pair(image4, kernel4)
    if any(pads[0]) or any(pads[1]):
        image4 = np.pad(image4, ((0, 0), pads[0], pads[1], (0, 0)))
    return image4, kernel4, strides, rank


def _restore_rank(out: np.ndarray, rank: int) -> np.ndarray:
    """``[N, H', W', O]`` back to the caller's layout (``[H', W']`` or ``[H', W', O]``)."""
    if rank == 2:
        return out[0, :, :, 0]
    if rank == 3:
        return out[0]
    return out


# --- cross-correlation (the deep-learning "convolution") ----------------------------------------


def _correlate(image: np.ndarray, kernel: np.ndarray, strides: tuple[int, int]) -> np.ndarray:
    """Valid cross-correlation of a padded ``[N, H, W, C]`` image with ``[kh, kw, C, O]``.

    A loop over the ``kh * kw`` kernel taps, not over pixels: tap ``(a, b)`` adds
    ``image[:, i*sh + a, j*sw + b, :] @ kernel[a, b]`` (a ``[C] x [C, O]`` product) to every
    output pixel ``(i, j)`` at once, through one matrix product per image row (BLAS). Unlike
    "im2col" (copying every window into one big matrix), it needs no memory beyond the output.
    """
    kh, kw, channels, filters = kernel.shape
    sh, sw = strides
    if channels == 1 and filters == 1:
        return _correlate_single(image[..., 0], kernel[:, :, 0, 0], strides)[..., np.newaxis]
    out_h = (image.shape[1] - kh) // sh + 1
    out_w = (image.shape[2] - kw) // sw + 1
    out = np.zeros((image.shape[0], out_h, out_w, filters), dtype=image.dtype)
    for a in range(kh):
        for b in range(kw):
            rows = slice(a, a + (out_h - 1) * sh + 1, sh)
            columns = slice(b, b + (out_w - 1) * sw + 1, sw)
            out += image[:, rows, columns, :] @ kernel[a, b]
    return out


def _correlate_single(
    image: np.ndarray, kernel: np.ndarray, strides: tuple[int, int]
) -> np.ndarray:
    """Valid cross-correlation of one-channel ``[N, H, W]`` images with a ``[kh, kw]`` kernel.

    The simplest vectorized form is one ``einsum`` over a ``[N, H', W', kh, kw]`` window view;
    this one measured 2-3x faster. For each kernel column ``b`` (a loop of ``kw`` steps, not over
    pixels), ``columns[n, i, j, :]`` views the ``kh`` pixels below ``image[n, i*sh, j]``, and
    ``columns[:, :, b + j*sw, :] @ kernel[:, b]`` adds that column's share of every output at
    once; at stride 1 NumPy hands each row's product to BLAS (matrix-vector) without a copy.
    """
    kh, kw = kernel.shape
    sh, sw = strides
    out_w = (image.shape[2] - kw) // sw + 1
    image = np.ascontiguousarray(image)
    # columns[n, i, j, a] = image[n, i*sh + a, j]  (a view: [N, H', W, kh])
    columns = sliding_window_view(image, kh, axis=1)[:, ::sh]
    out = columns[:, :, 0 : (out_w - 1) * sw + 1 : sw, :] @ kernel[:, 0]
    for b in range(1, kw):
        out += columns[:, :, b : b + (out_w - 1) * sw + 1 : sw, :] @ kernel[:, b]
    return out


def conv2d(
    image: object, kernel: object, stride: int | tuple[int, int] = 1, padding: str | int = "valid"
) -> np.ndarray:
    """2-D cross-correlation as deep learning uses it (``tf.nn.conv2d``), vectorized.

    ``out[n, i, j, o] = sum_{a, b, c} image[n, i*sh + a, j*sw + b, c] * kernel[a, b, c, o]``
    over the zero-padded image; the kernel is not flipped.

    Args:
        image: ``[H, W]`` (one channel), ``[H, W, C_in]`` or a batch ``[N, H, W, C_in]``.
        kernel: ``[kh, kw]`` for a ``[H, W]`` image, else ``[kh, kw, C_in, C_out]``.
        stride: an int or a pair ``(sh, sw)``, each >= 1.
        padding: ``"valid"`` (no padding), ``"same"`` (TensorFlow's: zeros so that
            ``out = ceil(in / stride)``, the odd one at the bottom/right), or an int ``p`` of
            zeros on every side.

    Returns:
        ``[H', W']``, ``[H', W', C_out]`` or ``[N, H', W', C_out]`` following the image's
        layout, with ``H' = output_size(H, kh, sh, padding)`` (likewise ``W'``). The dtype is
        the inputs' common float dtype (float64 for integers).

    Raises:
        TypeError: if ``image`` or ``kernel`` is not numeric, or ``stride`` is not an int.
        ValueError: if a rank is wrong (``image``, ``kernel``), the channels of ``kernel`` and
            ``image`` differ, the kernel is larger than the padded image, ``stride`` < 1 or
            ``padding`` is unknown.
    """
    image4, kernel4, strides, rank = _prepare(image, kernel, stride, padding)
    return _restore_rank(_correlate(image4, kernel4, strides), rank)


def conv2d_naive(
    image: object, kernel: object, stride: int | tuple[int, int] = 1, padding: str | int = "valid"
) -> np.ndarray:
    """:func:`conv2d` written with explicit loops over the output pixels (for teaching; slow).

    Same arguments, result and errors as :func:`conv2d`.
    """
    image4, kernel4, (sh, sw), rank = _prepare(image, kernel, stride, padding)
    kh, kw, _, filters = kernel4.shape
    batch, height, width, _ = image4.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((batch, out_h, out_w, filters), dtype=image4.dtype)
    for n in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                patch = image4[n, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for o in range(filters):
                    out[n, i, j, o] = np.sum(patch * kernel4[:, :, :, o])
    return _restore_rank(out, rank)


# --- convolution (signal processing) -----------------------------------------------------------


def convolve2d(image: object, kernel: object, mode: str = "full") -> np.ndarray:
    """2-D convolution of signal processing: the kernel is flipped, as ``scipy.signal.convolve2d``.

    ``full[i, j] = sum_{a, b} image[i - a, j - b] * kernel[a, b]`` with zeros outside the image,
    which is the cross-correlation of the zero-padded image with ``kernel[::-1, ::-1]``.

    Args:
        image: ``[H, W]``.
        kernel: ``[kh, kw]``.
        mode: ``"full"`` (``[H + kh - 1, W + kw - 1]``, every overlap), ``"same"`` (``[H, W]``,
            the centre of the full output, starting at ``((kh - 1) // 2, (kw - 1) // 2)`` as
            SciPy centres it) or ``"valid"`` (``[H - kh + 1, W - kw + 1]``, no zeros used).

    Returns:
        The convolution, in the inputs' common float dtype (float64 for integers).

    Raises:
        TypeError: if ``image`` or ``kernel`` is not numeric.
        ValueError: if ``image`` or ``kernel`` is not 2-D, ``mode`` is unknown, or the kernel is
            larger than the image in ``"valid"`` mode (SciPy would swap them; we do not).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    image = _array("image", image)
    kernel = _array("kernel", kernel)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D [H, W], got shape {list(image.shape)}")
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D [kh, kw], got shape {list(kernel.shape)}")
    if mode == "valid" and (kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]):
        raise ValueError(
            f"kernel {list(kernel.shape)} is larger than image {list(image.shape)} in 'valid' mode"
        )
    if kernel.size == 0 or image.size == 0:
        raise ValueError(
            f"image and kernel must not be empty, got {list(image.shape)}, {list(kernel.shape)}"
        )
    pads = []
    for k in kernel.shape:
        if mode == "full":
            pads.append((k - 1, k - 1))
        elif mode == "same":
            pads.append((k // 2, (k - 1) // 2))
        else:
            pads.append((0, 0))
    image, kernel = _float_pair(image, kernel)
    padded = np.pad(image, pads) if mode != "valid" else image
    flipped = kernel[::-1, ::-1]
    out = _correlate(padded[np.newaxis, :, :, np.newaxis], flipped[:, :, None, None], (1, 1))
    return out[0, :, :, 0]
