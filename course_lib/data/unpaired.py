"""Two unpaired image domains for CycleGAN: horse2zebra online, procedural shapes offline.

- :func:`make_fill_domains`: the offline pair, made in NumPy from a seed. Domain X holds shapes
  (circles, squares, triangles, crosses at a random position, size and rotation, drawn by
  :mod:`course_lib.data.procedural`) filled with one solid colour; domain Y holds the same kind
  of shapes, drawn independently (no image of X has a partner in Y), filled with stripes of
  that colour and a tint of it (lighter or darker), running at a random angle. Translating X
  to Y means painting stripes inside the outline; Y to X, filling them in.
- :func:`load_horse2zebra`: the CycleGAN authors' horse2zebra zip (1,067 horses and 1,334
  zebras to train on, 120 and 140 to test), the data of TensorFlow's CycleGAN tutorial, which
  reads it through ``tensorflow_datasets``; the course reads the zip itself.
- :func:`load_unpaired`: horse2zebra when the network answers, the procedural pair otherwise
  (announced in one line).

Every loader returns an :class:`UnpairedDomains`: float32 images ``[N, S, S, 3]`` in [0, 1].
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np

from course_lib import checks, config
from course_lib.data.procedural import (
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    NOISE_STD,
    colour_pairs,
    draw_masks,
    pixel_centres,
    stripes,
)

#: The CycleGAN authors' horse2zebra archive (111 MB).
HORSE2ZEBRA_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"
#: The folders of the archive: train and test images of domains A (horses) and B (zebras).
HORSE2ZEBRA_FOLDERS = ("trainA", "trainB", "testA", "testB")
#: The shapes of the procedural domains.
FILL_SHAPES = ("circle", "square", "triangle", "cross")
#: The sources :func:`load_unpaired` may return.
HORSE2ZEBRA, FILL_DOMAINS = "horse2zebra", "procedural_fill"


@dataclasses.dataclass(frozen=True)
class UnpairedDomains:
    """Train and test images of two domains, ``[N, S, S, 3]`` float32 in [0, 1] each."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    names: tuple[str, str]
    source: str

    @property
    def image_size(self) -> int:
        return int(self.train_x.shape[1])


