"""course_lib.lucid.optvis.param: pixel and FFT images, spectrum scaling, colour, image()."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.lucid.optvis import param
from course_lib.lucid.optvis.param import color, spatial


def test_pixel_image():
    tf.random.set_seed(0)
    p = spatial.pixel_image((2, 5, 6, 3), sd=0.1)
    images = p().numpy()
    assert images.shape == (2, 5, 6, 3) and p.shape == (2, 5, 6, 3)
    assert len(p.variables) == 1 and isinstance(p.variables[0], tf.Variable)
    assert 0.05 < images.std() < 0.15
    with pytest.raises(ValueError, match="shape"):
        spatial.pixel_image((5, 6, 3))
    with pytest.raises(ValueError, match="sd"):
        spatial.pixel_image((1, 5, 6, 3), sd=-1.0)


@pytest.mark.parametrize("h, w", [(8, 10), (9, 7)])
def test_fft_image_spectrum_is_scaled_by_one_over_f(h, w):
    tf.random.set_seed(1)
    p = spatial.fft_image((2, h, w, 3), sd=1.0, decay_power=1.0)
    images = p().numpy()
    assert images.shape == (2, h, w, 3)
    coefficients = p.variables[0].numpy()  # [B, C, H, W//2+1, 2]
    spectrum = np.fft.rfft2(np.transpose(images, (0, 3, 1, 2)) * 4.0)
    scale = spatial.spectrum_scale(h, w, 1.0)
    expected = (coefficients[..., 0] + 1j * coefficients[..., 1]) * scale
    # Columns other than 0 (and w/2 for even w) are free of irfft2's Hermitian projection.
    last = w // 2 if w % 2 == 0 else w // 2 + 1
    np.testing.assert_allclose(
        spectrum[..., 1:last], expected[..., 1:last], rtol=1e-3, atol=1e-3 * np.abs(expected).max()
    )


def test_spectrum_scale_values():
    h, w = 16, 16
    freqs = spatial.rfft2d_freqs(h, w)
    assert freqs.shape == (16, 9) and freqs[0, 0] == 0.0
    np.testing.assert_allclose(freqs[0, 4], 0.25)
    np.testing.assert_allclose(freqs[3, 4], np.hypot(3 / 16, 4 / 16))
    scale = spatial.spectrum_scale(h, w, 1.0)
    # 1/f: doubling the frequency halves the factor; the DC term is capped at 1/max(h, w).
    np.testing.assert_allclose(scale[0, 2] / scale[0, 4], 2.0, rtol=1e-6)
    np.testing.assert_allclose(scale[0, 0], scale[0, 1], rtol=1e-6)
    np.testing.assert_allclose(scale[0, 4], np.sqrt(h * w) / 0.25, rtol=1e-6)
    squared = spatial.spectrum_scale(h, w, 2.0)
    np.testing.assert_allclose(squared[0, 2] / squared[0, 4], 4.0, rtol=1e-6)


def test_color_correlation_matrix_properties():
    m = color.COLOR_CORRELATION_SVD_SQRT
    assert m.shape == (3, 3)
    gram = m.T @ m  # U sqrt(S): nearly orthogonal columns, decreasing norms
    off_diagonal = gram - np.diag(np.diag(gram))
    assert np.abs(off_diagonal).max() < 0.02 * gram[0, 0]
    norms = np.linalg.norm(m, axis=0)
    assert norms[0] > norms[1] > norms[2]
    assert np.all(m[:, 0] > 0)  # the first component is brightness
    assert abs(np.linalg.det(m)) > 1e-5
    np.testing.assert_allclose(np.linalg.norm(color.COLOR_CORRELATION_NORMALIZED, axis=0).max(), 1)
    covariance = m @ m.T  # the colour correlation it stands for: positive, symmetric
    assert np.all(covariance > 0)


def test_to_valid_rgb(rng):
    t = rng.normal(scale=3.0, size=(2, 4, 4, 3)).astype(np.float32)
    rgb = color.to_valid_rgb(t).numpy()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    mixed = t @ color.COLOR_CORRELATION_NORMALIZED.T
    np.testing.assert_allclose(rgb, 1 / (1 + np.exp(-mixed)), rtol=1e-5)
    plain = color.to_valid_rgb(t, decorrelate=False, sigmoid=False).numpy()
    np.testing.assert_allclose(plain, np.clip(t + 0.5, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(color.to_valid_rgb(np.zeros((1, 3), np.float32)), 0.5)
    x = tf.Variable(tf.fill([1, 3], 5.0))  # clipped, but the gradient still passes
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(color.to_valid_rgb(x, decorrelate=False, sigmoid=False))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 1.0)
    with pytest.raises(ValueError, match="3 colour channels"):
        color.to_valid_rgb(np.zeros((2, 4)))


@pytest.mark.parametrize("fft", [True, False])
@pytest.mark.parametrize("decorrelate", [True, False])
def test_image(fft, decorrelate):
    tf.random.set_seed(0)
    p = param.image(12, h=10, batch=3, fft=fft, decorrelate=decorrelate)
    images = p().numpy()
    assert images.shape == (3, 10, 12, 3) and p.shape == (3, 10, 12, 3)
    assert np.all((images > 0.4) & (images < 0.6))  # a near-grey start
    assert all(isinstance(v, tf.Variable) for v in p.variables)
    tf.random.set_seed(0)
    again = param.image(12, h=10, batch=3, fft=fft, decorrelate=decorrelate)().numpy()
    np.testing.assert_array_equal(images, again)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(p()[..., 0])
    gradients = tape.gradient(loss, p.variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in gradients)


def test_image_alpha_and_default_height():
    p = param.image(8, alpha=True)
    images = p().numpy()
    assert images.shape == (1, 8, 8, 4)
    assert images.min() >= 0 and images.max() <= 1
