"""Neural style transfer (Gatys et al.) as in TensorFlow's tutorial: optimize the image itself.

The image starts as the content photograph and is changed, step by step with Adam, to lower

``loss = style_weight * mean_l style_l + content_weight * mean_l content_l + tv_weight * TV``

where ``style_l`` is the Gram-matrix loss of a style layer against the style image's Gram
matrix, ``content_l`` the mean squared difference of a content layer's activations from the
content photograph's, and ``TV`` the total variation of the image (the sum of absolute
differences between neighbouring pixels). After each step the pixels are clipped to [0, 1].
The Gram matrix, the style loss and the content loss are ``lucid.misc.style``'s; the cut model
comes from ``zoo.features.layer_model``.

Two extractors, with the layers and loss weights that suit each (:class:`StyleExtractor`):

- online, VGG19 with ImageNet weights as in the tutorial (:func:`vgg19_extractor`);
- offline, the course's ``shapes_cnn`` (:func:`shapes_extractor`). Its inputs are [0, 1] rather
  than VGG19's [0, 255] with the mean removed, so its activations, and its Gram matrices, are on
  a far smaller scale: the style weight is raised to match (chosen by measuring the chapter's
  figure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks, config
from course_lib.lucid.misc.style import content_loss, gram_matrix, style_loss
from course_lib.zoo import course_models, features, imagenet

# --- the course's settings (TensorFlow's tutorial) ------------------------------------------
COURSE_CONTENT_LAYERS = ("block5_conv2",)
COURSE_STYLE_LAYERS = (
    "block1_conv1",
    "block2_conv1",
    "block3_conv1",
    "block4_conv1",
    "block5_conv1",
)
COURSE_STYLE_WEIGHT = 1e-2
COURSE_CONTENT_WEIGHT = 1e4
COURSE_TOTAL_VARIATION_WEIGHT = 30.0
COURSE_LEARNING_RATE, COURSE_BETA_1, COURSE_EPSILON = 0.02, 0.99, 0.1
COURSE_EPOCHS, COURSE_STEPS_PER_EPOCH = 10, 100
COURSE_MAX_DIM = 512

# --- the chapter's CPU settings, with the offline extractor ---------------------------------
SHAPES_STYLE_LAYERS = ("conv1", "conv2", "mixed1", "mixed2")
SHAPES_CONTENT_LAYERS = ("mixed2",)
SHAPES_STYLE_WEIGHT = 1e5
SHAPES_CONTENT_WEIGHT = 1e4
SHAPES_TOTAL_VARIATION_WEIGHT = 3.0
CPU_MAX_DIM = 256
CPU_EPOCHS, CPU_STEPS_PER_EPOCH = 3, 100


@dataclass(frozen=True)
class StyleExtractor:
    """A network cut at its style and content layers, and the loss weights that go with it.

    Attributes:
        model: ``[1, H, W, 3]`` model inputs -> the style layers' then the content layers'
            activations, a list.
        name: ``"vgg19"`` or ``"shapes_cnn"``.
        pretrained_on: ``"imagenet"``, ``"procedural_shapes"`` or ``"seeded_random"``.
        style_layers, content_layers: the layer names, in ``model``'s output order.
        preprocess: images in [0, 1] -> the model's inputs.
        style_weight, content_weight, total_variation_weight: the loss's weights.
    """

    model: keras.Model
    name: str
    pretrained_on: str
    style_layers: tuple[str, ...]
    content_layers: tuple[str, ...]
    preprocess: Callable[[tf.Tensor], tf.Tensor]
    style_weight: float
    content_weight: float
    total_variation_weight: float

    @property
    def trained(self) -> bool:
        """False for seeded random weights, whose figures say nothing about style."""
        return self.pretrained_on != imagenet.SEEDED_RANDOM

    def __call__(self, images: tf.Tensor) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
        """``[1, H, W, 3]`` images in [0, 1] -> (style activations, content activations)."""
        outputs = self.model(self.preprocess(images), training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        count = len(self.style_layers)
        return list(outputs[:count]), list(outputs[count:])


def make_extractor(
    model: keras.Model,
    style_layers: Sequence[str],
    content_layers: Sequence[str],
    *,
    name: str,
    pretrained_on: str,
    preprocess: Callable[[tf.Tensor], tf.Tensor] = tf.identity,
    style_weight: float = COURSE_STYLE_WEIGHT,
    content_weight: float = COURSE_CONTENT_WEIGHT,
    total_variation_weight: float = COURSE_TOTAL_VARIATION_WEIGHT,
) -> StyleExtractor:
    """Cuts ``model`` at the style and content layers (``zoo.features.layer_model``).

    Raises:
        ValueError: if a layer list is empty or names no layer of ``model`` (the message lists
            them), or a weight is negative.
    """
    style_layers, content_layers = tuple(style_layers), tuple(content_layers)
    for label, layers in (("style_layers", style_layers), ("content_layers", content_layers)):
        if not layers or any(not isinstance(layer, str) for layer in layers):
            raise ValueError(f"{label} must be a non-empty list of layer names, got {layers!r}")
    weights = {
        "style_weight": style_weight,
        "content_weight": content_weight,
        "total_variation_weight": total_variation_weight,
    }
    weights = {key: checks.real(key, value, minimum=0.0) for key, value in weights.items()}
    cut = features.layer_model(model, [*style_layers, *content_layers], name=f"{name}_style")
    return StyleExtractor(
        cut, name, pretrained_on, style_layers, content_layers, preprocess, **weights
    )


def vgg19_preprocess(images: tf.Tensor) -> tf.Tensor:
    """Images in [0, 1] -> VGG19's inputs: [0, 255], BGR, ImageNet's mean removed."""
    return keras.applications.vgg19.preprocess_input(images * 255.0)


def vgg19_extractor(model: keras.Model | None = None) -> StyleExtractor:
    """VGG19 at the tutorial's layers with the tutorial's weights (default ``zoo.load_vgg19()``)."""
    seeded = model is None and imagenet.seeded_weights_requested()
    model = imagenet.load_vgg19() if model is None else model
    return make_extractor(
        model,
        COURSE_STYLE_LAYERS,
        COURSE_CONTENT_LAYERS,
        name=imagenet.VGG19,
        pretrained_on=imagenet.SEEDED_RANDOM if seeded else "imagenet",
        preprocess=vgg19_preprocess,
    )


def shapes_extractor(model: keras.Model | None = None) -> StyleExtractor:
    """The course's ``shapes_cnn`` (default: the shipped, trained one) with its CPU weights."""
    if model is None:
        model = course_models.load_course_model(course_models.SHAPES_CNN, compile=False)
    return make_extractor(
        model,
        SHAPES_STYLE_LAYERS,
        SHAPES_CONTENT_LAYERS,
        name=course_models.SHAPES_CNN,
        pretrained_on=course_models.PROCEDURAL_SHAPES,
        style_weight=SHAPES_STYLE_WEIGHT,
        content_weight=SHAPES_CONTENT_WEIGHT,
        total_variation_weight=SHAPES_TOTAL_VARIATION_WEIGHT,
    )


