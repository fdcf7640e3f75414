"""Semantic mesh segmentation: label every vertex of a body mesh with its body part.

The course's segmentation demo, offline: procedural bodies from
:func:`course_lib.data.body.make_body`
(every body shares one topology, so one adjacency serves a whole batch), per-vertex features
(position and normal), a FeaStNet-style graph network (:class:`MeshSegmentationNet`) and, as the
baseline that sees the same features but no neighbours, a per-vertex MLP (:class:`VertexMLP`).
Both models are called as ``model([features, neighbors])`` with features `[B, V, C]` and
neighbors a SparseTensor `[B, V, V]`, and return logits `[B, V, num_classes]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.data.body import BODY_PARTS, make_body
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.nn.layer.graph_convolution import FeatureSteeredConvolutionKerasLayer

#: The number of feature channels :func:`vertex_features` gives: position (3) and normal (3).
NUM_FEATURES = 6


def vertex_features(vertices: Any, triangles: Any) -> tf.Tensor:
    """Per-vertex features: the position, centred horizontally, and the unit vertex normal.

    The horizontal centring (x and y minus their mean over the mesh) makes the features ignore
    where the body stands; the height is kept, since up is up for every body.

    Args:
        vertices: `[A1, ..., An, V, 3]` positions, z up.
        triangles: `[F, 3]` integer vertex indices.

    Returns:
        `[A1, ..., An, V, 6]` in the dtype of ``vertices``: ``x - mean(x)``, ``y - mean(y)``,
        ``z``, then the normal.

    Raises:
        ValueError: as :func:`course_lib.graphics.geometry.representation.mesh.vertex_normals`.
    """
    normals = mesh.vertex_normals(vertices, triangles)
    vertices = tf.convert_to_tensor(vertices, normals.dtype)
    horizontal = tf.constant([1.0, 1.0, 0.0], vertices.dtype)
    centre = tf.reduce_mean(vertices, axis=-2, keepdims=True) * horizontal
    return tf.concat([vertices - centre, normals], axis=-1)


@dataclass(frozen=True)
class SegmentationSet:
    """Labelled meshes sharing one topology.

    Attributes:
        vertices: float32 `[N, V, 3]`.
        triangles: int32 `[T, 3]`, shared by every mesh.
        features: float32 `[N, V, C]` (:func:`vertex_features`).
        labels: int32 `[N, V]`, indices into ``part_names``.
        neighbors: the shared adjacency, a row-normalized SparseTensor `[V, V]` with self loops.
        part_names: the class names.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    neighbors: tf.sparse.SparseTensor
    part_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def body_dataset(seeds: Iterable[int]) -> SegmentationSet:
    """Bodies :func:`course_lib.data.body.make_body` draws from ``seeds``, random pose each.

    Raises:
        ValueError: if ``seeds`` is empty or holds anything but non-negative ints.
    """
    seeds = checks.integers("seeds", seeds, minimum=0)
    bodies = [make_body(seed) for seed in seeds]
    vertices = np.stack([body.vertices for body in bodies]).astype(np.float32)
    triangles = bodies[0].triangles
    features = vertex_features(vertices, triangles).numpy()
    return SegmentationSet(
        vertices=vertices,
        triangles=triangles,
        features=features,
        labels=np.stack([body.labels for body in bodies]).astype(np.int32),
        neighbors=mesh.adjacency(triangles, vertices.shape[1], self_loops=True),
        part_names=BODY_PARTS,
    )


def batch_neighbors(neighbors: tf.sparse.SparseTensor, batch_size: int) -> tf.sparse.SparseTensor:
    """One adjacency `[V, V]` repeated into a batch `[batch_size, V, V]`."""
    batch_size = checks.positive_int("batch_size", batch_size)
    if not isinstance(neighbors, tf.sparse.SparseTensor) or neighbors.shape.rank != 2:
        raise ValueError(f"neighbors must be a SparseTensor [V, V], got {neighbors!r}")
    count = tf.shape(neighbors.indices, out_type=tf.int64)[0]
    batch = tf.repeat(tf.range(batch_size, dtype=tf.int64), count)
    indices = tf.concat([batch[:, None], tf.tile(neighbors.indices, [batch_size, 1])], axis=1)
    return tf.sparse.SparseTensor(
        indices,
        tf.tile(neighbors.values, [batch_size]),
        tf.concat([[batch_size], tf.cast(neighbors.dense_shape, tf.int64)], 0),
    )


