"""Test images from scikit-image (shipped with the package, no download) and colour helpers."""

from __future__ import annotations

import numpy as np

#: ``skimage.data`` images that ship with scikit-image (no download), RGB or greyscale.
IMAGE_NAMES = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "checkerboard",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)

#: ITU-R BT.709 luma weights, as ``skimage.color.rgb2gray`` uses them.
RGB_TO_GRAY = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)


def load_image(name: str) -> np.ndarray:
    """A scikit-image test image as float32 in [0, 1].

    Args:
        name: one of ``IMAGE_NAMES`` (e.g. ``"astronaut"``, ``"camera"``, ``"coffee"``).

    Returns:
        ``[H, W, 3]`` for colour images, ``[H, W]`` for greyscale ones, float32 in [0, 1].

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not one of ``IMAGE_NAMES`` (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in IMAGE_NAMES:
        raise ValueError(f"unknown image name {name!r}; choose one of: {', '.join(IMAGE_NAMES)}")
    import skimage.data
    from skimage.util import img_as_float32

    return img_as_float32(getattr(skimage.data, name)())


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Luminance of RGB images, as ``skimage.color.rgb2gray`` computes it.

    Args:
        image: ``[..., H, W, 3]`` RGB (floats in [0, 1], or integers scaled by their dtype's
            maximum), or ``[H, W]`` greyscale, returned as float32 unchanged.

    Returns:
        ``[..., H, W]`` float32 luminance in [0, 1].

    Raises:
        ValueError: if ``image`` is neither ``[H, W]`` nor ``[..., H, W, 3]``.
    """
    from skimage.util import img_as_float32

    image = np.asarray(image)
    if image.ndim == 2:
        return img_as_float32(image)
    if image.ndim < 3 or image.shape[-1] != 3:
        raise ValueError(
            f"image must be [H, W] greyscale or [..., H, W, 3] RGB, got shape {list(image.shape)}"
        )
    return np.tensordot(img_as_float32(image), RGB_TO_GRAY, axes=([-1], [0])).astype(np.float32)
