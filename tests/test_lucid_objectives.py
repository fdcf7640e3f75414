"""course_lib.lucid.optvis.objectives: values against NumPy, algebra, strings, errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import tensorflow as tf

from course_lib import zoo
from course_lib.lucid.optvis import objectives as obj
from course_lib.lucid.optvis import render


@pytest.fixture
def acts(rng):
    return {
        "conv": rng.normal(size=(3, 5, 6, 4)).astype(np.float32),
        "dense": rng.normal(size=(3, 7)).astype(np.float32),
        "input": rng.uniform(size=(3, 8, 8, 3)).astype(np.float32),
    }


def lookup(acts):
    tensors = {k: tf.constant(v) for k, v in acts.items()}
    return lambda name: tensors[name]


def value(objective, acts):
    return float(np.sum(objective(lookup(acts)).numpy()))


def test_channel_neuron_layer_values(acts):
    a = acts["conv"]
    assert np.isclose(value(obj.channel("conv", 2), acts), a[..., 2].mean(), rtol=1e-5)
    assert np.isclose(value(obj.channel("conv", 2, batch=1), acts), a[1, ..., 2].mean(), rtol=1e-5)
    assert np.isclose(value(obj.channel("dense", 6), acts), acts["dense"][:, 6].mean(), rtol=1e-5)
    # neuron defaults to the centre (H // 2, W // 2) = (2, 3)
    assert np.isclose(value(obj.neuron("conv", 1), acts), a[:, 2, 3, 1].mean(), rtol=1e-5)
    assert np.isclose(value(obj.neuron("conv", 1, x=0, y=4, batch=2), acts), a[2, 4, 0, 1])
    assert np.isclose(value(obj.deepdream("conv"), acts), (a**2).mean(), rtol=1e-5)
    assert np.isclose(value(obj.class_logit("dense", 3), acts), acts["dense"][:, 3].mean())


def test_direction(acts, rng):
    a = acts["conv"]
    vec = rng.normal(size=4).astype(np.float32)
    dot = a @ vec
    assert np.isclose(value(obj.direction("conv", vec), acts), dot.mean(), rtol=1e-5)
    cos = dot / (np.linalg.norm(a, axis=-1) * np.linalg.norm(vec))
    expected = (dot * np.maximum(cos, 0.1) ** 2).mean()
    assert np.isclose(value(obj.direction("conv", vec, cossim_pow=2), acts), expected, rtol=1e-4)
    with pytest.raises(ValueError, match="4 channels"):
        value(obj.direction("conv", np.ones(5)), acts)


def test_diversity_and_alignment(acts):
    same = dict(acts, conv=np.repeat(acts["conv"][:1], 3, axis=0))
    assert np.isclose(value(obj.diversity("conv"), same), -1.0, atol=1e-5)
    assert np.isclose(value(obj.diversity("conv"), dict(acts, conv=acts["conv"][:1])), 0.0)
    assert -1.0 <= value(obj.diversity("conv"), acts) < 0.0 + 1e-6
    assert np.isclose(value(obj.alignment("conv"), same), 0.0)
    a = acts["conv"]
    d1 = ((a[1:] - a[:-1]) ** 2).mean(axis=(1, 2, 3)).sum() / 2
    d2 = ((a[2:] - a[:-2]) ** 2).mean(axis=(1, 2, 3)).sum() / 4
    assert np.isclose(value(obj.alignment("conv"), acts), -(d1 + d2), rtol=1e-5)


def test_penalties(acts):
    x = acts["input"]
    tv = np.abs(np.diff(x, axis=1)).mean() + np.abs(np.diff(x, axis=2)).mean()
    assert np.isclose(value(obj.total_variation(), acts), tv, rtol=1e-5)
    assert np.isclose(value(obj.L1(), acts), np.abs(x - 0.5).mean(), rtol=1e-5)
    assert np.isclose(value(obj.L2(constant=0.0), acts), np.sqrt((x**2).mean()), rtol=1e-5)
    assert value(obj.total_variation(), acts) > 0 and value(obj.L1(), acts) > 0
    flat = dict(acts, input=np.full_like(x, 0.3))
    assert np.isclose(value(obj.blur_input_each_step(), flat), 0.0, atol=1e-8)
    assert value(obj.blur_input_each_step(), acts) < 0  # a reward: add it


def test_blur_gradient_points_to_the_blurred_image(acts):
    x = tf.Variable(acts["input"])
    with tf.GradientTape() as tape:
        v = obj.blur_input_each_step()(lambda name: x)
    g = tape.gradient(v, x).numpy()
    # One ascent step lowers the total variation (the image gets smoother).
    tv = obj.total_variation()
    before = float(tv(lambda name: tf.constant(acts["input"])))
    step = 0.5 * acts["input"].size  # moves each pixel halfway to its blurred value
    after = float(tv(lambda name: tf.constant(acts["input"] + step * g)))
    assert after < before


def test_algebra(acts):
    a, b = obj.channel("conv", 1), obj.neuron("conv", 3)
    va, vb = value(a, acts), value(b, acts)
    assert np.isclose(value(a + 2 * b, acts), va + 2 * vb, rtol=1e-5)
    assert np.isclose(value(a - b, acts), va - vb, rtol=1e-5)
    assert np.isclose(value(-a, acts), -va)
    assert np.isclose(value(a * 2, acts), 2 * va)
    assert np.isclose(value(a / 2, acts), va / 2)
    assert np.isclose(value(a + 1.5, acts), va + 1.5)
    assert np.isclose(value(1.5 - a, acts), 1.5 - va)
    assert np.isclose(value(a * b, acts), va * vb, rtol=1e-5)
    assert np.isclose(value(sum([a, b, "conv:0"]), acts), va + vb + acts["conv"][..., 0].mean())
    assert np.isclose(value(sum([a, b]), acts), va + vb)
    combined = a + obj.class_logit("dense", 0) - 0.1 * obj.total_variation()
    assert combined.layers == {"conv", "dense", "input"}
    assert "channel(conv:1)" in combined.name


def test_strings():
    o = obj.as_objective("mixed1_pre_relu:7")
    assert o.layers == {"mixed1_pre_relu"} and o.name == "channel(mixed1_pre_relu:7)"
    assert obj.as_objective(o) is o
    for bad in ["mixed1", "mixed1:x", ":3"]:
        with pytest.raises(ValueError, match="layer_name:channel"):
            obj.as_objective(bad)
    with pytest.raises(TypeError):
        obj.as_objective(3)


def test_errors_name_layers_and_channel_counts(acts):
    with pytest.raises(ValueError, match="4 channels"):
        value(obj.channel("conv", 4), acts)
    with pytest.raises(ValueError, match="7 channels"):
        value(obj.class_logit("dense", 9), acts)
    model = zoo.load_course_model("shapes_cnn", compile=False)
    with pytest.raises(ValueError, match="mixed2_pre_relu"):  # the message lists the layers
        render.make_T(model, ["mixed9"])
    build = render.make_T(model, ["mixed1"])
    T = build(tf.fill([1, 16, 16, 3], 0.5))
    with pytest.raises(ValueError, match="64 channels"):
        obj.channel("mixed1", 64)(T)
    with pytest.raises(ValueError, match="conv1_pre_relu"):
        T("nope")
    assert T("input").shape == (1, 16, 16, 3)


def test_wrap_objective_derives_name_layers_and_checks_from_the_arguments(acts):
    @obj.wrap_objective(unit="n_channel")
    def channel_max(layer, n_channel, batch=None):
        return lambda T: tf.reduce_max(T(layer)[..., n_channel])

    o = channel_max("conv", np.int64(3))
    assert o.name == "channel_max(conv:3)" and o.layers == {"conv"}
    assert np.isclose(value(o, acts), acts["conv"][..., 3].max())
    assert channel_max.__name__ == "channel_max"
    assert list(inspect.signature(channel_max).parameters) == ["layer", "n_channel", "batch"]
    with pytest.raises(TypeError, match="n_channel must be an int"):
        channel_max("conv", 1.5)
    with pytest.raises(TypeError, match="layer must be a layer name"):
        channel_max("", 1)
    with pytest.raises(
        ValueError, match="n_channel 4 is out of range for layer 'conv'.*4 channels"
    ):
        value(channel_max("conv", 4), acts)

    @obj.wrap_objective()
    def brightness():
        return lambda T: tf.reduce_mean(T(obj.INPUT))

    assert brightness().name == "brightness()" and brightness().layers == {"input"}
    assert np.isclose(value(brightness(), acts), acts["input"].mean())
    assert obj.deepdream(layer="conv").name == "deepdream(conv)"
    assert (obj.total_variation().name, obj.total_variation().layers) == (
        "total_variation(input)",
        {"input"},
    )