def load_style_extractor() -> StyleExtractor:
    """VGG19 (ImageNet) when its weights load, otherwise ``shapes_cnn``, announced in one line."""
    try:
        extractor = vgg19_extractor()
    except imagenet.ModelUnavailableError as error:
        reason = "Offline" if not config.is_online() else "ImageNet weights unavailable"
        config.announce(
            f"{reason}: using the course model {course_models.SHAPES_CNN!r} (trained on "
            f"procedural shapes and textures) in place of VGG19 ({type(error).__name__})."
        )
        return shapes_extractor()
    if not extractor.trained:
        config.announce(
            f"{imagenet.WEIGHTS_ENV}=seeded: VGG19's architecture with seeded random weights, "
            "not ImageNet's; figures that need the trained weights are not checked."
        )
    return extractor


# --- images and losses ----------------------------------------------------------------------


def as_image(name: str, image) -> tf.Tensor:
    """One RGB image, ``[H, W, 3]`` or ``[1, H, W, 3]``, as a float32 ``[1, H, W, 3]`` tensor.

    Raises:
        ValueError: naming ``name`` if the shape is another.
    """
    tensor = tf.convert_to_tensor(image, dtype=tf.float32)
    if tensor.shape.rank == 3:
        tensor = tensor[tf.newaxis]
    if tensor.shape.rank != 4 or tensor.shape[0] != 1 or tensor.shape[-1] != 3:
        raise ValueError(f"{name} must be [H, W, 3] or [1, H, W, 3], got shape {tensor.shape}")
    if tensor.shape[1] is not None and min(tensor.shape[1], tensor.shape[2]) < 8:
        raise ValueError(f"{name} must be at least 8x8 pixels, got shape {tensor.shape}")
    return tensor


def fit_image(image, max_dim: int = COURSE_MAX_DIM) -> np.ndarray:
    """``image`` (``[H, W, 3]`` or greyscale ``[H, W]``, in [0, 1]) resized so that its longer
    side is ``max_dim`` pixels, as the tutorial's loader does: ``[h, w, 3]`` float32.

    Raises:
        ValueError: if ``image`` is not ``[H, W]`` or ``[H, W, 3]``, or ``max_dim`` is not a
            positive int.
    """
    max_dim = checks.positive_int("max_dim", max_dim)
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = np.repeat(array[..., np.newaxis], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"image must be [H, W] or [H, W, 3], got shape {array.shape}")
    height, width = array.shape[:2]
    scale = max_dim / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = tf.image.resize(array, size, antialias=True)
    return np.clip(resized.numpy(), 0.0, 1.0)


