"""MNIST as Keras serves it, with an offline substitute built from scikit-learn's digits.

``load_mnist()`` returns ``((x_train, y_train), (x_test, y_test))`` exactly as
``keras.datasets.mnist.load_data()`` does: uint8 images ``[N, 28, 28]`` in 0..255 and uint8 labels
``[N]`` in 0..9. The real data is used when Keras has it cached or the network answers; otherwise
(or when the download fails) the 1,797 8x8 digits shipped with scikit-learn are resized into a
20x20 box centred in 28x28, as MNIST centres its digits, scaled to 0..255 and split, stratified,
into 1,437 training and 360 test images. The substitute is announced in one line.

Which data came back is told by ``load_mnist(return_source=True)``: the source is ``MNIST``
(``"mnist"``) or ``DIGITS`` (``"sklearn_digits"``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from course_lib import checks, config

#: The real MNIST, as downloaded by Keras.
MNIST = "mnist"
#: The offline substitute: scikit-learn's 8x8 digits resized to 28x28.
DIGITS = "sklearn_digits"
SOURCES = (MNIST, DIGITS)

IMAGE_SIZE = 28
#: Side of the box the substitute's digits are resized into (MNIST's digits fit in 20x20).
DIGIT_BOX = 20
#: Images held out for testing in the substitute (20% of scikit-learn's 1,797 digits).
DIGITS_TEST_SIZE = 360
#: Seed of the substitute's stratified train/test split.
DIGITS_SPLIT_SEED = 0

Split = tuple[np.ndarray, np.ndarray]


def mnist_cache_paths() -> list[Path]:
    """Where Keras keeps a downloaded ``mnist.npz`` (``$KERAS_HOME`` or ``~/.keras``, then /tmp)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return [home / "datasets" / "mnist.npz", Path("/tmp/.keras/datasets/mnist.npz")]


def is_mnist_cached() -> bool:
    """True when Keras can load MNIST without the network."""
    return any(path.is_file() for path in mnist_cache_paths())


def load_mnist(
    return_source: bool = False,
) -> tuple[Split, Split] | tuple[tuple[Split, Split], str]:
    """MNIST (or its offline substitute) as ``keras.datasets.mnist.load_data()`` returns it.

    Args:
        return_source: also return which data came back, ``MNIST`` or ``DIGITS``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with uint8 images ``[N, 28, 28]`` (0..255) and
        uint8 labels ``[N]`` (0..9); with ``return_source``, the pair ``(data, source)``.
        Offline, N is 1,437 (train) and 360 (test) instead of 60,000 and 10,000.

    Raises:
        TypeError: if ``return_source`` is not a bool.
    """
    checks.boolean("return_source", return_source)
    data, source = None, DIGITS
    reason = "Offline"
    if is_mnist_cached() or config.is_online():
        try:
            data = _load_keras_mnist()
            source = MNIST
        except Exception as error:  # noqa: BLE001 - any download failure falls back the same way
            reason = f"MNIST download failed ({type(error).__name__})"
    if data is None:
        data = _copy(_digits_as_mnist())
        (x_train, _), (x_test, _) = data
        config.announce(
            f"{reason}: using scikit-learn's digits resized to 28x28 "
            f"({len(x_train)} train / {len(x_test)} test) in place of MNIST."
        )
    return (data, source) if return_source else data


def _load_keras_mnist() -> tuple[Split, Split]:
    import keras

    return keras.datasets.mnist.load_data()


def _copy(data: tuple[Split, Split]) -> tuple[Split, Split]:
    (x_train, y_train), (x_test, y_test) = data
    return (x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy())


@functools.lru_cache(maxsize=1)
def _digits_as_mnist() -> tuple[Split, Split]:
    """scikit-learn's digits in MNIST's format, split deterministically (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits_to_mnist_images(digits.images)
    labels = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=DIGITS_TEST_SIZE,
        stratify=labels,
        random_state=DIGITS_SPLIT_SEED,
    )
    return (x_train, y_train), (x_test, y_test)


def digits_to_mnist_images(images: np.ndarray) -> np.ndarray:
    """Resizes scikit-learn digits (``[N, 8, 8]``, 0..16) to MNIST's format.

    Each digit is resized bilinearly into a 20x20 box centred in a black 28x28 image and its
    intensities are scaled from 0..16 to 0..255.

    Args:
        images: ``[N, 8, 8]`` intensities in 0..16.

    Returns:
        ``[N, 28, 28]`` uint8 images in 0..255.

    Raises:
        ValueError: if ``images`` is not ``[N, 8, 8]``.
    """
    from skimage.transform import resize

    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape [N, 8, 8], got {list(images.shape)}")
    box = resize(
        images / 16.0,
        (len(images), DIGIT_BOX, DIGIT_BOX),
        order=1,
        mode="edge",
        anti_aliasing=False,
    )
    out = np.zeros((len(images), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    start = (IMAGE_SIZE - DIGIT_BOX) // 2
    out[:, start : start + DIGIT_BOX, start : start + DIGIT_BOX] = np.round(
        np.clip(box, 0.0, 1.0) * 255.0
    ).astype(np.uint8)
    return out
