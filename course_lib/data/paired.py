"""Paired images for pix2pix: CMP façades online, procedural façades offline.

``load_paired()`` returns a :class:`PairedData`: training and test pairs ``(input, target)``,
float32 images ``[N, S, S, 3]`` in [0, 1], where the input is a coloured label map (wall,
windows, door, ...) and the target the façade it describes.

- Online (or when Keras has the archive cached): the CMP façades that TensorFlow's pix2pix
  tutorial downloads from :data:`FACADES_URL`, 400 training and 106 test pairs. Each file is a
  512x256 JPEG, the photograph on the left and its label map on the right; both halves are
  resized to ``image_size``.
- Offline (``COURSE_OFFLINE=1``, no network, or a failed download, announced in one line): the
  course's procedural façades, :func:`make_facades`. A random building is laid out as a label
  map (sky, wall, cornice, windows, door, balconies) and rendered as a façade: a wall colour and
  brick texture, light falling from one side, window glass with frames, sills and reflections,
  a wooden door, railings, shadows, sensor noise. The wall's hue, the light's side and the
  texture's phase are drawn per building and are not in the label map: a generator can learn
  the rest, not those.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tarfile
from pathlib import Path

import numpy as np

from course_lib import checks, config

#: The archive of TensorFlow's pix2pix tutorial.
FACADES_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
FACADES = "cmp_facades"
PROCEDURAL = "procedural_facades"
SOURCES = (FACADES, PROCEDURAL)

#: The offline set's size: 400 training pairs as in CMP façades, 100 held out.
PROCEDURAL_TRAIN, PROCEDURAL_TEST = 400, 100
#: The offline set's default side in pixels.
PROCEDURAL_SIZE = 64
#: Smallest side :func:`make_facades` draws (a floor needs a few pixels).
MIN_FACADE_SIZE = 32

#: The label map's classes and their colours (RGB in [0, 1]), the pix2pix input.
LABELS = ("sky", "wall", "cornice", "window", "door", "balcony")
LABEL_COLOURS = np.array(
    [
        [0.05, 0.05, 0.55],  # sky: dark blue
        [0.15, 0.45, 1.00],  # wall: blue
        [1.00, 0.85, 0.10],  # cornice: yellow
        [1.00, 0.45, 0.05],  # window: orange
        [0.85, 0.10, 0.15],  # door: red
        [0.20, 0.85, 0.40],  # balcony: green
    ],
    dtype=np.float32,
)
SKY, WALL, CORNICE, WINDOW, DOOR, BALCONY = range(len(LABELS))

#: Wall colours a building is painted in (plaster, brick, sandstone, grey, ochre), jittered.
WALL_COLOURS = np.array(
    [
        [0.86, 0.80, 0.68],
        [0.66, 0.34, 0.26],
        [0.80, 0.66, 0.46],
        [0.62, 0.62, 0.60],
        [0.84, 0.64, 0.36],
    ],
    dtype=np.float32,
)


@dataclasses.dataclass(frozen=True)
class PairedData:
    """Training and held-out pairs, ``[N, S, S, 3]`` float32 in [0, 1] each, and their source."""

    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    source: str


def load_paired(image_size: int = PROCEDURAL_SIZE, seed: int = 0) -> PairedData:
    """The façades at ``image_size`` pixels: CMP's when available, else procedural ones.

    Args:
        image_size: side of the returned images, >= 32.
        seed: the procedural set's seed (CMP's pairs are fixed).

    Raises:
        ValueError: if ``image_size`` is below 32 or ``seed`` is negative.
    """
    image_size = checks.integer("image_size", image_size, minimum=MIN_FACADE_SIZE)
    seed = checks.non_negative_int("seed", seed)
    reason = "Offline"
    if is_facades_cached() or config.is_online():
        try:
            return read_facades_archive(_download_facades(), image_size)
        except Exception as error:  # noqa: BLE001 - any download failure falls back the same way
            reason = f"Façades download failed ({type(error).__name__})"
    config.announce(
        f"{reason}: using the course's procedural façades ({PROCEDURAL_TRAIN} train / "
        f"{PROCEDURAL_TEST} test, {image_size} px) in place of CMP façades."
    )
    train_inputs, train_targets = make_facades(PROCEDURAL_TRAIN, image_size, seed)
    test_inputs, test_targets = make_facades(PROCEDURAL_TEST, image_size, seed + 1_000_003)
    return PairedData(train_inputs, train_targets, test_inputs, test_targets, PROCEDURAL)


# --- CMP façades (online) ---------------------------------------------------------------------


def facades_cache_path() -> Path:
    """Where Keras keeps the downloaded archive (``$KERAS_HOME`` or ``~/.keras``)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return home / "datasets" / "facades.tar.gz"