def _shape_masks(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``[n, S, S]`` anti-aliased masks of random shapes (one of ``FILL_SHAPES`` each)."""
    return draw_masks(rng, rng.integers(0, len(FILL_SHAPES), size=n), FILL_SHAPES, size)


def _tint(colours: np.ndarray) -> np.ndarray:
    """``[n, 3]`` a dark shade of light colours and a light tint of dark ones (the stripes')."""
    light = colours.mean(axis=1, keepdims=True) > 0.5
    return np.where(light, 0.25 * colours, colours + 0.75 * (1.0 - colours)).astype(np.float32)


def _draw_domain(rng: np.random.Generator, n: int, size: int, striped: bool) -> np.ndarray:
    """``[n, S, S, 3]`` shapes, solid or striped, on plain backgrounds, with light noise."""
    masks = _shape_masks(rng, n, size)[..., None]
    foreground, background = colour_pairs(rng, n)
    fill = np.broadcast_to(foreground[:, None, None, :], (n, size, size, 3))
    if striped:
        angle = rng.uniform(0.0, np.pi, size=(n, 1, 1))
        waves = stripes(rng, n, size, *pixel_centres(size), angle)[..., None]
        tint = _tint(foreground)[:, None, None, :]
        fill = tint + (fill - tint) * waves
    images = background[:, None, None, :] + (fill - background[:, None, None, :]) * masks
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noise *= rng.uniform(*NOISE_STD, size=(n, 1, 1, 1)).astype(np.float32)
    images += noise
    return np.clip(images, 0.0, 1.0).astype(np.float32)


def make_fill_domains(
    num_train: int = 512, num_test: int = 128, image_size: int = 32, seed: int = 0
) -> UnpairedDomains:
    """The offline pair: solid-filled shapes (X) and striped ones (Y), unpaired.

    Args:
        num_train: training images per domain, >= 1.
        num_test: held-out images per domain, >= 1.
        image_size: side ``S`` in pixels, in 16..256.
        seed: the same seed gives the same images; the four sets are drawn independently.

    Returns:
        :class:`UnpairedDomains` named ``("solid", "striped")``.
    """
    num_train = checks.positive_int("num_train", num_train)
    num_test = checks.positive_int("num_test", num_test)
    image_size = checks.integer("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
    seed = checks.non_negative_int("seed", seed)
    rngs = [np.random.default_rng([seed, part]) for part in range(4)]
    return UnpairedDomains(
        train_x=_draw_domain(rngs[0], num_train, image_size, striped=False),
        train_y=_draw_domain(rngs[1], num_train, image_size, striped=True),
        test_x=_draw_domain(rngs[2], num_test, image_size, striped=False),
        test_y=_draw_domain(rngs[3], num_test, image_size, striped=True),
        names=("solid", "striped"),
        source=FILL_DOMAINS,
    )


def read_horse2zebra_zip(path: str | Path, image_size: int = 256) -> UnpairedDomains:
    """Reads the horse2zebra zip (``*/trainA/*.jpg`` and so on), resized to ``image_size``.

    Args:
        path: the archive.
        image_size: side of the square images, in 16..512 (the archive's are 256).

    Raises:
        ValueError: if a folder of ``HORSE2ZEBRA_FOLDERS`` holds no image.
    """
    from PIL import Image

    image_size = checks.integer("image_size", image_size, MIN_IMAGE_SIZE, 512)
    found: dict[str, list[np.ndarray]] = {folder: [] for folder in HORSE2ZEBRA_FOLDERS}
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            parts = name.split("/")
            if len(parts) < 2 or parts[-2] not in found or not name.lower().endswith(".jpg"):
                continue
            with Image.open(io.BytesIO(archive.read(name))) as image:
                image = image.convert("RGB")
                if image.size != (image_size, image_size):
                    image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
                found[parts[-2]].append(np.asarray(image, dtype=np.float32) / 255.0)
    empty = [folder for folder, images in found.items() if not images]
    if empty:
        raise ValueError(f"{path} has no images in {', '.join(empty)}")
    train_x, train_y, test_x, test_y = (np.stack(found[f]) for f in HORSE2ZEBRA_FOLDERS)
    return UnpairedDomains(train_x, train_y, test_x, test_y, ("horse", "zebra"), HORSE2ZEBRA)


def _download_horse2zebra() -> Path:
    import keras

    return Path(keras.utils.get_file("horse2zebra.zip", HORSE2ZEBRA_URL))


def load_horse2zebra(image_size: int = 256) -> UnpairedDomains:
    """Downloads horse2zebra once (Keras cache) and reads it, see :func:`read_horse2zebra_zip`."""
    return read_horse2zebra_zip(_download_horse2zebra(), image_size)


def load_unpaired(
    image_size: int = 32, num_train: int = 512, num_test: int = 128, seed: int = 0
) -> UnpairedDomains:
    """horse2zebra when online (all its images, at ``image_size``), else :func:`make_fill_domains`.

    A failed download falls back to the procedural pair as offline does, saying so in one line.
    """
    if config.is_online():
        try:
            return load_horse2zebra(image_size)
        except Exception as error:  # noqa: BLE001 - any download failure falls back the same way
            reason = f"horse2zebra download failed ({type(error).__name__})"
    else:
        reason = "Offline"
    domains = make_fill_domains(num_train, num_test, image_size, seed)
    config.announce(
        f"{reason}: using procedural solid vs striped shapes ({num_train} train / {num_test} "
        f"test per domain, {image_size}x{image_size}) in place of horse2zebra."
    )
    return domains
