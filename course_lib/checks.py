"""Argument checks shared by every subpackage; each error names the argument.

No TensorFlow here, so NumPy-only modules (``conv``) use them too. ``bool`` is never accepted
as a number (``True`` is an ``int`` to Python, never a sensible count); NumPy scalars are.

- :func:`is_int`, :func:`is_real`: predicates, for code that branches on an argument's kind;
- :func:`integer`, :func:`positive_int`, :func:`non_negative_int`: an int, optionally bounded;
- :func:`integers`: a non-empty sequence of ints (layer widths, seeds), optionally bounded;
- :func:`real`, :func:`positive_float`: a finite float, optionally bounded;
- :func:`boolean`, :func:`one_of`: a flag, one of a few choices.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number (Python or NumPy; ints too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _bounds(name: str, value: Any, minimum: Any, maximum: Any) -> None:
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be in [{minimum}, {maximum}], got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")


def integer(
    name: str, value: object, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (either bound optional).

    Raises:
        TypeError: naming ``name``, if ``value`` is not an integer (or is a bool).
        ValueError: naming ``name``, if it is out of bounds.
    """
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    _bounds(name, value, minimum, maximum)
    return int(value)


def positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1; TypeError/ValueError naming ``name`` otherwise."""
    return integer(name, value, minimum=1)


def non_negative_int(name: str, value: object) -> int:
    """``value`` as an int >= 0 (a count that may be zero, a seed); errors name ``name``."""
    return integer(name, value, minimum=0)


def integers(name: str, values: object, minimum: int | None = None) -> tuple[int, ...]:
    """``values`` as a non-empty tuple of ints, each >= ``minimum`` (optional).

    Raises:
        ValueError: naming ``name``, if ``values`` is not a sequence, is empty, or holds
            anything but such ints.
    """
    try:
        items = tuple(values)  # type: ignore[arg-type]
    except TypeError as error:
        raise ValueError(f"{name} must be a sequence of ints, got {values!r}") from error
    if not items:
        raise ValueError(f"{name} must hold at least one int")
    for item in items:
        if not is_int(item):
            raise ValueError(f"{name} must hold ints, got {item!r}")
        _bounds(name, item, minimum, None)
    return tuple(int(item) for item in items)


def real(
    name: str, value: object, minimum: float | None = None, maximum: float | None = None
) -> float:
    """``value`` as a finite float in ``[minimum, maximum]`` (either bound optional).

    Raises:
        TypeError: naming ``name``, if ``value`` is not a real number (or is a bool).
        ValueError: naming ``name``, if it is NaN, infinite or out of bounds.
    """
    if not is_real(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    _bounds(name, value, minimum, maximum)
    return float(value)


def positive_float(name: str, value: object) -> float:
    """``value`` as a float > 0; TypeError/ValueError naming ``name`` otherwise."""
    if not is_real(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def boolean(name: str, value: object) -> bool:
    """``value`` if it is a bool (Python or NumPy); TypeError naming ``name`` otherwise."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def one_of(name: str, value: object, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``; ValueError naming ``name`` and listing them."""
    choices = tuple(choices)
    try:
        known = not isinstance(value, bool) and value in choices
    except (TypeError, ValueError):  # an array compared with strings, an unhashable value
        known = False
    if not known:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value
