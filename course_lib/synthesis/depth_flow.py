"""Depth and 3D motion learned from stereo video by warping alone (Cao, Kar, Häne, Malik, 2019).

:class:`DepthFlowNet` looks at a stereo pair at times t and t+1 and predicts, for every pixel
of the left image at t, its depth and its 3D motion (scene flow, in the left camera's frame,
the camera's own motion excluded). No ground truth supervises it: :func:`synthesis_loss` warps
the three other images into the left one at t (:func:`~.warp.inverse_warp`) with the predicted
depth, flow and the known camera poses, and scores how well they explain it
(:func:`~.losses.photometric_loss`), with edge-aware smoothness priors and a small penalty on
flow (most of the world does not move).

A batch is a dict of arrays as :func:`video_batch` draws them from a
:class:`course_lib.data.stereo_scenes.StereoVideo`:
``images`` `[B, 2, 2, H, W, 3]` (time t, t+1; left, right), ``K`` `[B, 3, 3]`, ``stereo_t``
`[B, 3]` (a left-camera point ``x`` is at ``x + stereo_t`` in the right camera), ``motion_R``
`[B, 3, 3]` and ``motion_t`` `[B, 3]` (a static point at ``x`` in the left camera at t is at
``motion_R x + motion_t`` in the left camera at t+1).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.synthesis.losses import photometric_loss, smoothness_loss
from course_lib.synthesis.warp import inverse_warp

_PACKAGE = "course_lib.synthesis"

#: Predicted depths lie in [MIN_DEPTH, MAX_DEPTH] (a sigmoid over inverse depth).
MIN_DEPTH = 0.5
MAX_DEPTH = 10.0
#: Each component of the predicted flow lies in [-MAX_FLOW, MAX_FLOW] (a tanh).
MAX_FLOW = 0.5
#: Weights of the priors in :func:`synthesis_loss`.
DEPTH_SMOOTHNESS = 0.05
FLOW_SMOOTHNESS = 0.05
FLOW_SPARSITY = 0.001
#: The photometric loss is also taken on images blurred by these factors (1: sharp): a blurred
#: image's gradient reaches farther, pulling depth and flow from further away.
BLUR_SCALES = (1, 4)
#: Gradients are clipped to this global norm (a saturated tanh would stop the flow learning).
CLIP_NORM = 1.0
BATCH_KEYS = ("images", "K", "stereo_t", "motion_R", "motion_t")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class UNet(keras.layers.Layer):
    """A small 2D U-Net: `[B, H, W, C]` -> `[B, H, W, outputs]` (H, W multiples of 8).

    Two 3x3 ELU convolutions per level at ``width``, 2, 4 and 6 times ``width`` channels,
    strided down three times, upsampled back with skip connections, a linear 3x3 head.
    """

    def __init__(self, outputs: int, width: int = 16, **kwargs) -> None:
        super().__init__(**kwargs)
        self.outputs = checks.positive_int("outputs", outputs)
        self.width = checks.positive_int("width", width)
        conv = keras.layers.Conv2D
        channels = [width, 2 * width, 4 * width, 6 * width]
        self.down = [
            [conv(c, 3, strides=1 if i == 0 else 2, padding="same", activation="elu"),
             conv(c, 3, padding="same", activation="elu")]
            for i, c in enumerate(channels)
        ]  # fmt: skip
        self.up = [
            [keras.layers.UpSampling2D(2), conv(c, 3, padding="same", activation="elu"),
             conv(c, 3, padding="same", activation="elu")]
            for c in reversed(channels[:-1])
        ]  # fmt: skip
        self.head = conv(outputs, 3, padding="same")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        skips = []
        for first, second in self.down:
            x = second(first(x))
            skips.append(x)
        for (upsample, first, second), skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = second(first(tf.concat([upsample(x), skip], -1)))
        return self.head(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "outputs": self.outputs, "width": self.width}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DepthFlowNet(keras.Model):
    """Depth from the stereo pair at t, then 3D flow from what the camera motion leaves unexplained.

    Called on a batch dict (see the module docstring; ``images`` `[B, 2, 2, H, W, 3]`, H and W
    multiples of 8), it returns ``{"depth": [B, H, W], "flow": [B, H, W, 3]}``:

    1. a :class:`UNet` on the stereo pair at t gives the depth, in [MIN_DEPTH, MAX_DEPTH]
       through a sigmoid over inverse depth;
    2. both images at t+1 are warped into the left image at t with that depth, the known camera
       motion and no flow (the *rigid* warp): a static scene now lines up, and what still
       differs is what moved;
    3. a second :class:`UNet` on the left image, the two rigidly warped images and the inverse
       depth gives the flow, in [-MAX_FLOW, MAX_FLOW] per component through a tanh.

    The flow network sees the depth and the rigid warp as inputs only (no gradient flows back
    through them): depth is learnt from the images, flow from what depth cannot explain.
    """

    def __init__(self, width: int = 10, **kwargs) -> None:
        super().__init__(**kwargs)
        self.width = checks.positive_int("width", width)
        self.depth_net = UNet(1, width, name="depth_net")
        self.flow_net = UNet(3, width, name="flow_net")

    def call(self, batch: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        if not isinstance(batch, Mapping) or any(k not in batch for k in BATCH_KEYS):
            raise ValueError(f"batch must be a dict with the keys {', '.join(BATCH_KEYS)}")
        images = tf.convert_to_tensor(batch["images"])
        if images.shape.rank is not None and (
            images.shape.rank != 6 or tuple(images.shape[1:3]) != (2, 2) or images.shape[-1] != 3
        ):
            raise ValueError(f"images must have shape [B, 2, 2, H, W, 3], got {images.shape}")
        for side in images.shape[3:5]:
            if side is not None and side % 8:
                raise ValueError(
                    f"images must have sides that are multiples of 8, got {images.shape}"
                )
        left = images[:, 0, 0]
        out = self.depth_net(tf.concat([left, images[:, 0, 1]], -1) - 0.5)[..., 0]
        disparity = 1 / MAX_DEPTH + (1 / MIN_DEPTH - 1 / MAX_DEPTH) * tf.sigmoid(out)
        depth = 1.0 / disparity
        fixed = tf.stop_gradient(depth)
        rigid = warped_views(batch, fixed, views=("left_t1", "right_t1"))
        inputs = [left - 0.5, rigid["left_t1"][0] - 0.5, rigid["right_t1"][0] - 0.5]
        inputs.append(tf.stop_gradient(disparity)[..., tf.newaxis])
        flow = MAX_FLOW * tf.tanh(self.flow_net(tf.concat(inputs, -1)))
        return {"depth": depth, "flow": flow}

    def get_config(self) -> dict:
        return {**super().get_config(), "width": self.width}


VIEWS = ("right_t", "left_t1", "right_t1")


def warped_views(
    batch: Mapping[str, tf.Tensor],
    depth: tf.Tensor,
    flow: tf.Tensor | None = None,
    views: tuple[str, ...] = VIEWS,
) -> dict[str, tuple[tf.Tensor, tf.Tensor]]:
    """The right image at t and both images at t+1 warped into the left image at t.

    Args:
        batch: see the module docstring.
        depth: `[B, H, W]` depth of the left image at t.
        flow: `[B, H, W, 3]` its 3D motion (left-camera frame); None for a static scene.
        views: which of :data:`VIEWS` to warp.

    Returns:
        ``{"right_t": (warped, mask), "left_t1": ..., "right_t1": ...}`` (those asked for),
        warped `[B, H, W, 3]`, mask `[B, H, W]`. The stereo pair sees one instant, so
        ``"right_t"`` ignores the flow.
    """
    images = tf.convert_to_tensor(batch["images"])
    K, stereo_t = batch["K"], tf.convert_to_tensor(batch["stereo_t"])
    motion_R, motion_t = batch["motion_R"], tf.convert_to_tensor(batch["motion_t"])
    identity = tf.eye(3, batch_shape=tf.shape(stereo_t)[:1], dtype=stereo_t.dtype)
    warps = {
        "right_t": lambda: inverse_warp(images[:, 0, 1], depth, K, identity, stereo_t),
        "left_t1": lambda: inverse_warp(images[:, 1, 0], depth, K, motion_R, motion_t, flow),
        "right_t1": lambda: inverse_warp(
            images[:, 1, 1], depth, K, motion_R, motion_t + stereo_t, flow
        ),
    }
    return {name: warps[name]() for name in views}


def _blur(images: tf.Tensor, scale: int) -> tf.Tensor:
    """``images`` `[B, 2, 2, H, W, 3]` averaged over ``scale`` x ``scale`` blocks and resized
    back (bilinear); unchanged for scale 1."""
    if scale == 1:
        return images
    size = tf.shape(images)[3:5]
    flat = tf.reshape(images, tf.concat([[-1], size, [3]], 0))
    coarse = tf.nn.avg_pool2d(flat, scale, scale, "VALID")
    return tf.reshape(tf.image.resize(coarse, size), tf.shape(images))


def synthesis_loss(
    batch: Mapping[str, tf.Tensor], depth: tf.Tensor, flow: tf.Tensor
) -> dict[str, tf.Tensor]:
    """The photometric loss of the three warped views plus the priors, and its parts.

    Returns:
        ``{"total", "photometric", "depth_smoothness", "flow_smoothness", "flow_sparsity"}``,
        scalars; ``total = photometric + DEPTH_SMOOTHNESS * depth_smoothness + FLOW_SMOOTHNESS *
        flow_smoothness + FLOW_SPARSITY * flow_sparsity``. Depth smoothness is taken on inverse
        depth divided by its mean, so that it does not reward a far-away scene.
    """
    images = tf.convert_to_tensor(batch["images"])
    target = images[:, 0, 0]
    terms = []
    for scale in BLUR_SCALES:
        blurred = dict(batch, images=_blur(images, scale))
        views = warped_views(blurred, depth, flow)
        terms += [photometric_loss(blurred["images"][:, 0, 0], w, m) for w, m in views.values()]
    photometric = tf.add_n(terms) / len(terms)
    disparity = 1.0 / depth
    disparity = disparity / tf.reduce_mean(disparity, axis=[1, 2], keepdims=True)
    parts = {
        "photometric": photometric,
        "depth_smoothness": smoothness_loss(disparity, target),
        "flow_smoothness": smoothness_loss(flow, target),
        "flow_sparsity": tf.reduce_mean(tf.abs(flow)),
    }
    parts["total"] = (
        photometric
        + DEPTH_SMOOTHNESS * parts["depth_smoothness"]
        + FLOW_SMOOTHNESS * parts["flow_smoothness"]
        + FLOW_SPARSITY * parts["flow_sparsity"]
    )
    return parts


def video_batch(video, indices: np.ndarray | list[int]) -> dict[str, np.ndarray]:
    """The batch (see the module docstring) of scenes ``indices`` of a ``StereoVideo``."""
    indices = np.asarray(indices)
    count = len(indices)
    return {
        "images": video.images[indices],
        "K": np.broadcast_to(video.K, (count, 3, 3)).astype(np.float32),
        "stereo_t": np.broadcast_to(video.stereo_t, (count, 3)).astype(np.float32),
        "motion_R": video.motion_R[indices],
        "motion_t": video.motion_t[indices],
    }


def train_depth_flow(
    model: DepthFlowNet,
    video,
    steps: int,
    batch_size: int = 8,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Trains ``model`` on ``video`` with :func:`synthesis_loss` alone (no ground truth) and Adam.

    Step ``s`` draws ``batch_size`` distinct scenes from ``numpy.random.default_rng([seed, s])``.

    Args:
        model: a :class:`DepthFlowNet`.
        video: a ``StereoVideo``; only its images and camera poses are read.
        steps: the number of steps, >= 1.
        batch_size: scenes per step, 1..len(video).
        learning_rate: Adam's learning rate (a float or a Keras schedule).
        seed: the batches' seed.
        progress: show a tqdm bar with the loss.

    Returns:
        The total loss of every step.
    """
    steps = checks.positive_int("steps", steps)
    batch_size = checks.integer("batch_size", batch_size, minimum=1, maximum=len(video))
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = checks.positive_float("learning_rate", learning_rate)
    from tqdm.auto import tqdm

    from course_lib.basics.training import make_train_step

    def batch_at(s: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([seed, s])
        return video_batch(video, rng.choice(len(video), batch_size, replace=False))

    if not model.built:
        model(batch_at(0))
    step = make_train_step(
        model,
        keras.optimizers.Adam(learning_rate, global_clipnorm=CLIP_NORM),
        lambda batch, predicted: synthesis_loss(batch, predicted["depth"], predicted["flow"])[
            "total"
        ],
    )
    losses = []
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="depth and flow", mininterval=1.0)
    for s in bar:
        batch = batch_at(s)
        losses.append(float(step(batch, batch)[0]))  # the batch is the input and the "label"
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
    return losses


