"""Keras models in TensorFlow.js's "layers-model" format, written by the course itself.

The official converter (the ``tensorflowjs`` package) pins other versions of Keras and TensorFlow
than the course's lock, so this module writes the documented format directly, into a folder:

- ``model.json``: ``format`` (``"layers-model"``), ``generatedBy``, ``convertedBy``,
  ``modelTopology`` (a Keras-2-style functional model config, as ``tf.loadLayersModel``
  deserializes it: every layer's ``class_name``, ``config`` and ``inbound_nodes``, in the model's
  order) and ``weightsManifest`` (one group: its shard files and, in order, every weight's
  ``name`` (``<layer>/kernel``, the name TensorFlow.js gives the weight it creates), ``shape``
  and ``dtype``);
- ``group1-shard<i>of<n>.bin``: the weights as little-endian float32, concatenated in manifest
  order and cut into shards of at most ``shard_bytes``.

Only the layer types the course's models use are written (:data:`SUPPORTED_LAYERS`); any other
layer, or an option that TensorFlow.js would read differently, raises ``ValueError`` naming the
layer. Call keyword arguments recorded in the graph (``training=False``, masks) are not written:
TensorFlow.js predicts in inference mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

#: ``convertedBy`` in model.json.
CONVERTER = "course_lib.export.tfjs"
#: The tfjs converter's default shard size (4 MiB).
DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
#: Activations that TensorFlow.js computes as Keras does (its ``hard_sigmoid`` and ``gelu`` differ).
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "selu",
    "softplus",
    "softsign",
)
#: TensorFlow.js refuses tensor names outside this pattern (layer names become name scopes).
_TENSOR_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9._/]*$")


def _refuse(layer: str, problem: str) -> ValueError:
    return ValueError(f"model: layer {layer!r} {problem}; TensorFlow.js export refuses it")


def _channels_last(layer: str, config: dict) -> str:
    if config.get("data_format", "channels_last") != "channels_last":
        raise _refuse(layer, f"has data_format={config['data_format']!r} (only channels_last)")
    return "channels_last"


def _activation(layer: str, config: dict) -> str:
    activation = config.get("activation", "linear")
    if activation not in ACTIVATIONS:
        raise _refuse(layer, f"has activation {activation!r} (supported: {', '.join(ACTIVATIONS)})")
    return activation


def _input_layer(layer: str, config: dict) -> dict:
    if config.get("sparse") or config.get("ragged"):
        raise _refuse(layer, "is a sparse or ragged input")
    return {"batch_input_shape": list(config["batch_shape"]), "sparse": False}


def _reshape(layer: str, config: dict) -> dict:
    return {"target_shape": list(config["target_shape"])}


def _conv2d(layer: str, config: dict) -> dict:
    if config.get("groups", 1) != 1:
        raise _refuse(layer, f"is a grouped convolution (groups={config['groups']})")
    return {
        "filters": config["filters"],
        "kernel_size": list(config["kernel_size"]),
        "strides": list(config["strides"]),
        "padding": config["padding"],
        "data_format": _channels_last(layer, config),
        "dilation_rate": list(config["dilation_rate"]),
        "activation": _activation(layer, config),
        "use_bias": config["use_bias"],
    }


def _dense(layer: str, config: dict) -> dict:
    if config.get("lora_rank") or config.get("quantization_config"):
        raise _refuse(layer, "is a LoRA or quantized Dense layer")
    return {
        "units": config["units"],
        "activation": _activation(layer, config),
        "use_bias": config["use_bias"],
    }


def _pooling2d(layer: str, config: dict) -> dict:
    return {
        "pool_size": list(config["pool_size"]),
        "strides": list(config["strides"]),
        "padding": config["padding"],
        "data_format": _channels_last(layer, config),
    }


def _global_pooling2d(layer: str, config: dict) -> dict:
    if config.get("keepdims"):
        raise _refuse(layer, "keeps the pooled dimensions (keepdims=True)")
    return {"data_format": _channels_last(layer, config)}


def _flatten(layer: str, config: dict) -> dict:
    return {"data_format": _channels_last(layer, config)}


def _dropout(layer: str, config: dict) -> dict:
    return {"rate": config["rate"]}


def _relu(layer: str, config: dict) -> dict:
    if config.get("negative_slope") or config.get("threshold"):
        raise _refuse(layer, "is a leaky or thresholded ReLU")
    return {"max_value": config.get("max_value")}


def _axis(layer: str, config: dict) -> dict:
    if not isinstance(config["axis"], int):
        raise _refuse(layer, f"has axis {config['axis']!r} (a single int is supported)")
    return {"axis": config["axis"]}


def _activation_layer(layer: str, config: dict) -> dict:
    return {"activation": _activation(layer, config)}


def _kernel_and_bias(config: dict) -> tuple[str, ...]:
    return ("kernel", "bias") if config["use_bias"] else ("kernel",)


def _no_weights(config: dict) -> tuple[str, ...]:
    return ()


#: Keras class name -> (its TensorFlow.js config from the Keras one, its weights' names in order).
SUPPORTED_LAYERS: dict[str, tuple[Callable[[str, dict], dict], Callable[[dict], tuple]]] = {
    "InputLayer": (_input_layer, _no_weights),
    "Reshape": (_reshape, _no_weights),
    "Conv2D": (_conv2d, _kernel_and_bias),
    "Dense": (_dense, _kernel_and_bias),
    "MaxPooling2D": (_pooling2d, _no_weights),
    "AveragePooling2D": (_pooling2d, _no_weights),
    "GlobalAveragePooling2D": (_global_pooling2d, _no_weights),
    "GlobalMaxPooling2D": (_global_pooling2d, _no_weights),
    "Flatten": (_flatten, _no_weights),
    "Dropout": (_dropout, _no_weights),
    "ReLU": (_relu, _no_weights),
    "Softmax": (_axis, _no_weights),
    "Concatenate": (_axis, _no_weights),
    "Activation": (_activation_layer, _no_weights),
}


def _tensor_refs(value: object) -> list[list]:
    """Every ``keras_history`` (layer, node, tensor) in a Keras 3 node's arguments, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [list(value["config"]["keras_history"])]
        return [ref for item in value.values() for ref in _tensor_refs(item)]
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _tensor_refs(item)]
    return []


