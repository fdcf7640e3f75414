"""Optional value checks (ranges, non-zero sums), off by default, as in TensorFlow Graphics.

Shape and dtype errors are always raised (:mod:`course_lib.graphics.util.shape`). Checks on the
*values* of tensors cost a device-to-host round trip, so ops only add them when they are
switched on, the counterpart of TensorFlow Graphics' ``tfg_add_asserts_to_graph`` flag::

    from course_lib.graphics.util import asserts
    with asserts.enabled():
        weighted.interpolate(points, weights, indices)  # InvalidArgumentError if weights < 0

When on, a failed check raises ``tf.errors.InvalidArgumentError`` (eagerly at once; in a
``tf.function`` when the result is computed). Every check asks :func:`is_enabled` when the op is
called, so a test harness may replace that function (e.g. to follow TFG's absl flag).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import tensorflow as tf

_enabled = False


class InvalidValueError(tf.errors.InvalidArgumentError, ValueError):
    """A bad value found when the op is built (e.g. a negative spherical-harmonic degree).

    Raised at once, whether checks are on or not. It is a ``ValueError``, as every argument error
    of the course, and also TensorFlow's ``InvalidArgumentError``, which TensorFlow Graphics
    raises for the same input when its run-time checks are on; either ``except`` catches it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(None, None, message)

    def __reduce__(self):  # pickles (e.g. across processes) with its message alone
        return type(self), (self.message,)


def is_enabled() -> bool:
    """Whether ops add value checks."""
    return _enabled


def set_enabled(value: bool) -> None:
    """Switches value checks on or off for the whole process."""
    global _enabled
    _enabled = bool(value)


@contextlib.contextmanager
def enabled(value: bool = True) -> Iterator[None]:
    """Switches value checks on (or off, with ``value=False``) inside a ``with`` block."""
    previous = _enabled
    set_enabled(value)
    try:
        yield
    finally:
        set_enabled(previous)


def _checked(tensor: tf.Tensor, condition: tf.Tensor, message: str) -> tf.Tensor:
    check = tf.debugging.Assert(tf.reduce_all(condition), [message])
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def assert_all_above(
    tensor: tf.Tensor, minimum: float, name: str, open_bound: bool = False
) -> tf.Tensor:
    """``tensor`` unchanged; when checks are on, every value must be ``>= minimum``
    (``> minimum`` with ``open_bound``)."""
    if not is_enabled():
        return tensor
    above = tensor > minimum if open_bound else tensor >= minimum
    relation = ">" if open_bound else ">="
    return _checked(tensor, above, f"{name} must be {relation} {minimum}")


def assert_all_in_range(
    tensor: tf.Tensor, low: float, high: float, name: str, open_bounds: bool = False
) -> tf.Tensor:
    """``tensor`` unchanged; when checks are on, every value must lie in ``[low, high]``
    (``(low, high)`` with ``open_bounds``)."""
    if not is_enabled():
        return tensor
    if open_bounds:
        inside = tf.logical_and(tensor > low, tensor < high)
        interval = f"({low}, {high})"
    else:
        inside = tf.logical_and(tensor >= low, tensor <= high)
        interval = f"[{low}, {high}]"
    return _checked(tensor, inside, f"{name} must lie in {interval}")


def assert_nonzero(tensor: tf.Tensor, name: str) -> tf.Tensor:
    """``tensor`` unchanged; when checks are on, no value may be zero."""
    if not is_enabled():
        return tensor
    return _checked(tensor, tf.not_equal(tensor, 0.0), f"{name} must not be zero")


def assert_normalized(tensor: tf.Tensor, name: str, atol: float = 1e-3) -> tf.Tensor:
    """``tensor`` unchanged; when checks are on, every `[..., D]` vector must have unit length
    within ``atol``."""
    if not is_enabled():
        return tensor
    length = tf.norm(tensor, axis=-1)
    return _checked(tensor, tf.abs(length - 1.0) <= atol, f"{name} must have unit length")


def assert_that(tensor: tf.Tensor, condition: Callable[[], tf.Tensor], message: str) -> tf.Tensor:
    """``tensor`` unchanged; when checks are on, ``condition()`` (computed only then) must hold
    everywhere."""
    if not is_enabled():
        return tensor
    return _checked(tensor, condition(), message)
