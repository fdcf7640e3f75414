"""course_lib.lucid.optvis.render: render_vis on the zoo models, seeds, thresholds, errors."""

from __future__ import annotations

import logging

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import zoo
from course_lib.lucid.optvis import objectives as obj
from course_lib.lucid.optvis import param, render


@pytest.fixture(scope="module")
def shapes_cnn():
    return zoo.load_course_model("shapes_cnn", compile=False)


@pytest.fixture(scope="module")
def digits_cnn():
    return zoo.load_course_model("digits_cnn", compile=False)


def small(size=32, batch=1):
    return lambda: param.image(size, batch=batch)


def test_reproducible_for_a_fixed_seed(shapes_cnn):
    kwargs = dict(param_f=small(), thresholds=(5, 10))
    images_a, trace_a = render.render_vis(shapes_cnn, "mixed1:3", seed=7, **kwargs)
    images_b, trace_b = render.render_vis(shapes_cnn, "mixed1:3", seed=7, **kwargs)
    _, trace_c = render.render_vis(shapes_cnn, "mixed1:3", seed=8, **kwargs)
    np.testing.assert_array_equal(trace_a, trace_b)
    for a, b in zip(images_a, images_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(trace_a, trace_c)
    assert len(images_a) == 2 and trace_a.shape == (10,)
    assert images_a[0].shape == (1, 32, 32, 3)
    assert not np.array_equal(images_a[0], images_a[1])


def test_raises_the_objective_on_shapes_cnn(shapes_cnn):
    objective = obj.channel("mixed2_pre_relu", 0) - 0.05 * obj.total_variation()
    images, trace = render.render_vis(
        zoo.VisualizationModel(shapes_cnn, "shapes_cnn", "procedural_shapes", (), (0.0, 1.0)),
        objective,
        param_f=small(48),
        thresholds=(60,),
    )
    assert trace[-5:].mean() > trace[0] + 1.0
    assert images[0].min() >= 0.0 and images[0].max() <= 1.0


def test_raises_the_objective_on_digits_cnn(digits_cnn):
    # [N, 28, 28] grey input: render_vis feeds the mean of the RGB parameterization, resized.
    images, trace = render.render_vis(
        digits_cnn, "conv3_pre_relu:1", thresholds=(40,), transforms=[]
    )
    assert images[0].shape == (1, 28, 28, 3)
    assert trace[-5:].mean() > trace[0] + 0.3
    _, logits = render.render_vis(digits_cnn, obj.class_logit("logits", 7), thresholds=(40,))
    assert logits[-1] > logits[0] + 2.0


def test_batches_diversity_and_eager(shapes_cnn):
    objective = obj.channel("mixed1", 2) + 0.5 * obj.diversity("mixed1")
    images, trace = render.render_vis(
        shapes_cnn, objective, param_f=small(24, batch=3), thresholds=(8,), use_tf_function=False
    )
    assert images[0].shape == (3, 24, 24, 3) and trace.shape == (8,)
    assert trace[-1] > trace[0]


def test_defaults_and_plain_pixels(shapes_cnn):
    images, trace = render.render_vis(
        shapes_cnn,
        "conv2:1",
        param_f=lambda: param.image(20, fft=False, decorrelate=False),
        optimizer=lambda: keras.optimizers.Adam(0.1),
        transforms=[],
        thresholds=(0, 6),
    )
    assert len(images) == 2 and trace.shape == (6,)
    assert np.all(np.abs(images[0] - 0.5) < 0.01)  # threshold 0: the start


def test_errors(shapes_cnn):
    with pytest.raises(ValueError, match="mixed2_pre_relu"):
        render.render_vis(shapes_cnn, "mixed7:0", thresholds=(1,))
    with pytest.raises(ValueError, match="64 channels"):
        render.render_vis(shapes_cnn, "mixed1:64", param_f=small(16), thresholds=(1,))
    with pytest.raises(ValueError, match="thresholds"):
        render.render_vis(shapes_cnn, "mixed1:1", thresholds=(5, 2))
    with pytest.raises(TypeError, match="keras.Model"):
        render.render_vis("shapes_cnn", "mixed1:1")


def test_feature_extractor_and_model_input(shapes_cnn, digits_cnn):
    extractor = render.make_feature_extractor(shapes_cnn, ["conv1", "logits"])
    outputs = extractor(tf.zeros([2, 16, 16, 3]))
    assert set(outputs) == {"conv1", "logits"} and outputs["logits"].shape == (2, 10)
    grey = render.to_model_input(tf.fill([1, 40, 40, 3], 0.5), digits_cnn, (-1.0, 1.0))
    assert grey.shape == (1, 28, 28)
    np.testing.assert_allclose(grey.numpy(), 0.0, atol=1e-6)


def test_no_retracing_warnings(shapes_cnn, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(7):
            render.render_vis(shapes_cnn, "conv1:0", param_f=small(16), thresholds=(2, 4))
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
