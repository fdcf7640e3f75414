"""course_lib.zoo: shipped course models keep their claims; ImageNet loading never hangs offline."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from course_lib import config, zoo
from course_lib.data import procedural
from course_lib.zoo import course_models, imagenet, train

NAMES = ("shapes_cnn", "digits_cnn")
#: Largest gap allowed between a model's claimed and re-measured test accuracy.
CLAIM_TOLERANCE = 0.01
#: Budget of all shipped weight files together, in bytes.
WEIGHTS_BUDGET = 5 * 1024 * 1024


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache: ImageNet weights cannot be had."""
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(
        imagenet,
        "imagenet_weights_cache_paths",
        lambda include_top=False: [tmp_path / "keras" / "models" / "missing.h5"],
    )
    config.is_online.cache_clear()
    monkeypatch.setattr(config, "_announced", set())
    yield
    config.is_online.cache_clear()


@pytest.fixture(scope="module")
def models() -> dict:
    return {name: zoo.load_course_model(name) for name in NAMES}


def test_list_course_models():
    assert zoo.list_course_models() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_model_has_its_documented_layers_and_output(models, name):
    model, spec, info = models[name], zoo.course_model_spec(name), zoo.course_model_info(name)
    for layer_name in spec.layer_names:
        model.get_layer(layer_name)  # raises ValueError when missing
    assert info["layer_names"] == list(spec.layer_names)
    assert info["dream_layers"] == list(spec.dream_layers)
    assert set(spec.dream_layers) <= set(spec.layer_names)
    images, _ = zoo.course_test_set(name)
    probabilities = np.asarray(model(images[:4]))
    assert model.output_shape == (None, 10) and probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert list(model.input_shape[1:]) == info["input_shape"]
    assert len(info["class_names"]) == 10


@pytest.mark.parametrize("name", NAMES)
def test_claimed_accuracy_is_remeasured(name):
    info = zoo.course_model_info(name)
    images, labels = zoo.course_test_set(name)
    assert len(images) == len(labels) == info["data"]["test_size"]
    measured = zoo.measure_course_model(name)
    assert abs(measured - info["test_accuracy"]) <= CLAIM_TOLERANCE
    floor = zoo.course_model_spec(name).accuracy_floor
    assert info["accuracy_floor"] == floor
    assert measured >= floor


def test_shapes_cnn_claims_match_the_data_set():
    info = zoo.course_model_info("shapes_cnn")
    assert info["class_names"] == list(procedural.SHAPE_CLASSES)
    assert info["data"]["image_size"] == procedural.DEFAULT_IMAGE_SIZE
    assert info["data"]["test_seed"] != info["data"]["train_seed"]  # a fresh test set


def test_shapes_cnn_takes_any_image_size(models):
    images, _ = procedural.make_shapes_dataset(1, image_size=80, seed=3)
    assert np.asarray(models["shapes_cnn"](images[:2])).shape == (2, 10)


def test_shapes_cnn_dream_layers_have_live_channels(models):
    """Most channels respond to some test image: there is something to visualize."""
    import keras

    model = models["shapes_cnn"]
    layers = zoo.course_model_spec("shapes_cnn").dream_layers
    features = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    images, _ = zoo.course_test_set("shapes_cnn")
    for activation in features.predict(images[:200], verbose=0):
        live = activation.max(axis=(0, 1, 2)) > 0
        assert live.mean() > 0.75


def test_load_course_model_compiles_only_when_asked():
    compiled = zoo.load_course_model("digits_cnn")
    bare = zoo.load_course_model("digits_cnn", compile=False)
    assert compiled.compiled and not bare.compiled
    images, labels = zoo.course_test_set("digits_cnn")
    _, evaluated = compiled.evaluate(images, labels, verbose=0)
    assert evaluated == pytest.approx(zoo.measure_course_model("digits_cnn"), abs=1e-6)


def test_weights_ship_within_budget():
    files = [course_models.weights_path(name) for name in NAMES]
    files += [course_models.info_path(name) for name in NAMES]
    assert all(path.is_file() for path in files)
    total = sum(path.stat().st_size for path in course_models.WEIGHTS_DIR.iterdir())
    assert total <= WEIGHTS_BUDGET


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="shapes_cnn.*digits_cnn"):
        zoo.load_course_model("inception_v1")
    with pytest.raises(TypeError, match="name"):
        zoo.load_course_model(3)


