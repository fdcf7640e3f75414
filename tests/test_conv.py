"""course_lib.conv: conv2d against tf.nn.conv2d, convolve2d against SciPy, filters, bad input.

TensorFlow is the reference with oneDNN off (conftest sets ``TF_ENABLE_ONEDNN_OPTS=0``): with
oneDNN on, TF 2.21 returns zeros for some strided valid convolutions (e.g. a 2x3 kernel over a
3x4 image at stride (1, 3)), which these tests would report as our error.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import skimage.filters
import tensorflow as tf

from course_lib import conv

# --- conv2d: the deep-learning cross-correlation ----------------------------------------------


def _random_case(rng: np.random.Generator, padding: str) -> dict:
    """A random [N, H, W, C] image, [kh, kw, C, O] kernel and stride that fit ``padding``."""
    kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    low = (kh, kw) if padding == "valid" else (1, 1)
    height, width = int(rng.integers(low[0], 14)), int(rng.integers(low[1], 14))
    batch, channels, filters = (int(v) for v in rng.integers(1, 4, size=3))
    stride = int(rng.integers(1, 4)) if rng.random() < 0.5 else tuple(rng.integers(1, 4, size=2))
    return {
        "image": rng.normal(size=(batch, height, width, channels)).astype(np.float32),
        "kernel": rng.normal(size=(kh, kw, channels, filters)).astype(np.float32),
        "stride": stride if isinstance(stride, int) else (int(stride[0]), int(stride[1])),
    }


def _tf_conv(image, kernel, stride, padding):
    strides = (stride, stride) if isinstance(stride, int) else stride
    if isinstance(padding, int):
        padding = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    else:
        padding = padding.upper()
    return tf.nn.conv2d(image, kernel, strides=[1, *strides, 1], padding=padding).numpy()


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_matches_tf_on_random_batches(rng, padding):
    for _ in range(60):
        case = _random_case(rng, padding)
        expected = _tf_conv(case["image"], case["kernel"], case["stride"], padding)
        got = conv.conv2d(case["image"], case["kernel"], case["stride"], padding)
        assert got.shape == expected.shape, case["stride"]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_matches_tf_with_explicit_zero_padding(rng):
    for pad in (0, 1, 2, 4):
        case = _random_case(rng, "same")
        expected = _tf_conv(case["image"], case["kernel"], case["stride"], pad)
        got = conv.conv2d(case["image"], case["kernel"], case["stride"], pad)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_keeps_the_image_layout(rng, padding):
    image = rng.normal(size=(11, 9, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 4, 3, 5)).astype(np.float32)
    expected = _tf_conv(image[np.newaxis], kernel, 2, padding)[0]
    got = conv.conv2d(image, kernel, stride=2, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    gray, kernel_2d = image[..., 0], kernel[:, :, 0, 0]
    expected = _tf_conv(gray[np.newaxis, :, :, np.newaxis], kernel_2d[:, :, None, None], 1, padding)
    got = conv.conv2d(gray, kernel_2d, padding=padding)
    assert got.shape == expected.shape[1:3]
    np.testing.assert_allclose(got, expected[0, :, :, 0], rtol=1e-5, atol=1e-5)


def test_conv2d_equals_scipy_correlate2d_in_float64(rng):
    image, kernel = rng.normal(size=(40, 33)), rng.normal(size=(5, 4))
    got = conv.conv2d(image, kernel)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, scipy.signal.correlate2d(image, kernel, "valid"), atol=1e-12)


def test_conv2d_dtypes():
    image, kernel = np.ones((4, 4), np.float32), np.ones((2, 2), np.float32)
    assert conv.conv2d(image, kernel).dtype == np.float32
    assert conv.conv2d(image.astype(int), kernel.astype(int)).dtype == np.float64
    assert conv.conv2d(image, kernel.astype(np.float64)).dtype == np.float64
    assert conv.conv2d(tf.ones((4, 4)), kernel).dtype == np.float32  # tensors are accepted


@pytest.mark.parametrize("padding", ["valid", "same", 1])
def test_conv2d_naive_equals_conv2d(rng, padding):
    for _ in range(8):
        case = _random_case(rng, "valid")
        got = conv.conv2d_naive(case["image"], case["kernel"], case["stride"], padding)
        want = conv.conv2d(case["image"], case["kernel"], case["stride"], padding)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    image, kernel = rng.normal(size=(9, 8)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(
        conv.conv2d_naive(image, kernel, 2, padding), conv.conv2d(image, kernel, 2, padding)
    )


# --- the course's worked example ----------------------------------------------------------------

COURSE_IMAGE = [[2, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 3, 0, 0]]
COURSE_FILTER = [[1, 0, 1], [0, 0, 0], [0, 1, 0]]


@pytest.mark.parametrize("function", [conv.conv2d, conv.conv2d_naive])
def test_the_course_worked_example(function):
    np.testing.assert_array_equal(function(COURSE_IMAGE, COURSE_FILTER), [[3, 2], [3, 1]])


def test_the_worked_example_is_a_correlation_not_a_convolution():
    flipped_result = conv.convolve2d(COURSE_IMAGE, COURSE_FILTER, "valid")
    assert not np.array_equal(flipped_result, [[3, 2], [3, 1]])
    unflipped = conv.convolve2d(COURSE_IMAGE, np.flip(COURSE_FILTER), "valid")
    np.testing.assert_array_equal(unflipped, [[3, 2], [3, 1]])


# --- convolve2d: the signal-processing convolution -----------------------------------------------

SHAPES = [
    ((7, 9), (3, 3)),  # odd kernel
    ((7, 9), (2, 4)),  # even kernel
    ((8, 6), (4, 5)),  # mixed
    ((1, 5), (1, 2)),
    ((6, 6), (6, 6)),  # kernel as large as the image
]
LARGER = [((3, 4), (6, 5)), ((2, 7), (5, 2)), ((1, 1), (4, 4))]  # kernel larger (in one axis)


@pytest.mark.parametrize("mode", conv.MODES)
@pytest.mark.parametrize(("image_shape", "kernel_shape"), SHAPES)
def test_convolve2d_matches_scipy(rng, mode, image_shape, kernel_shape):
    image, kernel = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    got = conv.convolve2d(image, kernel, mode)
    expected = scipy.signal.convolve2d(image, kernel, mode)
    assert got.shape == expected.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("mode", ["full", "same"])
@pytest.mark.parametrize(("image_shape", "kernel_shape"), LARGER)
def test_convolve2d_with_a_kernel_larger_than_the_image(rng, mode, image_shape, kernel_shape):
    image, kernel = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    expected = scipy.signal.convolve2d(image, kernel, mode)
    np.testing.assert_allclose(conv.convolve2d(image, kernel, mode), expected, rtol=0, atol=1e-10)


def test_convolve2d_is_correlation_with_the_flipped_kernel(rng):
    image, kernel = rng.normal(size=(12, 10)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(
        conv.convolve2d(image, kernel, "valid"), conv.conv2d(image, kernel[::-1, ::-1]), atol=1e-12
    )


# --- the output-size formula --------------------------------------------------------------------


def test_output_size_agrees_with_the_shapes(rng):
    for _ in range(40):
        n, k, s = int(rng.integers(1, 20)), int(rng.integers(1, 6)), int(rng.integers(1, 5))
        for padding in ("valid", "same", int(rng.integers(0, 3))):
            if padding == "valid" and k > n or isinstance(padding, int) and k > n + 2 * padding:
                continue
            out = conv.conv2d(np.ones((n, n + 1)), np.ones((k, 1)), stride=(s, 1), padding=padding)
            assert out.shape[0] == conv.output_size(n, k, s, padding), (n, k, s, padding)


def test_output_size_formulas():
    assert conv.output_size(4, 3) == 2  # the course's worked example
    assert conv.output_size(10, 4) == 7 and conv.output_size(7, 3) == 5  # its Keras listing
    assert conv.output_size(7, 3, stride=2) == 3 and conv.output_size(8, 3, stride=2) == 3
    assert conv.output_size(7, 3, stride=2, padding="same") == 4  # ceil(7 / 2)
    assert conv.output_size(5, 3, padding=1) == 5 and conv.output_size(5, 3, padding=2) == 7


# --- filters ------------------------------------------------------------------------------------


def test_edge_detector_is_the_course_kernel_and_ignores_flat_regions():
    kernel = conv.edge_detector()
    np.testing.assert_array_equal(kernel, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    assert kernel.sum() == 0
    np.testing.assert_allclose(conv.conv2d(np.full((6, 6), 0.7), kernel), 0.0, atol=1e-12)
    spot = np.zeros((5, 5))
    spot[2, 2] = 1.0
    assert conv.conv2d(spot, kernel)[1, 1] == 8.0


@pytest.mark.parametrize("kernel", [conv.box_blur(3), conv.box_blur(4), conv.gaussian_blur()])
def test_blurs_sum_to_one_and_keep_a_flat_image(kernel):
    np.testing.assert_allclose(kernel.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(conv.conv2d(np.full((9, 9), 0.3), kernel), 0.3, rtol=1e-12)


def test_gaussian_blur_is_symmetric_and_peaks_in_the_centre():
    kernel = conv.gaussian_blur(7, sigma=1.5)
    np.testing.assert_allclose(kernel, kernel.T)
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1])
    assert kernel.argmax() == 24 and kernel.shape == (7, 7)
    wide = conv.gaussian_blur(7, sigma=3.0)
    assert wide.max() < kernel.max()


def test_sharpen_sums_to_one():
    assert conv.sharpen().sum() == 1.0 and conv.sharpen()[1, 1] == 5.0


@pytest.mark.parametrize(
    ("name", "axis", "skimage_filter"),
    [("sobel_x", 1, skimage.filters.sobel_v), ("sobel_y", 0, skimage.filters.sobel_h)],
)
def test_sobel_matches_scipy_and_skimage(rng, name, axis, skimage_filter):
    image = rng.random((20, 24))
    ours = conv.conv2d(image, conv.get_filter(name))  # the interior [1:-1, 1:-1]
    np.testing.assert_allclose(ours, scipy.ndimage.sobel(image, axis=axis)[1:-1, 1:-1], atol=1e-12)
    theirs = skimage_filter(image)[1:-1, 1:-1]
    scale = np.sum(ours * theirs) / np.sum(ours * ours)  # skimage divides by 4
    assert abs(abs(scale) - 0.25) < 1e-12
    np.testing.assert_allclose(scale * ours, theirs, atol=1e-12)


def test_get_filter_by_name():
    for name in conv.FILTER_NAMES:
        assert conv.get_filter(name).ndim == 2
    np.testing.assert_array_equal(
        conv.get_filter("gaussian_blur", size=5, sigma=2.0), conv.gaussian_blur(5, 2.0)
    )
    np.testing.assert_array_equal(conv.get_filter("sobel_y"), conv.sobel_x().T)


# --- bad input: every error names the argument --------------------------------------------------

IMAGE, KERNEL = np.zeros((5, 5)), np.zeros((3, 3))
RGB, RGB_KERNEL = np.zeros((5, 5, 3)), np.zeros((3, 3, 3, 2))
CONV2D = (conv.conv2d, conv.conv2d_naive)

BAD_CONV2D = [
    ((IMAGE, np.zeros((6, 3))), {}, ValueError, "kernel is larger"),
    ((IMAGE, np.zeros((3, 7))), {"padding": 0}, ValueError, "kernel is larger"),
    ((RGB, np.zeros((3, 3, 2, 4))), {}, ValueError, "kernel has 2 input channels.*image has 3"),
    ((np.zeros(5), KERNEL), {}, ValueError, "image must be"),
    ((np.zeros((1, 1, 5, 5, 3)), RGB_KERNEL), {}, ValueError, "image must be"),
    ((IMAGE, RGB_KERNEL), {}, ValueError, "kernel must be \\[kh, kw\\]"),
    ((RGB, np.zeros((3, 3, 3))), {}, ValueError, "kernel must be \\[kh, kw, C_in, C_out\\]"),
    ((IMAGE, np.zeros((0, 3))), {}, ValueError, "kernel must not be empty"),
    ((IMAGE, KERNEL), {"stride": 0}, ValueError, "stride must be >= 1"),
    ((IMAGE, KERNEL), {"stride": (1, -2)}, ValueError, "stride must be >= 1"),
    ((IMAGE, KERNEL), {"stride": (1, 1, 1)}, ValueError, "stride must be an int or a pair"),
    ((IMAGE, KERNEL), {"stride": 1.5}, TypeError, "stride must be an int"),
    ((IMAGE, KERNEL), {"padding": "full"}, ValueError, "padding must be"),
    ((IMAGE, KERNEL), {"padding": -1}, ValueError, "padding must be"),
    ((IMAGE, KERNEL), {"padding": None}, ValueError, "padding must be"),
    (([["a", "b"], ["c", "d"]], KERNEL), {}, TypeError, "image must hold real numbers"),
    ((IMAGE, np.full((3, 3), 1j)), {}, TypeError, "kernel must hold real numbers"),
    ((IMAGE, [[1, 2], [3]]), {}, TypeError, "kernel must be an array of numbers"),
]


@pytest.mark.parametrize("function", CONV2D, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("args", "kwargs", "error", "match"), BAD_CONV2D)
def test_conv2d_rejects_bad_input(function, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((IMAGE, np.zeros((6, 2)), "valid"), ValueError, "kernel .* is larger than image"),
        ((IMAGE, KERNEL, "circular"), ValueError, "mode must be one of"),
        ((RGB, KERNEL, "full"), ValueError, "image must be 2-D"),
        ((IMAGE, RGB_KERNEL, "full"), ValueError, "kernel must be 2-D"),
        ((IMAGE, np.zeros((0, 0)), "same"), ValueError, "must not be empty"),
        ((IMAGE, [["x"]], "full"), TypeError, "kernel must hold real numbers"),
    ],
)
def test_convolve2d_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        conv.convolve2d(*args)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, 3), ValueError, "input_size must be >= 1"),
        ((5, 0), ValueError, "kernel_size must be >= 1"),
        ((5, 3, 0), ValueError, "stride must be >= 1"),
        ((5, 3, 1, "full"), ValueError, "padding must be"),
        ((2, 3), ValueError, "kernel_size 3 is larger"),
        ((5.0, 3), TypeError, "input_size must be an int"),
    ],
)
def test_output_size_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        conv.output_size(*args)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conv.box_blur(0), ValueError, "size must be >= 1"),
        (lambda: conv.gaussian_blur(5, sigma=0.0), ValueError, "sigma must be > 0"),
        (lambda: conv.gaussian_blur(5, sigma="1"), TypeError, "sigma must be a number"),
        (lambda: conv.gaussian_blur(2.5), TypeError, "size must be an int"),
        (lambda: conv.get_filter("laplace"), ValueError, "unknown filter name 'laplace'"),
        (lambda: conv.get_filter(3), TypeError, "name must be a str"),
    ],
)
def test_filters_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
