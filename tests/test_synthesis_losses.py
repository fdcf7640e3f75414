"""course_lib.synthesis.losses: SSIM against scikit-image and a NumPy box filter, the photometric
error and loss against their closed forms, the edge-aware smoothness against NumPy, gradients
against finite differences, constant windows (zero variance), argument errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage
from skimage.metrics import structural_similarity

from course_lib.synthesis import photometric_error, photometric_loss, smoothness_loss, ssim

B, H, W, C = 2, 12, 14, 3
C1, C2 = 0.01**2, 0.03**2


def _pair(seed=0, noise=0.1, shape=(B, H, W, C)):
    """An image in [0, 1] and a noisy copy of it (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.random(shape)
    return x, np.clip(x + rng.normal(0.0, noise, shape), 0.0, 1.0)


def _numpy_ssim(x, y):
    """SSIM over 3 x 3 box windows; scipy's "mirror" border is TensorFlow's "REFLECT" (the edge
    pixel not repeated)."""

    def box(a):
        return ndimage.uniform_filter(a, size=(1, 3, 3, 1), mode="mirror")

    mx, my = box(x), box(y)
    sx, sy, sxy = box(x * x) - mx * mx, box(y * y) - my * my, box(x * y) - mx * my
    return ((2 * mx * my + C1) * (2 * sxy + C2)) / ((mx * mx + my * my + C1) * (sx + sy + C2))


def _numpy_error(target, warped, alpha=0.85):
    dssim = np.clip((1.0 - _numpy_ssim(target, warped)) / 2.0, 0.0, 1.0)
    return np.mean(alpha * dssim + (1.0 - alpha) * np.abs(target - warped), axis=-1)


def _numpy_smoothness(field, image):
    if field.ndim == 3:
        field = field[..., None]
    total = 0.0
    for axis in (1, 2):
        df = np.abs(np.diff(field, axis=axis)).sum(-1)
        di = np.abs(np.diff(image, axis=axis)).mean(-1)
        total += np.mean(df * np.exp(-di))
    return total


def test_ssim_matches_scikit_image_inside_the_border():
    x, y = _pair()
    got = ssim(x, y).numpy()
    assert got.shape == x.shape
    for b in range(B):
        _, want = structural_similarity(
            x[b], y[b], win_size=3, channel_axis=-1, data_range=1, gaussian_weights=False,
            use_sample_covariance=False, full=True,
        )  # fmt: skip
        # skimage pads by repeating the edge pixel; only the outermost ring sees the padding.
        np.testing.assert_allclose(got[b, 1:-1, 1:-1], want[1:-1, 1:-1], atol=1e-6)


def test_ssim_matches_a_numpy_box_filter_with_reflected_borders_everywhere():
    x, y = _pair(1)
    np.testing.assert_allclose(ssim(x, y).numpy(), _numpy_ssim(x, y), atol=1e-10)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    got = ssim(x32, y32)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), _numpy_ssim(x, y), atol=1e-4)


def test_ssim_of_an_image_with_itself_is_one():
    x, _ = _pair(2)
    np.testing.assert_allclose(ssim(x, x).numpy(), 1.0, atol=1e-12)
    flat = np.full((1, 5, 6, 1), 0.3)
    np.testing.assert_allclose(ssim(flat, flat).numpy(), 1.0, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.85, 0.0, 1.0, 0.5])
def test_photometric_error_matches_the_closed_form(alpha):
    target, warped = _pair(3)
    got = photometric_error(target, warped, alpha=alpha).numpy()
    assert got.shape == (B, H, W)
    np.testing.assert_allclose(got, _numpy_error(target, warped, alpha), atol=1e-10)
    if alpha == 0.0:
        np.testing.assert_allclose(got, np.abs(target - warped).mean(-1), atol=1e-12)


def test_photometric_error_is_zero_where_the_images_agree():
    target, _ = _pair(4)
    np.testing.assert_allclose(photometric_error(target, target).numpy(), 0.0, atol=1e-12)


def test_photometric_loss_is_the_masked_mean_by_hand():
    target, warped = _pair(5)
    error = _numpy_error(target, warped)
    rng = np.random.default_rng(5)
    mask = (rng.random((B, H, W)) < 0.6).astype(np.float64)
    got = float(photometric_loss(target, warped, mask))
    assert got == pytest.approx(np.sum(error * mask) / np.sum(mask), abs=1e-12)
    weights = rng.random((B, H, W))  # soft weights in [0, 1]
    got = float(photometric_loss(target, warped, weights))
    assert got == pytest.approx(np.sum(error * weights) / np.sum(weights), abs=1e-12)
    assert float(photometric_loss(target, warped)) == pytest.approx(error.mean(), abs=1e-12)


def test_photometric_loss_of_an_empty_mask_is_zero_not_nan_with_finite_gradients():
    target, warped = _pair(6)
    warped = tf.Variable(warped)
    with tf.GradientTape() as tape:
        loss = photometric_loss(target, warped, np.zeros((B, H, W)))
    assert float(loss) == 0.0
    gradient = tape.gradient(loss, warped).numpy()
    assert np.all(np.isfinite(gradient)) and np.all(gradient == 0.0)