@keras.saving.register_keras_serializable(package="course_lib")
class MeshSegmentationNet(keras.Model):
    """A per-vertex linear lift, feature-steered convolutions with ReLU, then a per-vertex head.

    ``model([features, neighbors])``: features `[B, V, C]`, neighbors SparseTensor `[B, V, V]`
    (row-normalized, self loops) → logits `[B, V, num_classes]`. The layout of TensorFlow
    Graphics' segmentation demo: Dense(widths[0]) → FeaSt(widths[1:]) → Dense(head) → classes.

    Args:
        num_classes: the number of labels.
        widths: the lift's width, then one FeaSt layer per further entry.
        num_weight_matrices: W of every FeaSt layer.
        head_width: the hidden width of the per-vertex classifier.
        residual: add each convolution's input to its output where their widths agree.
    """

    def __init__(
        self,
        num_classes: int = len(BODY_PARTS),
        widths: Sequence[int] = (32, 32, 32, 32),
        num_weight_matrices: int = 4,
        head_width: int = 64,
        residual: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = checks.positive_int("num_classes", num_classes)
        self.widths = checks.integers("widths", widths, minimum=1)
        self.num_weight_matrices = checks.positive_int("num_weight_matrices", num_weight_matrices)
        self.head_width = checks.positive_int("head_width", head_width)
        self.residual = checks.boolean("residual", residual)
        self.lift = keras.layers.Dense(self.widths[0], activation="relu")
        self.convolutions = [
            FeatureSteeredConvolutionKerasLayer(
                num_weight_matrices=self.num_weight_matrices, num_output_channels=width
            )
            for width in self.widths[1:]
        ]
        self.head = keras.layers.Dense(self.head_width, activation="relu")
        self.classifier = keras.layers.Dense(self.num_classes)

    def call(self, inputs):
        features, neighbors = inputs
        x = self.lift(features)
        for convolution in self.convolutions:
            y = tf.nn.relu(convolution([x, neighbors]))
            x = x + y if self.residual and x.shape[-1] == y.shape[-1] else y
        return self.classifier(self.head(x))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            widths=list(self.widths),
            num_weight_matrices=self.num_weight_matrices,
            head_width=self.head_width,
            residual=self.residual,
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class VertexMLP(keras.Model):
    """The baseline: the same per-vertex features through an MLP, neighbours ignored.

    Called like :class:`MeshSegmentationNet`, ``model([features, neighbors])``, so that both train
    and evaluate with the same code.

    Args:
        num_classes: the number of labels.
        widths: the hidden layers' widths (ReLU).
    """

    def __init__(
        self,
        num_classes: int = len(BODY_PARTS),
        widths: Sequence[int] = (128, 128, 128, 128),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = checks.positive_int("num_classes", num_classes)
        self.widths = checks.integers("widths", widths, minimum=1)
        self.hidden = [keras.layers.Dense(width, activation="relu") for width in self.widths]
        self.classifier = keras.layers.Dense(self.num_classes)

    def call(self, inputs):
        x = inputs[0]
        for layer in self.hidden:
            x = layer(x)
        return self.classifier(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_classes=self.num_classes, widths=list(self.widths))
        return config


def _check_set(data: Any) -> SegmentationSet:
    if not isinstance(data, SegmentationSet):
        raise ValueError(f"data must be a SegmentationSet, got {type(data).__name__}")
    return data


def train(
    model: keras.Model,
    data: SegmentationSet,
    steps: int = 1000,
    batch_size: int = 4,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> np.ndarray:
    """Trains ``model`` with Adam on per-vertex cross-entropy over random minibatches.

    Args:
        model: a model called as ``model([features, neighbors])`` returning logits.
        data: the training set.
        steps: the number of minibatch steps.
        batch_size: meshes per step (at most ``len(data)``).
        learning_rate: Adam's step size.
        seed: draws the minibatches.

    Returns:
        float32 `[steps]`, the loss of every step.
    """
    data = _check_set(data)
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    if batch_size > len(data):
        raise ValueError(f"batch_size must be at most len(data) = {len(data)}, got {batch_size}")
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    rng = np.random.default_rng(checks.integer("seed", seed, minimum=0))
    neighbors = batch_neighbors(data.neighbors, batch_size)
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model([data.features[:batch_size], neighbors])  # builds the weights before tracing

    @tf.function(reduce_retracing=True)
    def step(features, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model([features, neighbors], training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    losses = np.empty(steps, np.float32)
    for k in range(steps):
        chosen = rng.choice(len(data), batch_size, replace=False)
        losses[k] = step(data.features[chosen], data.labels[chosen]).numpy()
    return losses


def predict(model: keras.Model, data: SegmentationSet, batch_size: int = 8) -> np.ndarray:
    """The predicted label of every vertex: int32 `[N, V]`."""
    data = _check_set(data)
    batch_size = checks.positive_int("batch_size", batch_size)
    predictions = []
    for start in range(0, len(data), batch_size):
        features = data.features[start : start + batch_size]
        neighbors = batch_neighbors(data.neighbors, len(features))
        logits = model([features, neighbors], training=False)
        predictions.append(tf.argmax(logits, axis=-1, output_type=tf.int32).numpy())
    return np.concatenate(predictions)


def accuracy(model: keras.Model, data: SegmentationSet, batch_size: int = 8) -> float:
    """The fraction of all vertices of ``data`` whose predicted label is right."""
    return float(np.mean(predict(model, data, batch_size) == _check_set(data).labels))
