"""``render_vis``: optimize a parameterized image until an objective on a Keras model is large.

One step: images = ``param()`` (in [0, 1]) -> random ``transforms`` -> map to the model's input
(value range; a grey model gets the RGB mean; a fixed-size model gets a bilinear resize) ->
the activations of the layers the objective reads -> objective -> gradient ascent with Adam.
All the steps between two thresholds run inside one ``tf.function`` (a ``tf.while_loop``),
traced once per ``render_vis`` call, so the Python overhead is paid once, not per step.

Pieces reused elsewhere (``course_lib.lucid.misc``, the chapters):

- :func:`make_T`: a function ``images in [0, 1] -> T``, the layer lookup objectives read;
- :func:`to_model_input`: images in [0, 1] -> what a model takes (resize, grey, value range);
- from :mod:`course_lib.zoo.features`, where models are unwrapped, checked and cut:
  ``make_feature_extractor`` (``feature_extractor``: a Keras model
  ``inputs -> {layer name: activations}``), ``model_layer_names`` (``layer_names``),
  ``check_layer_names``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.lucid.optvis import objectives as objectives_lib
from course_lib.lucid.optvis import param as param_lib
from course_lib.lucid.optvis import transform as transform_lib
from course_lib.zoo import features
from course_lib.zoo.features import check_layer_names
from course_lib.zoo.features import feature_extractor as make_feature_extractor
from course_lib.zoo.features import layer_names as model_layer_names

#: Learning rate of the default Adam optimizer.
DEFAULT_LEARNING_RATE = 0.05
#: Image size of the default parameterization when the model takes any size.
DEFAULT_SIZE = 128


# --- models and layer lookups -----------------------------------------------------------------


class LayerLookup:
    """``T``: ``T(name)`` -> activations of layer ``name``; ``T("input")`` -> the images.

    Raises ``ValueError`` listing the available layers for any other name.
    """

    def __init__(self, activations: dict, images: tf.Tensor, model_layers: Sequence[str] = ()):
        self.activations = activations
        self.images = images
        self.model_layers = list(model_layers)

    def __call__(self, name: str) -> tf.Tensor:
        if name == objectives_lib.INPUT:
            return self.images
        if name in self.activations:
            return self.activations[name]
        known = self.model_layers or sorted(self.activations)
        raise ValueError(f"unknown layer {name!r}; the model's layers are: {', '.join(known)}")


def to_model_input(images: tf.Tensor, model: keras.Model, value_range=(0.0, 1.0)) -> tf.Tensor:
    """Images ``[B, H, W, 3]`` in [0, 1] -> what ``model`` takes.

    A fixed-size model gets a bilinear resize to its ``H, W``; a 1-channel model
    (``[N, H, W, 1]`` or ``[N, H, W]``) gets the mean of the RGB channels; then the values are
    mapped affinely from [0, 1] to ``value_range``.
    """
    spec = features.image_input(model, ranks=(3, 4))
    shape = tuple(spec.shape)
    h, w = shape[1], shape[2]
    if h is not None and w is not None:
        images = tf.image.resize(images, [h, w], method="bilinear")
    channels = shape[3] if len(shape) == 4 else None
    if len(shape) == 3:
        images = tf.reduce_mean(images[..., :3], axis=-1)
    elif channels == 1:
        images = tf.reduce_mean(images[..., :3], axis=-1, keepdims=True)
    elif channels is not None and channels != images.shape[-1]:
        images = images[..., :channels]
    low, high = value_range
    if (low, high) != (0.0, 1.0):
        images = images * (high - low) + low
    return images


def make_T(
    model: Any, layer_names: Sequence[str], value_range: Sequence[float] | None = None
) -> Callable[..., LayerLookup]:
    """A function ``(images [B, H, W, 3] in [0, 1], input_images=None) -> T`` over ``layer_names``.

    ``T(name)`` reads the activations of ``model`` on ``images``; ``T("input")`` is
    ``input_images`` when given (``render_vis`` passes the images before transforms), else
    ``images``.

    ``value_range`` defaults to the VisualizationModel's, else (0, 1). The model input mapping is
    :func:`to_model_input`.

    Raises:
        ValueError: if a name is not one of the model's layers (the message lists them).
    """
    keras_model, value_range = features.unwrap(model, value_range)
    names = [n for n in dict.fromkeys(layer_names) if n != objectives_lib.INPUT]
    known = model_layer_names(keras_model)
    extractor = make_feature_extractor(keras_model, names) if names else None

    def build(images: tf.Tensor, input_images: tf.Tensor | None = None) -> LayerLookup:
        activations = {}
        if extractor is not None:
            activations = extractor(
                to_model_input(images, keras_model, value_range), training=False
            )
        return LayerLookup(
            dict(activations), images if input_images is None else input_images, known
        )

    return build


# --- the optimization ---------------------------------------------------------------------------


def _default_size(model: keras.Model) -> tuple[int, int]:
    shape = tuple(features.image_input(model, ranks=(3, 4)).shape)
    h, w = shape[1], shape[2]
    if h is None or w is None:
        return DEFAULT_SIZE, DEFAULT_SIZE
    return int(h), int(w)


def _checked_thresholds(thresholds: Any) -> list[int]:
    if checks.is_int(thresholds):
        thresholds = (thresholds,)
    values = list(thresholds)
    if not values or any(not checks.is_int(t) or t < 0 for t in values):
        raise ValueError(f"thresholds must be non-negative ints, got {thresholds!r}")
    if values != sorted(values):
        raise ValueError(f"thresholds must be increasing, got {thresholds!r}")
    return [int(t) for t in values]


class _Steps:
    """``n`` optimization steps in a loop; wrapped in ``tf.function`` once per ``render_vis``.

    A callable object (not a closure) so that TensorFlow's "frequent retracing" detector, which
    keys closures by their code, sees a new function in each call of ``render_vis``.
    """

    def __init__(self, step: Callable[[], tf.Tensor]):
        self.step = step

    def __call__(self, n: tf.Tensor) -> tf.Tensor:
        values = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            values = values.write(i, self.step())
        return values.stack()


def render_vis(
    model: Any,
    objective: Any,
    param_f: Callable[[], param_lib.Parameterization] | None = None,
    optimizer: Any = None,
    transforms: Sequence[Callable[[tf.Tensor], tf.Tensor]] | None = None,
    thresholds: Sequence[int] = (512,),
    seed: int | None = 0,
    value_range: Sequence[float] | None = None,
    use_tf_function: bool = True,
    verbose: bool = False,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Optimizes an image batch to maximize ``objective`` on ``model``.

    Args:
        model: a functional or Sequential Keras model (layers addressed by name), or a
            ``zoo.VisualizationModel`` (its ``value_range`` then maps [0, 1] images to the model's
            input). Models taking 1-channel images (``[N, H, W, 1]`` or ``[N, H, W]``, e.g. the
            course's ``digits_cnn``) get the mean of the RGB images; fixed-size models get the
            transformed images resized to their input size.
        objective: an :class:`~course_lib.lucid.optvis.objectives.Objective` or a
            ``"layer:channel"`` string.
        param_f: zero-argument callable returning a ``Parameterization``; default
            ``param.image(size)``, ``size`` the model's input size (128 when free).
        optimizer: a Keras optimizer, or a zero-argument callable returning one (an optimizer
            instance is built for this call's variables: pass a fresh one each call); default
            ``keras.optimizers.Adam(0.05)``.
        transforms: list of transforms applied at each step; default
            ``transform.standard_transforms``; ``[]`` for none.
        thresholds: the step counts at which to return the images (increasing).
        seed: seeds TensorFlow's global generator first (``tf.random.set_seed``): the same seed
            gives the same result. ``None`` leaves the global seed alone.
        value_range: overrides the model's input range (default (0, 1) for a Keras model).
        use_tf_function: compile the steps with ``tf.function`` (False: eager, for debugging).
        verbose: print the objective at each threshold (stdout).

    Returns:
        ``(images, trace)``: a list with one NumPy ``[B, H, W, 3]`` array in [0, 1] per threshold
        (the parameterized images, before transforms), and a NumPy ``[max(thresholds)]`` array of
        the objective (summed over the batch) at every step, before that step's update (so
        ``trace[0]`` is the random start).

    Raises:
        ValueError: for an unknown layer (the message lists the model's layers), a channel out of
            range (the message gives the layer's channel count), or bad thresholds.
        TypeError: for a model or objective of the wrong type.
    """
    keras_model, value_range = features.unwrap(model, value_range)
    objective = objectives_lib.as_objective(objective)
    thresholds = _checked_thresholds(thresholds)
    layers = sorted(objective.layers - {objectives_lib.INPUT})
    build_T = make_T(keras_model, layers, value_range)  # raises for unknown layers

    if seed is not None:
        tf.random.set_seed(int(seed))
    if param_f is None:
        h, w = _default_size(keras_model)
        parameterization = param_lib.image(w, h)
    else:
        parameterization = param_f()
    if not callable(parameterization) or not hasattr(parameterization, "variables"):
        raise TypeError("param_f must return a Parameterization (with .variables, callable)")
    variables = list(parameterization.variables)
    if optimizer is None:
        optimizer = keras.optimizers.Adam(DEFAULT_LEARNING_RATE)
    elif not isinstance(optimizer, keras.optimizers.Optimizer) and callable(optimizer):
        optimizer = optimizer()
    optimizer.build(variables)
    transform = transform_lib.compose(
        transform_lib.standard_transforms if transforms is None else transforms
    )

    # One eager evaluation first: bad channels and shapes raise a plain error here, not from
    # inside the traced loop.
    start = parameterization()
    objective(build_T(start, start))

    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            images = parameterization()
            T = build_T(transform(images), images)
            value = tf.reduce_sum(objective(T))
            loss = -value
        gradients = tape.gradient(loss, variables)
        gradients = [
            tf.zeros_like(v) if g is None else g for g, v in zip(gradients, variables, strict=True)
        ]
        optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return tf.cast(value, tf.float32)

    if use_tf_function:
        run_steps = tf.function(_Steps(step))
    else:

        def run_steps(n):
            return tf.stack([step() for _ in range(int(n))]) if int(n) else tf.zeros([0])

    images, trace, done = [], [], 0
    for threshold in thresholds:
        n = threshold - done
        if n > 0:
            trace.append(run_steps(tf.constant(n, tf.int32)).numpy())
            done = threshold
        images.append(np.asarray(parameterization()))
        if verbose:
            last = trace[-1][-1] if trace and len(trace[-1]) else float("nan")
            print(f"step {threshold}: objective {last:.4g}")
    return images, (np.concatenate(trace) if trace else np.zeros([0], np.float32))


__all__ = [
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_SIZE",
    "LayerLookup",
    "check_layer_names",
    "make_T",
    "make_feature_extractor",
    "model_layer_names",
    "render_vis",
    "to_model_input",
]
