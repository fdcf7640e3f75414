"""TensorBoard mesh summaries: written, read back, rejected when malformed."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_lib import data
from course_lib.graphics.rendering import mesh_summary


def test_mesh_summary_round_trips_through_the_event_file(tmp_path):
    vertices, faces = data.load_mesh("icosphere", 1)
    colors = (vertices + 1.0) / 2.0
    logdir = mesh_summary.write_mesh_summary(tmp_path / "run", "sphere", vertices, faces, colors)
    found = mesh_summary.read_mesh_summaries(logdir)
    assert set(found) == {"sphere_VERTEX", "sphere_FACE", "sphere_COLOR"}
    np.testing.assert_allclose(found["sphere_VERTEX"][0], vertices)
    np.testing.assert_array_equal(found["sphere_FACE"][0], faces)
    np.testing.assert_array_equal(found["sphere_COLOR"][0], np.round(colors * 255).astype(np.uint8))


def test_tensorboard_itself_sees_the_mesh_at_each_step(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    vertices, faces = data.load_mesh("tetrahedron")
    for step in (0, 5):
        mesh_summary.write_mesh_summary(
            tmp_path, "tet", tf.constant(vertices * (step + 1)), faces, step=step
        )
    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    assert {"tet_VERTEX", "tet_FACE"} <= set(accumulator.Tags()["tensors"])
    events = accumulator.Tensors("tet_VERTEX")
    assert [e.step for e in events] == [0, 5]
    np.testing.assert_allclose(tf.make_ndarray(events[-1].tensor_proto)[0], vertices * 6)


@pytest.mark.parametrize(
    ("vertices", "faces", "colors", "match"),
    [
        (np.zeros((4, 2), np.float32), [[0, 1, 2]], None, "vertices"),
        (np.zeros((4, 3), np.int32), [[0, 1, 2]], None, "vertices"),
        (np.zeros((4, 3), np.float32), [[0.0, 1.0, 2.0]], None, "faces"),
        (np.zeros((4, 3), np.float32), [[0, 1, 7]], None, "triangles"),
        (np.zeros((4, 3), np.float32), [[0, 1, 2]], np.zeros((3, 3)), "colors"),
    ],
)
def test_malformed_meshes_are_rejected(tmp_path, vertices, faces, colors, match):
    with pytest.raises(ValueError, match=match):
        mesh_summary.write_mesh_summary(tmp_path, "bad", vertices, np.asarray(faces), colors)
