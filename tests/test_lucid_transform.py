"""course_lib.lucid.optvis.transform: shapes, exact crops and rotations, seeds, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib.lucid.optvis import transform


@pytest.fixture
def images(rng):
    return rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)


def test_pad(images):
    out = transform.pad(3, mode="CONSTANT", constant_value=0.25)(images).numpy()
    assert out.shape == (2, 22, 22, 3)
    np.testing.assert_array_equal(out[:, 3:-3, 3:-3], images)
    assert np.all(out[:, :3] == 0.25) and np.all(out[:, :, -3:] == 0.25)
    reflected = transform.pad(2)(images).numpy()
    np.testing.assert_array_equal(
        reflected, np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], "reflect")
    )
    with pytest.raises(ValueError, match="mode"):
        transform.pad(2, mode="WRAP")
    with pytest.raises(ValueError, match="w"):
        transform.pad(-1)


def test_jitter_with_offsets(images):
    out = transform.jitter_with_offsets(images, 4, [1, 3]).numpy()
    np.testing.assert_array_equal(out, images[:, 1:13, 3:15])


def test_jitter_is_a_random_crop(images):
    tf.random.set_seed(3)
    seen = set()
    for _ in range(30):
        out = transform.jitter(4)(images).numpy()
        assert out.shape == (2, 12, 12, 3)
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(out, images[:, dy : dy + 12, dx : dx + 12])
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 5
    np.testing.assert_array_equal(transform.jitter(0)(images), images)


def test_random_scale_sizes(images):
    tf.random.set_seed(0)
    sizes = {transform.random_scale([0.5, 1.5])(images).shape[1] for _ in range(20)}
    assert sizes == {8, 24}
    with pytest.raises(ValueError, match="scales"):
        transform.random_scale([])


def test_rotate(images):
    square = images[:1, :, :, :1]
    np.testing.assert_allclose(transform.rotate(square, tf.constant(0.0)), square, atol=1e-5)
    quarter = transform.rotate(square, tf.constant(np.pi / 2)).numpy()
    # A quarter turn about the centre maps the grid onto itself (either direction).
    candidates = [np.rot90(square, k, axes=(1, 2)) for k in (1, 3)]
    assert min(np.abs(quarter - c).max() for c in candidates) < 1e-4
    tf.random.set_seed(0)
    out = transform.random_rotate([90.0])(square).numpy()
    np.testing.assert_allclose(out, quarter, atol=1e-5)
    with pytest.raises(ValueError, match="units"):
        transform.random_rotate([1.0], units="turns")


def test_standard_transforms_reproducible_and_differentiable(images):
    t = transform.compose(transform.standard_transforms)

    def run(seed):
        tf.random.set_seed(seed)
        return [t(images).numpy() for _ in range(3)]

    first, second, other = run(5), run(5), run(6)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(
        a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(first, other, strict=True)
    )
    for out in first:  # 16 + 24 - 8 = 32, scaled by 0.9..1.1, minus 4
        assert out.shape[0] == 2 and 24 <= out.shape[1] <= 32 and out.shape[1] == out.shape[2]
    x = tf.Variable(images)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(t(x) ** 2)
    gradient = tape.gradient(loss, x).numpy()
    assert np.isfinite(gradient).all() and np.abs(gradient).sum() > 0


def test_transforms_in_tf_function(images):
    compiled = tf.function(transform.compose(transform.standard_transforms))
    tf.random.set_seed(0)
    shapes = {compiled(tf.constant(images)).shape[1] for _ in range(8)}
    assert len(shapes) > 1  # fresh randomness each call, one trace
    assert compiled.experimental_get_tracing_count() == 1