def is_facades_cached() -> bool:
    """True when the archive was downloaded before."""
    return facades_cache_path().is_file()


def _download_facades() -> Path:
    import keras

    return Path(keras.utils.get_file("facades.tar.gz", FACADES_URL))


_MEMBER = re.compile(r"(?:^|/)facades/(train|test)/[^/]+\.jpg$")


def read_facades_archive(path: str | Path, image_size: int) -> PairedData:
    """Reads the façades archive without extracting it; each JPEG is ``[photo | label map]``.

    Args:
        path: ``facades.tar.gz``, with ``facades/train/*.jpg`` and ``facades/test/*.jpg``.
        image_size: side the halves are resized to (bilinear, with anti-aliasing).

    Returns:
        :class:`PairedData` with the label maps as inputs and the photographs as targets,
        sorted by file name.

    Raises:
        ValueError: if the archive has no training or no test image.
    """
    import tensorflow as tf

    image_size = checks.positive_int("image_size", image_size)
    splits: dict[str, list[tuple[str, np.ndarray]]] = {"train": [], "test": []}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            match = _MEMBER.search(member.name)
            if match is None or not member.isfile():
                continue
            raw = archive.extractfile(member).read()
            image = tf.io.decode_jpeg(raw, channels=3)
            splits[match.group(1)].append((member.name, image.numpy()))
    arrays = []
    for split in ("train", "test"):
        if not splits[split]:
            raise ValueError(f"{path} holds no facades/{split}/*.jpg")
        images = [image for _, image in sorted(splits[split], key=lambda item: item[0])]
        photos, labels = zip(*(_halves(image, image_size) for image in images), strict=True)
        arrays += [np.stack(labels), np.stack(photos)]
    return PairedData(*arrays, source=FACADES)


