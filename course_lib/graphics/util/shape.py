"""Argument checks for graphics ops: dtype, last dimensions and broadcastable batch dimensions.

Every op checks its arguments once, at the top, with :func:`checked`::

    point, axis, angle = shape.checked(point=(point, 3), axis=(axis, 3), angle=(angle, 1))

Errors are ``ValueError`` and name the argument and the expected shape, then say it again in
TensorFlow Graphics' words (so that code matching TFG's messages keeps working), e.g.
``axis must have shape [A1, ..., An, 3], got (2,): axis must have exactly 3 dimensions in axis
-1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

#: The shape of the inner (non-batch) dimensions: one int, a tuple of ints, or None (any).
Inner = int | tuple[int | None, ...] | None


def _inner_tuple(inner: Inner) -> tuple[int | None, ...]:
    if inner is None:
        return ()
    return (inner,) if isinstance(inner, int) else tuple(inner)


def _describe(inner: tuple[int | None, ...]) -> str:
    dims = ", ".join("?" if d is None else str(d) for d in inner)
    return f"[A1, ..., An, {dims}]" if dims else "[A1, ..., An]"


def _static_shape(tensor: tf.Tensor) -> tuple[int | None, ...] | None:
    shape = tensor.shape
    return None if shape.rank is None else tuple(shape.as_list())


def _float_dtype(values: dict[str, Any]) -> tf.DType:
    """The dtype of the first floating tensor or array among the arguments, else float32."""
    for value in values.values():
        dtype = getattr(value, "dtype", None)
        if dtype is None:
            continue
        dtype = tf.as_dtype(dtype)
        if dtype.is_floating:
            return dtype
    return tf.float32


def to_float(name: str, value: Any, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """``value`` as a floating tensor; Python numbers and lists are cast to ``dtype``.

    Raises:
        ValueError: when ``value`` is a tensor or array of a non-floating dtype (integers, bools),
            or of a floating dtype other than ``dtype``.
    """
    if isinstance(value, (tf.Tensor, tf.Variable, np.ndarray, np.generic)):
        given = tf.as_dtype(value.dtype)
        if not given.is_floating:
            raise ValueError(
                f"{name} must be a floating-point tensor (float32 or float64), got {given.name}"
            )
        if given != dtype:
            raise ValueError(
                f"{name} has dtype {given.name}, but the other arguments are {dtype.name}"
            )
        return tf.convert_to_tensor(value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric tensor, got {type(value).__name__}") from error
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a numeric tensor, got {array.dtype} values")
    return tf.convert_to_tensor(array, dtype=dtype)


def check_inner(name: str, tensor: tf.Tensor, inner: Inner) -> None:
    """Raises ``ValueError`` unless ``tensor``'s last dimensions are ``inner``."""
    dims = _inner_tuple(inner)
    if not dims:
        return
    shape = _static_shape(tensor)
    if shape is None:
        return
    expected = f"{name} must have shape {_describe(dims)}, got {shape}"
    if len(shape) < len(dims):
        # The second sentence repeats the wording of TensorFlow Graphics' shape checks.
        raise ValueError(
            f"{expected}: {name} must have a rank greater than {len(dims) - 1}, but it has "
            f"rank {len(shape)}"
        )
    for axis, want in zip(range(-len(dims), 0), dims, strict=True):
        have = shape[axis]
        if want is not None and have is not None and want != have:
            raise ValueError(
                f"{expected}: {name} must have exactly {want} dimensions in axis {axis}"
            )


def _known_shape(value: Any) -> tuple[int | None, ...] | None:
    """The static shape of a tensor, array or nested list; None when unknown or ragged."""
    if isinstance(value, (tf.Tensor, tf.Variable)):
        return _static_shape(value)
    try:
        return tuple(np.shape(value))
    except ValueError:
        return None


def check_same_last(first: str, first_value: Any, second: str, second_value: Any) -> None:
    """Raises ``ValueError`` unless the two values' last dimensions are equal (when known)."""
    have = [_known_shape(value) for value in (first_value, second_value)]
    if any(s is None or not s or s[-1] is None for s in have):
        return
    if have[0][-1] != have[1][-1]:
        raise ValueError(
            f"{first} and {second} must have the same last dimension, got shapes {have[0]} and "
            f"{have[1]}: {first} and {second} must have the same number of dimensions in axes -1"
        )


def batch_shape(tensor: tf.Tensor, inner: Inner) -> tuple[int | None, ...] | None:
    """The static batch dimensions of ``tensor`` (all but the ``inner`` ones), None if unknown."""
    shape = _static_shape(tensor)
    if shape is None:
        return None
    return shape[: len(shape) - len(_inner_tuple(inner))]


