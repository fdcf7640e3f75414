"""Eager calls of the rasterizer's ops run compiled: one relaxed-shape ``tf.function`` each."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def compile_for_eager(function: Callable[..., object]) -> tf.types.experimental.GenericFunction:
    """``function`` as a ``tf.function`` for eager calls: shapes relax after a second trace.

    A new dtype, batch rank or Python option still traces (at most twice each), which is
    expected here, so TensorFlow's "frequent retracing" warning is turned off for it.
    """
    compiled = tf.function(function, reduce_retracing=True, autograph=False)
    compiled._omit_frequent_tracing_warning = True  # noqa: SLF001 (TensorFlow has no public switch)
    return compiled
