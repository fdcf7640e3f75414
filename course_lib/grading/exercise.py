"""Exercises: hidden cases drawn from the reference implementation, and where they are found.

An exercise is data (:class:`Exercise`, made by :func:`define`); a module exports its exercises
in ``EXERCISES``, and :func:`get_exercise` / :func:`list_exercises` read them from the package's
topic modules and the modules named in ``COURSE_EXERCISE_MODULES``. Nothing is registered:
the only state is Python's module cache."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.grading.reference import check_reference

if TYPE_CHECKING:
    from course_lib.grading.cases import Mistake


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
            :func:`define` makes it from ``mistakes`` when it is not given.
        title: a short human title.
        max_score: points for passing every case; the score is proportional to cases passed.
        hint: shown when a failing case has no hint of its own.
        references: the library functions the answer must not call (those the expected values
            come from); an answer that calls one, however it reaches it, scores 0 with the
            status ``uses_reference`` (see :mod:`course_lib.grading.reference`).
        mistakes: the mistakes the feedback recognizes, in the order they are tried:
            explanation -> the wrong answer, a function called as the learner's is (float
            arrays as float64), or a :class:`~course_lib.grading.cases.Mistake` where that does
            not say it all. The first the learner's result shows is added to the message in
            parentheses; ``tests/test_exercises_common.py`` proves each one recognized. Empty
            when the feedback names no mistake, or names them otherwise.
    """

    id: str
    target: str
    make_cases: Callable[[np.random.Generator], Sequence[Case]]
    run_case: Callable[[Any, Case], Any] | None = None
    compare: Callable[[Any, Case], str | None] | None = None
    title: str = ""
    max_score: float = 1.0
    hint: str = ""
    references: tuple[Callable, ...] = ()
    mistakes: dict[str, Callable[..., Any] | Mistake] = dataclasses.field(default_factory=dict)

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]


#: Comma-separated importable modules with more exercises (an instructor's own), each exporting
#: ``EXERCISES`` like ``course_lib/grading/exercises/<topic>.py``.
MODULES_ENV = "COURSE_EXERCISE_MODULES"


def check_id(exercise_id: str) -> str:
    """``exercise_id`` when it reads ``"<topic>.<name>"`` (two identifiers).

    Raises:
        ValueError: if it does not.
    """
    parts = str(exercise_id).split(".")
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"exercise id must look like '<topic>.<name>', got {exercise_id!r}")
    return exercise_id


def define(
    topic: str,
    name: str,
    make_cases: Callable[[np.random.Generator], Sequence[Case]],
    compare: Callable[[Any, Case], str | None] | None = None,
    *,
    title: str,
    run_case: Callable[[Any, Case], Any] | None = None,
    target: str | None = None,
    references: Sequence[Callable] = (),
    mistakes: Mapping[str, Callable[..., Any] | Mistake] | None = None,
    as_floats: bool = True,
) -> Exercise:
    """The exercise ``"<topic>.<name>"`` (a module lists it in its ``EXERCISES``); its target is
    ``name`` unless given.

    The other arguments are :class:`Exercise`'s fields of the same names. Given ``mistakes``
    and no ``compare``, the compare is
    ``numeric_compare(mistake_explainer(mistakes), as_floats=as_floats)`` (see
    :mod:`course_lib.grading.cases`); a ``compare`` of its own may use them too.
    """
    mistakes = dict(mistakes or {})
    if mistakes and compare is None:
        # cases imports this module (for Case), so it is imported here, not at the top
        from course_lib.grading.cases import mistake_explainer, numeric_compare

        compare = numeric_compare(mistake_explainer(mistakes), as_floats=as_floats)
    exercise = Exercise(
        id=check_id(f"{topic}.{name}"),
        target=name if target is None else target,
        make_cases=make_cases,
        run_case=run_case,
        compare=compare,
        title=title,
        references=tuple(references),
        mistakes=mistakes,
    )
    for reference in exercise.references:
        check_reference(reference)
    return exercise


def extra_modules() -> list[str]:
    """The module names listed in ``COURSE_EXERCISE_MODULES``."""
    return [name.strip() for name in os.environ.get(MODULES_ENV, "").split(",") if name.strip()]


@functools.lru_cache(maxsize=1)
def _package_topics() -> list[str]:
    from course_lib.grading import exercises

    return sorted(info.name for info in pkgutil.iter_modules(exercises.__path__))


def module_exercises(module: str, listed_in_env: bool = False) -> dict[str, Exercise]:
    """The exercises a module exports in ``EXERCISES``, by id (importing it once).

    Raises:
        ImportError: if the module cannot be imported (naming ``COURSE_EXERCISE_MODULES`` when
            it was listed there).
        TypeError: if ``EXERCISES`` is missing or holds something that is not an Exercise.
        ValueError: if an id is malformed or appears twice.
    """
    try:
        loaded = importlib.import_module(module)
    except ImportError as error:
        if not listed_in_env:
            raise
        raise ImportError(
            f"{MODULES_ENV} names {module!r}, which cannot be imported: {error}"
        ) from error
    listed = getattr(loaded, "EXERCISES", None)
    if not isinstance(listed, (list, tuple)) or not all(isinstance(e, Exercise) for e in listed):
        raise TypeError(f"{module} must export EXERCISES, a tuple of Exercise")
    found: dict[str, Exercise] = {}
    for exercise in listed:
        if check_id(exercise.id) in found:
            raise ValueError(f"exercise {exercise.id!r} is defined twice in {module}")
        found[exercise.id] = exercise
    return found


def _known(topic: str | None = None) -> dict[str, Exercise]:
    """Every exercise of the package's topic modules (only ``topic``'s when given, so that
    grading one topic imports no other's dependencies) and of ``COURSE_EXERCISE_MODULES``.

    Nothing is kept here: imported modules are Python's to cache.
    """
    topics = _package_topics()
    names = topics if topic is None else [t for t in topics if t == topic]
    sources = [(f"course_lib.grading.exercises.{t}", False) for t in names]
    sources += [(name, True) for name in extra_modules()]
    known: dict[str, Exercise] = {}
    for module, listed_in_env in sources:
        for exercise_id, exercise in module_exercises(module, listed_in_env).items():
            if exercise_id in known:
                raise ValueError(f"exercise {exercise_id!r} is defined twice (again in {module})")
            known[exercise_id] = exercise
    return known


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id.

    Only the module of the id's topic (and ``COURSE_EXERCISE_MODULES``) is imported when that
    suffices, so grading one topic does not import every other topic's dependencies.

    Raises:
        TypeError: if ``exercise_id`` is not a string.
        KeyError: if no exercise has this id (the message lists the known ones of its topic).
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str, got {type(exercise_id).__name__}")
    topic = exercise_id.split(".", 1)[0]
    known = _known(topic)
    if exercise_id not in known:
        known = _known()
    if exercise_id not in known:
        near = sorted(i for i in known if i.startswith(topic + ".")) or sorted(known)
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {', '.join(near)}")
    return known[exercise_id]


def list_exercises(topic: str | None = None) -> list[str]:
    """Ids of all exercises, optionally only those of one topic, sorted."""
    return sorted(i for i in _known(topic) if topic is None or i.split(".", 1)[0] == topic)


def list_topics() -> list[str]:
    """Topics with exercises: the package's exercise modules and the extra modules' topics."""
    extra = {i.split(".", 1)[0] for m in extra_modules() for i in module_exercises(m, True)}
    return sorted(set(_package_topics()) | extra)