def _endpoints(refs: list) -> list[list]:
    """Keras 3 writes one model input as ``[name, 0, 0]`` and several as a list of those."""
    return [list(refs)] if refs and isinstance(refs[0], str) else [list(ref) for ref in refs]


def _graph(model: keras.Model) -> tuple[list[dict], list[list], list[list]]:
    """The model's layer entries (Keras 3 configs with Keras-2-style ``inbound_nodes``), inputs
    and outputs."""
    config = model.get_config()
    entries = config["layers"]
    if isinstance(model, keras.Sequential):
        if not entries or entries[0]["class_name"] != "InputLayer":
            raise ValueError("model: a Sequential model needs an input shape (start it with Input)")
        names = [entry["config"]["name"] for entry in entries]
        for index, entry in enumerate(entries):
            entry["name"] = names[index]
            entry["inbound_nodes"] = [[[names[index - 1], 0, 0, {}]]] if index else []
        return entries, [[names[0], 0, 0]], [[names[-1], 0, 0]]
    for entry in entries:
        entry["inbound_nodes"] = [
            [[*ref, {}] for ref in _tensor_refs(node.get("args", []))]
            for node in entry["inbound_nodes"]
        ]
    return entries, _endpoints(config["input_layers"]), _endpoints(config["output_layers"])


def _layer_config(entry: dict) -> dict:
    """One layer's Keras-2-style config, checked against what TensorFlow.js supports."""
    name, class_name, config = entry["name"], entry["class_name"], entry["config"]
    if class_name not in SUPPORTED_LAYERS:
        raise ValueError(
            f"model: layer {name!r} is a {class_name}, which the TensorFlow.js export does not "
            f"support (supported: {', '.join(SUPPORTED_LAYERS)})"
        )
    if not _TENSOR_NAME.match(name):
        raise _refuse(name, "has a name TensorFlow.js does not accept as a tensor name")
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):  # a Keras 3 DTypePolicy
        dtype = dtype["config"]["name"]
    if dtype != "float32":
        raise _refuse(name, f"computes in {dtype} (only float32)")
    translate, _ = SUPPORTED_LAYERS[class_name]
    out = {"name": name, "trainable": bool(config.get("trainable", True)), "dtype": "float32"}
    out.update(translate(name, config))
    return out


