"""course_lib.lucid.misc: attribution sums, ChannelReducer vs scikit-learn, grids, dictionaries."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.decomposition
import tensorflow as tf

from course_lib import data, zoo
from course_lib.lucid.misc import activation_grid, attribution, semantic_dictionary
from course_lib.lucid.misc.channel_reducer import ChannelReducer


@pytest.fixture(scope="module")
def shapes():
    return zoo.load_course_model("shapes_cnn", compile=False)


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(7)
    return rng.uniform(0.0, 1.0, size=(40, 56, 3)).astype(np.float32)


def _dense_head(model):
    weights, bias = model.get_layer("logits").get_weights()
    return weights, bias


def _acts(model, image, name):
    import keras

    sub = keras.Model(model.inputs[0], model.get_layer(name).output)
    return np.asarray(sub(image[np.newaxis]))[0]


# --- attribution ------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["mixed2", "mixed2_pre_relu", "global_pool"])
def test_attribution_is_complete_where_the_logit_is_linear_in_the_layer(shapes, photo, layer):
    """Through global average pooling and a dense layer: sum of grad x act == logit - bias."""
    weights, bias = _dense_head(shapes)
    logits = _acts(shapes, photo, "logits")
    for label in (0, 3, 9):
        total = attribution.gradient_x_activation(shapes, photo, layer, class_index=label).sum()
        np.testing.assert_allclose(total, logits[label] - bias[label], rtol=1e-4, atol=1e-5)


def test_gradient_x_activation_matches_the_closed_form_of_the_head(shapes, photo):
    """d logit_c / d mixed2[y, x, k] = W[k, c] / (h w): an independent NumPy reference."""
    weights, _ = _dense_head(shapes)
    acts = _acts(shapes, photo, "mixed2")
    height, width, _ = acts.shape
    label = 4
    expected = acts * weights[:, label] / (height * width)
    got = attribution.gradient_x_activation(shapes, photo, "mixed2", class_index=label)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_spatial_and_channel_attribution_sum_to_the_same_total(shapes, photo):
    full = attribution.gradient_x_activation(shapes, photo, "mixed1", class_index=2)
    spatial = attribution.spatial_attribution(shapes, photo, "mixed1", class_index=2)
    channels = attribution.channel_attribution(shapes, photo, "mixed1", class_index=2)
    assert spatial.shape == full.shape[:2] and channels.shape == full.shape[-1:]
    np.testing.assert_allclose(spatial, full.sum(-1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(channels, full.sum((0, 1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(spatial.sum(), channels.sum(), rtol=1e-4, atol=1e-5)


def test_default_class_is_the_prediction_and_visualization_models_are_unwrapped(shapes, photo):
    label = attribution.predicted_class(shapes, photo)
    assert label == int(np.argmax(_acts(shapes, photo, "logits")))
    wrapped = zoo.VisualizationModel(shapes, "shapes_cnn", "procedural_shapes", (), (0.0, 1.0))
    np.testing.assert_allclose(
        attribution.spatial_attribution(wrapped, photo, "mixed2"),
        attribution.spatial_attribution(shapes, photo, "mixed2", class_index=label),
        rtol=1e-5,
        atol=1e-7,
    )


def test_attribution_of_a_custom_objective(shapes, photo):
    """Objective = mean of channel 5 of mixed2: grad x act is that channel / (h w), elsewhere 0."""
    acts = _acts(shapes, photo, "mixed2")
    height, width, _ = acts.shape

    def objective(T):  # noqa: N803 - Lucid's name
        return tf.reduce_mean(T("mixed2")[..., 5])

    got = attribution.gradient_x_activation(shapes, photo, "mixed2", objective=objective)
    expected = np.zeros_like(acts)
    expected[..., 5] = acts[..., 5] / (height * width)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(got.sum(), acts[..., 5].mean(), rtol=1e-4)


def test_attribution_bad_input(shapes, photo):
    with pytest.raises(ValueError, match="conv1.*mixed2"):
        attribution.spatial_attribution(shapes, photo, "mixed9")
    with pytest.raises(ValueError, match="10 classes"):
        attribution.channel_attribution(shapes, photo, "mixed2", class_index=10)
    with pytest.raises(ValueError, match="no spatial dimensions"):
        attribution.spatial_attribution(shapes, photo, "global_pool")
    with pytest.raises(ValueError, match="image"):
        attribution.spatial_attribution(shapes, photo[..., 0], "mixed2")


# --- deletion curves ---------------------------------------------------------------------------


def _linear_classifier(height, width, rng):
    """logits = W . flatten(image) + b: each pixel's share of a logit is known in closed form."""
    import keras

    inputs = keras.Input((height, width, 3))
    outputs = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    weights = rng.normal(size=(height * width * 3, 2)).astype(np.float32)
    bias = np.array([0.5, -0.5], np.float32)
    model.get_layer("logits").set_weights([weights, bias])
    return model, weights, bias


