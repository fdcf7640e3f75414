"""Named 2-D filters (``[k, k]`` float64 kernels), to use with :func:`course_lib.conv.conv2d`.

All are meant for cross-correlation (``conv2d``); the symmetric ones give the same result with
``convolve2d``, while the Sobel kernels change sign when flipped.

- :func:`edge_detector`: the course's ``8`` surrounded by ``-1``; sums to 0, so flat regions
  give 0 and only changes (edges) respond;
- :func:`box_blur`, :func:`gaussian_blur`: averages, each summing to 1 (brightness kept);
- :func:`sharpen`: identity plus a Laplacian edge term, sums to 1;
- :func:`sobel_x`, :func:`sobel_y`: smoothed derivatives along the columns (x, to the right)
  and along the rows (y, downwards).

:func:`get_filter` returns any of them by name (``FILTER_NAMES``).
"""

from __future__ import annotations

import numpy as np

from course_lib.checks import positive_float, positive_int

FILTER_NAMES = ("edge_detector", "box_blur", "gaussian_blur", "sharpen", "sobel_x", "sobel_y")


def edge_detector() -> np.ndarray:
    """The course's edge detector: ``8`` in the centre, ``-1`` around it.

    The response ``8 * centre - sum(neighbours)`` is zero wherever the eight neighbours equal the
    centre pixel, and large where the centre differs from its surroundings.

    Returns:
        ``[3, 3]`` float64, summing to 0.
    """
    kernel = -np.ones((3, 3))
    kernel[1, 1] = 8.0
    return kernel


def box_blur(size: int = 3) -> np.ndarray:
    """The mean of a ``size x size`` neighbourhood.

    Args:
        size: the side of the square, an int >= 1.

    Returns:
        ``[size, size]`` float64, every entry ``1 / size**2``.

    Raises:
        TypeError: if ``size`` is not an int.
        ValueError: if ``size`` < 1.
    """
    size = positive_int("size", size)
    return np.full((size, size), 1.0 / size**2)


def gaussian_blur(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A sampled, normalized Gaussian ``exp(-(x^2 + y^2) / (2 sigma^2))`` centred in the square.

    Args:
        size: the side of the square, an int >= 1 (odd sizes have a centre pixel).
        sigma: the standard deviation in pixels, > 0.

    Returns:
        ``[size, size]`` float64, symmetric, summing to 1.

    Raises:
        TypeError: if ``size`` is not an int or ``sigma`` not a number.
        ValueError: if ``size`` < 1 or ``sigma`` <= 0.
    """
    size = positive_int("size", size)
    sigma = positive_float("sigma", sigma)
    x = np.arange(size) - (size - 1) / 2.0
    profile = np.exp(-(x**2) / (2.0 * sigma**2))
    kernel = np.outer(profile, profile)
    return kernel / kernel.sum()


def sharpen() -> np.ndarray:
    """Sharpening: the pixel plus its difference from its four neighbours.

    Returns:
        ``[3, 3]`` float64 ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``, summing to 1.
    """
    return np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])


def sobel_x() -> np.ndarray:
    """Sobel derivative along x (the columns), smoothed along y.

    As a cross-correlation it gives ``right - left`` (weights 1, 2, 1 down the rows): positive
    where the image brightens to the right, large on vertical edges. Equal to
    ``scipy.ndimage.sobel(image, axis=1)`` away from the border.

    Returns:
        ``[3, 3]`` float64 ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``, summing to 0.
    """
    return np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_y() -> np.ndarray:
    """Sobel derivative along y (the rows, downwards), smoothed along x.

    The transpose of :func:`sobel_x`: large on horizontal edges. Equal to
    ``scipy.ndimage.sobel(image, axis=0)`` away from the border.

    Returns:
        ``[3, 3]`` float64 ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]``, summing to 0.
    """
    return sobel_x().T.copy()


_FILTERS = {
    "edge_detector": edge_detector,
    "box_blur": box_blur,
    "gaussian_blur": gaussian_blur,
    "sharpen": sharpen,
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
}


def get_filter(name: str, **options: object) -> np.ndarray:
    """A named filter, e.g. ``get_filter("gaussian_blur", size=7, sigma=2.0)``.

    Args:
        name: one of ``FILTER_NAMES``.
        **options: the filter's own arguments (``size`` for ``box_blur``; ``size`` and
            ``sigma`` for ``gaussian_blur``; none for the others).

    Returns:
        The ``[k, k]`` float64 kernel.

    Raises:
        TypeError: if ``name`` is not a string, or an option is not one the filter takes.
        ValueError: if ``name`` is not one of ``FILTER_NAMES`` (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _FILTERS:
        raise ValueError(f"unknown filter name {name!r}; choose one of: {', '.join(FILTER_NAMES)}")
    return _FILTERS[name](**options)
