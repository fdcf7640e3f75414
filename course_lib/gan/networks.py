"""The image-to-image networks of pix2pix and CycleGAN, and their image ranges and jitter.

CycleGAN's networks are pix2pix's with another normalization and, for the discriminator, no
input image beside the judged one; one home for both (TensorFlow's tutorials' constants):

- :func:`downsample` / :func:`upsample`: 4x4 stride-2 convolution (transposed to upsample),
  no bias, weights normal(0, 0.02), then BatchNorm or instance normalization (none on the
  U-Net's and PatchGAN's first block), optional dropout, LeakyReLU 0.2 / ReLU.
- :func:`build_unet`: the U-Net generator, down to 1x1 and back with skip connections.
- :func:`build_patchgan`: the PatchGAN discriminator, conditional (pix2pix: input and image
  concatenated) or not (CycleGAN: the image alone).
- :func:`to_network` / :func:`from_network`: images in [0, 1] <-> [-1, 1] (the networks').
- :func:`random_jitter`: the joint resize 286 -> random 256 crop -> mirror of an image pair.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.gan.layers import InstanceNormalization

#: Largest image side the networks accept.
MAX_IMAGE_SIZE = 512
#: The PatchGAN's strided blocks before its two unstrided convolutions (70x70 patches).
PATCHGAN_DOWNSAMPLES = 3
#: Smallest side of the PatchGAN's input: its blocks need 4x4 left for a 2x2 map of logits.
MIN_PATCHGAN_SIZE = 4 * 2**PATCHGAN_DOWNSAMPLES
#: Decoder blocks with dropout, counted from the bottleneck, and their rate (the tutorial's).
DROPOUT_BLOCKS, DROPOUT = 3, 0.5
#: Standard deviation of the normal initial weights (mean 0).
WEIGHT_STD = 0.02
#: The tutorial's resize before the random crop, 286 for 256 px images.
JITTER_RATIO = 286 / 256
NORMALIZATIONS = ("batch", "instance")


@dataclasses.dataclass(frozen=True)
class BaseSettings:
    """The fields every image-to-image run names first: image side, network width, batch size
    and train steps (pix2pix's and CycleGAN's ``Settings`` add theirs)."""

    image_size: int
    width: int
    batch_size: int
    steps: int


def check_image_size(image_size: int, minimum: int = 2) -> int:
    """``image_size`` if it is a power of two in ``minimum..MAX_IMAGE_SIZE``.

    Raises:
        ValueError: naming ``image_size`` otherwise (a non-int included).
    """
    if not checks.is_int(image_size) or not minimum <= image_size <= MAX_IMAGE_SIZE:
        raise ValueError(
            f"image_size must be a power of two in {minimum}..{MAX_IMAGE_SIZE}, got {image_size!r}"
        )
    if image_size & (image_size - 1):
        raise ValueError(
            f"image_size must be a power of two (the U-Net halves it down to 1x1), got {image_size}"
        )
    return int(image_size)


def check_width(width: int) -> int:
    """``width`` (the first block's filters) if it is an int >= 1; ValueError naming it."""
    if not checks.is_int(width) or width < 1:
        raise ValueError(f"width must be a positive int (the first layer's filters), got {width}")
    return int(width)


def block_filters(width: int, level: int) -> int:
    """Filters of level ``level``: ``width * 2**level``, at most ``8 * width``."""
    return min(width * 2**level, 8 * width)


def _init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, WEIGHT_STD)


def _normalization(kind: str) -> keras.layers.Layer:
    return InstanceNormalization() if kind == "instance" else keras.layers.BatchNormalization()


def downsample(filters: int, normalization: str | None = "batch") -> keras.Sequential:
    """Conv 4x4 stride 2 (no bias), ``normalization`` (``None``: none), LeakyReLU 0.2:
    ``[B,H,W,C]`` -> ``[B,H/2,W/2,filters]``."""
    layers = [
        keras.layers.Conv2D(
            filters, 4, strides=2, padding="same", kernel_initializer=_init(), use_bias=False
        )
    ]
    if normalization is not None:
        layers.append(_normalization(normalization))
    layers.append(keras.layers.LeakyReLU(0.2))
    return keras.Sequential(layers)


def upsample(filters: int, normalization: str = "batch", dropout: float = 0.0) -> keras.Sequential:
    """Transposed conv 4x4 stride 2 (no bias), ``normalization``, Dropout(``dropout``) if > 0,
    ReLU: ``[B,H,W,C]`` -> ``[B,2H,2W,filters]``."""
    layers = [
        keras.layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", kernel_initializer=_init(), use_bias=False
        ),
        _normalization(normalization),
    ]
    if dropout > 0.0:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.ReLU())
    return keras.Sequential(layers)


