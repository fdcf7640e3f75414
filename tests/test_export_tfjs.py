"""course_lib.export: Keras models as TensorFlow.js layers models, read back by NumPy and by
TensorFlow.js itself in Node (``@tensorflow/tfjs`` from node_modules, ``make web``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib import zoo
from course_lib.export import save_tfjs_layers_model, tfjs_topology
from course_lib.export.__main__ import main

ROOT = Path(__file__).resolve().parent.parent

#: Loads FOLDER/model.json with its shards through tf.io.fromMemory and writes the predictions
#: for the inputs in INPUT.json to OUTPUT.json: node -e SCRIPT FOLDER INPUT.json OUTPUT.json
NODE_PREDICT = """
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");
async function run() {
  const [folder, inputFile, outputFile] = process.argv.slice(1);
  const doc = JSON.parse(fs.readFileSync(path.join(folder, "model.json"), "utf8"));
  const group = doc.weightsManifest[0];
  const data = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(folder, p))));
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: doc.modelTopology, weightSpecs: group.weights, weightData: weightData}));
  const input = JSON.parse(fs.readFileSync(inputFile, "utf8"));
  const output = model.predict(tf.tensor(input.values, input.shape, "float32"));
  fs.writeFileSync(outputFile, JSON.stringify({
    shape: output.shape, values: Array.from(await output.data()),
    layers: model.layers.map((layer) => layer.name)}));
}
run().catch((error) => { console.error(error); process.exit(1); });
"""


@pytest.fixture(scope="module")
def digits_cnn() -> keras.Model:
    return zoo.load_course_model("digits_cnn", compile=False)


def _read_shards(folder, manifest) -> np.ndarray:
    return np.frombuffer(b"".join((folder / p).read_bytes() for p in manifest["paths"]), "<f4")


def _node_predict(folder, images: np.ndarray, tmp_path) -> tuple[np.ndarray, list[str]]:
    node = shutil.which("node")
    assert node, "Node.js is needed (make web)"
    assert (ROOT / "node_modules" / "@tensorflow" / "tfjs").is_dir(), "run `make web`"
    inputs, outputs = tmp_path / "input.json", tmp_path / "output.json"
    inputs.write_text(json.dumps({"values": images.ravel().tolist(), "shape": list(images.shape)}))
    result = subprocess.run(
        [node, "-e", NODE_PREDICT, str(folder), str(inputs), str(outputs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(outputs.read_text())
    return np.array(answer["values"], np.float32).reshape(answer["shape"]), answer["layers"]


def test_the_manifest_lists_every_keras_weight_in_order(digits_cnn, tmp_path):
    document = json.loads(save_tfjs_layers_model(digits_cnn, tmp_path).read_text())
    assert document["format"] == "layers-model"
    assert document["convertedBy"] == "course_lib.export.tfjs"
    (group,) = document["weightsManifest"]
    expected = [
        (f"{layer.name}/{weight.name}", list(weight.shape), "float32")
        for layer in digits_cnn.layers
        for weight in layer.weights
    ]
    assert [(w["name"], w["shape"], w["dtype"]) for w in group["weights"]] == expected
    assert [name for name, _, _ in expected][:2] == ["conv1_pre_relu/kernel", "conv1_pre_relu/bias"]


def test_the_shards_hold_the_keras_weights_exactly(digits_cnn, tmp_path):
    document = json.loads(save_tfjs_layers_model(digits_cnn, tmp_path).read_text())
    (group,) = document["weightsManifest"]
    assert group["paths"] == ["group1-shard1of1.bin"]
    values = _read_shards(tmp_path, group)
    offset = 0
    for weight in digits_cnn.weights:
        size = int(np.prod(weight.shape))
        np.testing.assert_array_equal(
            values[offset : offset + size].reshape(weight.shape), weight.numpy()
        )
        offset += size
    assert offset == values.size


def test_small_shards_cut_the_same_bytes_and_old_shards_go(digits_cnn, tmp_path):
    whole = _read_shards(
        tmp_path,
        json.loads(save_tfjs_layers_model(digits_cnn, tmp_path).read_text())["weightsManifest"][0],
    )
    cut = tmp_path / "cut"
    document = json.loads(save_tfjs_layers_model(digits_cnn, cut, shard_bytes=40_000).read_text())
    paths = document["weightsManifest"][0]["paths"]
    assert len(paths) == -(-whole.nbytes // 40_000) > 1
    assert all((cut / p).stat().st_size <= 40_000 for p in paths)
    np.testing.assert_array_equal(_read_shards(cut, document["weightsManifest"][0]), whole)

    save_tfjs_layers_model(digits_cnn, cut)
    assert sorted(p.name for p in cut.glob("*.bin")) == ["group1-shard1of1.bin"]


def test_the_topology_is_json_with_the_layers_in_order(digits_cnn, tmp_path):
    text = save_tfjs_layers_model(digits_cnn, tmp_path).read_text()
    model_config = json.loads(text)["modelTopology"]["model_config"]
    assert model_config["class_name"] == "Model"
    config = model_config["config"]
    layers = config["layers"]
    assert [layer["name"] for layer in layers] == [layer.name for layer in digits_cnn.layers]
    assert [layer["class_name"] for layer in layers] == [
        type(layer).__name__ for layer in digits_cnn.layers
    ]
    assert layers[0]["config"]["batch_input_shape"] == [None, 28, 28]
    for before, layer in zip(
        layers, layers[1:], strict=False
    ):  # a chain: each reads the one before
        assert layer["inbound_nodes"] == [[[before["name"], 0, 0, {}]]]
    assert config["input_layers"] == [["image", 0, 0]]
    assert config["output_layers"] == [["predictions", 0, 0]]
    conv = layers[2]["config"]
    assert conv["kernel_size"] == [3, 3] and conv["padding"] == "same"
    assert conv["activation"] == "linear" and conv["data_format"] == "channels_last"
    assert tfjs_topology(digits_cnn) == json.loads(text)["modelTopology"]


def test_tensorflow_js_predicts_what_keras_predicts(digits_cnn, tmp_path):
    images, _ = zoo.course_test_set("digits_cnn")
    images = images[:16]
    folder = save_tfjs_layers_model(digits_cnn, tmp_path / "model").parent
    predicted, layers = _node_predict(folder, images, tmp_path)
    expected = digits_cnn.predict(images, verbose=0)
    assert layers == [layer.name for layer in digits_cnn.layers]
    np.testing.assert_allclose(predicted, expected, atol=1e-4)
    np.testing.assert_array_equal(predicted.argmax(axis=1), expected.argmax(axis=1))


def test_branches_global_pooling_and_sequential_models_load_in_tensorflow_js(tmp_path, rng):
    shapes = zoo.load_course_model("shapes_cnn", compile=False)  # Concatenate, global pooling
    images = rng.uniform(size=(3, 48, 48, 3)).astype(np.float32)
    folder = save_tfjs_layers_model(shapes, tmp_path / "shapes").parent
    predicted, _ = _node_predict(folder, images, tmp_path)
    np.testing.assert_allclose(predicted, shapes.predict(images, verbose=0), atol=1e-4)

    keras.utils.set_random_seed(0)
    sequential = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(4, 3, activation="tanh", name="conv"),
            keras.layers.AveragePooling2D(2, name="pool"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(5, activation="softmax", use_bias=False, name="out"),
        ],
        name="small",
    )
    images = rng.normal(size=(4, 6, 6, 2)).astype(np.float32)
    folder = save_tfjs_layers_model(sequential, tmp_path / "sequential").parent
    predicted, _ = _node_predict(folder, images, tmp_path)
    np.testing.assert_allclose(predicted, sequential.predict(images, verbose=0), atol=1e-5)


def _model(*layers) -> keras.Model:
    inputs = keras.Input((8, 8, 1), name="image")
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    ("layer", "reason"),
    [
        (keras.layers.BatchNormalization(name="norm"), "BatchNormalization"),
        (keras.layers.ReLU(negative_slope=0.1, name="leaky"), "leaky"),
        (keras.layers.Conv2D(2, 3, groups=1, activation="hard_sigmoid", name="hard"), "activation"),
        (keras.layers.GlobalAveragePooling2D(keepdims=True, name="pool"), "keepdims"),
    ],
)
def test_unsupported_layers_are_refused_by_name(layer, reason, tmp_path):
    model = _model(keras.layers.Conv2D(2, 3, name="conv"), layer)
    with pytest.raises(ValueError, match=rf"model: layer '{layer.name}'.*{reason}"):
        save_tfjs_layers_model(model, tmp_path)
    assert not (tmp_path / "model.json").exists()


def test_bad_arguments_are_named(digits_cnn, tmp_path):
    with pytest.raises(ValueError, match="model must be a keras.Model, got str"):
        save_tfjs_layers_model("digits_cnn", tmp_path)
    with pytest.raises(ValueError, match="model must be a keras.Model, got Dense"):
        save_tfjs_layers_model(keras.layers.Dense(2), tmp_path)
    with pytest.raises(ValueError, match="shard_bytes must be a multiple of 4"):
        save_tfjs_layers_model(digits_cnn, tmp_path, shard_bytes=4001)
    with pytest.raises(ValueError, match="shard_bytes must be an int >= 4"):
        save_tfjs_layers_model(digits_cnn, tmp_path, shard_bytes=0)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="folder must be a directory"):
        save_tfjs_layers_model(digits_cnn, a_file)


def test_the_command_line_exports_a_course_model(digits_cnn, tmp_path, capsys):
    assert main(["digits_cnn", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "model.json")
    assert (tmp_path / "out" / "group1-shard1of1.bin").stat().st_size == 4 * sum(
        int(np.prod(w.shape)) for w in digits_cnn.weights
    )
    assert main(["no_such_model", str(tmp_path / "other")]) == 2
    assert "unknown course model 'no_such_model'" in capsys.readouterr().err
