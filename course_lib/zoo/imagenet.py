"""InceptionV3 with ImageNet weights when they can be had, and the course model when they cannot.

The DeepDream and feature-visualization chapters use Keras' InceptionV3 trained on ImageNet.
Its weights (about 90 MB) come from the Keras cache (``$KERAS_HOME/models`` or
``~/.keras/models``, then ``/tmp/.keras/models``) or, when :func:`course_lib.config.is_online`
says the network answers, from a download. Otherwise :func:`load_imagenet_model` raises
:class:`ModelUnavailableError` at once (no download is tried, so nothing hangs), and its message
points to the offline course model.

Callers that should just work everywhere use :func:`load_model_for_visualization`: InceptionV3
when its weights load, otherwise ``load_course_model("shapes_cnn")``, with the fallback announced
in one line. It returns a :class:`VisualizationModel` that tells which model came back, the layers
worth dreaming with, its class names and how to map [0, 1] images into the model's input range.

**The online path without the network.** ``COURSE_IMAGENET_WEIGHTS=seeded`` makes
:func:`load_imagenet_model` build InceptionV3's real architecture with seeded random weights
(batch normalization calibrated on scikit-image photographs, so activations keep their scale
through all 94 convolutions) instead of loading ImageNet's. The tests execute the chapters'
InceptionV3 branches this way; figures that need the trained weights are checked only when
``VisualizationModel.trained`` is true.

The 1,000 ImageNet class names ship with the package (:func:`imagenet_class_names`,
:func:`decode_predictions`), so classes are named offline too.
"""

from __future__ import annotations

import functools
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from course_lib import checks, config
from course_lib.zoo import course_models

