"""TensorBoard logs: the embedding projector (the course's "quick demo") and training scalars.

:func:`export_projector` writes what ``tensorboard --logdir LOG_DIR`` needs to show points in its
Projector tab (projector.tensorflow.org runs the same viewer in the browser):

- ``embedding.ckpt-1.*``: a ``tf.train.Checkpoint`` holding the ``[N, D]`` embedding variable;
- ``metadata.tsv``: one label per line, in the rows' order (one column, so no header line);
- ``sprite.png``: optionally, the ``N`` images tiled row by row in a square grid, so each point
  can be drawn as its image;
- ``projector_config.pbtxt``: ties them together (``ProjectorConfig``, written with
  ``tensorboard.plugins.projector.visualize_embeddings``).

:func:`write_scalars` writes a Keras history (loss, accuracy, ... per epoch) as TensorBoard
scalars with ``tf.summary``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from course_lib import checks

#: The variable's name in the checkpoint, and the tensor name the projector config points at.
EMBEDDING_NAME = "embedding"
TENSOR_NAME = f"{EMBEDDING_NAME}/.ATTRIBUTES/VARIABLE_VALUE"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
CHECKPOINT_PREFIX = "embedding.ckpt"
#: TensorBoard's projector refuses sprites larger than this many pixels on a side.
MAX_SPRITE_SIDE = 8192


@dataclasses.dataclass(frozen=True)
class ProjectorFiles:
    """Where :func:`export_projector` wrote the log.

    Attributes:
        log_dir: the folder to pass to ``tensorboard --logdir``.
        checkpoint: the checkpoint prefix (``.../embedding.ckpt-1``).
        metadata: the labels file.
        config: ``projector_config.pbtxt``.
        sprite: the sprite image, or ``None`` without images.
        grid: images per sprite row and column (0 without images).
    """

    log_dir: Path
    checkpoint: Path
    metadata: Path
    config: Path
    sprite: Path | None
    grid: int


def _checked_embeddings(embeddings: Any) -> np.ndarray:
    try:
        array = np.asarray(embeddings.numpy() if hasattr(embeddings, "numpy") else embeddings)
    except Exception as error:  # noqa: BLE001 - reported as a bad argument
        raise ValueError(f"embeddings must be array-like numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"embeddings must hold numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"embeddings must have shape [N, D] with N, D >= 1, got {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError("embeddings must be finite (found NaN or inf)")
    return array


def _checked_labels(labels: Any, count: int) -> list[str]:
    array = np.asarray(labels.numpy() if hasattr(labels, "numpy") else labels)
    if array.ndim != 1:
        raise ValueError(f"labels must have shape [N], got {array.shape}")
    if len(array) != count:
        raise ValueError(f"labels must have one entry per embedding ({count}), got {len(array)}")
    # A tab or a line break inside a label would shift the TSV's columns or rows.
    return [" ".join(str(label).split()) or "-" for label in array.tolist()]


def _checked_images(images: Any, count: int) -> np.ndarray:
    """``[N, H, W, 3]`` uint8 from ``[N, H, W]`` or ``[N, H, W, 1|3|4]`` images."""
    array = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must have shape [N, H, W] or [N, H, W, 1|3|4], got {array.shape}")
    if array.shape[0] != count:
        raise ValueError(
            f"images must have one image per embedding ({count}), got {array.shape[0]}"
        )
    if array.shape[1] < 1 or array.shape[2] < 1:
        raise ValueError(f"images must have positive height and width, got {array.shape}")
    if array.dtype.kind in "biu":
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError("integer images must hold values in 0..255")
        array = array.astype(np.uint8)
    elif array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or array.min() < 0.0 or array.max() > 1.0:
            raise ValueError("float images must hold values in [0, 1]")
        array = np.round(array * 255.0).astype(np.uint8)
    else:
        raise ValueError(f"images must hold numbers, got dtype {array.dtype}")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array[..., :3]


def sprite_grid(images: np.ndarray) -> np.ndarray:
    """Tiles ``[N, H, W, C]`` images row by row into one ``[g*H, g*W, C]`` image, g = ceil(sqrt N).

    Cells after the last image stay black.
    """
    count, height, width, channels = images.shape
    grid = math.ceil(math.sqrt(count))
    padded = np.zeros((grid * grid, height, width, channels), dtype=images.dtype)
    padded[:count] = images
    rows = padded.reshape(grid, grid, height, width, channels).transpose(0, 2, 1, 3, 4)
    return rows.reshape(grid * height, grid * width, channels)


def export_projector(
    log_dir: str | os.PathLike,
    embeddings: Any,
    labels: Any,
    images: Any = None,
) -> ProjectorFiles:
    """Writes an embedding-projector log that ``tensorboard --logdir log_dir`` shows.

    Args:
        log_dir: the folder to write into (created if missing).
        embeddings: ``[N, D]`` numbers, one row per point (stored as float32).
        labels: ``[N]`` labels (anything printable), written to ``metadata.tsv``.
        images: optional ``[N, H, W]`` or ``[N, H, W, C]`` (C = 1, 3 or 4; alpha is dropped)
            images, uint8 in 0..255 or floats in [0, 1], tiled into ``sprite.png``.

    Returns:
        A :class:`ProjectorFiles` with the paths written.

    Raises:
        ValueError: naming the argument, if ``embeddings`` is not a finite ``[N, D]`` array,
            ``labels`` is not ``[N]``, ``images`` has the wrong shape, count or value range, or
            the sprite would exceed TensorBoard's 8192x8192 pixels; or if ``log_dir`` is an
            existing file.
    """
    import tensorflow as tf
    from tensorboard.plugins import projector

    vectors = _checked_embeddings(embeddings)
    names = _checked_labels(labels, len(vectors))
    pictures = None if images is None else _checked_images(images, len(vectors))
    grid = 0
    if pictures is not None:
        grid = math.ceil(math.sqrt(len(pictures)))
        side = grid * max(pictures.shape[1:3])
        if side > MAX_SPRITE_SIDE:
            raise ValueError(
                f"images: the sprite would be {side} pixels wide, more than TensorBoard's "
                f"{MAX_SPRITE_SIDE}; pass fewer or smaller images"
            )
    folder = Path(log_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"log_dir {str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)

    metadata = folder / METADATA_FILE
    metadata.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    sprite = None
    if pictures is not None:
        sprite = folder / SPRITE_FILE
        tf.io.write_file(str(sprite), tf.io.encode_png(sprite_grid(pictures)))

    variable = tf.Variable(vectors, name=EMBEDDING_NAME)
    checkpoint = tf.train.Checkpoint(**{EMBEDDING_NAME: variable})
    saved = checkpoint.save(str(folder / CHECKPOINT_PREFIX))

    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = TENSOR_NAME
    embedding.metadata_path = METADATA_FILE
    if pictures is not None:
        embedding.sprite.image_path = SPRITE_FILE
        embedding.sprite.single_image_dim.extend([pictures.shape[2], pictures.shape[1]])
    projector.visualize_embeddings(str(folder), config)
    return ProjectorFiles(
        log_dir=folder,
        checkpoint=Path(saved),
        metadata=metadata,
        config=folder / "projector_config.pbtxt",
        sprite=sprite,
        grid=grid,
    )


def write_scalars(log_dir: str | os.PathLike, history: Any, *, first_step: int = 0) -> Path:
    """Writes a Keras history as TensorBoard scalars, one point per epoch and metric.

    Args:
        log_dir: the folder for the event file (created if missing).
        history: ``{"loss": [...], "accuracy": [...], ...}`` or a ``keras.callbacks.History``
            (its ``.history``); every value a non-empty sequence of finite numbers.
        first_step: the step of each sequence's first value (>= 0).

    Returns:
        The folder written to.

    Raises:
        ValueError: naming the argument, if ``history`` is empty, a key is not a string or a value
            is not a non-empty sequence of finite numbers, or ``first_step`` < 0.
    """
    import tensorflow as tf

    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history
    if not isinstance(history, Mapping) or not history:
        raise ValueError(
            f"history must be a non-empty mapping of metric name to values, got {history!r:.80}"
        )
    if not checks.is_int(first_step):  # a ValueError, as for every other bad argument here
        raise ValueError(f"first_step must be an int, got {first_step!r}")
    first_step = checks.non_negative_int("first_step", first_step)
    series: dict[str, list[float]] = {}
    for name, values in history.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"history keys must be metric names, got {name!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ValueError(f"history[{name!r}] must be a sequence of numbers, got {values!r:.80}")
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"history[{name!r}] must hold numbers, got {values!r:.80}") from None
        if numbers.ndim != 1 or numbers.size == 0 or not np.all(np.isfinite(numbers)):
            raise ValueError(
                f"history[{name!r}] must be a non-empty list of finite numbers, got {values!r:.80}"
            )
        series[name] = numbers.tolist()
    folder = Path(log_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"log_dir {str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    writer = tf.summary.create_file_writer(str(folder))
    try:
        with writer.as_default():
            for name, numbers in series.items():
                for offset, value in enumerate(numbers):
                    tf.summary.scalar(name, value, step=first_step + offset)
        writer.flush()
    finally:
        writer.close()
    return folder
