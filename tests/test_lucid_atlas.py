"""course_lib.lucid.misc.activation_atlas: grid averaging vs SciPy, the statistic on known grids,
the logit push vs the dense head in NumPy, the layout vs a random one, the rendering."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import binned_statistic_2d
from sklearn.manifold import trustworthiness

from course_lib import data, zoo
from course_lib.lucid.misc import activation_atlas as atlas


@pytest.fixture(scope="module")
def shapes():
    return zoo.load_course_model("shapes_cnn", compile=False)


@pytest.fixture
def rng():
    return np.random.default_rng(11)


# --- the grid ---------------------------------------------------------------------------------


def test_grid_cells_match_scipy_binning(rng):
    points = rng.uniform(size=(500, 2))
    points[:5] = [[0, 0], [1, 1], [1, 0], [0.5, 1.0], [0.25, 0.75]]  # edges and exact boundaries
    cells = atlas.grid_cells(points, (4, 5))
    # scipy: x is the row coordinate (points[:, 1]), y the column one; the last bin is closed
    result = binned_statistic_2d(
        points[:, 1],
        points[:, 0],
        None,
        "count",
        bins=[4, 5],
        range=[[0, 1], [0, 1]],
        expand_binnumbers=True,
    )
    np.testing.assert_array_equal(cells, result.binnumber.T - 1)


def test_cell_means_match_scipy_binned_statistic(rng):
    points = rng.uniform(size=(400, 2))
    vectors = rng.normal(size=(400, 3)).astype(np.float32)
    means, counts = atlas.cell_means(points, vectors, (6, 4), min_count=1)
    for c in range(3):
        expected = binned_statistic_2d(
            points[:, 1], points[:, 0], vectors[:, c], "mean", bins=[6, 4], range=[[0, 1], [0, 1]]
        ).statistic
        filled = ~np.isnan(expected)
        np.testing.assert_allclose(means[..., c][filled], expected[filled], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(means[..., c][~filled], 0.0)
    expected_counts = binned_statistic_2d(
        points[:, 1], points[:, 0], None, "count", bins=[6, 4], range=[[0, 1], [0, 1]]
    ).statistic
    np.testing.assert_array_equal(counts, expected_counts)


def test_cell_means_match_a_python_loop_and_empty_the_sparse_cells(rng):
    points = rng.beta(0.5, 0.5, size=(120, 2))
    vectors = rng.uniform(size=(120, 5)).astype(np.float32)
    means, counts = atlas.cell_means(points, vectors, (3, 3), min_count=15)
    for i, j in itertools.product(range(3), range(3)):
        inside = [
            k
            for k, (x, y) in enumerate(points)
            if min(int(y * 3), 2) == i and min(int(x * 3), 2) == j
        ]
        assert counts[i, j] == len(inside)
        if len(inside) >= 15:
            np.testing.assert_allclose(means[i, j], vectors[inside].mean(0), rtol=1e-5)
        else:
            np.testing.assert_array_equal(means[i, j], 0.0)


def test_grid_rejects_points_outside_the_unit_square_and_bad_grids():
    with pytest.raises(ValueError, match="unit square"):
        atlas.grid_cells([[0.5, 1.5]], (2, 2))
    with pytest.raises(ValueError, match="points"):
        atlas.grid_cells([[0.5, 0.5, 0.5]], (2, 2))
    with pytest.raises(ValueError, match="grid rows"):
        atlas.grid_cells([[0.5, 0.5]], (0, 2))
    with pytest.raises(TypeError, match="grid"):
        atlas.grid_cells([[0.5, 0.5]], 4)
    with pytest.raises(ValueError, match="differ in length"):
        atlas.cell_means([[0.5, 0.5]], np.ones((2, 3)), (2, 2))
    with pytest.raises(ValueError, match="min_count"):
        atlas.cell_means([[0.5, 0.5]], np.ones((1, 3)), (2, 2), min_count=0)


# --- the statistic ----------------------------------------------------------------------------


def test_neighbour_agreement_on_two_halves():
    """4x4, left half 0, right half 1: 24 neighbour pairs, the 4 across the middle disagree;
    of the 120 pairs of cells, 2 * C(8, 2) = 56 agree."""
    labels = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    neighbours, pairs = atlas.neighbour_agreement(labels)
    assert neighbours == pytest.approx(20 / 24)
    assert pairs == pytest.approx(56 / 120)


def test_neighbour_agreement_on_a_checkerboard_is_zero_and_respects_the_mask():
    labels = np.indices((3, 3)).sum(0) % 2
    neighbours, pairs = atlas.neighbour_agreement(labels)
    assert neighbours == 0.0
    assert pairs == pytest.approx((5 * 4 + 4 * 3) / (9 * 8))  # five 0s and four 1s
    mask = np.ones((3, 3), bool)
    mask[1, :] = False  # rows 0 and 2 stay, never adjacent vertically
    labels = np.array([[1, 1, 2], [9, 9, 9], [1, 2, 2]])
    neighbours, pairs = atlas.neighbour_agreement(labels, mask)
    assert neighbours == pytest.approx(2 / 4)
    assert pairs == pytest.approx((3 + 3) / 15)  # {1, 1, 1} and {2, 2, 2}: 3 + 3 of 15 pairs


def test_pair_rate_is_the_mean_neighbour_rate_of_shuffled_labels(rng):
    labels = rng.integers(0, 3, size=(5, 6))
    _, pairs = atlas.neighbour_agreement(labels)
    shuffled = [
        atlas.neighbour_agreement(rng.permutation(labels.ravel()).reshape(5, 6))[0]
        for _ in range(4000)
    ]
    assert np.mean(shuffled) == pytest.approx(pairs, abs=0.01)


def test_neighbour_agreement_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        atlas.neighbour_agreement(np.zeros(4))
    with pytest.raises(ValueError, match="mask"):
        atlas.neighbour_agreement(np.zeros((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="neighbours"):
        atlas.neighbour_agreement(np.zeros((2, 2)), np.eye(2))


# --- sampling, layout ---------------------------------------------------------------------------


def test_sample_vectors_picks_distinct_positions_deterministically(rng):
    acts = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    vectors, where = atlas.sample_vectors(acts, 7, seed=2)
    assert vectors.shape == (21, 6) and where.shape == (21, 3)
    np.testing.assert_array_equal(vectors, acts[where[:, 0], where[:, 1], where[:, 2]])
    for image in range(3):
        positions = {tuple(p) for p in where[where[:, 0] == image, 1:]}
        assert len(positions) == 7
    again, _ = atlas.sample_vectors(acts, 7, seed=2)
    np.testing.assert_array_equal(vectors, again)
    with pytest.raises(ValueError, match="per_image"):
        atlas.sample_vectors(acts, 21, seed=2)


def test_normalize_layout_maps_into_the_unit_square(rng):
    points = rng.normal(size=(200, 2)) * [3.0, 0.1] + [10.0, -4.0]
    unit = atlas.normalize_layout(points, clip_percentile=0.0)
    np.testing.assert_allclose(unit.min(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(unit.max(0), 1.0)
    np.testing.assert_allclose(unit, (points - points.min(0)) / np.ptp(points, axis=0))
    with pytest.raises(ValueError, match="clip_percentile"):
        atlas.normalize_layout(points, clip_percentile=50)


def test_layout_keeps_neighbours_better_than_a_random_layout_and_is_seeded(rng):
    centres = rng.normal(size=(4, 20)) * 5.0
    vectors = (centres[rng.integers(0, 4, 240)] + rng.normal(size=(240, 20))).astype(np.float32)
    points = atlas.layout(vectors, perplexity=15, seed=0)
    assert points.shape == (240, 2) and points.min() >= 0 and points.max() <= 1
    ours = trustworthiness(vectors, points, n_neighbors=8)
    random = trustworthiness(vectors, rng.uniform(size=(240, 2)), n_neighbors=8)
    assert ours > random + 0.3
    np.testing.assert_array_equal(points, atlas.layout(vectors, perplexity=15, seed=0))
    with pytest.raises(ValueError, match="perplexity"):
        atlas.layout(vectors[:10], perplexity=15)


# --- the model parts ----------------------------------------------------------------------------


def test_logit_push_of_a_linear_head_is_the_dense_layer_in_numpy(shapes, rng):
    """shapes_cnn after mixed2: global average pooling + dense, so push = v @ W exactly."""
    weights, _ = shapes.get_layer("logits").get_weights()
    vectors = rng.uniform(0, 2, size=(7, weights.shape[0])).astype(np.float32)
    for spatial in (None, (3, 2)):
        push = atlas.logit_push(shapes, "mixed2", vectors, spatial=spatial)
        np.testing.assert_allclose(push, vectors @ weights, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="channels"):
        atlas.logit_push(shapes, "mixed2", vectors[:, :10])
    with pytest.raises(ValueError, match="nope"):
        atlas.logit_push(shapes, "nope", vectors)


def test_layer_activations_match_the_model_in_batches(shapes, rng):
    import keras

    images = rng.uniform(size=(5, 48, 48, 3)).astype(np.float32)
    expected = keras.Model(shapes.inputs[0], shapes.get_layer("mixed1").output)(images)
    got = atlas.layer_activations(shapes, images, "mixed1", batch_size=2)
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="images"):
        atlas.layer_activations(shapes, images[0], "mixed1")
    with pytest.raises(ValueError, match="not convolutional"):
        atlas.layer_activations(shapes, images, "logits")


def test_activation_atlas_end_to_end_on_the_course_model(shapes):
    """Small and fast: the pieces agree with each other and the icons show their directions."""
    images, _ = data.make_shapes_dataset(4, seed=5)
    result = atlas.activation_atlas(
        shapes,
        images,
        "mixed2",
        grid=(3, 3),
        per_image=10,
        min_count=3,
        icon_size=24,
        steps=24,
        perplexity=10,
        seed=0,
    )
    assert result.vectors.shape == (400, 96) and result.points.shape == (400, 2)
    means, counts = atlas.cell_means(result.points, result.vectors, (3, 3), 3)
    np.testing.assert_array_equal(result.means, means)
    np.testing.assert_array_equal(result.mask, counts >= 3)
    weights, _ = shapes.get_layer("logits").get_weights()
    filled = result.mask
    np.testing.assert_array_equal(result.labels[filled], (means[filled] @ weights).argmax(-1))
    assert np.all(result.labels[~filled] == -1)
    assert result.icons.shape == (3, 3, 24, 24, 3)
    assert result.image().shape == (72, 72, 3)
    start = atlas.direction_match(
        shapes, "mixed2", np.full((filled.sum(), 24, 24, 3), 0.5, np.float32), means[filled]
    )
    match = atlas.direction_match(shapes, "mixed2", result.icons[filled], means[filled])
    assert np.diag(match).mean() > np.diag(start).mean()
