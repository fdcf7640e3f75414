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
#: Budget of all shipped weight files together, in bytes: the seven checkpoints (two
#: classifiers, the LSM and its baseline, the three synthesis models) take 5.0 MiB of it.
WEIGHTS_BUDGET = 6 * 1024 * 1024


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
    assert calls == [
        {"include_top": False, "weights": str(cached), "classifier_activation": "softmax"}
    ]
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
    expected = {"include_top": True, "weights": "imagenet", "classifier_activation": "softmax"}
    assert seen == [(expected, imagenet.DOWNLOAD_TIMEOUT_S)]
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


def test_visualization_model_names_its_classes_and_logits(offline):
    loaded = zoo.load_model_for_visualization(include_top=True)
    assert loaded.trained and loaded.logit_layer == "logits"
    assert loaded.class_names == tuple(procedural.SHAPE_CLASSES)
    assert loaded.model.get_layer("logits").get_config()["activation"] == "linear"


def test_imagenet_class_names_ship_with_the_package():
    names, wnids = zoo.imagenet_class_names(), zoo.imagenet_wnids()
    assert len(names) == len(wnids) == 1000 and len(set(wnids)) == 1000
    # Facts of ILSVRC-2012's class order (as in Keras' imagenet_class_index.json).
    assert names[0] == "tench" and wnids[0] == "n01440764"
    assert names[281] == "tabby" and wnids[281] == "n02123045"
    assert names[285] == "Egyptian cat" and names[207] == "golden retriever"
    assert names[999] == "toilet tissue" and wnids[999] == "n15075141"
    assert all(w.startswith("n") and len(w) == 9 for w in wnids)
    assert wnids == tuple(sorted(wnids))  # ILSVRC orders its classes by WordNet id


def test_decode_predictions_ranks_classes_like_keras():
    scores = np.zeros((2, 1000), np.float32)
    scores[0, [281, 285, 1]] = [0.7, 0.2, 0.1]
    scores[1, 999] = 3.0
    decoded = zoo.decode_predictions(scores, top=3)
    assert [name for _, name, _ in decoded[0]] == ["tabby", "Egyptian cat", "goldfish"]
    assert decoded[0][0] == ("n02123045", "tabby", pytest.approx(0.7))
    assert decoded[1][0][1] == "toilet tissue" and len(decoded[1]) == 3


@pytest.mark.parametrize(
    ("scores", "top", "match"),
    [
        (np.zeros((1, 10)), 5, "scores"),
        (np.zeros(1000), 5, "scores"),
        (np.zeros((1, 1000)), 0, "top"),
    ],
)
def test_decode_predictions_rejects_bad_input(scores, top, match):
    with pytest.raises(ValueError, match=match):
        zoo.decode_predictions(scores, top=top)


def test_an_unknown_weights_request_is_refused(monkeypatch):
    monkeypatch.setenv(imagenet.WEIGHTS_ENV, "pretrained")
    with pytest.raises(ValueError, match=imagenet.WEIGHTS_ENV):
        zoo.load_imagenet_model()


@pytest.fixture(scope="module")
def seeded_inception():
    return imagenet.seeded_inception_v3(include_top=True, classifier_activation=None)


def test_seeded_stand_in_is_inception_v3_without_the_network(monkeypatch, capsys, seeded_inception):
    monkeypatch.setenv(imagenet.WEIGHTS_ENV, "seeded")
    monkeypatch.setattr(config, "_announced", set())

    def no_network():
        raise AssertionError("the seeded stand-in must not probe the network")

    monkeypatch.setattr(config, "is_online", no_network)
    loaded = zoo.load_model_for_visualization(include_top=True)
    assert loaded.name == "inception_v3" and loaded.pretrained_on == imagenet.SEEDED_RANDOM
    assert not loaded.trained and loaded.logit_layer == "predictions"
    assert loaded.value_range == (-1.0, 1.0) and len(loaded.class_names) == 1000
    assert "seeded" in capsys.readouterr().out
    # The real architecture: Keras' InceptionV3 layer for layer, logits without a softmax.
    reference = keras_inception(include_top=True)
    assert [type(a).__name__ for a in loaded.model.layers] == [
        type(b).__name__ for b in reference.layers
    ]
    assert loaded.model.count_params() == reference.count_params() == 23_851_784
    assert loaded.model.get_layer("predictions").get_config()["activation"] == "linear"
    for name in imagenet.INCEPTION_DREAM_LAYERS:
        loaded.model.get_layer(name)
    np.testing.assert_array_equal(
        loaded.model.get_weights()[0], seeded_inception.get_weights()[0]
    )  # the same seed, the same weights


def test_seeded_stand_in_keeps_activations_at_a_trained_networks_scale(seeded_inception):
    import keras

    from course_lib import data

    names = ["mixed0", "mixed5", "mixed10"]
    cut = keras.Model(seeded_inception.input, [seeded_inception.get_layer(n).output for n in names])
    image = keras.ops.image.resize(data.load_image("coffee"), (299, 299))[None] * 2.0 - 1.0
    for name, output in zip(names, cut(image), strict=True):
        spread = float(np.std(np.asarray(output)))
        assert 0.05 < spread < 5.0, (name, spread)  # uncalibrated, mixed10's is about 1e-3
    logits = np.asarray(seeded_inception(image))
    assert np.isfinite(logits).all() and np.std(logits) > 0.05


def keras_inception(include_top):
    import keras

    return keras.applications.InceptionV3(
        include_top=include_top, weights=None, classifier_activation=None
    )
