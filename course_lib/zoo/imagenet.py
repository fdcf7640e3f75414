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
worth dreaming with and how to map [0, 1] images into the model's input range.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from course_lib import config
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


def load_imagenet_model(include_top: bool = False) -> keras.Model:
    """Keras' InceptionV3 with ImageNet weights, from the cache or (online) a download.

    Args:
        include_top: keep the 1000-class classifier (input fixed at 299x299); the default,
            ``False``, is the convolutional base the DeepDream listing uses (any input >= 75x75).

    Returns:
        ``keras.applications.InceptionV3`` with ImageNet weights; it expects images in [-1, 1]
        (``keras.applications.inception_v3.preprocess_input``).

    Raises:
        TypeError: if ``include_top`` is not a bool.
        ModelUnavailableError: offline with no cached weights (raised at once, without trying the
            network), or when the download fails. The message names ``load_course_model`` and
            ``load_model_for_visualization``, the offline alternatives.
    """
    if not isinstance(include_top, bool):
        raise TypeError(f"include_top must be a bool, got {type(include_top).__name__}")
    cached = cached_imagenet_weights(include_top)
    if cached is not None:
        return _inception_v3(include_top=include_top, weights=str(cached))
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
        return _inception_v3(include_top=include_top, weights="imagenet")
    except Exception as error:  # noqa: BLE001 - any download or load failure reads the same
        raise ModelUnavailableError(
            f"InceptionV3's ImageNet weights could not be downloaded "
            f"({type(error).__name__}: {error}); {alternatives}."
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def _inception_v3(include_top: bool, weights: str) -> keras.Model:
    return keras.applications.InceptionV3(include_top=include_top, weights=weights)


@dataclass(frozen=True)
class VisualizationModel:
    """A model for DeepDream and feature visualization, and how to feed it.

    Attributes:
        model: the Keras model.
        name: ``"inception_v3"`` or the course model's name (``"shapes_cnn"``).
        pretrained_on: ``"imagenet"`` or ``"procedural_shapes"``.
        dream_layers: layer names worth maximizing, lower to higher
            (InceptionV3: ``("mixed3", "mixed5")``; shapes_cnn: ``("mixed1", "mixed2")``).
        value_range: ``(low, high)`` of the model's input pixels: ``(-1, 1)`` for InceptionV3,
            ``(0, 1)`` for the course model.
    """

    model: keras.Model
    name: str
    pretrained_on: str
    dream_layers: tuple[str, ...]
    value_range: tuple[float, float]

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

    Returns:
        A :class:`VisualizationModel`; check ``.name`` to see which model came back.
    """
    try:
        model = load_imagenet_model(include_top=include_top)
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
        )
    return VisualizationModel(
        model=model,
        name=INCEPTION_V3,
        pretrained_on="imagenet",
        dream_layers=INCEPTION_DREAM_LAYERS,
        value_range=(-1.0, 1.0),
    )
