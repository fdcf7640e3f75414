"""course_lib.style: extractors, losses and the optimized image (the Gram matrix itself is
tested against NumPy in test_lucid_style.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib import style, zoo
from course_lib.style import transfer


def _tiny_model() -> keras.Model:
    image = keras.Input(shape=(None, None, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(image)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_b")(x)
    return keras.Model(image, x, name="tiny")


@pytest.fixture(scope="module")
def extractor() -> style.StyleExtractor:
    keras.utils.set_random_seed(0)
    return style.make_extractor(
        _tiny_model(),
        ["conv_a", "conv_b"],
        ["conv_b"],
        name="tiny",
        pretrained_on="seeded_random",
        style_weight=1e2,
        content_weight=1.0,
        total_variation_weight=1e-3,
    )


def _images(seed: int = 0, shape=(16, 20, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    content = rng.uniform(size=shape).astype(np.float32)
    stripes = 0.5 + 0.5 * np.sin(np.arange(shape[1]) * 1.7)[None, :, None]
    return content, np.broadcast_to(stripes, shape).astype(np.float32) * [1.0, 0.3, 0.1]


def test_the_losses_are_their_weighted_sum_and_zero_where_expected(extractor) -> None:
    content, style_image = _images()
    goal = style.targets(extractor, content, style_image)
    at_content = style.losses(extractor, content, goal)
    assert float(at_content["content"]) == 0.0
    assert float(at_content["style"]) > 0.0
    expected = (
        1e2 * at_content["style"] + at_content["content"] + 1e-3 * at_content["total_variation"]
    )
    np.testing.assert_allclose(float(at_content["total"]), float(expected), rtol=1e-6)
    at_style = style.losses(extractor, style_image.astype(np.float32), goal)
    assert float(at_style["style"]) < 1e-10


def test_total_variation_is_tensorflows_summed_over_the_batch() -> None:
    images = np.random.default_rng(2).uniform(size=(2, 5, 6, 3)).astype(np.float32)
    direct = np.abs(np.diff(images, axis=1)).sum() + np.abs(np.diff(images, axis=2)).sum()
    np.testing.assert_allclose(float(style.total_variation_loss(images)), direct, rtol=1e-5)


def test_a_few_steps_lower_the_total_loss_and_keep_pixels_in_range(extractor) -> None:
    content, style_image = _images(1)
    run = style.StyleTransfer(extractor, content, style_image, learning_rate=0.1)
    history = run.run(15)
    assert history["total"].shape == (15,)
    assert run.losses()["total"] < 0.9 * history["total"][0]
    assert np.all(np.diff(history["style"][:5]) < 0)
    image = run.result()
    assert image.shape == content.shape and image.min() >= 0.0 and image.max() <= 1.0
    assert run.step.experimental_get_tracing_count() == 1


def test_fit_image_scales_the_longer_side_and_makes_grey_rgb() -> None:
    grey = np.linspace(0.0, 1.0, 30 * 40, dtype=np.float32).reshape(30, 40)
    fitted = style.fit_image(grey, 20)
    assert fitted.shape == (15, 20, 3) and fitted.dtype == np.float32
    assert style.fit_image(np.zeros((10, 5, 3)), 40).shape == (40, 20, 3)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda e, c, s: style.StyleTransfer(e, c[..., :2], s), "content_image"),
        (lambda e, c, s: style.StyleTransfer(e, c, s[None, None]), "style_image"),
        (lambda e, c, s: style.StyleTransfer(e, c, s, start=c[:8]), "start"),
        (lambda e, c, s: style.StyleTransfer(e, c, s, learning_rate=0.0), "learning_rate"),
        (lambda e, c, s: style.StyleTransfer(e, c, s, beta_1=1.5), "beta_1"),
        (lambda e, c, s: style.StyleTransfer(e, c, s).run(0), "steps"),
        (lambda e, c, s: style.fit_image(c, 0), "max_dim"),
        (lambda e, c, s: style.fit_image(c[..., :2], 8), "image"),
        (lambda e, c, s: style.total_variation_loss(c), "images"),
        (lambda e, c, s: style.losses(e, c[:4, :4], style.targets(e, c, s)), "image"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(extractor, call, name) -> None:
    content, style_image = _images()
    with pytest.raises(ValueError, match=name):
        call(extractor, content, style_image)


def test_make_extractor_checks_layers_and_weights() -> None:
    model = _tiny_model()
    with pytest.raises(ValueError, match="style_layers"):
        style.make_extractor(model, [], ["conv_b"], name="t", pretrained_on="x")
    with pytest.raises(ValueError, match="content_layers"):
        style.make_extractor(model, ["conv_a"], [], name="t", pretrained_on="x")
    with pytest.raises(ValueError, match="conv_a"):  # the message lists the model's layers
        style.make_extractor(model, ["nope"], ["conv_b"], name="t", pretrained_on="x")
    with pytest.raises(ValueError, match="style_weight"):
        style.make_extractor(
            model, ["conv_a"], ["conv_b"], name="t", pretrained_on="x", style_weight=-1.0
        )


def test_offline_the_course_model_stands_in(monkeypatch, capsys) -> None:
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_IMAGENET_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", "/nonexistent-keras-home")
    extractor = style.load_style_extractor()
    assert extractor.name == "shapes_cnn" and extractor.trained
    assert extractor.style_layers == transfer.SHAPES_STYLE_LAYERS
    assert "in place of VGG19" in capsys.readouterr().out


def test_the_online_path_runs_a_step_on_vgg19s_architecture(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_IMAGENET_WEIGHTS", "seeded")
    extractor = style.load_style_extractor()
    assert extractor.name == "vgg19" and not extractor.trained
    assert extractor.style_layers == transfer.COURSE_STYLE_LAYERS
    assert extractor.content_layers == ("block5_conv2",)
    assert extractor.style_weight == 1e-2 and extractor.content_weight == 1e4
    assert len(extractor.model.layers) == 19  # input, 14 convolutions to block5_conv2, 4 pools
    content, style_image = _images(3, (32, 40, 3))
    run = style.StyleTransfer(extractor, content, style_image)
    history = run.run(2)
    assert np.all(np.isfinite(history["total"])) and history["total"][1] < history["total"][0]
    same = zoo.seeded_vgg19().get_weights()[0]
    np.testing.assert_array_equal(same, zoo.seeded_vgg19().get_weights()[0])
