"""Trainable feature-steered graph convolution: a one-call function and a Keras layer.

Both own the variables of
:func:`course_lib.graphics.geometry.convolution.graph_convolution.feature_steered_convolution`
(``u``, ``v``, ``c``, ``w``, ``b``) and call that op. With ``translation_invariant=True`` only
``u`` is a variable and ``v = -u``, so the soft assignments depend on ``x_j - x_i`` alone
(FeaStNet's translation-invariant form). Names and argument meanings follow TensorFlow
Graphics' ``nn.layer.graph_convolution``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from course_lib import checks
from course_lib.graphics.geometry.convolution import graph_convolution

#: TensorFlow Graphics' default initializer of every variable.
DEFAULT_STDDEV = 0.1


def _default_initializer() -> keras.initializers.Initializer:
    return keras.initializers.TruncatedNormal(stddev=DEFAULT_STDDEV)


def _fresh(initializer: Any) -> Any:
    """A copy of a Keras initializer (an unseeded copy draws new values); other callables as is.

    A Keras 3 initializer returns the same values at every call with the same shape, which
    would start ``u`` and ``v`` equal.
    """
    if isinstance(initializer, keras.initializers.Initializer):
        return initializer.__class__.from_config(initializer.get_config())
    return initializer


def _shapes(
    in_channels: int, num_weight_matrices: int, out_channels: int, translation_invariant: bool
) -> dict[str, tuple[int, ...]]:
    """The variables' names and shapes, in creation order."""
    shapes = {"u": (in_channels, num_weight_matrices)}
    if not translation_invariant:
        shapes["v"] = (in_channels, num_weight_matrices)
    shapes["c"] = (num_weight_matrices,)
    shapes["w"] = (num_weight_matrices, in_channels, out_channels)
    shapes["b"] = (out_channels,)
    return shapes


def _channels(data: Any) -> int:
    channels = getattr(data, "shape", None)
    channels = None if channels is None or len(channels) < 2 else channels[-1]
    if channels is None:
        raise ValueError(f"data must have shape [A1, ..., An, V, C] with a known C, got {data!r}")
    return int(channels)


def _convolve(
    data: Any,
    neighbors: tf.sparse.SparseTensor,
    sizes: Any,
    variables: dict[str, tf.Tensor],
) -> tf.Tensor:
    var_u = variables["u"]
    var_v = variables["v"] if "v" in variables else -var_u
    return graph_convolution.feature_steered_convolution(
        data, neighbors, sizes, var_u, var_v, variables["c"], variables["w"], variables["b"]
    )


def feature_steered_convolution_layer(
    data: Any,
    neighbors: tf.sparse.SparseTensor,
    sizes: Any = None,
    translation_invariant: bool = True,
    num_weight_matrices: int = 8,
    num_output_channels: int | None = None,
    initializer: Callable[..., Any] | None = None,
    name: str | None = None,
) -> tf.Tensor:
    """Creates fresh variables and applies the feature-steered convolution once.

    Every call creates new ``tf.Variable`` s (``u`` `[C, W]`, ``v`` `[C, W]` unless
    translation invariant, ``c`` `[W]`, ``w`` `[W, C, D]`, ``b`` `[D]`), each from
    ``initializer(shape, dtype)``; to train them across calls use
    :class:`FeatureSteeredConvolutionKerasLayer`.

    Args:
        data: `[A1, ..., An, V, C]` vertex features (float32 or float64).
        neighbors: a SparseTensor `[A1, ..., An, V, V]`, entry ``(i, j)`` the weight ``w_ij``.
        sizes: `[A1, ..., An]` int true vertex counts of padded graphs, or None (the
            default, unlike TensorFlow Graphics, so that the course's slide runs as printed).
        translation_invariant: if True, ``v = -u`` (one variable).
        num_weight_matrices: W, the number of weight matrices ``W_m``.
        num_output_channels: D (None: D = C).
        initializer: ``initializer(shape, dtype)`` for every variable (default: truncated
            normal, standard deviation 0.1).
        name: the name scope (default: ``graph_convolution_feature_steered_convolution``).

    Returns:
        `[A1, ..., An, V, D]` features.

    Raises:
        ValueError: naming the argument, for a bad shape or setting.
    """
    checks.boolean("translation_invariant", translation_invariant)
    num_weight_matrices = checks.positive_int("num_weight_matrices", num_weight_matrices)
    in_channels = _channels(data)
    out_channels = (
        in_channels
        if num_output_channels is None
        else checks.positive_int("num_output_channels", num_output_channels)
    )
    if initializer is None:
        initializer = _default_initializer()
    dtype = tf.as_dtype(getattr(data, "dtype", tf.float32))
    if not dtype.is_floating:
        raise ValueError(f"data must be a floating-point tensor, got {dtype.name}")
    with tf.name_scope(name or "graph_convolution_feature_steered_convolution"):
        variables = {
            key: tf.Variable(_fresh(initializer)(shape, dtype), name=key)
            for key, shape in _shapes(
                in_channels, num_weight_matrices, out_channels, translation_invariant
            ).items()
        }
        return _convolve(data, neighbors, sizes, variables)


