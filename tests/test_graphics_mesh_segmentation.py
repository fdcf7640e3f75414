"""Mesh segmentation: features, the body data set, the graph network and its MLP baseline."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.data.body import BODY_PARTS, make_body
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.nn import mesh_segmentation as seg


@pytest.fixture(scope="module")
def bodies() -> seg.SegmentationSet:
    return seg.body_dataset([3, 1, 4, 1, 5, 9])


def _numpy_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    summed = np.zeros_like(vertices, dtype=np.float64)
    for k in range(3):
        np.add.at(summed, triangles[:, k], np.cross(b - a, c - a))
    return summed / np.linalg.norm(summed, axis=-1, keepdims=True)


def test_vertex_features_are_centred_position_and_numpy_normals():
    body = make_body(7)
    features = seg.vertex_features(body.vertices, body.triangles).numpy()
    assert features.shape == (len(body.vertices), seg.NUM_FEATURES)
    np.testing.assert_allclose(features[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(features[:, 2], body.vertices[:, 2], atol=1e-6)
    np.testing.assert_allclose(
        features[:, :2], body.vertices[:, :2] - body.vertices[:, :2].mean(axis=0), atol=1e-5
    )
    np.testing.assert_allclose(
        features[:, 3:], _numpy_normals(body.vertices, body.triangles), atol=1e-5
    )


def test_vertex_features_ignore_where_the_body_stands_but_not_its_height():
    body = make_body(2)
    base = seg.vertex_features(body.vertices, body.triangles).numpy()
    moved = seg.vertex_features(body.vertices + [2.0, -3.0, 0.0], body.triangles).numpy()
    np.testing.assert_allclose(moved, base, atol=1e-5)
    lifted = seg.vertex_features(body.vertices + [0.0, 0.0, 0.5], body.triangles).numpy()
    np.testing.assert_allclose(lifted[:, 2], base[:, 2] + 0.5, atol=1e-5)


def test_vertex_features_batch_like_single_meshes():
    first, second = make_body(0), make_body(1)
    batch = seg.vertex_features(np.stack([first.vertices, second.vertices]), first.triangles)
    for k, body in enumerate((first, second)):
        np.testing.assert_allclose(
            batch[k], seg.vertex_features(body.vertices, body.triangles), atol=1e-6
        )


def test_body_dataset_holds_the_bodies_of_its_seeds(bodies):
    assert len(bodies) == 6
    num_vertices = bodies.vertices.shape[1]
    assert bodies.features.shape == (6, num_vertices, seg.NUM_FEATURES)
    assert bodies.labels.dtype == np.int32 and bodies.part_names == BODY_PARTS
    for k, seed in enumerate([3, 1, 4, 1, 5, 9]):
        body = make_body(seed)
        np.testing.assert_array_equal(bodies.vertices[k], body.vertices)
        np.testing.assert_array_equal(bodies.labels[k], body.labels)
        np.testing.assert_array_equal(bodies.triangles, body.triangles)
    dense = tf.sparse.to_dense(bodies.neighbors).numpy()
    reference = tf.sparse.to_dense(
        mesh.adjacency(bodies.triangles, num_vertices, self_loops=True)
    ).numpy()
    np.testing.assert_array_equal(dense, reference)


@pytest.mark.parametrize("seeds", [[], [-1], [0.5], ["a"]])
def test_body_dataset_rejects_bad_seeds(seeds):
    with pytest.raises((TypeError, ValueError), match="seeds"):
        seg.body_dataset(seeds)


def test_batch_neighbors_repeats_the_adjacency(bodies):
    batched = seg.batch_neighbors(bodies.neighbors, 3)
    assert tuple(batched.dense_shape.numpy()) == (3,) + tuple(bodies.neighbors.dense_shape.numpy())
    single = tf.sparse.to_dense(bodies.neighbors).numpy()
    np.testing.assert_array_equal(tf.sparse.to_dense(batched).numpy(), np.stack([single] * 3))


def test_batch_neighbors_rejects_bad_arguments(bodies):
    with pytest.raises(ValueError, match="batch_size"):
        seg.batch_neighbors(bodies.neighbors, 0)
    with pytest.raises(ValueError, match="neighbors"):
        seg.batch_neighbors(tf.sparse.to_dense(bodies.neighbors), 2)
    with pytest.raises(ValueError, match="neighbors"):
        seg.batch_neighbors(seg.batch_neighbors(bodies.neighbors, 2), 2)


def _random_graph(num_vertices: int, seed: int) -> tuple[np.ndarray, tf.sparse.SparseTensor]:
    """Random features and a random symmetric row-normalized adjacency with self loops."""
    rng = np.random.default_rng(seed)
    dense = rng.random((num_vertices, num_vertices)) < 0.3
    dense = dense | dense.T | np.eye(num_vertices, dtype=bool)
    weights = dense / dense.sum(axis=1, keepdims=True)
    features = rng.normal(size=(1, num_vertices, seg.NUM_FEATURES)).astype(np.float32)
    return features, tf.sparse.from_dense(weights[None].astype(np.float32))


def test_graph_net_is_permutation_equivariant():
    features, neighbors = _random_graph(9, seed=0)
    model = seg.MeshSegmentationNet(num_classes=5, widths=(8, 8, 12))
    out = model([features, neighbors]).numpy()
    assert out.shape == (1, 9, 5)
    order = np.random.default_rng(1).permutation(9)
    dense = tf.sparse.to_dense(neighbors).numpy()[0]
    permuted = tf.sparse.from_dense(dense[np.ix_(order, order)][None])
    np.testing.assert_allclose(
        model([features[:, order], permuted]).numpy(), out[:, order], atol=1e-5
    )


def test_graph_net_uses_neighbours_and_the_mlp_does_not():
    features, neighbors = _random_graph(10, seed=2)
    lonely = tf.sparse.from_dense(np.eye(10, dtype=np.float32)[None])
    graph = seg.MeshSegmentationNet(num_classes=4, widths=(8, 8))
    mlp = seg.VertexMLP(num_classes=4, widths=(8,))
    assert not np.allclose(graph([features, neighbors]), graph([features, lonely]), atol=1e-4)
    np.testing.assert_allclose(mlp([features, neighbors]), mlp([features, lonely]))


@pytest.mark.parametrize("model_class", [seg.MeshSegmentationNet, seg.VertexMLP])
def test_models_round_trip_their_config(model_class):
    model = model_class(num_classes=3, widths=(4, 6))
    copy = model_class.from_config(model.get_config())
    assert copy.get_config()["widths"] == [4, 6] and copy.num_classes == 3
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(restored) is model_class


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"widths": ()}, "widths"),
        ({"widths": (8, 0)}, "widths"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_weight_matrices": -1}, "num_weight_matrices"),
        ({"head_width": 1.5}, "head_width"),
        ({"residual": "yes"}, "residual"),
    ],
)
def test_graph_net_rejects_bad_settings(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        seg.MeshSegmentationNet(**kwargs)


def test_mlp_rejects_bad_widths():
    with pytest.raises(ValueError, match="widths"):
        seg.VertexMLP(widths=[])


@pytest.mark.parametrize("model_class", [seg.MeshSegmentationNet, seg.VertexMLP])
def test_training_lowers_the_loss_and_raises_the_accuracy(bodies, model_class):
    keras.utils.set_random_seed(0)
    model = model_class(widths=(16, 16))
    before = seg.accuracy(model, bodies)
    losses = seg.train(model, bodies, steps=40, batch_size=2, learning_rate=1e-2, seed=0)
    assert losses.shape == (40,) and np.all(np.isfinite(losses))
    assert losses[-10:].mean() < 0.8 * losses[:5].mean()
    assert seg.accuracy(model, bodies) > before + 0.15


class _Oracle(keras.Model):
    """Returns one-hot logits of given labels, wrong on every vertex ``k % 4 == 0``."""

    def __init__(self, labels: np.ndarray) -> None:
        super().__init__()
        wrong = labels.copy()
        wrong[:, ::4] = (wrong[:, ::4] + 1) % len(BODY_PARTS)
        self.logits = tf.one_hot(wrong, len(BODY_PARTS))
        self.start = 0

    def call(self, inputs):
        count = int(inputs[0].shape[0])
        out = self.logits[self.start : self.start + count]
        self.start += count
        return out


def test_predict_and_accuracy_count_every_vertex(bodies):
    predicted = seg.predict(_Oracle(bodies.labels), bodies, batch_size=4)
    assert predicted.shape == bodies.labels.shape and predicted.dtype == np.int32
    expected = np.mean(predicted == bodies.labels)
    assert seg.accuracy(_Oracle(bodies.labels), bodies, batch_size=4) == pytest.approx(expected)
    columns = np.arange(bodies.labels.shape[1])
    assert expected == pytest.approx(np.mean(columns % 4 != 0))


def test_train_and_accuracy_reject_bad_arguments(bodies):
    model = seg.VertexMLP(widths=(4,))
    with pytest.raises(ValueError, match="batch_size"):
        seg.train(model, bodies, steps=1, batch_size=7)
    with pytest.raises(ValueError, match="steps"):
        seg.train(model, bodies, steps=0)
    with pytest.raises(ValueError, match="learning_rate"):
        seg.train(model, bodies, steps=1, learning_rate=-1.0)
    with pytest.raises(ValueError, match="data"):
        seg.accuracy(model, bodies.features)
