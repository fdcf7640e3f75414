"""Projector and scalar logs load with TensorBoard's own readers."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins import base_plugin, projector
from tensorboard.plugins.projector import projector_plugin
from werkzeug.test import Client

from course_lib.perf import projector as export

TENSOR = export.TENSOR_NAME


@pytest.fixture
def points(rng):
    embeddings = rng.normal(size=(11, 5)).astype(np.float32)
    labels = np.arange(11) % 4
    images = rng.integers(0, 256, size=(11, 6, 8)).astype(np.uint8)
    return embeddings, labels, images


def _plugin_get(log_dir, route: str, query: str) -> bytes:
    """What TensorBoard's projector plugin serves for ``route`` (as the browser asks for it)."""
    plugin = projector_plugin.ProjectorPlugin(base_plugin.TBContext(logdir=str(log_dir)))
    response = Client(plugin.get_plugin_apps()[route]).get(f"{route}?{query}")
    assert response.status_code == 200, response.get_data()[:300]
    return response.get_data()


def test_the_log_loads_with_the_projector_plugin(tmp_path, points):
    embeddings, labels, images = points
    files = export.export_projector(tmp_path, embeddings, labels, images)
    assert files.log_dir == tmp_path and files.grid == 4

    config = text_format.Parse(files.config.read_text(), projector.ProjectorConfig())
    (embedding,) = config.embeddings
    assert embedding.tensor_name == TENSOR
    assert (tmp_path / embedding.metadata_path).is_file()
    assert list(embedding.sprite.single_image_dim) == [8, 6]  # width, height
    np.testing.assert_array_equal(
        tf.train.load_checkpoint(str(tmp_path)).get_tensor(TENSOR), embeddings
    )

    served = _plugin_get(tmp_path, "/tensor", f"run=.&name={TENSOR}")
    np.testing.assert_array_equal(np.frombuffer(served, np.float32).reshape(11, 5), embeddings)
    metadata = _plugin_get(tmp_path, "/metadata", f"run=.&name={TENSOR}").decode()
    assert metadata.splitlines() == [str(label) for label in labels]
    info = _plugin_get(tmp_path, "/info", "run=.").decode()
    assert '"tensorShape": [\n        11,\n        5\n      ]' in info


def test_the_sprite_tiles_the_images_row_by_row(tmp_path, points):
    embeddings, labels, images = points
    export.export_projector(tmp_path, embeddings, labels, images)
    served = _plugin_get(tmp_path, "/sprite_image", f"run=.&name={TENSOR}")
    sprite = np.asarray(Image.open(io.BytesIO(served)))
    assert sprite.shape == (4 * 6, 4 * 8, 3)
    np.testing.assert_array_equal(sprite[0:6, 8:16, 0], images[1])  # row 0, column 1
    np.testing.assert_array_equal(sprite[12:18, 16:24, 1], images[10])  # row 2, column 2
    assert not sprite[18:, :].any() and not sprite[12:18, 24:].any()  # empty cells are black


def test_float_and_colour_images_and_no_images(tmp_path, rng):
    embeddings = rng.normal(size=(4, 3))
    colour = rng.uniform(size=(4, 5, 5, 3))
    files = export.export_projector(
        tmp_path / "colour", embeddings, ["a", "b c", "d\te", ""], colour
    )
    sprite = np.asarray(Image.open(files.sprite))
    np.testing.assert_array_equal(sprite[:5, :5], np.round(colour[0] * 255).astype(np.uint8))
    assert files.metadata.read_text().splitlines() == ["a", "b c", "d e", "-"]
    plain = export.export_projector(tmp_path / "plain", embeddings, [0, 1, 2, 3])
    assert plain.sprite is None and plain.grid == 0
    config = text_format.Parse(plain.config.read_text(), projector.ProjectorConfig())
    assert not config.embeddings[0].sprite.image_path


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"embeddings": np.zeros(5)}, "embeddings"),
        ({"embeddings": np.full((3, 2), np.nan)}, "embeddings"),
        ({"embeddings": np.array([["a", "b"]] * 3)}, "embeddings"),
        ({"labels": [0, 1]}, "labels"),
        ({"labels": np.zeros((3, 2))}, "labels"),
        ({"images": np.zeros((2, 4, 4))}, "images"),
        ({"images": np.zeros((3, 4))}, "images"),
        ({"images": np.zeros((3, 4, 4, 2))}, "images"),
        ({"images": np.full((3, 4, 4), 2.0)}, "images"),
        ({"images": np.full((3, 4, 4), 300)}, "images"),
        ({"images": np.zeros((3, 5000, 1), np.uint8)}, "images"),
    ],
)
def test_bad_input_names_the_argument(tmp_path, kwargs, argument):
    arguments = {"embeddings": np.zeros((3, 2)), "labels": [0, 1, 2], "images": None} | kwargs
    with pytest.raises(ValueError, match=argument):
        export.export_projector(tmp_path, **arguments)


def test_scalars_load_with_the_event_accumulator(tmp_path):
    history = {"loss": [1.5, 0.75, 0.5], "accuracy": [0.5, 0.8, 0.9]}
    assert export.write_scalars(tmp_path, history, first_step=1) == tmp_path
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert sorted(events.Tags()["tensors"]) == ["accuracy", "loss"]
    for name, values in history.items():
        read = events.Tensors(name)
        assert [e.step for e in read] == [1, 2, 3]
        np.testing.assert_allclose([tf.make_ndarray(e.tensor_proto) for e in read], values)


def test_scalars_accept_a_keras_history(tmp_path):
    class History:  # what model.fit returns: the dict is its .history
        history = {"loss": [2.0, 1.0]}

    export.write_scalars(tmp_path, History())
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.step for e in events.Tensors("loss")] == [0, 1]


@pytest.mark.parametrize(
    ("history", "kwargs", "argument"),
    [
        ({}, {}, "history"),
        ([1.0, 2.0], {}, "history"),
        ({"loss": []}, {}, r"history\['loss'\]"),
        ({"loss": "1.0"}, {}, r"history\['loss'\]"),
        ({"loss": [1.0, float("nan")]}, {}, r"history\['loss'\]"),
        ({"loss": [[1.0]]}, {}, r"history\['loss'\]"),
        ({"loss": [1.0]}, {"first_step": -1}, "first_step"),
    ],
)
def test_bad_scalars_name_the_argument(tmp_path, history, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        export.write_scalars(tmp_path, history, **kwargs)
