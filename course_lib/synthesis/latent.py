"""Geometry-aware latent representations for novel view synthesis (Rhodin, Salzmann, Fua, 2018).

An encoder maps one view of an object to a latent made of ``P`` 3D points (plus an appearance
vector); the latent points are **rotated by the known relative camera rotation** and decoded to
the object seen from the other camera. Because the rotation acts on the latent as it acts on
the world, the network needs to learn only what the object looks like, not how rotations act.
The baseline is the same network without the rotation in the latent: its decoder gets the
unrotated points with the nine numbers of the rotation appended, and must learn to use them.

:class:`LatentViewSynthesis` is called on ``{"image": [B, S, S, 3], "rotation": [B, 3, 3]}``
(S a multiple of 8) and returns the synthesized view `[B, S, S, 3]`. For views ``a`` and ``b`` of
:mod:`course_lib.data.shapes3d` (cameras ``x_cam = R x + t`` looking at the object's centre from
the same distance), ``rotation`` is :func:`relative_rotation` ``R_b R_a^T``: it turns
camera-``a`` directions into camera-``b`` directions, about the object's centre.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.data.shapes3d import MultiViewSet

_PACKAGE = "course_lib.synthesis"


def relative_rotation(R_a: np.ndarray, R_b: np.ndarray) -> np.ndarray:
    """``R_b R_a^T`` `[..., 3, 3]`: camera-``a`` directions to camera-``b`` directions."""
    R_a, R_b = np.asarray(R_a), np.asarray(R_b)
    if R_a.shape[-2:] != (3, 3) or R_b.shape[-2:] != (3, 3):
        raise ValueError(f"R_a and R_b must be [..., 3, 3], got {R_a.shape} and {R_b.shape}")
    return np.matmul(R_b, np.swapaxes(R_a, -1, -2))


def rotation_angle(rotation: np.ndarray) -> np.ndarray:
    """The angle in degrees `[...]` of rotations `[..., 3, 3]` (``arccos((trace - 1) / 2)``)."""
    cosine = (np.trace(np.asarray(rotation), axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LatentViewSynthesis(keras.Model):
    """Encoder -> 3D point-set latent (rotated, or not) -> decoder to the other view.

    Args:
        rotate: True: the geometry-aware model (latent points multiplied by the rotation);
            False: the baseline (the rotation's nine numbers appended to the unrotated latent).
        num_points: P, the 3D points of the latent.
        appearance: size of the appearance vector (not rotated).
        width: channels of the first convolution (doubling twice).
    """

    def __init__(
        self,
        rotate: bool = True,
        num_points: int = 64,
        appearance: int = 16,
        width: int = 16,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.rotate = checks.boolean("rotate", rotate)
        self.num_points = checks.positive_int("num_points", num_points)
        self.appearance = checks.positive_int("appearance", appearance)
        self.width = checks.positive_int("width", width)
        layers = keras.layers
        self.encoder = keras.Sequential(
            [
                *(
                    layers.Conv2D(width * 2**i, 3, strides=2, padding="same", activation="elu")
                    for i in range(3)
                ),
                layers.Conv2D(2 * width, 1, activation="elu"),
                layers.Flatten(),
                layers.Dense(3 * num_points + appearance),
            ]
        )
        self.upsample = [
            layers.Conv2DTranspose(c, 4, strides=2, padding="same", activation="elu")
            for c in (2 * width, 2 * width, width)
        ]
        self.to_rgb = layers.Conv2D(3, 3, padding="same")

    def build(self, input_shape) -> None:
        shape = input_shape["image"] if isinstance(input_shape, Mapping) else input_shape[0]
        side = shape[1] // 8
        self.start = (side, side, 2 * self.width)
        self.expand = keras.layers.Dense(int(np.prod(self.start)), activation="elu")
        super().build(input_shape)

    def encode(self, image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(points [B, P, 3], appearance [B, A])`` of views `[B, S, S, 3]`."""
        code = self.encoder(tf.convert_to_tensor(image) - 0.5)
        points = tf.reshape(code[:, : 3 * self.num_points], [-1, self.num_points, 3])
        return points, code[:, 3 * self.num_points :]

    def decode(self, points: tf.Tensor, appearance: tf.Tensor, rotation: tf.Tensor) -> tf.Tensor:
        """The view `[B, S, S, 3]` of a latent seen after the camera turned by ``rotation``."""
        rotation = tf.cast(rotation, points.dtype)
        if self.rotate:
            flat = tf.reshape(
                tf.linalg.matmul(points, rotation, transpose_b=True), [-1, 3 * self.num_points]
            )
            code = tf.concat([flat, appearance], -1)
        else:
            flat = tf.reshape(points, [-1, 3 * self.num_points])
            code = tf.concat([flat, appearance, tf.reshape(rotation, [-1, 9])], -1)
        x = tf.reshape(self.expand(code), [-1, *self.start])
        for layer in self.upsample:
            x = layer(x)
        return self.to_rgb(x) + 0.5

    def call(self, inputs) -> tf.Tensor:
        image, rotation = _split(inputs)
        points, appearance = self.encode(image)
        return self.decode(points, appearance, rotation)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rotate": self.rotate,
            "num_points": self.num_points,
            "appearance": self.appearance,
            "width": self.width,
        }