def predict(model: DepthFlowNet, video, batch_size: int = 32) -> dict[str, np.ndarray]:
    """``{"depth": [N, H, W], "flow": [N, H, W, 3]}``: the model's prediction on every scene."""
    parts = [
        model(video_batch(video, np.arange(i, min(i + batch_size, len(video)))), training=False)
        for i in range(0, len(video), batch_size)
    ]
    return {k: np.concatenate([p[k].numpy() for p in parts]) for k in ("depth", "flow")}


def depth_error(depth: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute relative depth error ``mean |d - d*| / d*`` over all pixels."""
    depth, truth = np.asarray(depth, np.float64), np.asarray(truth, np.float64)
    if depth.shape != truth.shape:
        raise ValueError(f"depth must have the shape of truth {truth.shape}, got {depth.shape}")
    return float(np.mean(np.abs(depth - truth) / truth))


def flow_direction(flow: np.ndarray, moving: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Per scene, the cosine between the mean predicted flow on the moving object's pixels and
    the object's true motion: `[N]` in [-1, 1] (1: the right way).

    Args:
        flow: `[N, H, W, 3]` predicted flow; moving: bool `[N, H, W]`; motion: `[N, 3]`.
    """
    mean = np.stack([f[m].mean(0) for f, m in zip(flow, moving, strict=True)])
    norms = np.linalg.norm(mean, axis=-1) * np.linalg.norm(motion, axis=-1)
    return np.sum(mean * motion, -1) / np.maximum(norms, 1e-12)