def build_unet(
    image_size: int,
    width: int,
    normalization: str = "batch",
    dropout: float = DROPOUT,
    channels: int = 3,
    name: str | None = None,
) -> keras.Model:
    """The U-Net: ``[B, S, S, channels]`` in [-1, 1] -> the same shape, ``tanh``.

    ``log2(S)`` :func:`downsample` blocks (``block_filters(width, level)`` filters) bring the
    image to 1x1; as many minus one :func:`upsample` blocks, each concatenated with the encoder's
    output of its size, and a transposed convolution bring it back. At 256 px and width 64 it is
    the tutorials' generator.

    Args:
        image_size: ``S``, a power of two in 2..512.
        width: filters of the first block.
        normalization: ``"batch"`` (pix2pix) or ``"instance"`` (CycleGAN).
        dropout: rate of the ``DROPOUT_BLOCKS`` decoder blocks nearest the bottleneck, [0, 1).
        channels: channels of the input and the output.
        name: the model's name (default ``unet_<S>``).

    Raises:
        ValueError: naming the argument that is invalid.
    """
    image_size = check_image_size(image_size)
    width = check_width(width)
    checks.one_of("normalization", normalization, NORMALIZATIONS)
    dropout = checks.real("dropout", dropout, 0.0, 0.99)
    channels = checks.positive_int("channels", channels)
    depth = int(math.log2(image_size))
    down = [
        downsample(block_filters(width, level), None if level == 0 else normalization)
        for level in range(depth)
    ]
    up = [
        upsample(
            block_filters(width, level), normalization, dropout if index < DROPOUT_BLOCKS else 0.0
        )
        for index, level in enumerate(range(depth - 2, -1, -1))
    ]
    inputs = keras.Input((image_size, image_size, channels))
    x, skips = inputs, []
    for block in down:
        x = block(x)
        skips.append(x)
    for block, skip in zip(up, reversed(skips[:-1]), strict=True):
        x = keras.layers.Concatenate()([block(x), skip])
    outputs = keras.layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", kernel_initializer=_init(), activation="tanh"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"unet_{image_size}")


def patch_grid_size(image_size: int) -> int:
    """Side of the PatchGAN's map of logits: ``image_size / 8 - 2`` (30 for 256 px).

    Raises:
        ValueError: naming ``image_size`` unless it is a power of two in 32..512.
    """
    check_image_size(image_size, MIN_PATCHGAN_SIZE)
    return image_size // 2**PATCHGAN_DOWNSAMPLES - 2


def build_patchgan(
    image_size: int,
    width: int,
    normalization: str = "batch",
    conditional: bool = True,
    channels: int = 3,
    name: str | None = None,
) -> keras.Model:
    """The PatchGAN: images in [-1, 1] -> logits ``[B, P, P, 1]``, ``P = patch_grid_size(S)``,
    one per (70x70 at 256 px) patch.

    Three :func:`downsample` blocks (the first unnormalized), then two 4x4 stride-1
    convolutions, each after one pixel of zero padding.

    Args:
        image_size: ``S``, a power of two in 32..512.
        width: filters of the first block (then 2, 4 and 8 times it).
        normalization: ``"batch"`` or ``"instance"``.
        conditional: ``True``: the model takes ``[input, image]``, two ``[B, S, S, channels]``
            concatenated on channels (pix2pix); ``False``: one image (CycleGAN).
        channels: image channels.
        name: the model's name (default ``patchgan_<S>``).

    Raises:
        ValueError: naming the argument that is invalid.
    """
    check_image_size(image_size, MIN_PATCHGAN_SIZE)
    width = check_width(width)
    checks.one_of("normalization", normalization, NORMALIZATIONS)
    conditional = checks.boolean("conditional", conditional)
    channels = checks.positive_int("channels", channels)
    shape = (image_size, image_size, channels)
    if conditional:
        inputs = [keras.Input(shape, name="input_image"), keras.Input(shape, name="target_image")]
        x = keras.layers.Concatenate()(inputs)
    else:
        inputs = x = keras.Input(shape)
    for level in range(PATCHGAN_DOWNSAMPLES):
        x = downsample(block_filters(width, level), None if level == 0 else normalization)(x)
    x = keras.layers.ZeroPadding2D()(x)
    x = keras.layers.Conv2D(
        block_filters(width, PATCHGAN_DOWNSAMPLES), 4, kernel_initializer=_init(), use_bias=False
    )(x)
    x = _normalization(normalization)(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.ZeroPadding2D()(x)
    logits = keras.layers.Conv2D(1, 4, kernel_initializer=_init())(x)
    return keras.Model(inputs, logits, name=name or f"patchgan_{image_size}")


def to_network(images) -> tf.Tensor:
    """Images in [0, 1] -> float32 in [-1, 1], the networks' range."""
    return tf.convert_to_tensor(images, tf.float32) * 2.0 - 1.0


def from_network(images) -> np.ndarray:
    """Images in [-1, 1] -> a float32 NumPy array in [0, 1], clipped to the range."""
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def jitter_size(image_size: int) -> int:
    """The size images are enlarged to before the random crop: 286 for 256, 72 for 64."""
    return int(round(image_size * JITTER_RATIO))


def random_jitter(
    source: tf.Tensor, target: tf.Tensor, seed: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """The same random enlargement, crop and mirror for an input and its target.

    Both are resized to :func:`jitter_size` (nearest neighbour), cropped back to their size at
    one random offset and mirrored left-right with probability 1/2, together.

    Args:
        source: ``[S, S, C]`` an input image.
        target: ``[S, S, C]`` its target.
        seed: ``[2]`` int32 or int64, the stateless ops' seed (the same seed, the same jitter).

    Returns:
        ``(source, target)`` jittered, the same shapes.

    Raises:
        ValueError: if the two images are not square and of the same shape.
    """
    source = tf.convert_to_tensor(source)
    target = tf.convert_to_tensor(target)
    if source.shape.rank != 3 or source.shape[0] != source.shape[1]:
        raise ValueError(f"source must be [S, S, C], got shape {source.shape}")
    if target.shape != source.shape:
        raise ValueError(f"target must have source's shape {source.shape}, got {target.shape}")
    size, channels = int(source.shape[0]), int(source.shape[2])
    big = jitter_size(size)
    pair = tf.stack([source, tf.cast(target, source.dtype)])  # one crop and flip for both
    pair = tf.image.resize(pair, (big, big), method="nearest")
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    pair = tf.image.stateless_random_crop(pair, (2, size, size, channels), seed=seeds[0])
    flip = tf.random.stateless_uniform([], seed=seeds[1]) < 0.5
    pair = tf.cond(flip, lambda: tf.reverse(pair, axis=[2]), lambda: pair)
    return pair[0], pair[1]
