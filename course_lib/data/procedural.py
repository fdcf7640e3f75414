"""A procedural, colourful 10-class image data set: shapes and textures, made in NumPy.

``make_shapes_dataset(num_per_class)`` draws ``10 * num_per_class`` RGB images, one class of
``SHAPE_CLASSES`` each, in random colours on random backgrounds:

- four shapes at a random position, size and rotation: ``circle``, ``square``, ``triangle``,
  ``cross`` (a plus sign);
- six textures that fill the image, with a random period, phase and a small tilt:
  ``horizontal_stripes``, ``vertical_stripes``, ``diagonal_stripes`` (either diagonal),
  ``checkerboard``, ``dots`` (a polka-dot grid) and ``rings`` (concentric, about a random centre).

Edges are anti-aliased (each mask is ``clip(0.5 + signed distance in pixels, 0, 1)``), the
foreground and background colours are at least ``MIN_COLOUR_DISTANCE`` apart in RGB, and light
Gaussian noise (standard deviation ``NOISE_STD`` range) is added. The set is seeded and
deterministic, balanced (exactly ``num_per_class`` images per class) and shuffled. Generation is
vectorized over images: thousands of 48x48 images take well under a second.

It stands in for ImageNet offline: ``course_lib.zoo``'s ``shapes_cnn`` is trained on it, and its
channels (edges, colours, stripes, dots) are worth visualizing.
"""

from __future__ import annotations

import numpy as np

from course_lib import checks

#: The class names, indexed by label.
SHAPE_CLASSES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "cross",
    "horizontal_stripes",
    "vertical_stripes",
    "diagonal_stripes",
    "checkerboard",
    "dots",
    "rings",
)
NUM_SHAPE_CLASSES = len(SHAPE_CLASSES)

#: The default side of the square images, in pixels.
DEFAULT_IMAGE_SIZE = 48
#: The smallest and largest image sides accepted.
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 256
#: Smallest RGB (Euclidean) distance between an image's foreground and background colours.
MIN_COLOUR_DISTANCE = 0.5
#: Range of the per-image standard deviation of the added Gaussian noise.
NOISE_STD = (0.01, 0.04)
#: Range of the textures' period, as a fraction of the image side.
PERIOD_RANGE = (0.13, 0.25)
#: Largest tilt of the stripes and checkerboards away from their nominal angle (radians).
MAX_TILT = np.deg2rad(10.0)


