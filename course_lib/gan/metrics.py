"""Does a generator draw digits? Scores from the course's digits classifier (book/part1/07_dcgan).

The course's ``digits_cnn`` (``zoo.load_course_model("digits_cnn")``, weights shipped, 98.9%
test accuracy) reads ``[N, 28, 28]`` images in [0, 1]. Two scores come from it:

- :func:`classifier_score`: the mean top-class probability of the samples (a recognizable digit
  gets a confident answer) and the number of classes *covered*: a class is covered when it is
  the top class of at least ``min_fraction`` of the samples (2% by default: 2 of 100 samples),
  so that one stray sample does not count as a mode the generator has learnt;
- :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to two sets of
  features, ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, the FID's formula, here on
  the classifier's penultimate layer (``flatten``, 576 features) instead of InceptionV3's.

Distances computed from different sample counts differ by their estimation bias, so compare
only distances of equally many images against the same reference (:data:`FRECHET_SAMPLES`
images against :func:`reference_features`).
"""

from __future__ import annotations

import dataclasses
import functools

import keras
import numpy as np
import scipy.linalg
import threadpoolctl

from course_lib import checks

#: The course model the scores come from.
CLASSIFIER = "digits_cnn"
#: Its penultimate layer: the features of the Fréchet distance.
FEATURE_LAYER = "flatten"
#: Default share of the samples a class needs as top class to count as covered.
MIN_FRACTION = 0.02
#: Images on each side of a Fréchet distance the chapter reports (the offline test split's size).
FRECHET_SAMPLES = 360
#: At most this many reference images (a seeded subset of MNIST's 60,000 online).
REFERENCE_SAMPLES = 2000


@dataclasses.dataclass(frozen=True)
class ClassifierScore:
    """What the classifier says about a set of samples.

    Attributes:
        confidence: mean over the samples of the top-class probability.
        classes_covered: classes that are the top class of >= ``min_fraction`` of the samples.
        counts: ``[10]`` how many samples each class is the top class of.
    """

    confidence: float
    classes_covered: int
    counts: tuple[int, ...]


@functools.lru_cache(maxsize=1)
def _classifier() -> keras.Model:
    from course_lib import zoo

    return zoo.load_course_model(CLASSIFIER, compile=False)


@functools.lru_cache(maxsize=1)
def _extractor() -> keras.Model:
    from course_lib.zoo import features

    return features.feature_extractor(_classifier(), FEATURE_LAYER)


def _digit_images(images: object) -> np.ndarray:
    """``[N, 28, 28]`` or ``[N, 28, 28, 1]`` in [0, 1] -> float32 ``[N, 28, 28]``."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(
            f"images must be [N, 28, 28] or [N, 28, 28, 1] with N >= 1, got {images.shape}"
        )
    if not np.isfinite(images).all() or images.min() < 0.0 or images.max() > 1.0:
        raise ValueError("images must be finite and in [0, 1]")
    return images


def _in_batches(model: keras.Model, images: np.ndarray, batch_size: int) -> np.ndarray:
    """``model``'s output on ``images`` in inference mode, ``batch_size`` images at a time
    (called eagerly: cheaper than ``predict`` for the few small batches scored here)."""
    batch_size = checks.positive_int("batch_size", batch_size)
    outputs = []
    for start in range(0, len(images), batch_size):
        output = model(images[start : start + batch_size], training=False)
        if isinstance(output, dict):
            output = output[FEATURE_LAYER]
        outputs.append(np.asarray(output))
    return np.concatenate(outputs)


def probabilities(images: object, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``[N, 10]`` of digits ``[N, 28, 28(, 1)]`` in [0, 1]."""
    return _in_batches(_classifier(), _digit_images(images), batch_size)


def classifier_score(images: object, min_fraction: float = MIN_FRACTION) -> ClassifierScore:
    """Mean top-class confidence and classes covered of ``images`` ``[N, 28, 28(, 1)]`` in [0, 1].

    Args:
        images: the samples.
        min_fraction: a class is covered when it is the top class of at least
            ``ceil(min_fraction * N)`` samples (at least one).

    Raises:
        ValueError: for images of another shape or outside [0, 1], or ``min_fraction``
            outside [0, 1].
    """
    min_fraction = checks.real("min_fraction", min_fraction, minimum=0.0, maximum=1.0)
    scores = probabilities(images)
    counts = np.bincount(scores.argmax(axis=1), minlength=scores.shape[1])
    needed = max(1, int(np.ceil(min_fraction * len(scores) - 1e-9)))
    return ClassifierScore(
        confidence=float(scores.max(axis=1).mean()),
        classes_covered=int((counts >= needed).sum()),
        counts=tuple(int(c) for c in counts),
    )