def test_smoothness_matches_numpy_for_depth_and_flow_fields():
    rng = np.random.default_rng(7)
    image = rng.random((B, H, W, C))
    depth = rng.random((B, H, W))
    flow = rng.normal(size=(B, H, W, 3))
    got = float(smoothness_loss(depth, image))
    assert got == pytest.approx(_numpy_smoothness(depth, image), abs=1e-12)
    got = float(smoothness_loss(flow, image))
    assert got == pytest.approx(_numpy_smoothness(flow, image), abs=1e-12)


def test_smoothness_is_zero_for_a_constant_field_and_lower_across_an_image_edge():
    rng = np.random.default_rng(8)
    image = rng.random((1, H, W, C))
    assert float(smoothness_loss(np.full((1, H, W), 2.5), image)) == 0.0
    step = np.zeros((1, H, W))
    step[..., W // 2 :] = 1.0
    edge = np.full((1, H, W, C), 0.2)
    edge[:, :, W // 2 :] = 0.9  # the image's edge is where the field jumps
    flat = np.full((1, H, W, C), 0.2)
    at_edge, on_flat = float(smoothness_loss(step, edge)), float(smoothness_loss(step, flat))
    assert on_flat == pytest.approx(H / (H * (W - 1)))  # one jump of 1 per row, mean over dx
    assert at_edge == pytest.approx(on_flat * np.exp(-0.7))
    assert at_edge < on_flat


def _check_gradient(fn, x):
    theoretical, numerical = tf.test.compute_gradient(fn, [tf.constant(x)], delta=1e-6)
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


def test_gradients_match_finite_differences():
    target, warped = _pair(9, shape=(1, 5, 6, 2))
    mask = (np.random.default_rng(9).random((1, 5, 6)) < 0.7).astype(np.float64)
    _check_gradient(lambda w: ssim(target, w), warped)
    _check_gradient(lambda w: photometric_loss(target, w, mask), warped)
    _check_gradient(lambda w: photometric_loss(target, w), warped)
    field = np.random.default_rng(10).normal(size=(1, 5, 6, 2))
    _check_gradient(lambda f: smoothness_loss(f, target), field)


def test_gradients_are_finite_where_the_windows_are_constant():
    """Zero variance in every window: the SSIM's second factor is C2 / C2 and its gradient is
    finite (the constants keep the denominators away from 0), also for a black image."""
    for value in (0.0, 0.4):
        target = np.full((1, 6, 7, 3), value)
        warped = tf.Variable(np.full((1, 6, 7, 3), value + 0.1))
        with tf.GradientTape(persistent=True) as tape:
            similarity = ssim(target, warped)
            loss = photometric_loss(target, warped)
        assert np.all(np.isfinite(similarity.numpy()))
        for result in (similarity, loss):
            gradient = tape.gradient(result, warped).numpy()
            assert np.all(np.isfinite(gradient))
        same = tf.Variable(target)
        with tf.GradientTape() as tape:
            loss = photometric_loss(target, same)
        assert float(loss) == pytest.approx(0.0, abs=1e-12)
        assert np.all(np.isfinite(tape.gradient(loss, same).numpy()))


_IMAGES = np.zeros((1, 4, 5, 3))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ssim(np.zeros((4, 5, 3)), np.zeros((4, 5, 3))), "x"),
        (lambda: ssim(_IMAGES, np.zeros((1, 4, 6, 3))), "y"),
        (lambda: ssim(_IMAGES, np.zeros((4, 5, 3))), "y"),
        (lambda: ssim(np.zeros((1, 4, 5, 3), np.int32), _IMAGES), "x"),
        (lambda: ssim(_IMAGES, np.zeros((1, 4, 5, 3), np.uint8)), "y"),
        (lambda: ssim(_IMAGES, _IMAGES.astype(np.float32)), "y"),
        (lambda: photometric_error(_IMAGES, np.zeros((1, 4, 5, 1))), "warped"),
        (lambda: photometric_error(np.zeros((4, 5, 3)), np.zeros((4, 5, 3))), "target"),
        (lambda: photometric_error(_IMAGES, _IMAGES, alpha=1.5), "alpha"),
        (lambda: photometric_error(_IMAGES, _IMAGES, alpha=-0.1), "alpha"),
        (lambda: photometric_loss(_IMAGES, _IMAGES, alpha=2.0), "alpha"),
        (lambda: photometric_loss(_IMAGES, _IMAGES, np.ones((1, 4, 6))), "mask"),
        (lambda: photometric_loss(_IMAGES, _IMAGES, np.ones((1, 4, 5, 3))), "mask"),
        (lambda: photometric_loss(_IMAGES, _IMAGES, np.ones((1, 4, 5), np.int64)), "mask"),
        (lambda: photometric_loss(_IMAGES, np.zeros((1, 4, 5, 3), np.int32)), "warped"),
        (lambda: smoothness_loss(np.zeros((4, 5)), _IMAGES), "field"),
        (lambda: smoothness_loss(np.zeros((1, 4, 5, 2, 1)), _IMAGES), "field"),
        (lambda: smoothness_loss(np.zeros((1, 4, 6)), _IMAGES), "field"),
        (lambda: smoothness_loss(np.zeros((1, 4, 5), np.int32), _IMAGES), "field"),
        (lambda: smoothness_loss(np.zeros((1, 4, 5)), np.zeros((4, 5, 3))), "image"),
        (lambda: ssim(np.zeros((1, 1, 5, 3)), np.zeros((1, 1, 5, 3))), "x"),
        (lambda: smoothness_loss(np.zeros((1, 1, 5)), np.zeros((1, 1, 5, 3))), "image"),
    ],
)
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
