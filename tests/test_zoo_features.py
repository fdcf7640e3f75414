"""course_lib.zoo.features: unwrapping, checking and cutting Keras models, against hand cuts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib import config, zoo
from course_lib.zoo import features


@pytest.fixture(scope="module")
def models() -> dict:
    return {"shapes_cnn": zoo.load_course_model("shapes_cnn")}


@pytest.fixture(scope="module")
def small() -> keras.Model:
    """Conv -> conv -> global pool -> dense on RGB images of any size, seeded, untrained."""
    config.seed_everything(0)
    images = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(images)
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv_b")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(images, keras.layers.Dense(3, name="logits")(x), name="small")


def _wrapped(model: keras.Model, value_range=(-1.0, 1.0)) -> zoo.VisualizationModel:
    return zoo.VisualizationModel(model, "small", "test", ("conv_b",), value_range, ("a",), None)


def _cut(model: keras.Model, name: str) -> keras.Model:
    """The independent reference: a plain ``keras.Model(inputs, layer.output)``."""
    return keras.Model(model.input, model.get_layer(name).output)


# --- unwrapping and the input check -------------------------------------------------------------


def test_unwrap_gives_the_keras_model_and_its_value_range(small):
    assert features.unwrap(small) == (small, (0.0, 1.0))
    assert features.unwrap(small, (-2, 2)) == (small, (-2.0, 2.0))
    vis = _wrapped(small)
    assert features.unwrap(vis) == (small, (-1.0, 1.0))
    assert features.unwrap(vis, (0, 255)) == (small, (0.0, 255.0))
    assert features.keras_model(vis) is small and features.keras_model(small) is small
    with pytest.raises(TypeError, match="keras.Model or a zoo.VisualizationModel"):
        features.unwrap("small")
    with pytest.raises(ValueError, match="low < high"):
        features.unwrap(small, (1.0, 1.0))


def test_image_input_is_the_models_one_image_input(small):
    assert features.image_input(small) is small.inputs[0]
    grey = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(name="flat")])
    assert tuple(features.image_input(grey, ranks=(3, 4)).shape) == (None, 28, 28)
    with pytest.raises(
        ValueError, match=r"one \[N, H, W, C\] image input, got inputs \[\(None, 28"
    ):
        features.image_input(grey)
    inputs = [keras.Input((4, 4, 3)), keras.Input((4, 4, 3))]
    two = keras.Model(inputs, keras.layers.Add()(inputs))
    with pytest.raises(ValueError, match=r"one \[N, H, W, C\] or \[N, H, W\] image input"):
        features.image_input(two, ranks=(4, 3))
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3, name="conv")])  # no keras.Input
    with pytest.raises(ValueError, match="built on keras.Input"):
        features.image_input(unbuilt)
    with pytest.raises(TypeError, match="model must be a keras.Model, got VisualizationModel"):
        features.image_input(_wrapped(small))


# --- layer names --------------------------------------------------------------------------------


def test_layer_names_and_their_check(small):
    expected = ["images", "conv_a", "conv_b", "pool", "logits"]
    assert features.layer_names(small) == [layer.name for layer in small.layers] == expected
    assert features.layer_names(_wrapped(small)) == expected
    assert features.check_layer_names(small, ("conv_b", "conv_a", "conv_b")) == [
        "conv_b",
        "conv_a",
        "conv_b",
    ]
    assert features.check_layer_names(_wrapped(small), "pool") == ["pool"]
    with pytest.raises(
        ValueError,
        match=r"layer 'mixed3' is not a layer of model 'small'; "
        r"its layers are: images, conv_a, conv_b, pool, logits",
    ):
        features.check_layer_names(small, ["conv_a", "mixed3"])
    with pytest.raises(TypeError, match="layer_names must hold strings, got int"):
        features.check_layer_names(small, ["conv_a", 3])


# --- cut models ---------------------------------------------------------------------------------


def test_feature_extractor_matches_hand_cut_models(small, rng):
    images = rng.uniform(size=(2, 10, 12, 3)).astype(np.float32)
    extract = features.feature_extractor(_wrapped(small), ["conv_b", "logits", "conv_b"])
    assert extract.name == "small_features" and extract.inputs[0] is small.inputs[0]
    outputs = extract(images)
    assert list(outputs) == ["conv_b", "logits"]
    for name in ("conv_b", "logits"):
        np.testing.assert_allclose(outputs[name], _cut(small, name)(images), rtol=1e-6, atol=1e-6)
    assert outputs["conv_b"].shape == (2, 10, 12, 6) and outputs["logits"].shape == (2, 3)
    assert features.feature_extractor(small, "pool", name="pooled").name == "pooled"
    with pytest.raises(ValueError, match="its layers are: images, conv_a"):
        features.feature_extractor(small, ["nope"])


def test_feature_extractor_takes_greyscale_models_without_a_channel_axis(models, rng):
    digits = zoo.load_course_model("digits_cnn")
    images = rng.uniform(size=(2, 28, 28)).astype(np.float32)
    outputs = features.feature_extractor(digits, ["conv1"])(images)
    np.testing.assert_allclose(outputs["conv1"], _cut(digits, "conv1")(images), rtol=1e-5)


def test_layer_model_keeps_the_order_given_and_repeats(small, rng):
    images = rng.uniform(size=(1, 8, 8, 3)).astype(np.float32)
    cut = features.layer_model(small, ["logits", "conv_a", "logits"])
    assert cut.name == "small_layers" and len(cut.outputs) == 3
    logits, conv_a, again = cut(images)
    np.testing.assert_allclose(logits, _cut(small, "logits")(images), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(conv_a, _cut(small, "conv_a")(images), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(again, logits)
    single = features.layer_model(_wrapped(small), "conv_b", name="one")
    assert single.name == "one"
    np.testing.assert_allclose(single(images), _cut(small, "conv_b")(images), rtol=1e-6)
    with pytest.raises(ValueError, match="layer_names must be a name or a non-empty list"):
        features.layer_model(small, [])
    with pytest.raises(ValueError, match="is not a layer of model 'small'"):
        features.layer_model(small, ["conv_a", "conv_c"])


# --- activations on an image --------------------------------------------------------------------


def test_image_batch_maps_unit_images_affinely(rng):
    image = rng.uniform(size=(5, 7, 3)).astype(np.float32)
    batch = features.image_batch(image, (-1.0, 1.0))
    assert batch.shape == (1, 5, 7, 3) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0], image * 2.0 - 1.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(features.image_batch(image[np.newaxis]), image[np.newaxis])
    np.testing.assert_array_equal(features.one_image(image[np.newaxis]), image)
    with pytest.raises(ValueError, match=r"image must be \[H, W, C\] or \[1, H, W, C\]"):
        features.image_batch(np.zeros((2, 5, 7, 3)))
    with pytest.raises(ValueError, match="got shape"):
        features.one_image(np.zeros((5, 7)))


def test_layer_activations_read_the_image_in_the_models_range(small, rng):
    image = rng.uniform(size=(6, 6, 3)).astype(np.float32)
    acts = features.layer_activations(_wrapped(small, (0.0, 255.0)), image, "conv_b")
    reference = _cut(small, "conv_b")(image[np.newaxis] * 255.0)[0]
    assert acts.shape == (6, 6, 6) and isinstance(acts, np.ndarray)
    np.testing.assert_allclose(acts, reference, rtol=1e-5, atol=1e-4)
    dense = features.layer_activations(small, image, "logits")
    np.testing.assert_allclose(dense, _cut(small, "logits")(image[np.newaxis])[0], rtol=1e-5)


# --- another input size (moved from test_zoo.py) ------------------------------------------------


def test_free_size_model_copies_weights_and_keeps_free_models(models, rng):
    import keras

    shapes = models["shapes_cnn"]
    assert zoo.free_size_model(shapes) is shapes
    inp = keras.Input((48, 48, 3))  # a fixed-size model sharing shapes_cnn's first layer
    x = shapes.get_layer("conv1_pre_relu")(inp)
    fixed = keras.Model(inp, keras.layers.ReLU(name="conv1")(x))
    free = zoo.free_size_model(fixed)
    assert tuple(free.input.shape) == (None, None, None, 3)
    images = rng.uniform(size=(2, 48, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(free(images), fixed(images), rtol=1e-6, atol=1e-6)
    assert free(images[:, :30, :20]).shape == (2, 30, 20, 16)


def test_free_size_model_of_a_visualization_model_keeps_its_settings(models, rng):
    import keras

    shapes = models["shapes_cnn"]
    inp = keras.Input((40, 40, 3))
    fixed = keras.Model(
        inp, keras.layers.ReLU(name="conv1")(shapes.get_layer("conv1_pre_relu")(inp))
    )
    vis = zoo.VisualizationModel(fixed, "fixed", "test", ("conv1",), (-1.0, 1.0), ("a",), None)
    free = zoo.free_size_model(vis)
    assert isinstance(free, zoo.VisualizationModel) and free.model is not fixed
    assert (free.name, free.value_range, free.class_names) == ("fixed", (-1.0, 1.0), ("a",))
    images = rng.uniform(size=(1, 40, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(free.model(images), fixed(images), rtol=1e-6, atol=1e-6)


def test_free_size_model_rejects_what_is_not_an_image_model():
    import keras

    with pytest.raises(TypeError, match="keras.Model"):
        zoo.free_size_model("InceptionV3")
    inputs = [keras.Input((4,)), keras.Input((4,))]
    two = keras.Model(inputs, keras.layers.Add()(inputs))
    with pytest.raises(ValueError, match="one \\[N, H, W, C\\] image input"):
        zoo.free_size_model(two)