@keras.saving.register_keras_serializable(package="course_lib")
class FeatureSteeredConvolutionKerasLayer(keras.layers.Layer):
    """The feature-steered convolution as a Keras layer; ``call([data, neighbors], sizes)``.

    ``data`` `[A1, ..., An, V, C]`, ``neighbors`` a SparseTensor `[A1, ..., An, V, V]`,
    ``sizes`` `[A1, ..., An]` or None; returns `[A1, ..., An, V, D]`. The weights ``u``
    (``v``), ``c``, ``w``, ``b`` are created in ``build`` from C.

    Args:
        translation_invariant: if True, ``v = -u`` (one variable).
        num_weight_matrices: W, the number of weight matrices.
        num_output_channels: D (None: D = C).
        initializer: initializer of every weight (default: truncated normal, std 0.1).
    """

    def __init__(
        self,
        translation_invariant: bool = True,
        num_weight_matrices: int = 8,
        num_output_channels: int | None = None,
        initializer: str | keras.initializers.Initializer | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.translation_invariant = checks.boolean("translation_invariant", translation_invariant)
        self.num_weight_matrices = checks.positive_int("num_weight_matrices", num_weight_matrices)
        self.num_output_channels = (
            None
            if num_output_channels is None
            else checks.positive_int("num_output_channels", num_output_channels)
        )
        self.initializer = keras.initializers.get(initializer or _default_initializer())

    def build(self, input_shape) -> None:
        if (
            not isinstance(input_shape, list | tuple)
            or len(input_shape) != 2
            or not all(isinstance(s, list | tuple) for s in input_shape)
        ):
            raise ValueError(f"inputs must be [data, neighbors], got input shape {input_shape!r}")
        data_shape = tuple(input_shape[0])
        if len(data_shape) < 2 or data_shape[-1] is None:
            raise ValueError(
                f"data must have shape [A1, ..., An, V, C] with a known C, got {data_shape}"
            )
        in_channels = int(data_shape[-1])
        out_channels = self.num_output_channels or in_channels
        shapes = _shapes(
            in_channels, self.num_weight_matrices, out_channels, self.translation_invariant
        )
        self.var = {
            key: self.add_weight(name=key, shape=shape, initializer=_fresh(self.initializer))
            for key, shape in shapes.items()
        }

    def call(self, inputs, sizes=None) -> tf.Tensor:
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(f"inputs must be [data, neighbors], got {type(inputs).__name__}")
        data, neighbors = inputs
        variables = {key: tf.convert_to_tensor(weight) for key, weight in self.var.items()}
        return _convolve(data, neighbors, sizes, variables)

    def compute_output_shape(self, input_shape):
        data_shape = tuple(input_shape[0])
        return data_shape[:-1] + (self.num_output_channels or data_shape[-1],)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            translation_invariant=self.translation_invariant,
            num_weight_matrices=self.num_weight_matrices,
            num_output_channels=self.num_output_channels,
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config