def _split(inputs) -> tuple[tf.Tensor, tf.Tensor]:
    if isinstance(inputs, Mapping):
        if "image" not in inputs or "rotation" not in inputs:
            raise ValueError("inputs must hold 'image' [B, S, S, 3] and 'rotation' [B, 3, 3]")
        image, rotation = inputs["image"], inputs["rotation"]
    elif isinstance(inputs, list | tuple) and len(inputs) == 2:
        image, rotation = inputs
    else:
        raise ValueError("inputs must be {'image': ..., 'rotation': ...} or (image, rotation)")
    image, rotation = tf.convert_to_tensor(image), tf.convert_to_tensor(rotation)
    if image.shape.rank is not None and (
        image.shape.rank != 4 or image.shape[-1] != 3 or image.shape[1] != image.shape[2]
    ):
        raise ValueError(f"image must have shape [B, S, S, 3], got {tuple(image.shape)}")
    if image.shape[1] is not None and image.shape[1] % 8:
        raise ValueError(f"image must have a side that is a multiple of 8, got {image.shape[1]}")
    if rotation.shape.rank is not None and tuple(rotation.shape[1:]) != (3, 3):
        raise ValueError(f"rotation must have shape [B, 3, 3], got {tuple(rotation.shape)}")
    return image, rotation


def view_pairs(data: MultiViewSet, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``count`` random ordered pairs of distinct views of the same shapes.

    Returns:
        ``{"image": [count, S, S, 3], "rotation": [count, 3, 3], "target": [count, S, S, 3],
        "shape": [count], "angle": [count]}`` (float32; ``angle`` in degrees).
    """
    count = checks.positive_int("count", count)
    if data.num_views < 2:
        raise ValueError(f"data must have at least 2 views per shape, got {data.num_views}")
    rng = np.random.default_rng([checks.non_negative_int("seed", seed), 7])
    shape = rng.integers(0, len(data), count)
    a = rng.integers(0, data.num_views, count)
    b = (a + rng.integers(1, data.num_views, count)) % data.num_views
    rotation = relative_rotation(data.R[shape, a], data.R[shape, b]).astype(np.float32)
    return {
        "image": data.images[shape, a],
        "rotation": rotation,
        "target": data.images[shape, b],
        "shape": shape,
        "angle": rotation_angle(rotation).astype(np.float32),
    }


def train_latent(
    model: LatentViewSynthesis,
    data: MultiViewSet,
    steps: int,
    batch_size: int = 32,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Trains ``model`` to synthesize one view of ``data`` from another (mean squared error, Adam).

    Step ``s`` draws ``batch_size`` pairs with :func:`view_pairs` (seed ``[seed, s]``).

    Returns:
        The loss of every step.
    """
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = checks.positive_float("learning_rate", learning_rate)
    from tqdm.auto import tqdm

    from course_lib.basics.training import make_train_step

    if not model.built:
        first = view_pairs(data, 1)
        model({"image": first["image"], "rotation": first["rotation"]})
    step = make_train_step(
        model,
        keras.optimizers.Adam(learning_rate),
        lambda target, synthesized: tf.reduce_mean(tf.square(synthesized - target)),
    )
    losses = []
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="latent", mininterval=1.0)
    for s in bar:
        pairs = view_pairs(data, batch_size, seed=seed * 1_000_003 + s)
        inputs = {"image": pairs["image"], "rotation": pairs["rotation"]}
        losses.append(float(step(inputs, pairs["target"])[0]))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
    return losses


def synthesize(
    model: LatentViewSynthesis, image: np.ndarray, rotation: np.ndarray, batch_size: int = 256
) -> np.ndarray:
    """The model's views `[N, S, S, 3]`, clipped to [0, 1], computed in batches."""
    outputs = [
        model(
            {"image": image[i : i + batch_size], "rotation": rotation[i : i + batch_size]}
        ).numpy()
        for i in range(0, len(image), batch_size)
    ]
    return np.clip(np.concatenate(outputs), 0.0, 1.0)


def view_errors(model: LatentViewSynthesis, pairs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean absolute error `[N]` of each synthesized view of ``pairs`` against its true view."""
    synthesized = synthesize(model, pairs["image"], pairs["rotation"])
    return np.abs(synthesized - pairs["target"]).mean(axis=(1, 2, 3))
