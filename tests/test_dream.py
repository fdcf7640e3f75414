"""course_lib.dream: the DeepDream objective, steps, tiled gradients and octaves on tiny CNNs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import config, dream


def _conv_model() -> keras.Model:
    """Two 3x3 convolutions (then a pooling) on images of any size, seeded, untrained."""
    config.seed_everything(0)
    images = keras.Input(shape=(None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(images)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    return keras.Model(images, x, name="tiny_cnn")


def _pointwise_model() -> keras.Model:
    """1x1 convolutions only: every output pixel depends on one input pixel, so tiles are exact."""
    config.seed_everything(1)
    images = keras.Input(shape=(None, None, 3), name="images")
    x = keras.layers.Conv2D(6, 1, activation="relu", name="point_a")(images)
    x = keras.layers.Conv2D(4, 1, activation="tanh", name="point_b")(x)
    return keras.Model(images, x, name="pointwise")


@pytest.fixture(scope="module")
def conv_dream() -> keras.Model:
    return dream.dream_model(_conv_model(), ["conv_a", "conv_b"])


@pytest.fixture(scope="module")
def pointwise_dream() -> keras.Model:
    return dream.dream_model(_pointwise_model(), ["point_a", "point_b"])


def _photo(rng: np.random.Generator, height: int = 24, width: int = 32) -> np.ndarray:
    """A smooth random [H, W, 3] image in [0, 1]."""
    coarse = rng.uniform(0.0, 1.0, size=(1, height // 4, width // 4, 3)).astype(np.float32)
    return tf.image.resize(coarse, (height, width))[0].numpy().clip(0.0, 1.0)


# --- the objective ----------------------------------------------------------------------------


def test_dream_model_returns_the_named_activations(rng):
    base = _conv_model()
    model = dream.dream_model(base, ["conv_b", "conv_a"])
    assert len(model.outputs) == 2
    images = rng.uniform(-1, 1, size=(2, 10, 12, 3)).astype(np.float32)
    conv_b, conv_a = model(images)
    expected_a = base.get_layer("conv_a")(images)
    np.testing.assert_allclose(conv_a, expected_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(conv_b, base.get_layer("conv_b")(expected_a), rtol=1e-5, atol=1e-6)
    single = dream.dream_model(base, "pool")
    assert single(images).shape == (2, 5, 6, 8)


def test_dream_model_works_on_a_sequential_model(rng):
    sequential = keras.Sequential(
        [keras.Input((None, None, 1)), keras.layers.Conv2D(2, 3, name="only_conv")]
    )
    model = dream.dream_model(sequential, ["only_conv"])
    assert model(np.zeros((1, 6, 6, 1), np.float32)).shape == (1, 4, 4, 2)


def test_dream_loss_sums_the_layer_means(rng):
    a, b = rng.normal(size=(1, 4, 5, 3)), rng.normal(size=(1, 2, 2, 7))
    np.testing.assert_allclose(dream.dream_loss([a, b]), a.mean() + b.mean(), rtol=1e-5)
    np.testing.assert_allclose(dream.dream_loss(a), a.mean(), rtol=1e-5)


def test_preprocess_and_deprocess_invert_each_other(rng):
    image = rng.uniform(0, 1, size=(5, 6, 3)).astype(np.float32)
    model_range = dream.preprocess(image)
    np.testing.assert_allclose(model_range, 2 * image - 1, atol=1e-6)
    np.testing.assert_allclose(dream.deprocess(model_range), image, atol=1e-6)
    np.testing.assert_allclose(dream.preprocess(image, (0, 1)), image)
    assert float(tf.reduce_max(dream.deprocess(model_range * 3))) == 1.0


# --- gradients --------------------------------------------------------------------------------


def test_tiled_gradients_are_exact_for_a_pointwise_model(pointwise_dream, rng):
    image = dream.preprocess(_photo(rng, 30, 41))
    loss, gradients = dream.dream_gradients(image, pointwise_dream)
    scale = float(tf.reduce_max(tf.abs(gradients)))
    assert scale > 0
    for tile_size, shift in ((8, (0, 0)), (13, (5, 17)), (64, (29, 3))):
        tiled_loss, tiled = dream.tiled_gradients(image, pointwise_dream, tile_size, shift)
        np.testing.assert_allclose(tiled_loss, loss, rtol=1e-5)
        np.testing.assert_allclose(tiled, gradients, rtol=1e-4, atol=1e-6 * scale)


def test_one_tile_without_shift_is_the_whole_image_gradient(conv_dream, rng):
    image = dream.preprocess(_photo(rng))
    loss, gradients = dream.dream_gradients(image, conv_dream)
    tiled_loss, tiled = dream.tiled_gradients(image, conv_dream, tile_size=32, shift=(0, 0))
    np.testing.assert_allclose(tiled_loss, loss, rtol=1e-6)
    np.testing.assert_allclose(tiled, gradients, rtol=1e-5, atol=1e-8)


def test_tiled_gradients_of_a_cnn_differ_only_near_seams(conv_dream, rng):
    image = dream.preprocess(_photo(rng, 32, 32))
    _, gradients = dream.dream_gradients(image, conv_dream)
    _, tiled = dream.tiled_gradients(image, conv_dream, tile_size=16)
    difference = np.abs(np.asarray(tiled - gradients)).max(axis=-1)
    # conv_b sees 2 pixels around an output; the gradient at a pixel therefore depends on the
    # image 4 pixels around it: only rows and columns 12..19 (around the seam at 16) may differ.
    far = np.ones((32, 32), bool)
    far[12:20, :] = far[:, 12:20] = False
    assert difference[far].max() < 1e-6 * np.abs(np.asarray(gradients)).max()
    assert difference[~far].max() > 0


def test_tile_bounds_cover_the_image_with_nearly_equal_tiles():
    for size, tile_size in ((100, 30), (512, 512), (513, 512), (7, 100), (1, 1)):
        edges = dream.tile_bounds(size, tile_size).numpy()
        widths = np.diff(edges)
        assert edges[0] == 0 and edges[-1] == size
        assert widths.max() <= tile_size and widths.max() - widths.min() <= 1
        assert len(widths) == int(np.ceil(size / tile_size))


# --- steps and loops --------------------------------------------------------------------------


def test_one_step_increases_the_objective(conv_dream, rng):
    image = dream.preprocess(_photo(rng))
    before, stepped = dream.gradient_ascent_step(image, conv_dream, step_size=0.01)
    after, _ = dream.dream_gradients(stepped, conv_dream)
    assert float(after) > float(before)
    assert float(tf.reduce_min(stepped)) >= -1.0 and float(tf.reduce_max(stepped)) <= 1.0
    eager_loss, eager = dream.gradient_ascent_step(image, conv_dream, 0.01, compiled=False)
    np.testing.assert_allclose(eager_loss, before, rtol=1e-6)
    np.testing.assert_allclose(eager, stepped, atol=1e-5)


def test_the_step_is_traced_once_for_every_image_size(rng):
    model = dream.dream_model(_conv_model(), ["conv_b"])
    deep_dream = dream.get_deep_dream(model)
    for height, width in ((16, 16), (24, 40), (9, 13), (16, 16)):
        image = dream.preprocess(_photo(rng, height, width))
        for step_size in (0.01, 0.02):
            dream.gradient_ascent_step(image, model, step_size)
        deep_dream.tiled_step(image, tf.constant(0.01), tf.constant(8), tf.constant([1, 2]))
    assert dream.get_deep_dream(model) is deep_dream
    assert deep_dream.step.experimental_get_tracing_count() == 1
    assert deep_dream.tiled_step.experimental_get_tracing_count() == 1


def test_the_compiled_steps_run_inside_a_callers_tf_function(conv_dream, rng):
    """The steps compile themselves; a caller may still wrap them in its own tf.function."""
    image = dream.preprocess(_photo(rng))
    deep_dream = dream.get_deep_dream(conv_dream)
    size, tiles, shift = tf.constant(0.01), tf.constant(8), tf.constant([3, 5])

    @tf.function
    def two_steps(image):
        _, image = deep_dream.step(image, size)
        return deep_dream.tiled_step(image, size, tiles, shift)

    loss, result = two_steps(image)
    _, expected = deep_dream.eager_step(image, size)
    expected_loss, expected = deep_dream.eager_tiled_step(expected, size, tiles, shift)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(result, expected, atol=1e-5)


def test_run_deep_dream_raises_the_objective_and_repeats(conv_dream, rng):
    image = _photo(rng)
    dreamed, trace = dream.run_deep_dream(image, conv_dream, steps=6, step_size=0.02)
    assert dreamed.shape == image.shape and dreamed.dtype == np.float32
    assert 0.0 <= dreamed.min() and dreamed.max() <= 1.0
    assert trace.shape == (6,) and np.all(np.diff(trace) > 0)
    tiled, tiled_trace = dream.run_deep_dream(
        image, conv_dream, steps=6, step_size=0.02, tile_size=12, seed=3
    )
    again, again_trace = dream.run_deep_dream(
        image, conv_dream, steps=6, step_size=0.02, tile_size=12, seed=3
    )
    np.testing.assert_array_equal(tiled, again)
    np.testing.assert_array_equal(tiled_trace, again_trace)
    assert tiled_trace[-1] > tiled_trace[0]


def test_octaves_return_the_original_size_and_raise_the_objective(conv_dream, rng):
    image = _photo(rng, 28, 36)
    dreamed, trace = dream.run_deep_dream_with_octaves(
        image,
        conv_dream,
        octave_scale=1.3,
        octaves=range(-2, 2),
        steps_per_octave=4,
        step_size=0.02,
        tile_size=20,
    )
    assert dreamed.shape == image.shape and trace.shape == (16,)
    assert dream.octave_sizes((28, 36), 1.3, range(-2, 2)) == [
        (17, 21),
        (22, 28),
        (28, 36),
        (36, 47),
    ]
    before, _ = dream.dream_gradients(dream.preprocess(image), conv_dream)
    after, _ = dream.dream_gradients(dream.preprocess(dreamed), conv_dream)
    assert float(after) > float(before)


# --- bad inputs -------------------------------------------------------------------------------


def test_unknown_layer_names_list_the_model_layers():
    with pytest.raises(ValueError, match=r"'conv_c' is not a layer.*conv_a, conv_b, pool"):
        dream.dream_model(_conv_model(), ["conv_a", "conv_c"])


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(2, 3, name="conv")

    def call(self, inputs):
        return self.conv(inputs)


@pytest.mark.parametrize(
    "model, names, error, match",
    [
        (_Subclassed(), ["conv"], ValueError, "built on keras.Input"),
        ("inception", ["mixed3"], TypeError, "model must be a keras.Model"),
        (None, [], ValueError, "layer_names must be"),
        (None, [3], TypeError, "layer_names must hold strings"),
    ],
)
def test_dream_model_rejects_bad_arguments(model, names, error, match):
    with pytest.raises(error, match=match):
        dream.dream_model(_conv_model() if model is None else model, names)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"image": np.zeros((8, 8))}, ValueError, r"image must have shape \[H, W, C\]"),
        ({"image": np.full((8, 8, 3), 2.0)}, ValueError, r"image must hold values in \[0, 1\]"),
        ({"image": np.zeros((8, 8, 1))}, ValueError, "image has 1 channels"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"steps": 2.5}, TypeError, "steps must be an int"),
        ({"step_size": -0.1}, ValueError, "step_size must be > 0"),
        ({"tile_size": 0}, ValueError, "tile_size must be >= 1"),
        ({"value_range": (1, -1)}, ValueError, "value_range must have low < high"),
        ({"seed": -1}, ValueError, "seed must be"),
    ],
)
def test_run_deep_dream_rejects_bad_arguments(conv_dream, kwargs, error, match):
    arguments = {"image": np.zeros((8, 8, 3), np.float32), "steps": 1, **kwargs}
    with pytest.raises(error, match=match):
        dream.run_deep_dream(model=conv_dream, **arguments)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"octave_scale": 1.0}, "octave_scale must be > 1"),
        ({"octaves": []}, "octaves must be a non-empty sequence"),
        ({"octaves": [0.5]}, "octaves must hold ints"),
        ({"octaves": [-40]}, "octaves: octave -40 shrinks the image"),
        ({"steps_per_octave": 0}, "steps_per_octave must be >= 1"),
    ],
)
def test_octaves_reject_bad_arguments(conv_dream, kwargs, match):
    with pytest.raises(ValueError, match=match):
        dream.run_deep_dream_with_octaves(np.zeros((8, 8, 3), np.float32), conv_dream, **kwargs)


def test_step_and_loss_reject_bad_arguments(conv_dream):
    with pytest.raises(ValueError, match="step_size must be > 0"):
        dream.gradient_ascent_step(np.zeros((8, 8, 3)), conv_dream, 0.0)
    with pytest.raises(ValueError, match="image must have shape"):
        dream.gradient_ascent_step(np.zeros((1, 8, 8, 3)), conv_dream, 0.1)
    with pytest.raises(ValueError, match="activations must hold at least one"):
        dream.dream_loss([])
    with pytest.raises(ValueError, match="tile_size must be >= 1"):
        dream.tiled_gradients(np.zeros((8, 8, 3)), conv_dream, 0)
    with pytest.raises(ValueError, match=r"shift must have shape \[2\]"):
        dream.tiled_gradients(np.zeros((8, 8, 3)), conv_dream, 4, shift=(1, 2, 3))