INCEPTION_V3 = "inception_v3"
#: Keras' cache file names of InceptionV3's ImageNet weights, with and without the classifier.
WEIGHTS_FILES = {
    True: "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    False: "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
#: The layers the course's DeepDream listing maximizes in InceptionV3.
INCEPTION_DREAM_LAYERS = ("mixed3", "mixed5")
#: The course model used in InceptionV3's place offline.
FALLBACK_MODEL = course_models.SHAPES_CNN
#: Seconds a stalled download socket may wait before the download is abandoned.
DOWNLOAD_TIMEOUT_S = 60.0
VGG19 = "vgg19"
#: Keras' cache file name of VGG19's ImageNet weights without the classifier.
VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
#: ``COURSE_IMAGENET_WEIGHTS=seeded``: InceptionV3's architecture with seeded random weights.
WEIGHTS_ENV = "COURSE_IMAGENET_WEIGHTS"
SEEDED = "seeded"
#: ``VisualizationModel.pretrained_on`` of the seeded stand-in.
SEEDED_RANDOM = "seeded_random"
#: The seed of the stand-in's weights, and the photographs its batch normalization is fitted on.
SEEDED_WEIGHTS_SEED = 0
CALIBRATION_IMAGES = (
    "chelsea",
    "astronaut",
    "coffee",
    "rocket",
    "cat",
    "retina",
    "immunohistochemistry",
)
_CLASSES_FILE = Path(__file__).with_name("imagenet_classes.json")


class ModelUnavailableError(RuntimeError):
    """Raised when pretrained weights are neither cached nor downloadable."""


def imagenet_weights_cache_paths(include_top: bool = False) -> list[Path]:
    """Where Keras keeps InceptionV3's ImageNet weights (``$KERAS_HOME`` or ``~/.keras``, /tmp)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    name = WEIGHTS_FILES[bool(include_top)]
    return [home / "models" / name, Path("/tmp/.keras/models") / name]


def cached_imagenet_weights(include_top: bool = False) -> Path | None:
    """The cached InceptionV3 weights file, or None when Keras has not downloaded it."""
    return next((p for p in imagenet_weights_cache_paths(include_top) if p.is_file()), None)


def seeded_weights_requested() -> bool:
    """True when ``COURSE_IMAGENET_WEIGHTS=seeded`` asks for the seeded stand-in.

    Raises:
        ValueError: if the variable is set to anything else than ``seeded`` (or empty).
    """
    value = os.environ.get(WEIGHTS_ENV, "").strip().lower()
    if value not in ("", SEEDED):
        raise ValueError(f"{WEIGHTS_ENV} must be {SEEDED!r} or unset, got {value!r}")
    return value == SEEDED


def load_imagenet_model(
    include_top: bool = False, classifier_activation: str | None = "softmax"
) -> keras.Model:
    """Keras' InceptionV3 with ImageNet weights, from the cache or (online) a download.

    With ``COURSE_IMAGENET_WEIGHTS=seeded`` it returns the same architecture with seeded random
    weights instead (:func:`seeded_inception_v3`), without touching the cache or the network.

    Args:
        include_top: keep the 1000-class classifier (input fixed at 299x299); the default,
            ``False``, is the convolutional base the DeepDream listing uses (any input >= 75x75).
        classifier_activation: the activation of the ``"predictions"`` layer when
            ``include_top``: Keras' ``"softmax"`` (probabilities), or ``None`` for logits.

    Returns:
        ``keras.applications.InceptionV3`` with ImageNet weights; it expects images in [-1, 1]
        (``keras.applications.inception_v3.preprocess_input``).

    Raises:
        TypeError: if ``include_top`` is not a bool.
        ModelUnavailableError: offline with no cached weights (raised at once, without trying the
            network), or when the download fails. The message names ``load_course_model`` and
            ``load_model_for_visualization``, the offline alternatives.
    """
    checks.boolean("include_top", include_top)
    if seeded_weights_requested():
        return seeded_inception_v3(include_top, classifier_activation)
    cached = cached_imagenet_weights(include_top)
    if cached is not None:
        return _inception_v3(
            include_top=include_top,
            weights=str(cached),
            classifier_activation=classifier_activation,
        )
    alternatives = (
        f"use course_lib.zoo.load_course_model({FALLBACK_MODEL!r}) or "
        "course_lib.zoo.load_model_for_visualization(), which work offline"
    )
    if not config.is_online():
        raise ModelUnavailableError(
            f"InceptionV3's ImageNet weights are not cached ({WEIGHTS_FILES[include_top]} in "
            f"{imagenet_weights_cache_paths(include_top)[0].parent}) and the network is "
            f"unreachable; {alternatives}."
        )
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return _inception_v3(
            include_top=include_top, weights="imagenet", classifier_activation=classifier_activation
        )
    except Exception as error:  # noqa: BLE001 - any download or load failure reads the same
        raise ModelUnavailableError(
            f"InceptionV3's ImageNet weights could not be downloaded "
            f"({type(error).__name__}: {error}); {alternatives}."
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def _inception_v3(
    include_top: bool, weights: str | None, classifier_activation: str | None
) -> keras.Model:
    return keras.applications.InceptionV3(
        include_top=include_top, weights=weights, classifier_activation=classifier_activation
    )


def seeded_inception_v3(
    include_top: bool = False, classifier_activation: str | None = "softmax"
) -> keras.Model:
    """InceptionV3's architecture with seeded random weights: the online path, tested offline.

    Kernels are drawn Glorot-uniform from ``numpy.random.default_rng(SEEDED_WEIGHTS_SEED)`` (the
    global random state is left alone), biases are zero, and every batch normalization's moving
    mean and variance are set to the statistics of one batch of scikit-image photographs
    (``CALIBRATION_IMAGES``), so that activations keep their scale from ``mixed0`` to
    ``mixed10`` as trained weights do. The same call returns the same weights.

    Args:
        include_top: as :func:`load_imagenet_model`.
        classifier_activation: as :func:`load_imagenet_model`.

    Returns:
        The model; it expects images in [-1, 1] like the real one.
    """
    model = _inception_v3(
        include_top=include_top, weights=None, classifier_activation=classifier_activation
    )
    _seed_weights(model)
    _calibrate_batch_norm(model, 299 if include_top else 160)
    return model


def _seed_weights(model: keras.Model) -> None:
    """Glorot-uniform kernels from ``SEEDED_WEIGHTS_SEED``, zero biases, unit BN variances."""
    rng = np.random.default_rng(SEEDED_WEIGHTS_SEED)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) >= 2:  # kernels: [kh, kw, in, out] or [in, out]
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
            value = rng.uniform(-limit, limit, shape)
        elif "variance" in variable.path:
            value = np.ones(shape)
        else:  # biases, batch-norm offsets and moving means
            value = np.zeros(shape)
        variable.assign(value.astype(np.float32))


def load_vgg19() -> keras.Model:
    """Keras' VGG19 convolutional base (no classifier) with ImageNet weights: style transfer's.

    From the Keras cache, or (online) a download of about 80 MB. With
    ``COURSE_IMAGENET_WEIGHTS=seeded`` it returns :func:`seeded_vgg19` instead.

    Returns:
        ``keras.applications.VGG19(include_top=False)``, any input size; it expects
        ``keras.applications.vgg19.preprocess_input`` of pixels in [0, 255].

    Raises:
        ModelUnavailableError: offline with no cached weights (at once), or when the download
            fails.
    """
    if seeded_weights_requested():
        return seeded_vgg19()
    homes = imagenet_weights_cache_paths(False)
    cached = next(
        (
            home.with_name(VGG19_WEIGHTS_FILE)
            for home in homes
            if home.with_name(VGG19_WEIGHTS_FILE).is_file()
        ),
        None,
    )
    if cached is not None:
        return keras.applications.VGG19(include_top=False, weights=str(cached))
    if not config.is_online():
        raise ModelUnavailableError(
            f"VGG19's ImageNet weights are not cached ({VGG19_WEIGHTS_FILE} in "
            f"{homes[0].parent}) and the network is unreachable; use "
            f"course_lib.zoo.load_course_model({FALLBACK_MODEL!r}), which works offline."
        )
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return keras.applications.VGG19(include_top=False, weights="imagenet")
    except Exception as error:  # noqa: BLE001 - any download or load failure reads the same
        raise ModelUnavailableError(
            f"VGG19's ImageNet weights could not be downloaded ({type(error).__name__}: {error})"
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def seeded_vgg19() -> keras.Model:
    """VGG19's convolutional base with seeded random weights (as :func:`seeded_inception_v3`)."""
    model = keras.applications.VGG19(include_top=False, weights=None)
    _seed_weights(model)
    return model


def _calibrate_batch_norm(model: keras.Model, size: int) -> None:
    """Sets each batch norm's moving statistics to those of one batch of photographs."""
    from course_lib import data

    images = np.stack(
        [
            np.asarray(keras.ops.image.resize(data.load_image(name), (size, size)))
            for name in CALIBRATION_IMAGES
        ]
    )
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # the moving statistics become this batch's
    try:
        model(images * 2.0 - 1.0, training=True)
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum


@functools.cache
def _imagenet_classes() -> tuple[tuple[str, str], ...]:
    rows = json.loads(_CLASSES_FILE.read_text())["classes"]
    return tuple((str(wnid), str(name)) for wnid, name in rows)


def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet class names in the models' output order (``281`` is ``"tabby"``).

    Shipped with the package (WordNet's first lemma of each class), so no download is needed.
    """
    return tuple(name for _, name in _imagenet_classes())


def imagenet_wnids() -> tuple[str, ...]:
    """The 1,000 ImageNet WordNet ids in the models' output order (``281`` is ``"n02123045"``)."""
    return tuple(wnid for wnid, _ in _imagenet_classes())


def decode_predictions(scores: object, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each row of ImageNet scores, as Keras' ``decode_predictions``.

    Works offline: the class names ship with the package.

    Args:
        scores: ``[N, 1000]`` probabilities or logits (the order is the same).
        top: how many classes per row, 1 to 1000.

    Returns:
        For each row, ``top`` tuples ``(wnid, name, score)``, highest score first.

    Raises:
        ValueError: if ``scores`` is not ``[N, 1000]`` or ``top`` is out of range.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != 1000:
        raise ValueError(f"scores must have shape [N, 1000], got {scores.shape}")
    if not checks.is_int(top) or not 1 <= top <= 1000:
        raise ValueError(f"top must be an int in [1, 1000], got {top!r}")
    classes = _imagenet_classes()
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    return [
        [(*classes[i], float(row[i])) for i in indices]
        for row, indices in zip(scores, order, strict=True)
    ]


@dataclass(frozen=True)
class VisualizationModel:
    """A model for DeepDream and feature visualization, and how to feed it.

    Attributes:
        model: the Keras model.
        name: ``"inception_v3"`` or the course model's name (``"shapes_cnn"``).
        pretrained_on: ``"imagenet"``, ``"procedural_shapes"``, or ``"seeded_random"`` for
            InceptionV3's architecture with seeded weights (``COURSE_IMAGENET_WEIGHTS=seeded``).
        dream_layers: layer names worth maximizing, lower to higher
            (InceptionV3: ``("mixed3", "mixed5")``; shapes_cnn: ``("mixed1", "mixed2")``).
        value_range: ``(low, high)`` of the model's input pixels: ``(-1, 1)`` for InceptionV3,
            ``(0, 1)`` for the course model.
        class_names: the name of each output class, in order (1,000 for InceptionV3, 10 for
            shapes_cnn).
        logit_layer: the layer whose output is the class logits (no softmax), or ``None`` when
            the model has no classifier (InceptionV3 loaded without its top).
    """

    model: keras.Model
    name: str
    pretrained_on: str
    dream_layers: tuple[str, ...]
    value_range: tuple[float, float]
    class_names: tuple[str, ...] = ()
    logit_layer: str | None = None

    @property
    def trained(self) -> bool:
        """False for the seeded stand-in, whose figures say nothing about ImageNet."""
        return self.pretrained_on != SEEDED_RANDOM

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        """Maps images in [0, 1] (``[..., H, W, 3]``) to the model's ``value_range``."""
        low, high = self.value_range
        return np.asarray(images, dtype=np.float32) * np.float32(high - low) + np.float32(low)

    def deprocess(self, inputs: np.ndarray) -> np.ndarray:
        """Maps model inputs back to images in [0, 1] (clipped)."""
        low, high = self.value_range
        images = (np.asarray(inputs, dtype=np.float32) - np.float32(low)) / np.float32(high - low)
        return np.clip(images, 0.0, 1.0)


def load_model_for_visualization(include_top: bool = False) -> VisualizationModel:
    """InceptionV3 (ImageNet) when its weights load, otherwise the course's ``shapes_cnn``.

    The fallback is announced in one line (``config.announce``). Offline it returns within
    seconds: no download is tried.

    Args:
        include_top: passed to :func:`load_imagenet_model` (the course model always has its head).
            InceptionV3's ``"predictions"`` layer then returns logits (no softmax), like the
            course model's ``"logits"``: ``logit_layer`` names the layer either way.

    Returns:
        A :class:`VisualizationModel`; check ``.name`` to see which model came back and
        ``.trained`` to see whether its weights were learnt.
    """
    try:
        model = load_imagenet_model(include_top=include_top, classifier_activation=None)
    except ModelUnavailableError as error:
        reason = "Offline" if not config.is_online() else "ImageNet weights unavailable"
        config.announce(
            f"{reason}: using the course model {FALLBACK_MODEL!r} (trained on procedural shapes, "
            f"inputs in [0, 1]) in place of InceptionV3 ({type(error).__name__})."
        )
        spec = course_models.course_model_spec(FALLBACK_MODEL)
        return VisualizationModel(
            model=course_models.load_course_model(FALLBACK_MODEL, compile=False),
            name=FALLBACK_MODEL,
            pretrained_on=course_models.PROCEDURAL_SHAPES,
            dream_layers=spec.dream_layers,
            value_range=(0.0, 1.0),
            class_names=tuple(course_models.course_model_info(FALLBACK_MODEL)["class_names"]),
            logit_layer="logits",
        )
    seeded = seeded_weights_requested()
    if seeded:
        config.announce(
            f"{WEIGHTS_ENV}=seeded: InceptionV3's architecture with seeded random weights, not "
            "ImageNet's; figures that need the trained weights are not checked."
        )
    return VisualizationModel(
        model=model,
        name=INCEPTION_V3,
        pretrained_on=SEEDED_RANDOM if seeded else "imagenet",
        dream_layers=INCEPTION_DREAM_LAYERS,
        value_range=(-1.0, 1.0),
        class_names=imagenet_class_names(),
        logit_layer="predictions" if include_top else None,
    )