def features(images: object, batch_size: int = 256) -> np.ndarray:
    """Penultimate features ``[N, 576]`` (float64) of digits ``[N, 28, 28(, 1)]`` in [0, 1]."""
    outputs = _in_batches(_extractor(), _digit_images(images), batch_size)
    return outputs.astype(np.float64)


def reference_features(images: object, limit: int = REFERENCE_SAMPLES, seed: int = 0) -> np.ndarray:
    """Features of at most ``limit`` of ``images`` (a seeded subset when there are more)."""
    images = _digit_images(images)
    limit = checks.positive_int("limit", limit)
    if len(images) > limit:
        chosen = np.random.default_rng(checks.integer("seed", seed)).choice(
            len(images), limit, replace=False
        )
        images = images[np.sort(chosen)]
    return features(images)


def _moments(name: str, values: object) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or len(values) < 2:
        raise ValueError(f"{name} must be [N, D] with N >= 2, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite")
    return values.mean(axis=0), np.cov(values, rowvar=False).reshape(values.shape[1], -1)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues
    below 0 from rounding are taken as 0)."""
    values, vectors = scipy.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(covariance_a: np.ndarray, covariance_b: np.ndarray) -> float:
    """``tr (S_a S_b)^(1/2)`` for covariances ``[D, D]``.

    ``S_a S_b`` is similar to the symmetric ``S_a^(1/2) S_b S_a^(1/2)``, so its square root's
    trace is the sum of the square roots of that matrix's eigenvalues: the same value as
    ``trace(scipy.linalg.sqrtm(S_a @ S_b))`` (the tests compare them), computed with symmetric
    eigendecompositions, which stay fast and exact for the singular covariances of fewer samples
    than features, where ``sqrtm`` warns and slows down.
    """
    # One BLAS thread: next to TensorFlow's busy thread pools, several are slower, not faster.
    with threadpoolctl.threadpool_limits(1):
        root_a = _psd_sqrt(covariance_a)
        middle = root_a @ covariance_b @ root_a
        values = scipy.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sum(np.sqrt(np.clip(values, 0.0, None))))


def gaussian_frechet_distance(
    mean_a: object, covariance_a: object, mean_b: object, covariance_b: object
) -> float:
    """``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``: the squared Fréchet (2-Wasserstein)
    distance between two Gaussians, means ``[D]`` and covariances ``[D, D]`` (symmetric, positive
    semi-definite).

    Raises:
        ValueError: if the shapes do not fit together.
    """
    mean_a, mean_b = (np.asarray(m, np.float64) for m in (mean_a, mean_b))
    covariance_a, covariance_b = (np.asarray(c, np.float64) for c in (covariance_a, covariance_b))
    size = mean_a.shape
    if mean_a.ndim != 1 or mean_b.shape != size:
        raise ValueError(f"mean_a and mean_b must be [D] alike, got {mean_a.shape}, {mean_b.shape}")
    for name, covariance in (("covariance_a", covariance_a), ("covariance_b", covariance_b)):
        if covariance.shape != size * 2:
            raise ValueError(f"{name} must be [D, D] = {size * 2}, got {covariance.shape}")
    root_trace = trace_sqrt_product(covariance_a, covariance_b)
    distance = (
        np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a + covariance_b) - 2 * root_trace
    )
    return float(max(distance, 0.0))


def frechet_distance(features_a: object, features_b: object) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets ``[N_a, D]``, ``[N_b, D]``.

    Raises:
        ValueError: if either is not 2-D with at least two rows, or their ``D`` differ.
    """
    mean_a, covariance_a = _moments("features_a", features_a)
    mean_b, covariance_b = _moments("features_b", features_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(
            f"features_a and features_b must have as many columns, got {mean_a.size}, {mean_b.size}"
        )
    return gaussian_frechet_distance(mean_a, covariance_a, mean_b, covariance_b)