def check_broadcast(**batches: tuple[int | None, ...] | None) -> tuple[int | None, ...] | None:
    """The broadcast of named static batch shapes; ``ValueError`` naming the two that clash.

    Unknown dimensions (None) are treated as broadcastable with anything.
    """
    result: list[int | None] = []
    first: dict[int, str] = {}
    for name, batch in batches.items():
        if batch is None:
            continue
        for k, dim in enumerate(reversed(batch)):
            if k == len(result):
                result.append(dim)
                first[k] = name
                continue
            have = result[k]
            if dim is None or dim == 1 or have == dim:
                continue
            if have is None or have == 1:
                result[k] = dim
                first[k] = name
                continue
            raise ValueError(
                f"the batch dimensions of {first[k]} and {name} do not broadcast: "
                f"{have} vs {dim} (batch shapes must broadcast, as in NumPy). "
                "Not all batch dimensions are broadcast-compatible. "
                "Not all batch dimensions are identical."
            )
    return tuple(reversed(result))


def checked(**arguments: tuple[Any, Inner]) -> tuple[tf.Tensor, ...]:
    """Converts and checks each ``name=(value, inner_shape)``; returns the tensors in order.

    ``inner_shape`` is the expected last dimension (``3``), the last dimensions (``(3, 3)``) or
    ``None`` for any. All arguments get one floating dtype: the first floating tensor's, else
    float32. Batch dimensions (everything before the inner ones) must broadcast together.

    Raises:
        ValueError: naming the argument, for an integer or mixed dtype, a wrong inner shape, or
            batch dimensions that do not broadcast.
    """
    dtype = _float_dtype({name: value for name, (value, _) in arguments.items()})
    tensors = {}
    for name, (value, inner) in arguments.items():
        tensor = to_float(name, value, dtype)
        check_inner(name, tensor, inner)
        tensors[name] = tensor
    check_broadcast(
        **{name: batch_shape(tensors[name], inner) for name, (_, inner) in arguments.items()}
    )
    return tuple(tensors.values())


def image_size(value: Any, name: str = "image_size") -> tuple[int, int]:
    """``(height, width)`` as two Python ints >= 1; ``ValueError`` naming ``name`` otherwise."""
    try:
        height, width = (int(v) for v in value)
        whole = all(float(v) == int(v) and not isinstance(v, bool) for v in value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be (height, width), got {value!r}") from error
    if not whole or height < 1 or width < 1:
        raise ValueError(f"{name} must be (height, width), two positive integers, got {value!r}")
    return height, width


def broadcast_batch(*tensors_and_inner: tuple[tf.Tensor, Inner]) -> list[tf.Tensor]:
    """Broadcasts the batch dimensions of tensors whose inner shapes differ.

    For ops (like a cross product or a matrix product written with einsum) that need equal
    batch dimensions rather than broadcastable ones.
    """
    batch = None
    for tensor, inner in tensors_and_inner:
        shape = tf.shape(tensor)[: tf.rank(tensor) - len(_inner_tuple(inner))]
        batch = shape if batch is None else tf.broadcast_dynamic_shape(batch, shape)
    out = []
    for tensor, inner in tensors_and_inner:
        inner_dims = tf.shape(tensor)[tf.rank(tensor) - len(_inner_tuple(inner)) :]
        out.append(tf.broadcast_to(tensor, tf.concat([batch, inner_dims], axis=0)))
    return out


def broadcast_and_flatten(
    tensor: tf.Tensor,
    batch: tf.Tensor,
    inner_rank: int,
    inner_shape: list[Any] | None = None,
) -> tf.Tensor:
    """Broadcasts ``tensor``'s batch dimensions to ``batch``, then merges them into one.

    Args:
        tensor: `[A1, ..., An, *inner]`, with ``inner`` its last ``inner_rank`` dimensions and
            ``[A1, ..., An]`` broadcastable to ``batch``.
        batch: int32 `[m]` the batch shape to broadcast to (e.g. from
            ``tf.broadcast_dynamic_shape``).
        inner_rank: the number of inner (non-batch) dimensions.
        inner_shape: the inner dimensions of the result (``-1`` allowed, as in ``tf.reshape``);
            default ``inner`` unchanged. Python ints here stay known in the static shape even
            when ``tensor``'s rank is not (e.g. in a ``tf.function`` traced with relaxed shapes).

    Returns:
        `[prod(batch), *inner_shape]`: the broadcast tensor, batch dimensions flattened.
    """
    inner = tf.shape(tensor)[-inner_rank:] if inner_rank else tf.zeros([0], tf.int32)
    broadcast = tf.broadcast_to(tensor, tf.concat([batch, inner], axis=0))
    target = inner if inner_shape is None else tf.convert_to_tensor(inner_shape, tf.int32)
    return tf.reshape(broadcast, tf.concat([[tf.reduce_prod(batch)], target], axis=0))
