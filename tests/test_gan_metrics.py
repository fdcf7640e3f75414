"""Digits metrics (``course_lib.gan.metrics``): the Fréchet distance against closed forms, the
classifier score on real digits."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import special_ortho_group

from course_lib.gan import dcgan, metrics


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form(rng):
    mean_a, mean_b = rng.normal(size=4), rng.normal(size=4)
    var_a, var_b = rng.uniform(0.2, 3.0, size=4), rng.uniform(0.2, 3.0, size=4)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    got = metrics.gaussian_frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_frechet_distance_of_rotated_gaussians_is_the_closed_form(rng):
    # Covariances sharing eigenvectors: W2^2 = |dmu|^2 + sum (sqrt(l_a) - sqrt(l_b))^2.
    rotation = special_ortho_group.rvs(5, random_state=1)
    eig_a, eig_b = rng.uniform(0.1, 2.0, size=5), rng.uniform(0.1, 2.0, size=5)
    cov_a, cov_b = (rotation @ np.diag(e) @ rotation.T for e in (eig_a, eig_b))
    mean_a, mean_b = rng.normal(size=5), rng.normal(size=5)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(eig_a) - np.sqrt(eig_b)) ** 2)
    got = metrics.gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b)
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    assert metrics.gaussian_frechet_distance(mean_a, cov_a, mean_a, cov_a) == pytest.approx(
        0.0, abs=1e-9
    )


def test_the_trace_of_the_root_matches_scipy_sqrtm(rng):
    a, b = rng.normal(size=(2, 6, 6))
    cov_a, cov_b = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    expected = np.trace(scipy.linalg.sqrtm(cov_a @ cov_b)).real
    np.testing.assert_allclose(metrics.trace_sqrt_product(cov_a, cov_b), expected, rtol=1e-8)


def test_frechet_distance_of_samples_approaches_their_gaussians(rng):
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    std_a, std_b = np.array([1.0, 2.0, 0.5]), np.array([0.5, 1.0, 1.5])
    a = mean_a + std_a * rng.standard_normal((40_000, 3))
    b = mean_b + std_b * rng.standard_normal((40_000, 3))
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((std_a - std_b) ** 2)  # 5 + 2 = 7
    got = metrics.frechet_distance(a, b)
    assert got == pytest.approx(expected, rel=0.02)
    assert metrics.frechet_distance(b, a) == pytest.approx(got, rel=1e-6)


def test_frechet_distance_of_singular_covariances_is_finite(rng):
    few = rng.normal(size=(5, 20))  # 5 samples of 20 features: rank-4 covariances
    other = rng.normal(1.0, 1.0, size=(6, 20))
    assert np.isfinite(metrics.frechet_distance(few, other))
    assert metrics.frechet_distance(few, few) == pytest.approx(0.0, abs=1e-3)


def test_frechet_distance_checks_its_arguments(rng):
    with pytest.raises(ValueError, match="features_a"):
        metrics.frechet_distance(rng.normal(size=5), rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="features_b"):
        metrics.frechet_distance(rng.normal(size=(5, 2)), rng.normal(size=(1, 2)))
    with pytest.raises(ValueError, match="columns"):
        metrics.frechet_distance(rng.normal(size=(5, 2)), rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="covariance_a"):
        metrics.gaussian_frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


@pytest.fixture(scope="module")
def held_out():
    """The held-out digits in [0, 1] and the classifier's top class of each."""
    images = (dcgan.load_digits("test") + 1.0) / 2.0
    return images, metrics.probabilities(images).argmax(axis=1)


def test_real_digits_score_high_confidence_and_every_class(held_out):
    images, _ = held_out
    score = metrics.classifier_score(images)
    assert score.confidence > 0.9 and score.classes_covered == 10
    assert sum(score.counts) == len(images)
    score_of_one_channel = metrics.classifier_score(images[..., 0])
    assert score_of_one_channel == score


def test_a_class_needs_its_share_of_the_samples_to_be_covered(held_out):
    images, top = held_out
    # 98 samples of one class, one sample each of two others.
    chosen = np.concatenate(
        [
            np.flatnonzero(top == 0)[:1].repeat(98),
            np.flatnonzero(top == 1)[:1],
            np.flatnonzero(top == 2)[:1],
        ]
    )
    samples = images[chosen]
    assert metrics.classifier_score(samples).classes_covered == 1  # 2% of 100: 2 samples
    assert metrics.classifier_score(samples, min_fraction=0.01).classes_covered == 3
    assert metrics.classifier_score(samples, min_fraction=0.0).classes_covered == 3
    assert metrics.classifier_score(samples).counts[:3] == (98, 1, 1)


def test_real_digits_are_closer_to_the_training_digits_than_noise(held_out, rng):
    images, _ = held_out
    reference = metrics.reference_features((dcgan.load_digits("train") + 1.0) / 2.0)
    assert reference.shape[1] == 576
    real = metrics.frechet_distance(metrics.features(images), reference)
    noise = metrics.frechet_distance(
        metrics.features(rng.uniform(size=images.shape).astype(np.float32)), reference
    )
    assert real < noise / 5


@pytest.mark.parametrize(
    "images", [np.zeros((2, 28, 28, 3)), np.zeros((2, 32, 32)), np.full((2, 28, 28), 2.0)]
)
def test_scores_check_their_images(images):
    with pytest.raises(ValueError, match="images"):
        metrics.classifier_score(images)
    with pytest.raises(ValueError, match="min_fraction"):
        metrics.classifier_score(np.zeros((2, 28, 28)), min_fraction=1.5)
