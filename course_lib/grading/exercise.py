"""Exercises: hidden cases drawn from the reference implementation, and the registry of ids."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


@dataclasses.dataclass
class Case:
    """One hidden test case.

    Attributes:
        description: how the case reads in feedback, e.g. ``"x=[[1, 2], [3, 4]]"``.
        args: positional arguments passed to the learner's object.
        kwargs: keyword arguments passed to the learner's object.
        expected: the reference answer, computed by ``course_lib`` (never a stored literal).
        hint: shown when this case fails.
        rtol: relative tolerance for numeric comparison.
        atol: absolute tolerance for numeric comparison.
    """

    description: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    expected: Any = None
    hint: str = ""
    rtol: float = 1e-5
    atol: float = 1e-6


@dataclasses.dataclass
class Exercise:
    """An auto-graded exercise.

    Attributes:
        id: ``"<topic>.<name>"``, stable across chapter reordering.
        target: the name the learner's notebook defines (function, class or value); the batch
            grader looks it up in the notebook's namespace.
        make_cases: draws the hidden cases from a seeded generator with the reference code.
        run_case: calls the learner's object on one case and returns what it produced; the
            default calls ``obj(*case.args, **case.kwargs)``.
        compare: returns ``None`` when ``got`` matches ``case``, else a message saying what
            differs; the default compares shape, dtype kind and values (see ``check``).
        title: a short human title.
        max_score: points for passing every case; the score is proportional to cases passed.
    """

    id: str
    target: str
    make_cases: Callable[[np.random.Generator], Sequence[Case]]
    run_case: Callable[[Any, Case], Any] | None = None
    compare: Callable[[Any, Case], str | None] | None = None
    title: str = ""
    max_score: float = 1.0

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def register(exercise: Exercise) -> Exercise:
    """Adds an exercise to the registry.

    Raises:
        ValueError: if the id is not ``"<topic>.<name>"`` or is registered twice.
    """
    parts = exercise.id.split(".")
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"exercise id must look like '<topic>.<name>', got {exercise.id!r}")
    if exercise.id in _REGISTRY:
        raise ValueError(f"exercise {exercise.id!r} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    from course_lib.grading import exercises

    for info in pkgutil.iter_modules(exercises.__path__):
        importlib.import_module(f"{exercises.__name__}.{info.name}")
    _LOADED = True


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise with this id.

    Raises:
        TypeError: if ``exercise_id`` is not a string.
        KeyError: if no exercise has this id (the message lists the known ones of its topic).
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str, got {type(exercise_id).__name__}")
    _load_all()
    if exercise_id not in _REGISTRY:
        topic = exercise_id.split(".", 1)[0]
        near = sorted(i for i in _REGISTRY if i.startswith(topic + ".")) or sorted(_REGISTRY)
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {', '.join(near)}")
    return _REGISTRY[exercise_id]


def list_exercises(topic: str | None = None) -> list[str]:
    """Ids of all registered exercises, optionally only those of one topic, sorted."""
    _load_all()
    return sorted(i for i in _REGISTRY if topic is None or i.split(".", 1)[0] == topic)