def test_deletion_curve_matches_a_numpy_loop_on_a_linear_model(rng):
    """Coarse saliency [3, 4] on a 6x8 image: 2x2-pixel regions replaced by the mean colour."""
    model, weights, bias = _linear_classifier(6, 8, rng)
    image = rng.uniform(size=(6, 8, 3)).astype(np.float32)
    saliency = rng.normal(size=(3, 4))
    curve = attribution.deletion_curve(
        model, image, saliency, class_index=1, fractions=5, baseline="mean", batch_size=2
    )
    mean_colour = image.mean(axis=(0, 1))
    order = np.argsort(-saliency.ravel())
    expected = []
    for count in (0, 3, 6, 9, 12):
        deleted = image.copy()
        for region in order[:count]:
            row, col = divmod(int(region), 4)
            deleted[2 * row : 2 * row + 2, 2 * col : 2 * col + 2] = mean_colour
        expected.append(float(deleted.ravel() @ weights[:, 1] + bias[1]))
    np.testing.assert_allclose(curve.fractions, [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.scores, expected, rtol=1e-5, atol=1e-5)
    assert curve.class_index == 1
    heights = np.array(expected) - expected[-1]
    trapezoids = 0.25 * (heights[1:] + heights[:-1]) / 2
    np.testing.assert_allclose(curve.area, trapezoids.sum(), rtol=1e-4, atol=1e-5)


def test_deleting_the_true_contributions_first_beats_every_random_order(rng):
    """For a linear logit, deleting the largest contributions first is the fastest possible fall:
    the true per-pixel contributions give the smallest area, their negation the largest."""
    model, weights, _ = _linear_classifier(8, 8, rng)
    image = rng.uniform(size=(8, 8, 3)).astype(np.float32)
    blurred = attribution.deletion_baseline(image, "blur")
    contribution = ((image - blurred) * weights[:, 0].reshape(8, 8, 3)).sum(axis=-1)

    def area(saliency):
        return attribution.deletion_curve(model, image, saliency, class_index=0, fractions=17).area

    best, worst = area(contribution), area(-contribution)
    randoms = [area(rng.random((8, 8))) for _ in range(5)]
    assert best < min(randoms) and worst > max(randoms)


def test_gradient_x_activation_deletes_the_course_models_evidence_faster_than_random(shapes):
    """The course model on its own shapes: the map beats random orders, summed over images."""
    images, _ = data.make_shapes_dataset(1, seed=3)
    wrapped = zoo.VisualizationModel(shapes, "shapes_cnn", "procedural_shapes", (), (0.0, 1.0))
    rng = np.random.default_rng(0)
    ordered, random = 0.0, 0.0
    for image in images:
        saliency = attribution.spatial_attribution(wrapped, image, "mixed2")
        ordered += attribution.deletion_curve(wrapped, image, saliency).area
        random += np.mean(
            [
                attribution.deletion_curve(wrapped, image, rng.random(saliency.shape)).area
                for _ in range(2)
            ]
        )
    assert random > 0 and ordered < 0.9 * random


def test_deletion_masks_delete_whole_regions_most_salient_first():
    saliency = np.array([[0.1, 0.9], [0.5, 0.5]])
    masks = attribution.deletion_masks(saliency, (4, 6), fractions=[0.0, 0.25, 0.5, 0.75, 1.0])
    assert masks.shape == (5, 4, 6) and masks.dtype == bool
    expected = np.zeros((4, 6), bool)
    assert not masks[0].any()
    expected[:2, 3:] = True  # 0.9: top right
    np.testing.assert_array_equal(masks[1], expected)
    expected[2:, :3] = True  # the tie at 0.5: row-major, bottom left first
    np.testing.assert_array_equal(masks[2], expected)
    assert masks[4].all() and np.all(masks[1:] >= masks[:-1])


def test_deletion_baselines():
    image = np.zeros((10, 12, 3), np.float32)
    image[:, :6] = 1.0
    mean = attribution.deletion_baseline(image, "mean")
    np.testing.assert_allclose(mean, 0.5)
    np.testing.assert_allclose(attribution.deletion_baseline(image, 0.25), 0.25)
    blurred = attribution.deletion_baseline(image, "blur")
    assert blurred.shape == image.shape and 0.0 < blurred[5, 6, 0] < 1.0
    np.testing.assert_allclose(blurred.mean(), image.mean(), atol=0.02)
    flat = np.full((10, 12, 3), 0.3, np.float32)
    np.testing.assert_allclose(attribution.deletion_baseline(flat, "blur"), 0.3, rtol=1e-5)


def test_deletion_curve_bad_input(shapes, photo):
    saliency = np.ones((5, 7))
    with pytest.raises(ValueError, match="saliency"):
        attribution.deletion_curve(shapes, photo, np.ones((5, 7, 2)))
    with pytest.raises(ValueError, match="saliency"):
        attribution.deletion_curve(shapes, photo, np.full((5, 7), np.nan))
    with pytest.raises(ValueError, match="smaller than the saliency"):
        attribution.deletion_curve(shapes, photo, np.ones((50, 7)))
    with pytest.raises(ValueError, match="fractions"):
        attribution.deletion_curve(shapes, photo, saliency, fractions=[0.1, 1.0])
    with pytest.raises(ValueError, match="fractions"):
        attribution.deletion_curve(shapes, photo, saliency, fractions=1)
    with pytest.raises(ValueError, match="baseline"):
        attribution.deletion_curve(shapes, photo, saliency, baseline="noise")
    with pytest.raises(ValueError, match="baseline"):
        attribution.deletion_curve(shapes, photo, saliency, baseline=np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="10 classes"):
        attribution.deletion_curve(shapes, photo, saliency, class_index=10)
    with pytest.raises(TypeError, match="class_index"):
        attribution.deletion_curve(shapes, photo, saliency, class_index=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        attribution.deletion_curve(shapes, photo, saliency, batch_size=0)
    with pytest.raises(ValueError, match="image"):
        attribution.deletion_curve(shapes, photo[..., 0], saliency)


# --- ChannelReducer ---------------------------------------------------------------------------


def test_channel_reducer_matches_scikit_learn_nmf(rng):
    acts = np.maximum(rng.normal(size=(2, 5, 6, 12)), 0.0).astype(np.float32)
    kwargs = {"init": "nndsvda", "max_iter": 400, "random_state": 0}
    reducer = ChannelReducer(3, "NMF", **kwargs)
    reduced = reducer.fit_transform(acts)
    reference = sklearn.decomposition.NMF(n_components=3, **kwargs)
    expected = reference.fit_transform(acts.reshape(-1, 12))
    assert reduced.shape == (2, 5, 6, 3)
    np.testing.assert_allclose(reduced.reshape(-1, 3), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reducer.components_, reference.components_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        reducer.transform(acts[0]).reshape(-1, 3),
        reference.transform(acts[0].reshape(-1, 12)),
        rtol=1e-4,
        atol=1e-5,
    )
    rebuilt = reducer.inverse_transform(reduced)
    np.testing.assert_allclose(rebuilt, reduced @ reducer.components_, rtol=1e-5, atol=1e-6)
    assert np.all(reduced >= 0) and np.all(reducer.components_ >= 0)


def test_channel_reducer_fit_then_transform_and_pca(rng):
    acts = rng.normal(size=(7, 9, 8))
    reducer = ChannelReducer(2, "PCA").fit(acts)
    reference = sklearn.decomposition.PCA(n_components=2).fit(acts.reshape(-1, 8))
    np.testing.assert_allclose(
        np.abs(reducer.transform(acts).reshape(-1, 2)),
        np.abs(reference.transform(acts.reshape(-1, 8))),
        rtol=1e-6,
        atol=1e-8,
    )
    assert reducer.components_.shape == (2, 8)


def test_channel_reducer_bad_input(rng):
    with pytest.raises(ValueError, match="non-negative"):
        ChannelReducer(2).fit(rng.normal(size=(4, 4, 3)))
    with pytest.raises(ValueError, match="reduction_alg"):
        ChannelReducer(2, "NotAnAlgorithm")
    with pytest.raises(ValueError, match="n_components"):
        ChannelReducer(0)
    reducer = ChannelReducer(2, "PCA").fit(rng.normal(size=(6, 5)))
    with pytest.raises(ValueError, match="channels"):
        reducer.transform(rng.normal(size=(6, 4)))
    with pytest.raises(AttributeError, match="after fit"):
        _ = ChannelReducer(2).components_


# --- semantic dictionary and activation grid: the array parts --------------------------------


def test_top_channels_matches_a_sorted_loop(rng):
    acts = rng.normal(size=(3, 4, 10)).astype(np.float32)
    acts[0, 0, 2] = acts[0, 0, 7] = 5.0  # a tie: the lower index comes first
    channels, values = semantic_dictionary.top_channels(acts, 3)
    for row in range(3):
        for col in range(4):
            order = sorted(range(10), key=lambda c: (-acts[row, col, c], c))[:3]
            assert channels[row, col].tolist() == order
            np.testing.assert_array_equal(values[row, col], acts[row, col, order])
    assert channels[0, 0, :2].tolist() == [2, 7]
    assert np.all(np.diff(values, axis=-1) <= 0)
    with pytest.raises(ValueError, match=r"\[1, 10\]"):
        semantic_dictionary.top_channels(acts, 11)


def test_cell_vectors_are_block_means(rng):
    acts = rng.normal(size=(4, 6, 5)).astype(np.float32)
    cells = activation_grid.cell_vectors(acts, (2, 3))
    expected = acts.reshape(2, 2, 3, 2, 5).mean(axis=(1, 3))
    np.testing.assert_allclose(cells, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(activation_grid.cell_vectors(acts, None), acts)
    uneven = activation_grid.cell_vectors(acts[:3], (2, 2))  # rows [0, 1) and [1, 3)
    np.testing.assert_allclose(uneven[1, 0], acts[1:3, :3].mean(axis=(0, 1)), rtol=1e-6)
    with pytest.raises(ValueError, match="grid"):
        activation_grid.cell_vectors(acts, (5, 1))


def test_tile_places_icons_row_by_row(rng):
    icons = rng.uniform(size=(2, 3, 4, 4, 3)).astype(np.float32)
    mosaic = activation_grid.tile(icons)
    assert mosaic.shape == (8, 12, 3)
    np.testing.assert_array_equal(mosaic[4:8, 8:12], icons[1, 2])
    bordered = activation_grid.tile(icons, border=1)
    assert bordered.shape == (9, 14, 3)
    np.testing.assert_array_equal(bordered[5:9, 10:14], icons[1, 2])


# --- icons: rendered with optvis.render ------------------------------------------------------


def _channel_means(model, images, layer):
    import keras

    sub = keras.Model(model.inputs[0], model.get_layer(layer).output)
    return np.asarray(sub(images)).mean(axis=(1, 2))


def test_channel_icons_excite_their_own_channel(shapes):
    icons = semantic_dictionary.channel_icons(shapes, "mixed1", [3, 10, 3], size=32, steps=32)
    assert sorted(icons) == [3, 10]
    batch = np.stack([icons[3], icons[10]])
    assert batch.shape == (2, 32, 32, 3) and batch.min() >= 0.0 and batch.max() <= 1.0
    means = _channel_means(shapes, batch, "mixed1")
    assert means[0, 3] > means[1, 3] and means[1, 10] > means[0, 10]


def test_semantic_dictionary_icons_cover_the_top_channels_at_the_positions(shapes, photo):
    book = semantic_dictionary.semantic_dictionary(
        shapes, photo, "mixed2", k=2, positions=[(0, 0), (2, 3)], icon_size=24, steps=8
    )
    assert book.activations.shape == (5, 7, 96) and book.channels.shape == (5, 7, 2)
    expected = set(book.channels[0, 0].tolist()) | set(book.channels[2, 3].tolist())
    assert set(book.icons) == expected
    assert np.all(book.activations[2, 3, book.channels[2, 3, 0]] >= book.activations[2, 3])


def test_activation_grid_renders_one_icon_per_cell(shapes, photo):
    grid = activation_grid.activation_grid(
        shapes, photo, "mixed2", grid=(2, 2), icon_size=24, steps=8
    )
    assert grid.vectors.shape == (2, 2, 96) and grid.icons.shape == (2, 2, 24, 24, 3)
    assert grid.image().shape == (48, 48, 3)
    np.testing.assert_allclose(grid.vectors[0, 0], grid.activations[:2, :3].mean((0, 1)), 1e-5)


def test_direction_icons_follow_their_directions(shapes):
    vectors = np.zeros((2, 64), np.float32)
    vectors[0, 5], vectors[1, 20] = 1.0, 1.0
    icons = activation_grid.direction_icons(shapes, "mixed1", vectors, size=32, steps=32)
    means = _channel_means(shapes, icons, "mixed1")
    assert icons.shape == (2, 32, 32, 3)
    assert means[0, 5] > means[1, 5] and means[1, 20] > means[0, 20]
