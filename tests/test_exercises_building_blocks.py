"""Building-blocks exercises: references pass, mistakes get specific feedback, stubs are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import grading
from course_lib.lucid.misc import attribution, semantic_dictionary

REFERENCES = {
    "building_blocks.attribution_map": attribution.attribution_map,
    "building_blocks.top_channels": lambda acts, k: semantic_dictionary.top_channels(acts, k)[0],
}


def _tf_map(activations, gradients):
    return tf.einsum("hwc,hwc->hw", activations, gradients)


def _tf_top(activations, k):
    return tf.math.top_k(activations, k=k).indices


CORRECT = {
    "building_blocks.attribution_map": _tf_map,
    "building_blocks.top_channels": _tf_top,
}

WRONG = [
    (
        "building_blocks.attribution_map",
        lambda a, g: np.sum(a * g, axis=(0, 1)),
        "that is the channel attribution",
    ),
    ("building_blocks.attribution_map", lambda a, g: np.sum(a * g, axis=0), "spatial axis"),
    ("building_blocks.attribution_map", lambda a, g: a * g, "the channels must be summed away"),
    ("building_blocks.attribution_map", lambda a, g: np.sum(g, axis=-1), "the gradient alone"),
    ("building_blocks.attribution_map", lambda a, g: np.abs(a * g).sum(-1), "no absolute value"),
    ("building_blocks.attribution_map", lambda a, g: np.mean(a * g, axis=-1), "mean over channels"),
    (
        "building_blocks.top_channels",
        lambda a, k: np.argsort(a, axis=-1)[..., -k:],
        "ascending order",
    ),
    ("building_blocks.top_channels", lambda a, k: np.argsort(a, axis=-1)[..., :k], "k smallest"),
    (
        "building_blocks.top_channels",
        lambda a, k: np.sort(a, axis=-1)[..., ::-1][..., :k],
        "those are the activations",
    ),
    (
        "building_blocks.top_channels",
        lambda a, k: np.argsort(-a, axis=0)[..., :k],
        "sorted along a spatial axis",
    ),
]


def _raises(*args, **kwargs):
    raise KeyError("oops")


def test_float64_inputs_pass():
    answer = lambda a, g: np.sum(a.astype(np.float64) * g.astype(np.float64), axis=-1)  # noqa: E731
    result = grading.grade(grading.get_exercise("building_blocks.attribution_map"), answer, seed=0)
    assert result.status == "passed", result.feedback
