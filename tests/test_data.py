"""course_lib.data: MNIST with its offline substitute, and the scikit-image helpers."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.color
import skimage.data

from course_lib import config, data
from course_lib.data import mnist


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and no cached MNIST: the substitute must be used."""
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(mnist, "mnist_cache_paths", lambda: [tmp_path / "keras/mnist.npz"])
    config.is_online.cache_clear()
    monkeypatch.setattr(config, "_announced", set())
    yield
    config.is_online.cache_clear()


def test_offline_mnist_keeps_keras_contract(offline):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (1437, 28, 28) and x_test.shape == (360, 28, 28)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert x_train.min() == 0 and x_train.max() == 255
    for labels in (y_train, y_test):
        assert set(np.unique(labels)) == set(range(10))


def test_offline_digits_are_centred_in_a_20_pixel_box(offline):
    (x_train, _), _ = data.load_mnist()
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert not x_train[:, border].any()
    assert x_train[:, 4:24, 4:24].max(axis=(1, 2)).min() > 100  # every digit has ink


def test_offline_mnist_is_deterministic_and_stratified(offline):
    first = data.load_mnist()
    second = data.load_mnist()
    for a, b in zip((*first[0], *first[1]), (*second[0], *second[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    first[0][0][:] = 0  # the caller owns its copy
    assert data.load_mnist()[0][0].any()
    train_share = np.bincount(first[0][1]) / len(first[0][1])
    test_share = np.bincount(first[1][1]) / len(first[1][1])
    np.testing.assert_allclose(train_share, test_share, atol=0.01)


def test_offline_substitute_is_announced_once_in_one_line(offline, capsys):
    _, source = data.load_mnist(return_source=True)
    data.load_mnist()
    out = capsys.readouterr()
    assert source == data.DIGITS
    assert out.err == ""
    lines = out.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Offline:") and "1437 train / 360 test" in lines[0]


def test_failed_download_falls_back_to_the_substitute(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(mnist, "mnist_cache_paths", lambda: [tmp_path / "mnist.npz"])
    monkeypatch.setattr(config, "is_online", lambda: True)
    monkeypatch.setattr(config, "_announced", set())

    def refuse():
        raise OSError("no route to host")

    monkeypatch.setattr(mnist, "_load_keras_mnist", refuse)
    (x_train, _), _ = data.load_mnist()
    assert x_train.shape == (1437, 28, 28)
    assert "MNIST download failed (OSError)" in capsys.readouterr().out


def test_cached_mnist_is_loaded_by_keras(monkeypatch, tmp_path):
    cached = tmp_path / "mnist.npz"
    cached.write_bytes(b"")
    monkeypatch.setattr(mnist, "mnist_cache_paths", lambda: [cached])
    fake = ((np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)),) * 2
    monkeypatch.setattr(mnist, "_load_keras_mnist", lambda: fake)
    monkeypatch.setattr(config, "is_online", lambda: pytest.fail("the cache must be enough"))
    loaded, source = data.load_mnist(return_source=True)
    assert source == data.MNIST and loaded is fake


def test_load_mnist_rejects_a_non_bool_flag():
    with pytest.raises(TypeError, match="return_source"):
        data.load_mnist(return_source="yes")


def test_digits_to_mnist_images_checks_its_input():
    with pytest.raises(ValueError, match="images"):
        data.digits_to_mnist_images(np.zeros((3, 28, 28)))
    full = data.digits_to_mnist_images(np.full((1, 8, 8), 16.0))
    assert full[0, 4:24, 4:24].min() == 255 and full.sum() == 255 * 400


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee", "chelsea", "horse"])
def test_load_image_matches_skimage_as_float(name):
    image = data.load_image(name)
    original = getattr(skimage.data, name)()
    assert image.dtype == np.float32 and image.shape == original.shape
    assert 0.0 <= image.min() and image.max() <= 1.0
    scale = 1.0 if original.dtype == bool else 255.0
    np.testing.assert_allclose(image, original / scale, atol=1e-6)


def test_load_image_rejects_unknown_names_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="astronaut.*camera"):
        data.load_image("lena")
    with pytest.raises(TypeError, match="name"):
        data.load_image(3)


def test_to_grayscale_matches_skimage():
    for name in ("astronaut", "coffee"):
        image = data.load_image(name)
        np.testing.assert_allclose(
            data.to_grayscale(image), skimage.color.rgb2gray(image), atol=1e-6
        )
    uint8 = skimage.data.chelsea()
    np.testing.assert_allclose(data.to_grayscale(uint8), skimage.color.rgb2gray(uint8), atol=1e-6)


def test_to_grayscale_handles_batches_and_grey_images(rng):
    batch = rng.uniform(size=(2, 5, 4, 3)).astype(np.float32)
    grey = data.to_grayscale(batch)
    assert grey.shape == (2, 5, 4)
    np.testing.assert_allclose(grey[1], skimage.color.rgb2gray(batch[1]), atol=1e-6)
    camera = data.load_image("camera")
    np.testing.assert_array_equal(data.to_grayscale(camera), camera)


def test_to_grayscale_rejects_other_channel_counts():
    with pytest.raises(ValueError, match="image"):
        data.to_grayscale(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="image"):
        data.to_grayscale(np.zeros(5))
