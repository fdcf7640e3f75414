"""Exercises of the chapter "Convolution" (book/part1/03_convolution).

- ``correlate2d_valid(image, kernel)``: one-channel cross-correlation, the course's 4x4 example;
- ``output_size(n, k, stride, padding)``: the output-size formula;
- ``conv2d_multichannel(image, kernels)``: filters with depth, ``[H, W, C_in]`` to
  ``[H', W', C_out]``.

Expected answers come from ``course_lib.conv`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import conv
from course_lib.checks import is_int, is_real
from course_lib.grading.cases import Mistake, exact_mistake, reference_cases
from course_lib.grading.exercise import Case, define

TOPIC = "convolution"

COURSE_IMAGE = np.array([[2, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 3, 0, 0]])
COURSE_FILTER = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]])


def _asymmetric_kernel(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Small integers, drawn until flipping the kernel changes it (so a flip is detectable)."""
    while True:
        kernel = rng.integers(-1, 3, size=shape)
        if not np.array_equal(kernel, kernel[::-1, ::-1]):
            return kernel


# --- correlate2d_valid ------------------------------------------------------------------------

_CORRELATE_HINT = (
    "For each output pixel (i, j), take the patch image[i:i + kh, j:j + kw] and sum "
    "patch * kernel; there are H - kh + 1 rows and W - kw + 1 columns of them."
)


def _correlate_cases(rng: np.random.Generator) -> list[Case]:
    pairs = [(COURSE_IMAGE, COURSE_FILTER, "the course's 4x4 image and 3x3 filter")]
    height, width = int(rng.integers(4, 7)), int(rng.integers(5, 8))
    image = rng.integers(0, 4, size=(height, width))
    pairs.append((image, _asymmetric_kernel(rng, (2, 2)), f"integers, image [{height}, {width}]"))
    height, width = int(rng.integers(8, 13)), int(rng.integers(8, 13))
    kh, kw = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    pairs.append(
        (
            rng.normal(size=(height, width)).astype(np.float32),
            rng.normal(size=(kh, kw)).astype(np.float32),
            f"random normal, image [{height}, {width}], kernel [{kh}, {kw}]",
        )
    )
    width = int(rng.integers(6, 10))
    pairs.append(
        (
            rng.normal(size=(3, width)).astype(np.float32),
            rng.normal(size=(3, 2)).astype(np.float32),
            f"kernel as tall as the image: image [3, {width}], kernel [3, 2]",
        )
    )
    return reference_cases(pairs, conv.conv2d, hint=_CORRELATE_HINT, rtol=1e-4, atol=1e-4)


_CORRELATE_MISTAKES = {
    "that is the 'full' size, with zeros around the image: keep only the windows "
    "that fit inside it": Mistake(
        lambda image, kernel: conv.convolve2d(image, kernel[::-1, ::-1], "full"), match="shape"
    ),
    "that is the 'same' size: no padding here, the output shrinks": Mistake(
        lambda image, kernel: (
            conv.convolve2d(image, kernel[::-1, ::-1], "same") if kernel.shape != (1, 1) else None
        ),
        match="shape",
    ),
    "one row and one column short: the last window starts at row H - kh, so loop "
    "over range(H - kh + 1)": Mistake(
        lambda image, kernel: conv.conv2d(image, kernel)[:-1, :-1], match="shape"
    ),
    "the kernel is flipped: that is the convolution of signal processing, "
    "scipy.signal.convolve2d; deep learning's conv2d slides the kernel as it is": (
        lambda image, kernel: conv.convolve2d(image, kernel, "valid")
    ),
}


CORRELATE2D_VALID = define(
    TOPIC,
    "correlate2d_valid",
    _correlate_cases,
    mistakes=_CORRELATE_MISTAKES,
    title="Slide a filter over a one-channel image (valid cross-correlation)",
    references=[conv.conv2d, conv.conv2d_naive, conv.convolve2d],
)


# --- output_size ------------------------------------------------------------------------------


def _output_size_cases(rng: np.random.Generator) -> list[Case]:
    settings = [(4, 3, 1, "valid"), (10, 4, 1, "valid")]  # the course's example and Keras layer
    for _ in range(2):  # valid, with a stride that does not divide n - k: floor matters
        stride = int(rng.integers(2, 4))
        k = int(rng.integers(2, 6))
        n = k + stride * int(rng.integers(2, 6)) + int(rng.integers(1, stride))
        settings.append((n, k, stride, "valid"))
    for stride in (1, int(rng.integers(2, 5))):  # same; n not a multiple of the stride
        n = stride * int(rng.integers(3, 9)) + (1 if stride > 1 else 0)
        settings.append((n, int(rng.choice([3, 5])), stride, "same"))
    for padding in (1, int(rng.integers(2, 4))):  # p zeros on each side
        n, k = int(rng.integers(5, 12)), int(rng.choice([3, 5]))
        settings.append((n, k, int(rng.integers(1, 3)), padding))
    hints = {
        "valid": "valid: out = floor((n - k) / stride) + 1, with // for the floor.",
        "same": "same: out = ceil(n / stride); math.ceil, or (n + stride - 1) // stride.",
        "int": "p zeros on each side: out = floor((n + 2 * p - k) / stride) + 1.",
    }
    return [
        Case(
            description=f"n={n}, k={k}, stride={stride}, padding={padding!r}",
            args=(n, k, stride, padding),
            expected=conv.output_size(n, k, stride, padding),
            hint=hints[padding if isinstance(padding, str) else "int"],
        )
        for n, k, stride, padding in settings
    ]