def test_offline_imagenet_fails_fast_and_names_the_fallback(offline):
    start = time.perf_counter()
    with pytest.raises(zoo.ModelUnavailableError, match="load_course_model"):
        zoo.load_imagenet_model()
    assert time.perf_counter() - start < 10.0


def test_offline_visualization_model_is_the_course_model(offline, capsys):
    start = time.perf_counter()
    loaded = zoo.load_model_for_visualization()
    zoo.load_model_for_visualization()
    assert time.perf_counter() - start < 10.0
    assert loaded.name == "shapes_cnn" and loaded.value_range == (0.0, 1.0)
    for layer_name in loaded.dream_layers:
        loaded.model.get_layer(layer_name)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Offline:") and "shapes_cnn" in lines[0]
    images = np.linspace(0.0, 1.0, 12, dtype=np.float32).reshape(1, 2, 2, 3)
    np.testing.assert_allclose(loaded.deprocess(loaded.preprocess(images)), images, atol=1e-6)


def test_cached_imagenet_weights_are_used_without_the_network(monkeypatch, tmp_path):
    cached = tmp_path / "models" / imagenet.WEIGHTS_FILES[False]
    cached.parent.mkdir()
    cached.write_bytes(b"stand-in")
    monkeypatch.setattr(
        imagenet, "imagenet_weights_cache_paths", lambda include_top=False: [cached]
    )

    def no_network():
        raise AssertionError("the network must not be probed when the weights are cached")

    calls = []
    monkeypatch.setattr(config, "is_online", no_network)
    monkeypatch.setattr(imagenet, "_inception_v3", lambda **kwargs: calls.append(kwargs) or "net")
    assert zoo.load_imagenet_model() == "net"
    assert calls == [{"include_top": False, "weights": str(cached)}]
    loaded = zoo.load_model_for_visualization()
    assert loaded.name == "inception_v3" and loaded.value_range == (-1.0, 1.0)
    assert loaded.dream_layers == imagenet.INCEPTION_DREAM_LAYERS


def test_failed_download_raises_and_restores_the_socket_timeout(monkeypatch, tmp_path):
    monkeypatch.setattr(
        imagenet, "imagenet_weights_cache_paths", lambda include_top=False: [tmp_path / "none.h5"]
    )
    monkeypatch.setattr(config, "is_online", lambda: True)
    seen = []

    def refuse(**kwargs):
        seen.append((kwargs, socket.getdefaulttimeout()))
        raise OSError("connection reset")

    monkeypatch.setattr(imagenet, "_inception_v3", refuse)
    before = socket.getdefaulttimeout()
    with pytest.raises(zoo.ModelUnavailableError, match="OSError.*load_course_model"):
        zoo.load_imagenet_model(include_top=True)
    assert seen == [({"include_top": True, "weights": "imagenet"}, imagenet.DOWNLOAD_TIMEOUT_S)]
    assert socket.getdefaulttimeout() == before


def test_train_cli_writes_weights_that_load(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "course_lib.zoo.train", "digits_cnn", "--epochs", "1"]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COURSE_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    info = json.loads((tmp_path / "digits_cnn.json").read_text())
    assert info["training"]["epochs"] == 1 and info["data"]["source"] == "sklearn_digits"
    assert f"test accuracy {info['test_accuracy']:.4f}" in result.stdout
    assert result.returncode == (0 if info["test_accuracy"] >= info["accuracy_floor"] else 1)
    model = zoo.build_course_model("digits_cnn")
    model.load_weights(tmp_path / "digits_cnn.weights.h5")
    images, labels = zoo.course_test_set("digits_cnn")
    assert course_models.accuracy(model, images, labels) == pytest.approx(
        info["test_accuracy"], abs=1e-4
    )


def test_train_cli_rejects_an_unknown_model(capsys):
    with pytest.raises(SystemExit):
        train.main(["no_such_model"])
    assert "shapes_cnn" in capsys.readouterr().err
