"""Argument checks shared by the basics modules (each error names the argument)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.checks import positive_float, positive_int  # noqa: F401 - re-exported


def float_tensor(name: str, value: object, ndim: int | None = None) -> tf.Tensor:
    """``value`` as a float32 tensor, optionally of rank ``ndim``."""
    try:
        tensor = tf.convert_to_tensor(value, dtype_hint=tf.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be array-like numbers: {error}") from None
    if not tensor.dtype.is_floating:
        tensor = tf.cast(tensor, tf.float32)
    if ndim is not None and tensor.shape.rank != ndim:
        raise ValueError(f"{name} must have rank {ndim}, got shape {tensor.shape.as_list()}")
    return tensor


def _length(array: object) -> int:
    shape = getattr(array, "shape", None)
    shape = tuple(shape) if shape is not None else np.shape(array)
    if not shape:
        raise ValueError("expected an array with a first (example) dimension, got a scalar")
    return int(shape[0])


def same_length(**arrays: object) -> int:
    """The common first dimension of the named arrays; ValueError naming them when they differ."""
    lengths = {name: _length(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = " and ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"{' and '.join(lengths)} must have the same length: {described}")
    return next(iter(lengths.values()))