_OUTPUT_SIZE_MISTAKES = {
    "rounded down: 'same' rounds up, ceil(n / stride)": (
        lambda n, k, stride, padding: n // stride if padding == "same" else None
    ),
    "the stride still shrinks a 'same' output: ceil(n / stride)": (
        lambda n, k, stride, padding: n if padding == "same" and stride > 1 else None
    ),
    "the padding goes on both sides: n + 2 * p": (
        lambda n, k, stride, padding: (n + padding - k) // stride + 1 if is_int(padding) else None
    ),
    "off by one: count the window positions, the first one starts at 0": Mistake(
        lambda n, k, stride, padding: conv.output_size(n, k, stride, padding) + 1,
        lambda n, k, stride, padding: conv.output_size(n, k, stride, padding) - 1,
    ),
}


def _compare_output_size(got: Any, case: Case) -> str | None:
    want = case.expected
    if not is_int(got):
        text = f"expected the int {want}, got {type(got).__name__} {got!r}"
        if is_real(got):
            text += (
                " (a size is a whole number: use // or math.floor / math.ceil, and return an int)"
            )
        return text
    if got == want:
        return None
    text = f"expected {want}, got {got}"
    explanation = exact_mistake(got, _OUTPUT_SIZE_MISTAKES, case)
    return f"{text} ({explanation})" if explanation else text


OUTPUT_SIZE = define(
    TOPIC,
    "output_size",
    _output_size_cases,
    _compare_output_size,
    mistakes=_OUTPUT_SIZE_MISTAKES,
    title="The output-size formula: kernel, stride and padding",
    references=[conv.output_size],
)


# --- conv2d_multichannel ----------------------------------------------------------------------

_MULTICHANNEL_HINT = (
    "Each output value sums over the patch's height, width AND input channels: "
    "out[i, j, o] = sum(image[i:i + kh, j:j + kw, :] * kernels[:, :, :, o]); one output "
    "channel per filter o, stacked last."
)


def _multichannel_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [((10, 10, 3), (4, 4, 3, 4), "the course's slide: a 10x10 RGB volume, 4 filters")]
    height, width = int(rng.integers(5, 10)), int(rng.integers(5, 10))
    c_in, c_out = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(2, 4))
    shapes.append(((height, width, c_in), (kh, kw, c_in, c_out), "random normal"))
    height, width = int(rng.integers(4, 8)), int(rng.integers(4, 8))
    shapes.append(((height, width, 2), (3, 3, 2, 1), "two channels in, one filter"))
    settings = [
        (
            rng.normal(size=image_shape).astype(np.float32),
            rng.normal(size=kernel_shape).astype(np.float32),
            f"{description}: image {list(image_shape)}, kernels {list(kernel_shape)}",
        )
        for image_shape, kernel_shape, description in shapes
    ]
    return reference_cases(settings, conv.conv2d, hint=_MULTICHANNEL_HINT, rtol=1e-4, atol=1e-4)


def _channels_apart(image: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Each input channel correlated alone, ``[H', W', C_in, C_out]``."""
    return np.stack(
        [conv.conv2d(image[..., [c]], kernels[:, :, [c]]) for c in range(image.shape[-1])], axis=2
    )


_MULTICHANNEL_MISTAKES = {
    "the input channels were kept apart: a filter with depth also sums over them": Mistake(
        _channels_apart, match="shape"
    ),
    "the output channels go last: [H', W', C_out]": Mistake(
        lambda image, kernels: np.moveaxis(conv.conv2d(image, kernels), -1, 0), match="shape"
    ),
    "the channels were averaged: sum over them instead": (
        lambda image, kernels: conv.conv2d(image, kernels) / image.shape[-1]
    ),
    "only the first input channel counts: sum over all of them": (
        lambda image, kernels: conv.conv2d(image[..., :1], kernels[:, :, :1, :])
    ),
    "the kernels are flipped: slide them as they are, no [::-1, ::-1]": (
        lambda image, kernels: conv.conv2d(image, kernels[::-1, ::-1])
    ),
}


CONV2D_MULTICHANNEL = define(
    TOPIC,
    "conv2d_multichannel",
    _multichannel_cases,
    mistakes=_MULTICHANNEL_MISTAKES,
    title="Filters with depth: an RGB volume through several filters",
    references=[conv.conv2d, conv.conv2d_naive],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (CORRELATE2D_VALID, OUTPUT_SIZE, CONV2D_MULTICHANNEL)