def total_variation_loss(images: tf.Tensor) -> tf.Tensor:
    """Sum of absolute differences between neighbouring pixels (``tf.image.total_variation``),
    summed over the batch: ``[B, H, W, C]`` -> a scalar.

    Raises:
        ValueError: if ``images`` is not ``[B, H, W, C]``.
    """
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"images must be [B, H, W, C], got shape {images.shape}")
    return tf.reduce_sum(tf.image.total_variation(images))


@dataclass(frozen=True)
class Targets:
    """What the image is pulled toward: the style's Gram matrices, the content's activations."""

    style_grams: list[tf.Tensor]
    content_activations: list[tf.Tensor]


def targets(extractor: StyleExtractor, content_image, style_image) -> Targets:
    """The style image's Gram matrices and the content image's activations.

    Args:
        content_image, style_image: ``[H, W, 3]`` (or ``[1, H, W, 3]``) in [0, 1]; their sizes
            may differ (Gram matrices do not depend on the size).
    """
    style_activations, _ = extractor(as_image("style_image", style_image))
    _, content_activations = extractor(as_image("content_image", content_image))
    return Targets([gram_matrix(a) for a in style_activations], list(content_activations))


def losses(extractor: StyleExtractor, image, goal: Targets) -> dict[str, tf.Tensor]:
    """The image's losses: ``style`` and ``content`` (each averaged over its layers,
    unweighted), ``total_variation`` and the weighted sum ``total``, all scalars."""
    image = as_image("image", image)
    style_activations, content_activations = extractor(image)
    style_count, content_count = len(style_activations), len(content_activations)
    style = style_loss(goal.style_grams, style_activations, [1.0 / style_count] * style_count)
    content = content_loss(
        goal.content_activations, content_activations, [1.0 / content_count] * content_count
    )
    variation = total_variation_loss(image)
    total = (
        extractor.style_weight * style
        + extractor.content_weight * content
        + extractor.total_variation_weight * variation
    )
    return {"style": style, "content": content, "total_variation": variation, "total": total}


# --- optimization ---------------------------------------------------------------------------


class StyleTransfer:
    """The image as a ``tf.Variable`` optimized by Adam, one compiled step at a time.

    Args:
        extractor: a :class:`StyleExtractor`.
        content_image, style_image: ``[H, W, 3]`` in [0, 1]; the image starts as the content.
        learning_rate, beta_1, epsilon: Adam's settings (the tutorial's by default).
        start: the starting image, ``[H, W, 3]`` in [0, 1] (default the content image).
    """

    def __init__(
        self,
        extractor: StyleExtractor,
        content_image,
        style_image,
        learning_rate: float = COURSE_LEARNING_RATE,
        beta_1: float = COURSE_BETA_1,
        epsilon: float = COURSE_EPSILON,
        start=None,
    ) -> None:
        content = as_image("content_image", content_image)
        start = content if start is None else as_image("start", start)
        if start.shape != content.shape:
            raise ValueError(
                f"start must have the content's shape {content.shape}, got {start.shape}"
            )
        self.extractor = extractor
        self.goal = targets(extractor, content, style_image)
        self.image = tf.Variable(start)
        self.optimizer = keras.optimizers.Adam(
            learning_rate=checks.positive_float("learning_rate", learning_rate),
            beta_1=checks.real("beta_1", beta_1, minimum=0.0, maximum=1.0),
            epsilon=checks.positive_float("epsilon", epsilon),
        )
        self.optimizer.build([self.image])  # its slots exist before the step is traced (once)
        self.step = tf.function(self._step)

    def _step(self) -> dict[str, tf.Tensor]:
        """One Adam step on the image, then clipping to [0, 1]; the losses before the step."""
        with tf.GradientTape() as tape:
            values = losses(self.extractor, self.image, self.goal)
        gradient = tape.gradient(values["total"], self.image)
        self.optimizer.apply_gradients([(gradient, self.image)])
        self.image.assign(tf.clip_by_value(self.image, 0.0, 1.0))
        return values

    def run(self, steps: int) -> dict[str, np.ndarray]:
        """``steps`` steps; each loss's value before every step, ``[steps]`` float64 arrays."""
        steps = checks.positive_int("steps", steps)
        history: dict[str, list[float]] = {}
        for _ in range(steps):
            for key, value in self.step().items():
                history.setdefault(key, []).append(float(value))
        return {key: np.array(values) for key, values in history.items()}

    def result(self) -> np.ndarray:
        """The current image, ``[H, W, 3]`` float32 in [0, 1]."""
        return self.image.numpy()[0]

    def losses(self, image=None) -> dict[str, float]:
        """The losses of ``image`` (default the current image) against the targets, as floats."""
        image = self.image if image is None else image
        return {key: float(v) for key, v in losses(self.extractor, image, self.goal).items()}
