"""Objectives for feature visualization: small composable functions of a layer lookup ``T``.

An :class:`Objective` wraps a function ``fn(T) -> tf.Tensor`` where ``T`` is a callable:

- ``T(layer_name)`` -> that layer's activations, ``[B, H, W, C]`` (or ``[B, C]`` for a dense
  layer), for the batch of images being optimized;
- ``T("input")`` -> the parameterized images ``[B, H, W, 3]`` in [0, 1], *before* the random
  transforms.

The value is a scalar, or ``[B]`` values that :func:`~course_lib.lucid.optvis.render.render_vis`
sums into one. ``render_vis`` *maximizes* the objective. Objectives compose with numbers and with
each other::

    obj = channel("mixed1", 3) + 0.5 * channel("mixed2", 7) - 1e-3 * total_variation()

The penalties (:func:`total_variation`, :func:`L1`, :func:`L2`) return positive values, so they
are *subtracted*, as above. :func:`blur_input_each_step` is a reward (its value is <= 0): add it.

Objectives add with Python's ``sum()`` (``sum(channel(l, c, batch=i) for i, c in ...)``), and a
new objective is a maker of ``fn(T)`` decorated with :func:`wrap_objective`, which derives its name
and layers from its arguments and checks them.

A ``"layer_name:channel"`` string stands for ``channel(layer_name, channel)`` wherever an
objective is expected (:func:`as_objective`).

Errors: an objective reading a layer the model does not have makes ``render_vis`` (or the ``T``
of :func:`~course_lib.lucid.optvis.render.make_T`) raise ``ValueError`` listing the model's
layers; a channel out of range raises ``ValueError`` with the layer's channel count.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib import checks

#: The name ``T`` answers with the parameterized images (before transforms).
INPUT = "input"

LayerLookup = Callable[[str], tf.Tensor]


class Objective:
    """A differentiable quantity to maximize, ``fn(T) -> tf.Tensor`` (scalar or ``[B]``).

    Attributes:
        fn: the function of the layer lookup ``T``.
        name: a readable description, e.g. ``"channel(mixed1:3)"``.
        layers: the set of layer names ``fn`` reads (``"input"`` for the images).

    Supports ``a + b``, ``a - b``, ``-a``, ``a * b``, ``a * 2``, ``2 * a``, ``a / 2`` and
    ``a + 1.5`` (numbers are constants).
    """

    def __init__(self, fn: Callable[[LayerLookup], tf.Tensor], name: str = "", layers=()):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "objective")
        self.layers = frozenset(layers)

    def __call__(self, T: LayerLookup) -> tf.Tensor:
        return self.fn(T)

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    # --- algebra ------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Objective:
        if checks.is_real(other):
            c = float(other)
            return Objective(lambda T: self(T) + c, f"{self.name} + {c:g}", self.layers)
        other = as_objective(other)
        return Objective(
            lambda T: self(T) + other(T), f"{self.name} + {other.name}", self.layers | other.layers
        )

    def __radd__(self, other: Any) -> Objective:
        if checks.is_real(other) and float(other) == 0.0:  # so that sum([...]) works
            return self
        return self.__add__(other)

    def __neg__(self) -> Objective:
        return Objective(lambda T: -self(T), f"-({self.name})", self.layers)

    def __sub__(self, other: Any) -> Objective:
        return self + (-other)

    def __rsub__(self, other: Any) -> Objective:
        return (-self) + other

    def __mul__(self, other: Any) -> Objective:
        if checks.is_real(other):
            c = float(other)
            return Objective(lambda T: c * self(T), f"{c:g} * {self.name}", self.layers)
        other = as_objective(other)
        return Objective(
            lambda T: self(T) * other(T),
            f"({self.name}) * ({other.name})",
            self.layers | other.layers,
        )

    def __rmul__(self, other: Any) -> Objective:
        return self.__mul__(other)

    def __truediv__(self, other: Any) -> Objective:
        if not checks.is_real(other):
            raise TypeError(f"an objective can only be divided by a number, got {other!r}")
        return self * (1.0 / float(other))


def as_objective(obj: Any) -> Objective:
    """``obj`` as an :class:`Objective`: itself, or ``"layer:channel"`` -> :func:`channel`.

    Raises:
        ValueError: for a string that is not ``"layer_name:integer"``.
        TypeError: for anything else that is not an Objective.
    """
    if isinstance(obj, Objective):
        return obj
    if isinstance(obj, str):
        layer_name, sep, index = obj.rpartition(":")
        if not sep or not layer_name or not index.strip().lstrip("-").isdigit():
            raise ValueError(
                f"objective strings look like 'layer_name:channel' (e.g. 'mixed1:3'), got {obj!r}"
            )
        return channel(layer_name, int(index))
    raise TypeError(f"expected an Objective or a 'layer:channel' string, got {obj!r}")


# --- helpers ----------------------------------------------------------------------------------


def _check_unit(layer: str, activations: tf.Tensor, argument: str, index: int) -> None:
    """Raises ``ValueError`` if ``index`` is outside ``[0, channels)`` of ``activations``."""
    channels = activations.shape[-1]
    if channels is not None and not 0 <= index < channels:
        raise ValueError(
            f"{argument} {index} is out of range for layer {layer!r}, which has "
            f"{channels} channels (0..{channels - 1})"
        )


def _select_batch(activations: tf.Tensor, batch: int | None) -> tf.Tensor:
    """``activations[batch:batch+1]`` (keeps the batch axis), or all of it when ``None``."""
    if batch is None:
        return activations
    return activations[batch : batch + 1]


def _checked_layer(layer: Any, argument: str = "layer") -> str:
    if not isinstance(layer, str) or not layer:
        raise TypeError(f"{argument} must be a layer name (a non-empty str), got {layer!r}")
    return layer


def wrap_objective(unit: str | None = None) -> Callable:
    """Decorator that turns a maker of ``fn(T)`` into a factory of :class:`Objective`.

    The decorated function takes the objective's arguments and returns ``fn(T) -> tf.Tensor``.
    If it has a ``layer`` parameter, the decorator checks it (a non-empty layer name) and the
    objective reads ``{layer}``; without one it reads the input images. The name is derived
    from the arguments: ``"maker(layer)"``, or ``"maker(layer:unit)"`` when ``unit`` names the
    integer parameter (a channel, a class) that ``fn`` indexes the layer's last axis with; that
    index is checked at once to be an int, and against the layer's channel count when ``fn``
    first sees the activations. A new objective therefore cannot forget its layer or its name::

        @wrap_objective(unit="n_channel")
        def channel_max(layer, n_channel):
            return lambda T: tf.reduce_max(T(layer)[..., n_channel])
    """

    def decorate(make: Callable[..., Callable[[LayerLookup], tf.Tensor]]) -> Callable:
        signature = inspect.signature(make)
        reads_layer = "layer" in signature.parameters

        @functools.wraps(make)
        def factory(*args: Any, **kwargs: Any) -> Objective:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            if not reads_layer:
                return Objective(make(*bound.args, **bound.kwargs), f"{make.__name__}()", {INPUT})
            layer = _checked_layer(bound.arguments["layer"])
            bound.arguments["layer"] = layer
            fn = make(*bound.args, **bound.kwargs)
            if unit is None:
                return Objective(fn, f"{make.__name__}({layer})", {layer})
            index = checks.integer(unit, bound.arguments[unit])

            def checked(T: LayerLookup) -> tf.Tensor:
                _check_unit(layer, T(layer), unit, index)
                return fn(T)

            return Objective(checked, f"{make.__name__}({layer}:{index})", {layer})

        return factory

    return decorate


# --- objectives on units ----------------------------------------------------------------------


@wrap_objective(unit="n_channel")
def channel(layer: str, n_channel: int, batch: int | None = None) -> Objective:
    """The mean activation of one channel, over space (and over the batch unless ``batch``).

    ``T(layer)`` is ``[B, H, W, C]`` (or ``[B, C]``); the value is the mean of
    ``T(layer)[..., n_channel]`` over all its other axes (``batch``: image ``batch`` only).
    """
    return lambda T: tf.reduce_mean(_select_batch(T(layer), batch)[..., n_channel])


@wrap_objective(unit="n_channel")
def neuron(
    layer: str,
    n_channel: int,
    x: int | None = None,
    y: int | None = None,
    batch: int | None = None,
) -> Objective:
    """The activation of one channel at one position (default: the centre ``H // 2, W // 2``).

    Mean over the batch unless ``batch``. For a dense ``[B, C]`` layer, ``x`` and ``y`` are
    ignored.
    """

    def fn(T):
        acts = _select_batch(T(layer), batch)
        if acts.shape.rank == 4:
            size = tf.shape(acts)
            row = size[1] // 2 if y is None else y
            col = size[2] // 2 if x is None else x
            acts = acts[:, row, col, :]
        return tf.reduce_mean(acts[..., n_channel])

    return fn


@wrap_objective()
def deepdream(layer: str, batch: int | None = None) -> Objective:
    """DeepDream's objective: the mean of the squared activations of a whole layer."""
    return lambda T: tf.reduce_mean(tf.square(_select_batch(T(layer), batch)))


@wrap_objective()
def direction(layer: str, vec: Any, batch: int | None = None, cossim_pow: float = 0.0) -> Objective:
    """The activation vector's projection on a direction ``vec`` (``[C]``), averaged.

    At each position the value is ``dot(a, vec)``; with ``cossim_pow > 0`` it is multiplied by
    ``max(cos(a, vec), 0.1) ** cossim_pow``, which favours activations pointing along ``vec``
    rather than merely large ones. Mean over positions (and the batch unless ``batch``).

    Raises:
        ValueError: if ``vec`` is not a vector with the layer's channel count.
    """
    vector = np.asarray(vec, dtype=np.float32)
    if vector.ndim != 1:
        raise ValueError(f"vec must be a vector [C], got shape {vector.shape}")

    def fn(T):
        acts = _select_batch(T(layer), batch)
        if acts.shape[-1] is not None and acts.shape[-1] != vector.shape[0]:
            raise ValueError(
                f"vec has {vector.shape[0]} entries but layer {layer!r} has "
                f"{acts.shape[-1]} channels"
            )
        v = tf.constant(vector, acts.dtype)
        dot = tf.reduce_sum(acts * v, axis=-1)
        if cossim_pow:
            norms = tf.norm(acts, axis=-1) * tf.norm(v) + 1e-6
            cossim = tf.maximum(dot / norms, 0.1)
            dot = dot * cossim**cossim_pow
        return tf.reduce_mean(dot)

    return fn


@wrap_objective(unit="label")
def class_logit(layer: str, label: int) -> Objective:
    """The mean over the batch (and space, for a 4-D layer) of one class's logit."""
    return lambda T: tf.reduce_mean(T(layer)[..., label])


# --- objectives on a batch --------------------------------------------------------------------


def _gram(acts: tf.Tensor) -> tf.Tensor:
    """Per-image Gram matrices ``[B, C, C]`` of ``[B, ..., C]`` activations (mean over space)."""
    flat = tf.reshape(acts, [tf.shape(acts)[0], -1, tf.shape(acts)[-1]])
    positions = tf.cast(tf.shape(flat)[1], acts.dtype)
    return tf.matmul(flat, flat, transpose_a=True) / positions


@wrap_objective()
def diversity(layer: str) -> Objective:
    """Minus the mean pairwise cosine similarity of the batch's Gram matrices at ``layer``.

    Adding it to an objective pushes the images of a batch to differ in *style* (which features
    co-occur) rather than in position. Zero for a batch of one; at most 0 in general.
    """

    def fn(T):
        grams = _gram(T(layer))
        batch = tf.shape(grams)[0]
        flat = tf.reshape(grams, [batch, -1])
        flat = flat / (tf.norm(flat, axis=-1, keepdims=True) + 1e-8)
        similarity = tf.matmul(flat, flat, transpose_b=True)
        off_diagonal = tf.reduce_sum(similarity) - tf.linalg.trace(similarity)
        pairs = tf.cast(tf.maximum(batch * (batch - 1), 1), similarity.dtype)
        return -off_diagonal / pairs

    return fn


@wrap_objective()
def alignment(layer: str, decay_ratio: float = 2.0) -> Objective:
    """Rewards neighbouring images of the batch for similar activations (for interpolations).

    The value is ``-sum_d sum_i mean((a_i - a_{i+d}) ** 2) / decay_ratio ** d`` for offsets
    ``d = 1 .. min(4, B - 1)``: at most 0, and 0 when all images agree. Needs a static batch size.
    """

    def fn(T):
        acts = T(layer)
        batch = acts.shape[0]
        if batch is None:
            raise ValueError("alignment needs a batch of known size")
        penalty = tf.constant(0.0, acts.dtype)
        for d in range(1, min(5, batch)):
            weight = 1.0 / decay_ratio**d
            penalty += weight * tf.reduce_sum(
                tf.reduce_mean(tf.square(acts[d:] - acts[:-d]), axis=range(1, acts.shape.rank))
            )
        return -penalty

    return fn


# --- penalties and regularizers ---------------------------------------------------------------


@wrap_objective()
def total_variation(layer: str = INPUT) -> Objective:
    """Penalty: mean absolute difference between vertically and horizontally adjacent pixels.

    Positive: subtract it, e.g. ``obj - 0.1 * total_variation()``. Means (not sums), so the
    weight does not depend on the image size.
    """

    def fn(T):
        t = T(layer)
        vertical = tf.reduce_mean(tf.abs(t[:, 1:] - t[:, :-1]))
        horizontal = tf.reduce_mean(tf.abs(t[:, :, 1:] - t[:, :, :-1]))
        return vertical + horizontal

    return fn


@wrap_objective()
def L1(layer: str = INPUT, constant: float = 0.5) -> Objective:  # noqa: N802 - Lucid's name
    """Penalty: mean of ``|T(layer) - constant|`` (positive: subtract it)."""
    return lambda T: tf.reduce_mean(tf.abs(T(layer) - constant))


@wrap_objective()
def L2(layer: str = INPUT, constant: float = 0.5) -> Objective:  # noqa: N802 - Lucid's name
    """Penalty: root mean square of ``T(layer) - constant`` (positive: subtract it)."""
    return lambda T: tf.sqrt(tf.reduce_mean(tf.square(T(layer) - constant)) + 1e-12)


@wrap_objective()
def blur_input_each_step() -> Objective:
    """A reward (<= 0; *add* it) whose gradient pulls each image toward its own 3x3 blur.

    Its value is ``-0.5 * mean((x - stop_gradient(blur(x))) ** 2)`` over the input images ``x``;
    an optimizer step on it moves the images a little toward their blurred copies, a gentle
    low-pass filter applied at every step.
    """

    def fn(T):
        images = T(INPUT)
        channels = images.shape[-1] or 3
        kernel = tf.ones([3, 3, channels, 1], images.dtype) / 9.0
        padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        blurred = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        return -0.5 * tf.reduce_mean(tf.square(images - tf.stop_gradient(blurred)))

    return fn


__all__ = [
    "INPUT",
    "L1",
    "L2",
    "Objective",
    "alignment",
    "as_objective",
    "blur_input_each_step",
    "channel",
    "class_logit",
    "deepdream",
    "direction",
    "diversity",
    "neuron",
    "total_variation",
    "wrap_objective",
]
