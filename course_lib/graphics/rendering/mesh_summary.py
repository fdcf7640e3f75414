"""TensorBoard mesh summaries: look at a (fitted) mesh in TensorBoard's interactive 3-D viewer.

The course's "one more thing": :func:`write_mesh_summary` writes vertices, triangles and
optional per-vertex colours with ``tensorboard.plugins.mesh.summary_v2.mesh`` to an event file
in ``logdir``. Open it with ``tensorboard --logdir LOGDIR`` (or, in Colab, ``%load_ext
tensorboard`` then ``%tensorboard --logdir LOGDIR``) and pick the *Mesh* tab. Several calls with
increasing ``step`` show, e.g., a mesh during optimization; the viewer has a step slider.

The plugin stores each mesh as up to three tensor summaries, tagged ``<name>_VERTEX``,
``<name>_FACE`` and ``<name>_COLOR``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.geometry.representation import mesh as mesh_ops


def _as_batched(name: str, value: Any, dtype: np.dtype, last: int = 3) -> np.ndarray:
    """``value`` as a NumPy array `[B, N, last]`; a single `[N, last]` array gets ``B = 1``."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    array = np.asarray(value)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[-1] != last:
        raise ValueError(f"{name} must have shape [N, {last}] or [B, N, {last}], got {array.shape}")
    return array.astype(dtype)


def write_mesh_summary(
    logdir: str | os.PathLike,
    name: str,
    vertices: Any,
    faces: Any,
    colors: Any = None,
    step: int = 0,
    description: str | None = None,
) -> str:
    """Writes one mesh summary to an event file in ``logdir``.

    Args:
        logdir: the folder TensorBoard is pointed at (created if missing).
        name: the summary's name (letters, digits, ``_``, ``-``, ``/``).
        vertices: `[V, 3]` or `[B, V, 3]` vertex positions (float).
        faces: `[F, 3]` or `[B, F, 3]` integer vertex indices, each in ``[0, V)``.
        colors: optional `[V, 3]` or `[B, V, 3]` per-vertex colours: floats in ``[0, 1]``
            (scaled to 0..255) or integers in 0..255.
        step: the step the mesh is shown at (the viewer's slider).
        description: optional Markdown shown beside the mesh.

    Returns:
        The log folder, as a string.

    Raises:
        ValueError: naming the argument, for a wrong shape, non-float vertices, non-integer or
            out-of-range faces, or colours of the wrong shape.
    """
    from tensorboard.plugins.mesh import summary_v2

    vertices_array = np.asarray(getattr(vertices, "numpy", lambda: vertices)())
    if vertices_array.dtype.kind != "f":
        raise ValueError(f"vertices must be floating-point, got {vertices_array.dtype}")
    vertices_array = _as_batched("vertices", vertices_array, np.float32)
    faces_array = np.asarray(getattr(faces, "numpy", lambda: faces)())
    if faces_array.dtype.kind not in "iu":
        raise ValueError(f"faces must be an integer array, got {faces_array.dtype}")
    faces_array = _as_batched("faces", faces_array, np.int32)
    for batch in faces_array:
        mesh_ops.check_triangles(batch, vertices_array.shape[1])
    color_array = None
    if colors is not None:
        color_array = np.asarray(getattr(colors, "numpy", lambda: colors)())
        if color_array.dtype.kind == "f":
            color_array = np.round(np.clip(color_array, 0.0, 1.0) * 255.0)
        color_array = _as_batched("colors", color_array, np.uint8)
        if color_array.shape[:2] != vertices_array.shape[:2]:
            raise ValueError(
                f"colors must have one colour per vertex, shape {vertices_array.shape}, "
                f"got {color_array.shape}"
            )
    logdir = os.fspath(logdir)
    os.makedirs(logdir, exist_ok=True)
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        summary_v2.mesh(
            name,
            vertices=tf.constant(vertices_array),
            faces=tf.constant(faces_array),
            colors=None if color_array is None else tf.constant(color_array),
            step=step,
            description=description,
        )
    writer.flush()
    writer.close()
    return logdir


def read_mesh_summaries(logdir: str | os.PathLike) -> dict[str, np.ndarray]:
    """The mesh tensors of every event file in ``logdir``, keyed by tag (``<name>_VERTEX`` ...).

    A small reader for checks and tests; when a tag appears at several steps, the last wins.
    """
    from tensorboard.compat.proto import event_pb2

    found: dict[str, np.ndarray] = {}
    for path in sorted(tf.io.gfile.glob(os.path.join(os.fspath(logdir), "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "mesh":
                    found[value.tag] = tf.make_ndarray(value.tensor)
    return found