def _halves(image: np.ndarray, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``[H, 2W, 3]`` uint8 ``[photo | label]`` -> the two halves resized, floats in [0, 1]."""
    import tensorflow as tf

    half = image.shape[1] // 2
    pair = np.stack([image[:, :half], image[:, half : 2 * half]]).astype(np.float32) / 255.0
    resized = tf.image.resize(pair, (image_size, image_size), antialias=True)
    resized = np.clip(resized.numpy(), 0.0, 1.0)
    return resized[0], resized[1]


# --- procedural façades (offline) -------------------------------------------------------------


def make_facades(
    count: int, image_size: int = PROCEDURAL_SIZE, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` procedural façades: label maps and their renderings.

    Args:
        count: number of pairs, >= 1.
        image_size: side in pixels, >= 32.
        seed: seed of the layouts and renderings; the same seed gives the same pairs.

    Returns:
        ``(inputs, targets)``, float32 ``[count, S, S, 3]`` in [0, 1]: the coloured label maps
        (:data:`LABEL_COLOURS`) and the rendered façades.
    """
    count = checks.positive_int("count", count)
    image_size = checks.integer("image_size", image_size, minimum=MIN_FACADE_SIZE)
    seed = checks.non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    inputs = np.empty((count, image_size, image_size, 3), np.float32)
    targets = np.empty_like(inputs)
    for index in range(count):
        labels = facade_layout(rng, image_size)
        inputs[index] = LABEL_COLOURS[labels]
        targets[index] = render_facade(labels, rng)
    return inputs, targets


def facade_layout(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random building's label map, ``[size, size]`` int indices into :data:`LABELS`."""
    labels = np.full((size, size), WALL, np.int64)
    unit = size / 64.0  # the layout is drawn at 64 px and scaled
    roof = int(rng.integers(2, 12) * unit)
    labels[:roof] = SKY
    cornice = max(1, round(rng.integers(2, 4) * unit))
    labels[roof : roof + cornice] = CORNICE
    top = roof + cornice + max(1, round(2 * unit))
    floors = int(rng.integers(3, 6))
    columns = int(rng.integers(3, 6))
    floor_height = (size - top) / floors
    column_width = size / columns
    window_w = max(2, int(column_width * rng.uniform(0.35, 0.6)))
    window_h = max(3, int(floor_height * rng.uniform(0.45, 0.7)))
    balconies = rng.uniform(size=floors - 1) < 0.4  # not on the ground floor
    door_column = int(rng.integers(columns))
    for floor in range(floors):
        y0 = int(top + floor * floor_height + (floor_height - window_h) * 0.4)
        ground = floor == floors - 1
        for column in range(columns):
            x0 = int(column * column_width + (column_width - window_w) / 2)
            if ground and column == door_column:
                door_w = max(3, int(window_w * 1.3))
                dx = x0 - (door_w - window_w) // 2
                labels[y0:, max(dx, 0) : dx + door_w] = DOOR
                continue
            labels[y0 : y0 + window_h, x0 : x0 + window_w] = WINDOW
            if not ground and balconies[floor]:
                rail = max(1, round(2 * unit))
                below = y0 + window_h
                labels[below - rail : below + 1, max(x0 - 1, 0) : x0 + window_w + 1] = BALCONY
    return labels


def render_facade(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Renders a label map as a façade, ``[S, S, 3]`` float32 in [0, 1].

    Drawn per building: the wall colour (one of :data:`WALL_COLOURS`, jittered), the side the
    light comes from, the brick texture's phase; per pixel: noise.
    """
    size = labels.shape[0]
    rows = np.arange(size, dtype=np.float32)[:, None] / size
    cols = np.arange(size, dtype=np.float32)[None, :] / size
    unit = max(1, round(size / 32))
    image = np.zeros((size, size, 3), np.float32)

    # sky: a vertical gradient, lighter at the horizon
    sky = np.array([0.45, 0.65, 0.92], np.float32) + 0.3 * rows[..., None] * np.array([1, 0.8, 0.3])
    image[:] = np.broadcast_to(sky, image.shape)

    # wall: a colour, brick courses, light from the left or the right
    wall = WALL_COLOURS[rng.integers(len(WALL_COLOURS))] * rng.uniform(0.9, 1.1, size=3)
    light = cols if rng.uniform() < 0.5 else 1.0 - cols
    shade = 0.8 + 0.3 * light - 0.1 * rows
    phase = int(rng.integers(2 * unit))
    mortar = ((np.arange(size)[:, None] + phase) % (2 * unit) == 0).astype(np.float32)
    texture = 1.0 - 0.12 * mortar + 0.04 * rng.standard_normal((size, size)).astype(np.float32)
    wall_image = wall[None, None, :] * (shade * texture)[..., None]
    is_wall = labels == WALL
    image[is_wall] = wall_image[is_wall]

    # cornice: the wall's colour, lighter, with a dark underside
    is_cornice = labels == CORNICE
    image[is_cornice] = (0.6 * wall + 0.4)[None, :] * shade[is_cornice][:, None]
    under = np.roll(is_cornice, 1, axis=0) & ~is_cornice
    image[under & is_wall] *= 0.6

    # windows: dark glass with a diagonal reflection, a light frame, a shadow under the lintel
    is_window = labels == WINDOW
    reflection = 0.5 + 0.5 * np.sin(12.0 * (rows + cols))
    glass = np.array([0.16, 0.22, 0.30], np.float32)[None, None, :] + 0.12 * reflection[..., None]
    image[is_window] = glass[is_window]
    inner = is_window & np.roll(is_window, 1, 0) & np.roll(is_window, -1, 0)
    inner &= np.roll(is_window, 1, 1) & np.roll(is_window, -1, 1)
    frame = is_window & ~inner
    image[frame] = np.array([0.92, 0.92, 0.88], np.float32)
    lintel = is_window & ~np.roll(is_window, unit, axis=0)
    image[lintel & inner] *= 0.55
    sill = np.roll(is_window, 1, axis=0) & is_wall
    image[sill] = np.array([0.85, 0.84, 0.80], np.float32)

    # door: wood with vertical planks
    is_door = labels == DOOR
    planks = 1.0 - 0.25 * ((np.arange(size)[None, :] % (2 * unit)) == 0)
    wood = np.array([0.36, 0.22, 0.12], np.float32)[None, None, :] * planks[..., None]
    image[is_door] = np.broadcast_to(wood, image.shape)[is_door]

    # balconies: dark railings with bars, casting a shadow on the wall below
    is_balcony = labels == BALCONY
    bars = 0.7 + 0.3 * ((np.arange(size)[None, :] % (2 * unit)) < unit)
    iron = np.array([0.18, 0.18, 0.20], np.float32)[None, None, :] * bars[..., None]
    image[is_balcony] = np.broadcast_to(iron, image.shape)[is_balcony]
    shadow = np.roll(is_balcony, unit, axis=0) & is_wall
    image[shadow] *= 0.65

    image += 0.02 * rng.standard_normal(image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0).astype(np.float32)
