"""Argument checks shared across course_lib; each error names the argument. No TensorFlow here,
so NumPy-only modules (``conv``) can use them."""

from __future__ import annotations

import numbers


def positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1; TypeError/ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def positive_float(name: str, value: object) -> float:
    """``value`` as a float > 0; TypeError/ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)
