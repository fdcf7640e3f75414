"""Answers that only call the shipped reference are not answers: noticing them while grading.

``course_lib`` ships the implementation of everything its exercises ask for, and the grader
draws its expected values from it. An answer such as ``rotate = axis_angle.rotate``,
``lambda x: rotate(x)`` or ``functools.partial(rotate, ...)`` would otherwise score full marks.
Each exercise names its references (:attr:`course_lib.grading.exercise.Exercise.references`);
while the learner's object runs on a hidden case, :func:`watching` swaps the code of those
functions for a trampoline that records the call and runs the original. Aliases, wrappers,
partials, bound copies and imports under another name all end up calling the same function
object, so they are all seen; an answer that computes the values some other way (its own code,
even copied from the library's source) is an answer.

Only plain Python functions without a closure can be watched (the library's module-level
functions); anything else given as a reference raises ``TypeError`` when it is watched.
"""

from __future__ import annotations

import contextlib
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_LOCK = threading.Lock()


def _trampoline(*args, _course_reference_call=None, **kwargs):  # pragma: no cover - swapped in
    return _course_reference_call(args, kwargs)


def check_reference(reference: Any) -> types.FunctionType:
    """The function behind ``reference``; ``TypeError`` unless it can be watched."""
    function = getattr(reference, "__func__", reference)  # a bound method's function
    if not isinstance(function, types.FunctionType):
        raise TypeError(
            f"a reference must be a Python function, got {type(reference).__name__} ({reference!r})"
        )
    if function.__closure__:
        raise TypeError(f"a reference must not be a closure: {function.__qualname__}")
    return function


def reference_name(reference: Callable) -> str:
    """``module.qualname`` of a reference, as feedback names it."""
    function = getattr(reference, "__func__", reference)
    return f"{function.__module__}.{function.__qualname__}"


@contextlib.contextmanager
def watching(references: Iterable[Callable]) -> Iterator[list[str]]:
    """Records every call of ``references`` made inside the block; they still work as before.

    Yields:
        The list that receives the name (:func:`reference_name`) of each reference called, in
        call order (repeats included).

    Raises:
        TypeError: for a reference that is not a plain, closure-free Python function.
    """
    functions = list(dict.fromkeys(check_reference(r) for r in references))
    calls: list[str] = []
    saved = []
    with _LOCK:
        try:
            for function in functions:
                original = types.FunctionType(
                    function.__code__,
                    function.__globals__,
                    function.__name__,
                    function.__defaults__,
                    None,
                )
                original.__kwdefaults__ = function.__kwdefaults__
                original.__dict__.update(function.__dict__)
                name = reference_name(function)

                def call(args, kwargs, original=original, name=name):
                    calls.append(name)
                    return original(*args, **kwargs)

                saved.append(
                    (function, function.__code__, function.__defaults__, function.__kwdefaults__)
                )
                function.__code__ = _trampoline.__code__
                function.__defaults__ = None
                function.__kwdefaults__ = {"_course_reference_call": call}
            yield calls
        finally:
            for function, code, defaults, kwdefaults in saved:
                function.__code__ = code
                function.__defaults__ = defaults
                function.__kwdefaults__ = kwdefaults


class ReferenceBlocked(RuntimeError):
    """Raised by a reference that :func:`block` made unavailable (in a batch grading kernel)."""


def block(references: Iterable[Callable], calls: list[str]) -> None:
    """Makes ``references`` unusable for good: each call appends its name to ``calls`` and
    raises :class:`ReferenceBlocked`. Every route to the same function object is blocked;
    the original code is not kept anywhere.

    The batch grader does this in a learner's kernel before the notebook runs, for the
    exercises it grades there.

    Raises:
        TypeError: for a reference that is not a plain, closure-free Python function.
    """
    for function in dict.fromkeys(check_reference(r) for r in references):
        name = reference_name(function)

        def refuse(args, kwargs, name=name):
            calls.append(name)
            raise ReferenceBlocked(
                f"{name} is course_lib's version of this exercise: it cannot be used while "
                "the exercise is graded"
            )

        function.__code__ = _trampoline.__code__
        function.__defaults__ = None
        function.__kwdefaults__ = {"_course_reference_call": refuse}