def _weights(model: keras.Model, entries: list[dict]) -> list[tuple[str, np.ndarray]]:
    """``(tfjs name, little-endian float32 values)`` for every weight, in manifest order."""
    weights = []
    for entry in entries:
        expected = SUPPORTED_LAYERS[entry["class_name"]][1](entry["config"])
        if not expected:
            continue
        layer = model.get_layer(entry["name"])
        names = tuple(weight.name for weight in layer.weights)
        if names != expected:
            raise _refuse(entry["name"], f"has weights {names}, expected {expected}")
        for weight in layer.weights:
            values = np.asarray(weight.numpy(), dtype="<f4")
            weights.append((f"{entry['name']}/{weight.name}", values))
    return weights


def tfjs_topology(model: keras.Model) -> dict:
    """``modelTopology`` of model.json: ``{"keras_version", "backend", "model_config"}``.

    ``model_config`` is ``{"class_name": "Model", "config": {"name", "layers",
    "input_layers", "output_layers"}}``, the layers in the model's order.

    Raises:
        ValueError: if ``model`` is not a Keras model, or a layer cannot be exported.
    """
    _check_model(model)
    entries, inputs, outputs = _graph(model)
    layers = [
        {
            "class_name": entry["class_name"],
            "name": entry["name"],
            "config": _layer_config(entry),
            "inbound_nodes": entry["inbound_nodes"],
        }
        for entry in entries
    ]
    return {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "model_config": {
            "class_name": "Model",
            "config": {
                "name": model.name,
                "layers": layers,
                "input_layers": inputs,
                "output_layers": outputs,
            },
        },
    }


def _check_model(model: object) -> None:
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built or not model.inputs:
        raise ValueError(
            "model must be built with a known input (a functional or Sequential model)"
        )


def save_tfjs_layers_model(
    model: keras.Model, folder: str | Path, shard_bytes: int = DEFAULT_SHARD_BYTES
) -> Path:
    """Writes ``model`` as a TensorFlow.js layers model: ``folder/model.json`` and its shards.

    ``tf.loadLayersModel(url_of_model_json)`` loads it back in a browser or in Node. Shard files
    left in ``folder`` by an earlier export (``group*-shard*of*.bin``) are removed first.

    Args:
        model: a built functional or Sequential ``keras.Model`` of supported layers.
        folder: the folder to write (created if missing).
        shard_bytes: the largest shard, in bytes (a multiple of 4, >= 4).

    Returns:
        The path of ``model.json``.

    Raises:
        ValueError: if ``model`` is not a Keras model or has a layer or option TensorFlow.js
            cannot load as Keras computes it (naming the layer), if ``folder`` is a file, or if
            ``shard_bytes`` is not a positive multiple of 4.
    """
    topology = tfjs_topology(model)
    if isinstance(shard_bytes, bool) or not isinstance(shard_bytes, int) or shard_bytes < 4:
        raise ValueError(f"shard_bytes must be an int >= 4, got {shard_bytes!r}")
    if shard_bytes % 4:
        raise ValueError(f"shard_bytes must be a multiple of 4 (float32), got {shard_bytes}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"folder must be a directory, got the file {folder}")
    entries, _, _ = _graph(model)
    weights = _weights(model, entries)

    data = b"".join(values.tobytes() for _, values in weights)
    chunks = [data[start : start + shard_bytes] for start in range(0, len(data), shard_bytes)]
    paths = [f"group1-shard{index}of{len(chunks)}.bin" for index in range(1, len(chunks) + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("group*-shard*of*.bin"):
        stale.unlink()
    for path, chunk in zip(paths, chunks, strict=True):
        (folder / path).write_bytes(chunk)

    manifest = [
        {
            "paths": paths,
            "weights": [
                {"name": name, "shape": list(values.shape), "dtype": "float32"}
                for name, values in weights
            ],
        }
    ]
    document = {
        "format": "layers-model",
        "generatedBy": f"keras v{keras.__version__}",
        "convertedBy": CONVERTER,
        "modelTopology": topology,
        "weightsManifest": manifest,
    }
    target = folder / "model.json"
    target.write_text(json.dumps(document, indent=1) + "\n")
    return target