def make_shapes_dataset(
    num_per_class: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws a balanced, shuffled set of procedural shape and texture images.

    Args:
        num_per_class: images per class (>= 1); the set holds ``N = 10 * num_per_class`` images.
        image_size: side ``S`` of the square images in pixels, in 16..256 (default 48).
        seed: a non-negative integer; the same seed gives the same images.

    Returns:
        ``(images, labels)``: float32 images ``[N, S, S, 3]`` in [0, 1] and int64 labels ``[N]``
        in 0..9, indexing ``SHAPE_CLASSES``.

    Raises:
        TypeError: if an argument is not an integer.
        ValueError: if ``num_per_class`` < 1, ``image_size`` is outside 16..256 or ``seed`` is
            negative (the message names the argument).
    """
    num_per_class = checks.positive_int("num_per_class", num_per_class)
    image_size = checks.integer("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
    seed = checks.non_negative_int("seed", seed)

    rng = np.random.default_rng(seed)
    size = image_size
    labels = rng.permutation(np.repeat(np.arange(NUM_SHAPE_CLASSES), num_per_class))
    masks = draw_masks(rng, labels, SHAPE_CLASSES, size)
    foreground, background = colour_pairs(rng, len(labels))
    # background + (foreground - background) * mask, then noise, in place (the arrays are large).
    images = (foreground - background)[:, None, None, :] * masks[..., None]
    images += background[:, None, None, :]
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noise *= rng.uniform(*NOISE_STD, size=(len(labels), 1, 1, 1)).astype(np.float32)
    images += noise
    np.clip(images, 0.0, 1.0, out=images)
    return images, labels.astype(np.int64)


def pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``, each ``[1, S, S]``: pixel centres, so that per-image ``[n, 1, 1]`` broadcast."""
    y, x = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    return x[None], y[None]


def draw_masks(
    rng: np.random.Generator, kinds: np.ndarray, names: tuple[str, ...], size: int
) -> np.ndarray:
    """``[n, S, S]`` anti-aliased masks: image ``i`` is a random ``names[kinds[i]]`` (a key of
    :data:`MASKS`), drawn kind by kind in the order of ``names``."""
    x, y = pixel_centres(size)
    masks = np.empty((len(kinds), size, size), dtype=np.float32)
    for kind, name in enumerate(names):
        index = np.flatnonzero(kinds == kind)
        if len(index):
            masks[index] = MASKS[name](rng, len(index), size, x, y)
    return masks


def colour_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``[n, 3]`` foreground and background colours at least ``MIN_COLOUR_DISTANCE`` apart."""
    foreground = rng.uniform(size=(n, 3)).astype(np.float32)
    background = rng.uniform(size=(n, 3)).astype(np.float32)
    close = np.linalg.norm(foreground - background, axis=1) < MIN_COLOUR_DISTANCE
    while close.any():  # rejection sampling; about a third of the pairs are redrawn each round
        background[close] = rng.uniform(size=(int(close.sum()), 3))
        close = np.linalg.norm(foreground - background, axis=1) < MIN_COLOUR_DISTANCE
    return foreground, background


def _column(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``[n, 1, 1]`` uniform draws, ready to broadcast against ``[1, S, S]`` pixel grids."""
    return rng.uniform(low, high, size=(n, 1, 1))


def _soft(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased mask from a signed distance in pixels (positive inside)."""
    return np.clip(0.5 + signed_distance, 0.0, 1.0).astype(np.float32)


def _soft_wave(phase: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Anti-aliased square wave: ``sin(phase)`` scaled to about a signed distance in pixels."""
    return _soft(np.sin(phase) * period / (2.0 * np.pi))


def _centre(rng, size, radius):
    """``[n, 1, 1]`` centres keeping a shape of bounding radius ``radius`` ``[n, 1, 1]`` inside."""
    return (
        rng.uniform(radius, size - radius, size=radius.shape),
        rng.uniform(radius, size - radius, size=radius.shape),
    )


def _rotated(rng, n, x, y, cx, cy):
    """Pixel coordinates relative to ``(cx, cy)``, rotated by a random angle per image."""
    angle = _column(rng, 0.0, 2.0 * np.pi, n)
    dx, dy = x - cx, y - cy
    cos, sin = np.cos(angle), np.sin(angle)
    return cos * dx + sin * dy, -sin * dx + cos * dy


def _circle(rng, n, size, x, y):
    radius = _column(rng, 0.15, 0.35, n) * size
    cx, cy = _centre(rng, size, radius + 1.0)
    return _soft(radius - np.hypot(x - cx, y - cy))


def _square(rng, n, size, x, y):
    half = _column(rng, 0.13, 0.25, n) * size
    cx, cy = _centre(rng, size, half * np.sqrt(2.0) + 1.0)
    u, v = _rotated(rng, n, x, y, cx, cy)
    return _soft(half - np.maximum(np.abs(u), np.abs(v)))


def _triangle(rng, n, size, x, y):
    """An equilateral triangle: inside all three edges' half-planes."""
    circumradius = _column(rng, 0.22, 0.42, n) * size
    cx, cy = _centre(rng, size, circumradius + 1.0)
    u, v = _rotated(rng, n, x, y, cx, cy)
    inradius = circumradius / 2.0
    normal_angles = np.pi / 2.0 + 2.0 * np.pi / 3.0 * np.arange(3)
    distance = np.max([u * np.cos(a) + v * np.sin(a) for a in normal_angles], axis=0)
    return _soft(inradius - distance)


def _cross(rng, n, size, x, y):
    """A plus sign: the union of two perpendicular bars."""
    arm = _column(rng, 0.2, 0.38, n) * size
    width = arm * _column(rng, 0.25, 0.4, n)
    cx, cy = _centre(rng, size, arm * np.sqrt(1.0 + 0.16) + 1.0)
    u, v = _rotated(rng, n, x, y, cx, cy)
    bar_u = np.minimum(arm - np.abs(u), width - np.abs(v))
    bar_v = np.minimum(width - np.abs(u), arm - np.abs(v))
    return _soft(np.maximum(bar_u, bar_v))


def stripes(rng, n, size, x, y, angle):
    """Stripes whose crests run along ``angle`` (0: horizontal), tilted by up to ``MAX_TILT``."""
    angle = angle + _column(rng, -MAX_TILT, MAX_TILT, n)
    period = _column(rng, *PERIOD_RANGE, n) * size
    phase = _column(rng, 0.0, 2.0 * np.pi, n)
    across = -np.sin(angle) * x + np.cos(angle) * y
    return _soft_wave(2.0 * np.pi * across / period + phase, period)


def _horizontal_stripes(rng, n, size, x, y):
    return stripes(rng, n, size, x, y, 0.0)


def _vertical_stripes(rng, n, size, x, y):
    return stripes(rng, n, size, x, y, np.pi / 2.0)


def _diagonal_stripes(rng, n, size, x, y):
    direction = np.where(rng.uniform(size=(n, 1, 1)) < 0.5, np.pi / 4.0, -np.pi / 4.0)
    return stripes(rng, n, size, x, y, direction)


def _lattice(rng, n, size, x, y):
    """Coordinates along a random, slightly tilted square lattice, with its period ``[n, 1, 1]``."""
    angle = _column(rng, -MAX_TILT, MAX_TILT, n)
    period = _column(rng, *PERIOD_RANGE, n) * size
    u = np.cos(angle) * x + np.sin(angle) * y + _column(rng, 0.0, 1.0, n) * period
    v = -np.sin(angle) * x + np.cos(angle) * y + _column(rng, 0.0, 1.0, n) * period
    return u, v, period


def _checkerboard(rng, n, size, x, y):
    u, v, period = _lattice(rng, n, size, x, y)
    wave = np.sin(np.pi * u / (period / 2.0)) * np.sin(np.pi * v / (period / 2.0))
    return _soft(wave * period / (2.0 * np.pi))


def _dots(rng, n, size, x, y):
    u, v, period = _lattice(rng, n, size, x, y)
    radius = period * _column(rng, 0.22, 0.32, n)
    du = np.mod(u, period) - period / 2.0
    dv = np.mod(v, period) - period / 2.0
    return _soft(radius - np.hypot(du, dv))


def _rings(rng, n, size, x, y):
    cx = _column(rng, 0.2, 0.8, n) * size
    cy = _column(rng, 0.2, 0.8, n) * size
    period = _column(rng, *PERIOD_RANGE, n) * size
    phase = _column(rng, 0.0, 2.0 * np.pi, n)
    return _soft_wave(2.0 * np.pi * np.hypot(x - cx, y - cy) / period + phase, period)


#: The mask of each class: ``(rng, n, size, x, y) -> [n, S, S]`` in [0, 1].
MASKS = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "cross": _cross,
    "horizontal_stripes": _horizontal_stripes,
    "vertical_stripes": _vertical_stripes,
    "diagonal_stripes": _diagonal_stripes,
    "checkerboard": _checkerboard,
    "dots": _dots,
    "rings": _rings,
}
