"""The Learnt Stereo Machine's networks, its depth head and the 2D-only baseline (Kar et al., 2017).

- :class:`ImageEncoder`: a small 2D U-Net, images `[N, H, W, 3]` -> features `[N, H, W, F]`;
- :class:`VoxelDecoder`: a small 3D U-Net, a grid `[B, R, R, R, C]` -> occupancy logits
  `[B, R, R, R]`;
- :class:`LearntStereoMachine`: encoder per view -> :func:`~.unprojection.unproject` (with the
  depth channel) -> :class:`~.gru.ConvGRU3D` over the views (:func:`~.gru.fuse_views`, any V)
  -> decoder. The fusion is recurrent, so its result depends on the order of the views; it is
  order-invariant only *in expectation*, by training with the views in random order
  (:func:`course_lib.lsm.training.train` shuffles them at every step);
- :func:`project_depth`: the depth LSM's projection, an occupancy grid marched along each
  pixel's ray into an expected first-hit depth map, differentiable;
- :class:`Baseline2D`: the 3D-R2N2-style baseline, no camera and no geometry layer: a 2D
  encoder -> one latent vector per view -> a GRU over the views -> a 3D decoder from the latent.

Both models are called on a dict ``{"images": [B, V, H, W, 3], "K": [B, V, 3, 3],
"R": [B, V, 3, 3], "t": [B, V, 3]}`` (or the tuple ``(images, K, R, t)``) and return logits
`[B, R, R, R]`; the baseline reads only the images. Cameras map a world point ``x`` to
``x_cam = R x + t`` and to the pixel ``K x_cam / z_cam``; voxel ``[i, j, k]`` of the grid is
centred at ``-extent/2 + ([i, j, k] + 0.5) extent / R`` (:func:`~.unprojection.voxel_centres`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.util import shape
from course_lib.lsm.gru import ConvGRU3D, fuse_views
from course_lib.lsm.unprojection import _check_intrinsics, unproject, voxel_centres

_PACKAGE = "course_lib.lsm"


def _check_halvable(name: str, tensor: tf.Tensor, layout: str, halvings: int) -> None:
    """``ValueError`` naming ``name`` unless ``tensor`` is ``[batch, *sides, channels]`` as
    ``layout`` says, each known side a multiple of ``2 ** halvings``."""
    rank = len(layout.split(","))
    if tensor.shape.rank is not None and tensor.shape.rank != rank:
        raise ValueError(f"{name} must have shape {layout}, got {tuple(tensor.shape)}")
    factor = 2**halvings
    for size in tensor.shape[1:-1]:
        if size is not None and size % factor:
            raise ValueError(
                f"{name} must have sides that are multiples of {factor} (the U-Net halves them "
                f"{halvings} times), got shape {tuple(tensor.shape)}"
            )


def _split_inputs(inputs) -> tuple[tf.Tensor, tf.Tensor | None, tf.Tensor | None, tf.Tensor | None]:
    """``(images, K, R, t)`` from a dict, a 4-tuple, or the images alone (cameras None)."""
    if isinstance(inputs, Mapping):
        missing = [k for k in ("images", "K", "R", "t") if k not in inputs]
        if "images" in missing:
            raise ValueError("inputs must hold 'images' (and 'K', 'R', 't' for the LSM)")
        return inputs["images"], inputs.get("K"), inputs.get("R"), inputs.get("t")
    if isinstance(inputs, list | tuple):
        if len(inputs) != 4:
            raise ValueError(f"inputs must be (images, K, R, t), got {len(inputs)} items")
        return tuple(inputs)
    return inputs, None, None, None


def _check_images(images) -> tf.Tensor:
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        raise ValueError(f"images must be floating, got {images.dtype.name}")
    if images.shape.rank is not None and (images.shape.rank != 5 or images.shape[-1] != 3):
        raise ValueError(f"images must have shape [B, V, H, W, 3], got {tuple(images.shape)}")
    if images.shape[1] == 0:
        raise ValueError("images must hold at least one view (V >= 1), got V = 0")
    return images


def _merge_views(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`[B, V, H, W, C]` -> `[B * V, H, W, C]`, with B and V (static where known)."""
    dims = tf.shape(images)
    batch = images.shape[0] if images.shape[0] is not None else dims[0]
    views = images.shape[1] if images.shape[1] is not None else dims[1]
    merged = tf.reshape(images, tf.concat([[-1], dims[2:]], axis=0))
    merged.set_shape([None, *images.shape[2:]])
    return merged, batch, views


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ImageEncoder(keras.layers.Layer):
    """A small 2D U-Net: images `[N, H, W, 3]` -> per-pixel features `[N, H, W, features]`.

    ``len(widths)`` levels: two 3 x 3 ReLU convolutions at each, a 2 x 2 max pooling between
    levels on the way down, nearest-neighbour upsampling, concatenation with the skip of the
    same level and one 3 x 3 ReLU convolution on the way up, then a linear 1 x 1 convolution to
    ``features`` channels. H and W must be multiples of ``2 ** (len(widths) - 1)``.

    Args:
        features: F, the output channels.
        widths: the channels of each level, finest first (e.g. ``(8, 16, 32)``: 2 down, 2 up).
        global_context: append the coarsest level's mean over the image to its every pixel
            before going up (each pixel's features then know the whole image).
    """

    def __init__(
        self,
        features: int = 16,
        widths: Sequence[int] = (8, 16, 32),
        global_context: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.features = checks.positive_int("features", features)
        self.widths = checks.integers("widths", widths, minimum=1)
        self.global_context = checks.boolean("global_context", global_context)

        def conv(width, name, kernel=3, activation="relu"):
            return keras.layers.Conv2D(
                width, kernel, padding="same", activation=activation, name=name
            )

        self.down = [
            (conv(w, f"down{i}_a"), conv(w, f"down{i}_b")) for i, w in enumerate(self.widths)
        ]
        self.up = [conv(w, f"up{i}") for i, w in enumerate(self.widths[:-1])]
        self.head = conv(self.features, "head", kernel=1, activation=None)

    def call(self, images) -> tf.Tensor:
        images = tf.convert_to_tensor(images, dtype=self.compute_dtype)
        _check_halvable("images", images, "[N, H, W, C]", len(self.widths) - 1)
        skips = []
        x = images
        for level, (first, second) in enumerate(self.down):
            if level:
                x = tf.nn.max_pool2d(x, 2, 2, "VALID")
            x = second(first(x))
            skips.append(x)
        if self.global_context:
            mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
            x = tf.concat([x, tf.broadcast_to(mean, tf.shape(x))], axis=-1)
        for level in reversed(range(len(self.widths) - 1)):
            size = tf.shape(skips[level])[1:3]
            x = tf.image.resize(x, size, method="nearest")
            x = self.up[level](tf.concat([x, skips[level]], axis=-1))
        return self.head(x)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.features)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            features=self.features, widths=list(self.widths), global_context=self.global_context
        )
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class VoxelDecoder(keras.layers.Layer):
    """A small 3D U-Net: a grid `[B, R1, R2, R3, C]` -> occupancy logits `[B, R1, R2, R3]`.

    ``len(widths)`` levels: one 3 x 3 x 3 ReLU convolution at each on the way down (2 x 2 x 2
    max pooling between levels), nearest-neighbour upsampling by 2 (each voxel repeated),
    concatenation with the skip and one 3 x 3 x 3 ReLU convolution on the way up, then a linear
    1 x 1 x 1 convolution to one channel. R1, R2, R3 must be multiples of
    ``2 ** (len(widths) - 1)``.

    Args:
        widths: the channels of each level, finest first (``(16, 32)``: one level down and up,
            enough at 16^3; ``(16, 32, 64)`` at 32^3).
    """

    def __init__(self, widths: Sequence[int] = (16, 32), **kwargs) -> None:
        super().__init__(**kwargs)
        self.widths = checks.integers("widths", widths, minimum=1)

        def conv(width, name, kernel=3, activation="relu"):
            return keras.layers.Conv3D(
                width, kernel, padding="same", activation=activation, name=name
            )

        self.down = [conv(w, f"down{i}") for i, w in enumerate(self.widths)]
        self.up = [conv(w, f"up{i}") for i, w in enumerate(self.widths[:-1])]
        self.head = conv(1, "head", kernel=1, activation=None)

    def call(self, grid) -> tf.Tensor:
        grid = tf.convert_to_tensor(grid, dtype=self.compute_dtype)
        _check_halvable("grid", grid, "[B, R1, R2, R3, C]", len(self.widths) - 1)
        skips = []
        x = grid
        for level, layer in enumerate(self.down):
            if level:
                x = tf.nn.max_pool3d(x, 2, 2, "VALID")
            x = layer(x)
            skips.append(x)
        for level in reversed(range(len(self.widths) - 1)):
            x = tf.repeat(tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2), 2, axis=3)
            x = self.up[level](tf.concat([x, skips[level]], axis=-1))
        return self.head(x)[..., 0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(widths=list(self.widths))
        return config


def default_decoder_widths(resolution: int) -> tuple[int, ...]:
    """The 3D U-Net's widths for a grid side: ``(16, 32)`` up to 16^3, ``(16, 32, 64)`` above."""
    resolution = checks.positive_int("resolution", resolution)
    return (16, 32) if resolution <= 16 else (16, 32, 64)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LearntStereoMachine(keras.Model):
    """The voxel LSM: images and cameras of V views -> occupancy logits `[B, R, R, R]`.

    ``call(inputs)`` with ``inputs`` a dict ``{"images", "K", "R", "t"}`` or a tuple
    ``(images, K, R, t)``: images `[B, V, H, W, 3]`, K `[B, V, 3, 3]`, R `[B, V, 3, 3]`,
    t `[B, V, 3]` (``x_cam = R x + t``). Any V >= 1, also unknown until run time. Each view's
    image goes through the :class:`ImageEncoder`, its features `[B, V, H, W, F]` are unprojected
    into the grid with the voxels' camera depth appended (`[B, V, R, R, R, F + 1]`; and their
    world coordinates with ``coordinates``: `F + 4`), the :class:`~.gru.ConvGRU3D` fuses the
    views in the given order into `[B, R, R, R, gru_filters]` and the :class:`VoxelDecoder`
    turns that into logits. :meth:`stages` returns every intermediate result, :meth:`depth` the
    depth LSM's per-view depth maps.

    Two additions to the paper's network, on by default, help most with one view, where the
    grid alone cannot say how deep the shape goes along the rays: the encoder's global context
    (each pixel's features know the whole image: which shape, how large) and the voxels'
    coordinates (where shapes tend to be). Measured on the quick profile (16^3, 32 x 32 images,
    400 training shapes, 50 held-out, 800 steps of 8 shapes): 1-view IoU 0.361 without both,
    0.379 with the coordinates, 0.411 with both.

    Args:
        resolution: R, the grid's side in voxels (a multiple of ``2 ** (len(decoder_widths)-1)``).
        features: F, the encoder's output channels.
        encoder_widths: the 2D U-Net's widths.
        gru_filters: the fused grid's channels.
        decoder_widths: the 3D U-Net's widths (default :func:`default_decoder_widths`).
        extent: the side of the cube the grid spans, centred at the origin.
        kernel_size: the GRU's kernel side.
        global_context: the encoder's global context (see :class:`ImageEncoder`).
        coordinates: append each voxel centre's world coordinates (3 channels) to every
            unprojected view, so the network can learn where in the cube shapes tend to be.
    """

    def __init__(
        self,
        resolution: int = 16,
        features: int = 16,
        encoder_widths: Sequence[int] = (8, 16, 32),
        gru_filters: int = 16,
        decoder_widths: Sequence[int] | None = None,
        extent: float = 1.0,
        kernel_size: int = 3,
        coordinates: bool = True,
        global_context: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.resolution = checks.integer("resolution", resolution, minimum=2)
        self.coordinates = checks.boolean("coordinates", coordinates)
        self.extent = checks.positive_float("extent", extent)
        if decoder_widths is None:
            decoder_widths = default_decoder_widths(self.resolution)
        decoder_widths = checks.integers("decoder_widths", decoder_widths, minimum=1)
        factor = 2 ** (len(decoder_widths) - 1)
        if self.resolution % factor:
            raise ValueError(
                f"resolution must be a multiple of {factor} for decoder_widths "
                f"{decoder_widths}, got {self.resolution}"
            )
        self.encoder = ImageEncoder(features, encoder_widths, global_context, name="encoder")
        self.gru = ConvGRU3D(gru_filters, kernel_size, name="gru")
        self.decoder = VoxelDecoder(decoder_widths, name="decoder")

    def build(self, input_shape) -> None:
        """Nothing to build ahead: the sublayers build on the first call (on its shapes)."""

    def _unprojected(self, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        """Features `[B, V, H, W, F]` and their unprojected grids `[B, V, R, R, R, F + 1 (+ 3)]`."""
        images, K, R, t = _split_inputs(inputs)
        if K is None or R is None or t is None:
            raise ValueError("inputs must hold the cameras 'K', 'R' and 't' besides 'images'")
        images = tf.cast(_check_images(images), self.compute_dtype)
        merged, batch, views = _merge_views(images)
        features = self.encoder(merged)
        features = tf.reshape(features, tf.concat([[batch, views], tf.shape(features)[1:]], axis=0))
        features.set_shape([*images.shape[:4], self.encoder.features])
        grids = unproject(features, K, R, t, self.resolution, self.extent, depth_channel=True)
        if self.coordinates:
            centres = voxel_centres(self.resolution, self.extent, grids.dtype)
            shape_ = tf.concat([tf.shape(grids)[:-1], [3]], axis=0)
            grids = tf.concat([grids, tf.broadcast_to(centres, shape_)], axis=-1)
        return features, grids

    def stages(self, inputs) -> dict[str, tf.Tensor]:
        """Every stage of the pipeline for ``inputs`` (see the class docstring).

        Returns:
            ``{"features": [B, V, H, W, F], "grids": [B, V, R, R, R, F + 1] (the unprojected
            views, camera depth last; F + 4 with ``coordinates``, x, y, z last), "states":
            [B, V, R, R, R, Cs] (the GRU state after each view), "fused": [B, R, R, R, Cs],
            "logits": [B, R, R, R]}``.
        """
        features, grids = self._unprojected(inputs)
        fused, states = fuse_views(self.gru, grids, return_sequences=True)
        logits = self.decoder(fused)
        return {
            "features": features,
            "grids": grids,
            "states": states,
            "fused": fused,
            "logits": logits,
        }

    def call(self, inputs) -> tf.Tensor:
        _, grids = self._unprojected(inputs)
        return self.decoder(fuse_views(self.gru, grids))

    def occupancy(self, inputs) -> tf.Tensor:
        """Occupancy probabilities `[B, R, R, R]`: the sigmoid of :meth:`call`'s logits."""
        return tf.sigmoid(self(inputs))

    def depth(
        self,
        inputs,
        image_size: int | tuple[int, int] | None = None,
        num_samples: int = 64,
        background: str = "zero",
    ) -> tf.Tensor:
        """The depth LSM: the predicted occupancy projected into each input view.

        :func:`project_depth` of :meth:`occupancy` with the inputs' cameras.

        Args:
            inputs: as for :meth:`call`.
            image_size: ``(H, W)`` or an int for square maps (default: the images' size).
            num_samples: samples along each ray.
            background: what the rays that hit nothing get (see :func:`project_depth`).

        Returns:
            `[B, V, H, W]` expected first-hit camera depths.
        """
        images, K, R, t = _split_inputs(inputs)
        if image_size is None:
            images = _check_images(images)
            image_size = tuple(images.shape[2:4])
        return project_depth(
            self.occupancy(inputs),
            K,
            R,
            t,
            image_size,
            num_samples=num_samples,
            extent=self.extent,
            background=background,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            resolution=self.resolution,
            features=self.encoder.features,
            encoder_widths=list(self.encoder.widths),
            gru_filters=self.gru.filters,
            decoder_widths=list(self.decoder.widths),
            extent=self.extent,
            kernel_size=self.gru.kernel_size,
            coordinates=self.coordinates,
            global_context=self.encoder.global_context,
        )
        return config


def default_baseline_channels(resolution: int) -> int:
    """The baseline decoder's first channels that bring :class:`Baseline2D`'s parameter count
    near the default :class:`LearntStereoMachine`'s: 8 up to 16^3, 32 above."""
    resolution = checks.positive_int("resolution", resolution)
    return 8 if resolution <= 16 else 32


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Baseline2D(keras.Model):
    """The 2D-only baseline (3D-R2N2 style): images of V views -> occupancy logits `[B, R, R, R]`.

    No camera input and no geometry layer: each view's image `[H, W, 3]` goes through 3 x 3
    ReLU convolutions of stride 2 (one per width in ``encoder_widths``), a resampling to 4 x 4
    (antialiased bilinear: an average pooling when larger) unless the map is 4 x 4 already (a
    32 x 32 image with three widths), and a dense ReLU layer to a latent vector of size
    ``latent``; a ``keras.layers.GRU`` runs over the views' latents (any V, in the given order);
    its last state goes through a dense ReLU layer to a `[4, 4, 4, channels]` grid that
    stride-2 ``Conv3DTranspose`` layers (ReLU, channels halved each time, at least 8) bring up to
    `[R, R, R]`, and a linear 1 x 1 x 1 convolution gives the logits.

    ``call(inputs)`` takes the same dict or tuple as :class:`LearntStereoMachine` (only
    ``images`` `[B, V, H, W, 3]` is read) or the images alone. The defaults give about the
    LSM's default parameter count at R = 16 and 32 (see :func:`count_params`).

    Args:
        resolution: R, ``4 * 2 ** k`` for some k >= 0.
        encoder_widths: channels of the strided 2D convolutions (any H and W).
        latent: the latent vector's size (and the GRU's units).
        channels: the channels of the first 4^3 grid of the decoder (default
            :func:`default_baseline_channels`).
    """

    def __init__(
        self,
        resolution: int = 16,
        encoder_widths: Sequence[int] = (8, 16, 32),
        latent: int = 64,
        channels: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.resolution = checks.integer("resolution", resolution, minimum=4)
        ups = math.log2(self.resolution / 4)
        if ups != int(ups):
            raise ValueError(f"resolution must be 4 * 2 ** k (4, 8, 16, 32, ...), got {resolution}")
        self.encoder_widths = checks.integers("encoder_widths", encoder_widths, minimum=1)
        self.latent = checks.positive_int("latent", latent)
        if channels is None:
            channels = default_baseline_channels(self.resolution)
        self.channels = checks.positive_int("channels", channels)
        self.convs = [
            keras.layers.Conv2D(w, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")
            for i, w in enumerate(self.encoder_widths)
        ]
        self.flatten = keras.layers.Flatten(name="flatten")
        self.to_latent = keras.layers.Dense(self.latent, activation="relu", name="to_latent")
        self.gru = keras.layers.GRU(self.latent, name="gru")
        self.from_latent = keras.layers.Dense(
            4**3 * self.channels, activation="relu", name="from_latent"
        )
        self.ups = []
        width = self.channels
        for i in range(int(ups)):
            width = max(width // 2, 8)
            self.ups.append(
                keras.layers.Conv3DTranspose(
                    width, 4, strides=2, padding="same", activation="relu", name=f"up{i}"
                )
            )
        self.head = keras.layers.Conv3D(1, 1, name="head")

    def build(self, input_shape) -> None:
        """Nothing to build ahead: the sublayers build on the first call (on its shapes)."""

    def call(self, inputs) -> tf.Tensor:
        images, _, _, _ = _split_inputs(inputs)
        images = tf.cast(_check_images(images), self.compute_dtype)
        merged, batch, views = _merge_views(images)
        x = merged
        for conv in self.convs:
            x = conv(x)
        if x.shape[1] != 4 or x.shape[2] != 4:  # a fixed 4 x 4 map: the parameter count
            x = tf.image.resize(x, [4, 4], method="bilinear", antialias=True)
        codes = self.to_latent(self.flatten(x))  # [B * V, latent]
        codes = tf.reshape(codes, tf.stack([batch, views, self.latent]))
        state = self.gru(codes)  # [B, latent]
        x = tf.reshape(self.from_latent(state), [-1, 4, 4, 4, self.channels])
        for up in self.ups:
            x = up(x)
        return self.head(x)[..., 0]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            resolution=self.resolution,
            encoder_widths=list(self.encoder_widths),
            latent=self.latent,
            channels=self.channels,
        )
        return config


def count_params(model: keras.Model | keras.layers.Layer) -> int:
    """The number of trainable scalars of a built model.

    Raises:
        ValueError: naming ``model`` if it has not been built (called once) yet.
    """
    if not getattr(model, "built", False) or not model.trainable_weights:
        raise ValueError("model must be built (called once on inputs) before counting its params")
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# --- the depth LSM's projection ---------------------------------------------------------------


def _sample_trilinear(grid: tf.Tensor, points: tf.Tensor, extent: float) -> tf.Tensor:
    """Trilinear samples of `[B, R, R, R]` at world points `[B, N, 3]` -> `[B, N]`.

    The grid is padded with one layer of zero voxels, so the values fall linearly to zero over
    the half voxel outside the grid and are zero beyond.
    """
    resolution = grid.shape[1]
    size = resolution + 2
    padded = tf.pad(grid, [[0, 0], [1, 1], [1, 1], [1, 1]])
    flat = tf.reshape(padded, [tf.shape(grid)[0], size**3])
    index = (points + extent / 2) * (resolution / extent) + 0.5  # padded voxel centres at ints
    index = tf.clip_by_value(index, 0.0, size - 1.0)
    low = tf.floor(index)
    frac = index - low
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, size - 1)
    total = tf.zeros_like(points[..., 0])
    for corner in range(8):
        bits = [(corner >> axis) & 1 for axis in range(3)]
        parts = [high[..., a] if bit else low[..., a] for a, bit in enumerate(bits)]
        weight = 1.0
        for a, bit in enumerate(bits):
            weight = weight * (frac[..., a] if bit else 1.0 - frac[..., a])
        flat_index = (parts[0] * size + parts[1]) * size + parts[2]
        total = total + weight * tf.gather(flat, flat_index, batch_dims=1)
    return total


def project_depth(
    occupancy: tf.Tensor,
    K: tf.Tensor,
    R: tf.Tensor,
    t: tf.Tensor,
    image_size: int | tuple[int, int],
    num_samples: int = 64,
    extent: float = 1.0,
    near: float | None = None,
    far: float | None = None,
    background: str = "zero",
    return_coverage: bool = False,
    name: str = "lsm_project_depth",
) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """Marches each pixel's ray through an occupancy grid: the expected first-hit depth.

    Pixel (i, j)'s ray goes through ``(u, v) = (j + 0.5, i + 0.5)``; its sample ``s`` is the
    point of camera depth ``d_s = near + (s + 0.5) (far - near) / S`` on it, world point
    ``R^T (d_s K^-1 [u, v, 1] - t)`` (K's last row is ``[0, 0, 1]``). The occupancy there,
    ``p_s``, is sampled trilinearly (the grid padded with zero voxels: occupancy falls to 0 over
    the half voxel outside it). With ``p_s`` the probability that the ray stops at sample s,
    given it got there,

        depth = sum_s p_s prod_{s' < s} (1 - p_s') d_s  (+ prod_s (1 - p_s) far, see background)

    and the coverage (probability that the ray hits anything) is ``1 - prod_s (1 - p_s)``.
    Differentiable with respect to the occupancy (the products are taken in log space, with
    ``1 - p`` floored at 1e-6, so the gradients stay finite at p = 1).

    Args:
        occupancy: `[B, R, R, R]` probabilities in [0, 1], voxel ``[i, j, k]`` centred at
            ``-extent/2 + ([i, j, k] + 0.5) extent / R``.
        K: `[B, 3, 3]` or `[B, V, 3, 3]` intrinsics (invertible).
        R: world-to-camera rotations, same batch shape as K.
        t: world-to-camera translations `[B, 3]` or `[B, V, 3]`.
        image_size: ``(H, W)``, or an int for square maps.
        num_samples: S, samples along each ray.
        extent: the side of the cube the grid spans.
        near, far: the range of camera depths sampled; by default each camera's range of
            the cube: its camera depth of the origin ``t_z`` -/+ the cube's half diagonal
            (near at least 1e-3).
        background: ``"zero"``: the probability of hitting nothing contributes 0 (the
            rendered depth maps' background value), so the depth is ``coverage`` times the
            expected depth of a hit; ``"far"``: it contributes ``far``.
        return_coverage: whether to also return the coverage.

    Returns:
        `[B, H, W]` (cameras `[B, ...]`) or `[B, V, H, W]` (cameras `[B, V, ...]`) depths;
        with ``return_coverage``, ``(depth, coverage)`` of the same shape.

    Raises:
        ValueError: naming the argument, for an occupancy not of shape `[B, R, R, R]` (R known),
            cameras of wrong shapes, a singular K, a bad image_size, num_samples < 1,
            near >= far, or an unknown background.
    """
    height, width = shape.image_size(
        (image_size, image_size) if checks.is_int(image_size) else image_size
    )
    num_samples = checks.positive_int("num_samples", num_samples)
    extent = checks.positive_float("extent", extent)
    background = checks.one_of("background", background, ("zero", "far"))
    return_coverage = checks.boolean("return_coverage", return_coverage)
    if near is not None:
        near = checks.positive_float("near", near)
    if far is not None:
        far = checks.positive_float("far", far)
    if near is not None and far is not None and not near < far:
        raise ValueError(f"near must be less than far, got near={near}, far={far}")
    with tf.name_scope(name):
        # occupancy's dtype leads (the cameras must have it); its batch is checked below
        (occupancy,) = shape.checked(occupancy=(occupancy, None))
        K, R, t = (
            shape.to_float(arg, value, occupancy.dtype)
            for arg, value in (("K", K), ("R", R), ("t", t))
        )
        K, R, t = shape.checked(K=(K, (3, 3)), R=(R, (3, 3)), t=(t, 3))
        if (
            occupancy.shape.rank != 4
            or occupancy.shape[1] is None
            or not occupancy.shape[1] == occupancy.shape[2] == occupancy.shape[3]
        ):
            raise ValueError(
                f"occupancy must have shape [B, R, R, R] with R known, got {occupancy.shape}"
            )
        ranks = {K.shape.rank, R.shape.rank, t.shape.rank + 1}
        if len(ranks) != 1 or ranks.pop() not in (3, 4):
            raise ValueError(
                f"K, R and t must have shapes [B, 3, 3], [B, 3, 3], [B, 3] or [B, V, 3, 3], "
                f"[B, V, 3, 3], [B, V, 3]; got K {tuple(K.shape)}, R {tuple(R.shape)}, "
                f"t {tuple(t.shape)}"
            )
        per_view = K.shape.rank == 4
        if not per_view:
            K, R, t = K[:, None], R[:, None], t[:, None]
        _check_intrinsics(K)
        dtype = occupancy.dtype
        batch = tf.shape(occupancy)[0]
        cameras = tf.broadcast_dynamic_shape(tf.shape(K)[:2], tf.shape(t)[:2])
        cameras = tf.broadcast_dynamic_shape(cameras, tf.shape(R)[:2])
        cameras = tf.broadcast_dynamic_shape(cameras, tf.stack([batch, 1]))
        views = cameras[1]
        K = tf.broadcast_to(K, tf.concat([cameras, [3, 3]], 0))
        R = tf.broadcast_to(R, tf.concat([cameras, [3, 3]], 0))
        t = tf.broadcast_to(t, tf.concat([cameras, [3]], 0))

        # Pixel rays in the camera frame, with z = 1: K^-1 [u, v, 1].
        cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
        pixels = np.stack([cols, rows, np.ones_like(cols)], -1).reshape(-1, 3)
        pixels = tf.constant(pixels, dtype)  # [P, 3]
        rays = tf.linalg.matmul(pixels, tf.linalg.inv(K), transpose_b=True)  # [B, V, P, 3]
        rays_world = tf.linalg.matmul(rays, R)  # R^T ray, as rows
        origin = -tf.linalg.matvec(R, t, transpose_a=True)  # R^T (-t), [B, V, 3]

        half_diagonal = extent * math.sqrt(3.0) / 2
        centre_depth = t[..., 2]  # camera z of the origin, [B, V]
        near_d = (
            tf.fill(tf.shape(centre_depth), tf.cast(near, dtype))
            if near is not None
            else tf.maximum(centre_depth - half_diagonal, 1e-3)
        )
        far_d = (
            tf.fill(tf.shape(centre_depth), tf.cast(far, dtype))
            if far is not None
            else tf.maximum(centre_depth + half_diagonal, near_d + 1e-3)
        )
        steps = (tf.range(num_samples, dtype=dtype) + 0.5) / num_samples
        depths = near_d[..., None] + (far_d - near_d)[..., None] * steps  # [B, V, S]
        points = (
            origin[:, :, None, None, :] + depths[:, :, None, :, None] * rays_world[:, :, :, None, :]
        )  # [B, V, P, S, 3]
        count = height * width * num_samples
        flat_points = tf.reshape(points, tf.stack([batch, views * count, 3]))
        p = tf.reshape(
            _sample_trilinear(occupancy, flat_points, extent),
            tf.stack([batch, views, height * width, num_samples]),
        )
        p = tf.clip_by_value(p, 0.0, 1.0)
        log_miss = tf.math.log(tf.maximum(1.0 - p, 1e-6))
        transmittance = tf.exp(tf.math.cumsum(log_miss, axis=-1, exclusive=True))
        weights = p * transmittance
        depth = tf.reduce_sum(weights * depths[:, :, None, :], axis=-1)
        coverage = tf.reduce_sum(weights, axis=-1)
        if background == "far":
            depth = depth + (1.0 - coverage) * far_d[..., None]
        out_shape = tf.stack([batch, views, height, width])
        depth = tf.reshape(depth, out_shape)
        coverage = tf.reshape(coverage, out_shape)
        if not per_view:
            depth, coverage = depth[:, 0], coverage[:, 0]
        if return_coverage:
            return depth, coverage
        return depth
