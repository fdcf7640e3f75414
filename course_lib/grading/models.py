"""Checks for exercises whose answer is a Keras model: structure, parameters and outputs."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from course_lib.basics.mnist_models import describe_layers


def describe_model(model: Any, images: np.ndarray) -> dict[str, Any]:
    """What model checks compare: type, built state, layer list, parameters and outputs on
    ``images``."""
    if not isinstance(model, keras.Model):
        return {"type": type(model).__name__}
    built = bool(model.built)
    outputs = np.asarray(model(images, training=False))
    return {
        "type": "Model",
        "built": built,
        "layers": describe_layers(model),
        "params": int(model.count_params()),
        "output_shape": outputs.shape,
        "row_sums": outputs.sum(axis=-1) if outputs.ndim == 2 else None,
    }


def compare_models(
    got: dict[str, Any], want: dict[str, Any], *, input_hint: str, output_hint: str
) -> str | None:
    """``None`` when two :func:`describe_model` descriptions match, else the first difference.

    Args:
        got: the learner's model, described.
        want: the reference model, described.
        input_hint: how the model should start, e.g. ``"keras.Input(shape=(28, 28))"``.
        output_hint: what a wrong output shape usually means.
    """
    if got["type"] != "Model":
        return f"expected a keras.Model, got {got['type']}"
    if not got["built"]:
        return (
            f"the model is not built when returned: start it with {input_hint} "
            "so that Keras builds and checks it at once"
        )
    if got["output_shape"] != want["output_shape"]:
        return (
            f"output shape: expected {want['output_shape']}, got {got['output_shape']} "
            f"({output_hint})"
        )
    if got["row_sums"] is None or not np.allclose(got["row_sums"], 1.0, atol=1e-4):
        return "the output rows do not sum to 1: the last layer needs activation='softmax'"
    if got["layers"] != want["layers"]:
        pairs = zip(got["layers"], want["layers"], strict=False)
        for index, (have, expected) in enumerate(pairs, start=1):
            if have != expected:
                return f"layer {index}: expected {expected}, got {have}"
        return (
            f"expected {len(want['layers'])} layers {want['layers']}, "
            f"got {len(got['layers'])}: {got['layers']}"
        )
    if got["params"] != want["params"]:
        return f"expected {want['params']} parameters, got {got['params']}"
    return None
