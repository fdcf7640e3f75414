"""Pieces that exercise modules share: cases from a reference, feedback that names a mistake.

An exercise module draws its settings, lets :func:`reference_cases` compute what each case
expects, and declares the mistakes it recognizes, explanation -> wrong answer, for
:func:`~course_lib.grading.exercise.define` to explain a wrong answer with::

    define(TOPIC, "project", cases, mistakes={"not divided by z": lambda p: p[..., :2]}, ...)

A wrong answer is a function called as the learner's is (float arrays as float64), or a
:class:`Mistake` where it needs more: the whole case, several wrong answers for one
explanation, recognition by shape or by a property of the result, numbers in the text.

- :func:`reference_cases`: one :class:`Case` per setting, expecting the reference's value;
- :func:`numeric_compare`: a ``compare`` that adds an exercise's guess at the mistake to
  :func:`~course_lib.grading.check.compare_values`' message;
- :func:`mistake_explainer`: that guess, from the declared mistakes (:class:`Mistake`;
  :func:`other_shape`, :func:`not_finite` and :func:`shapes` for the common ones);
  :func:`wrong_answers`, :func:`first_match` and :func:`exact_mistake` for a ``compare`` of
  its own that reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from course_lib.grading.check import compare_values, float_array, matches, numeric_array
from course_lib.grading.exercise import Case

#: ``explain(have, case)``: the learner's result as float64 (numeric, and not what the case
#: expects) -> what the mistake seems to be, or ``None``.
Explain = Callable[[np.ndarray, Case], str | None]
#: ``match(have, case)``: whether the learner's result (float64) shows a mistake.
Match = Callable[[np.ndarray, Case], bool]


class Mistake:
    """A known mistake, for :attr:`Exercise.mistakes <course_lib.grading.exercise.Exercise>`
    where a plain function of the arguments does not say it all.

    ``{"explanation": wrong}`` is ``{"explanation": Mistake(wrong)}``.

    Args:
        *wrongs: the wrong answers a learner with this mistake returns, any of which is
            recognized; each returns ``None`` on a case where the mistake cannot happen.
        uses: how a wrong answer is called: ``"args"``, as the learner's function,
            ``wrong(*args, **kwargs)`` with float arrays and tensors as float64 NumPy arrays
            (other arrays as NumPy arrays, other arguments as they are); ``"case"``,
            ``wrong(case)``, for one that needs the case's expected value.
        match: how the learner's result ``have`` (float64) is recognized: ``"values"``, it
            has a wrong answer's shape and values (within the case's tolerances); ``"shape"``,
            its shape alone (one that is not the expected shape); or
            ``match(have, case) -> bool``, a property of the result (NaN, weights that do not
            sum to 1), of which the wrong answers are examples (for the tests; grading does not
            compute them).
        fields: ``fields(have, case) -> mapping`` filling the explanation's ``{name}`` fields
            (with :meth:`str.format`); without it the explanation is shown as it is.
    """

    __slots__ = ("fields", "match", "uses", "wrongs")

    def __init__(
        self,
        *wrongs: Callable[..., Any],
        uses: str = "args",
        match: str | Match = "values",
        fields: Callable[[np.ndarray, Case], Mapping[str, Any]] | None = None,
    ) -> None:
        if not wrongs or not all(callable(w) for w in wrongs):
            raise TypeError("a Mistake needs at least one wrong answer, a function")
        if uses not in ("args", "case"):
            raise ValueError(f"uses must be 'args' or 'case', got {uses!r}")
        if not callable(match) and match not in ("values", "shape"):
            raise ValueError(f"match must be 'values', 'shape' or a function, got {match!r}")
        self.wrongs, self.uses, self.match, self.fields = tuple(wrongs), uses, match, fields

    def __repr__(self) -> str:
        names = ", ".join(getattr(w, "__qualname__", repr(w)) for w in self.wrongs)
        return f"Mistake({names}, uses={self.uses!r}, match={self.match!r})"

    def answer(self, index: int, case: Case, args: Sequence[Any] | None = None) -> Any:
        """The ``index``-th wrong answer on ``case`` (``None`` where it does not apply);
        ``args``: the case's arguments as wrong answers take them, when already made."""
        wrong = self.wrongs[index]
        if self.uses == "case":
            return wrong(case)
        return wrong(*(mistake_args(case) if args is None else args), **case.kwargs)

    def answers(self, case: Case, args: Sequence[Any] | None = None) -> Iterator[Any]:
        """The wrong answers on ``case`` that apply to it, computed one at a time."""
        if self.uses == "args" and args is None:
            args = mistake_args(case)
        for index in range(len(self.wrongs)):
            wrong = self.answer(index, case, args)
            if wrong is not None:
                yield wrong

    def recognizes(self, have: np.ndarray, case: Case, args: Sequence[Any] | None = None) -> bool:
        """Whether the learner's result ``have`` (float64) shows this mistake."""
        if callable(self.match):
            return bool(self.match(have, case))
        with np.errstate(all="ignore"):  # wrong answers may divide by zero
            if self.match == "shape":
                if not other_shape(have, case):
                    return False
                return any(have.shape == np.shape(wrong) for wrong in self.answers(case, args))
            wrongs = self.answers(case, args)
            return any(matches(have, wrong, case.rtol, case.atol) for wrong in wrongs)

    def explanation(self, text: str, have: np.ndarray, case: Case) -> str:
        """``text`` with its fields filled for this result and case."""
        return text.format(**self.fields(have, case)) if self.fields else text


def other_shape(have: np.ndarray, case: Case) -> bool:
    """A :class:`Mistake`'s ``match``: the result does not have the expected shape."""
    return have.shape != np.shape(case.expected)


def not_finite(have: np.ndarray, case: Case) -> bool:
    """A :class:`Mistake`'s ``match``: the result holds NaN or an infinity."""
    return not bool(np.all(np.isfinite(have)))


def shapes(have: np.ndarray, case: Case) -> dict[str, tuple[int, ...]]:
    """A :class:`Mistake`'s ``fields``: ``{have}``, the result's shape, and ``{want}``, the
    expected one (e.g. ``"return [H, W] = {want}"``)."""
    return {"have": have.shape, "want": np.shape(case.expected)}


def as_mistake(declared: Callable[..., Any] | Mistake) -> Mistake:
    """A declared mistake as a :class:`Mistake`: a plain function is ``Mistake(function)``."""
    return declared if isinstance(declared, Mistake) else Mistake(declared)


def mistake_args(case: Case) -> tuple[Any, ...]:
    """The case's arguments as wrong answers get them: float arrays and tensors as float64
    NumPy arrays, other arrays and tensors as NumPy arrays, anything else as it is."""
    converted = []
    for value in case.args:
        if hasattr(value, "numpy") and callable(value.numpy):
            value = value.numpy()
        if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
            value = np.asarray(value, dtype=np.float64)
        converted.append(value)
    return tuple(converted)


def reference_cases(
    settings: Iterable[Sequence[Any]],
    reference: Callable[..., Any],
    *,
    hint: str,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> list[Case]:
    """One case per ``(*args, description)`` of ``settings``, expecting ``reference(*args)``.

    A tensor that the reference returns is stored as its NumPy value.
    """
    cases = []
    for *args, description in settings:
        expected = reference(*args)
        if hasattr(expected, "numpy") and callable(expected.numpy):
            expected = expected.numpy()
        cases.append(
            Case(
                description=description,
                args=tuple(args),
                expected=expected,
                hint=hint,
                rtol=rtol,
                atol=atol,
            )
        )
    return cases


def numeric_compare(
    explain: Explain, *, as_floats: bool = True
) -> Callable[[Any, Case], str | None]:
    """A ``compare`` for :class:`~course_lib.grading.exercise.Exercise`: ``compare_values``'
    message, followed by ``explain``'s guess in parentheses when it has one.

    Args:
        explain: called only when the learner's result is numeric and differs.
        as_floats: judge the learner's numbers by their values: as float64 where the case
            expects floats (an integer or float32 answer is fine), as integers where it expects
            integers and they are whole, as booleans where it expects booleans and they are
            0 and 1; ``False``: as returned, so that a dtype of another kind is a difference too.
    """

    def compare(got: Any, case: Case) -> str | None:
        have = float_array(got)
        shown = by_value(got, case.expected) if as_floats and have is not None else got
        message = compare_values(shown, case.expected, case.rtol, case.atol)
        if message is None or have is None:
            return message
        explanation = explain(have, case)
        return f"{message} ({explanation})" if explanation else message

    return compare


def by_value(got: Any, expected: Any) -> Any:
    """A learner's numbers as the kind of numbers ``expected`` holds, where their values allow:
    float64 for floats (or when ``expected`` is not one array), whole numbers as int64 for
    integers, 0 and 1 as booleans for booleans; anything else as it is."""
    array = numeric_array(got)
    if array is None:
        return got
    want = numeric_array(expected)
    kind = "f" if want is None else want.dtype.kind
    if kind == "b":
        zero_one = array.dtype.kind in "iu" and bool(np.isin(array, (0, 1)).all())
        return array.astype(bool) if zero_one else array
    if kind in "iu":
        whole = array.dtype.kind == "f" and bool(np.all(np.isfinite(array)))
        return array.astype(np.int64) if whole and np.all(array == np.round(array)) else array
    return array.astype(np.float64)


def first_match(
    have: np.ndarray, candidates: Iterable[tuple[Any, str]], rtol: float, atol: float
) -> str | None:
    """The explanation of the first ``(wrong answer, explanation)`` whose answer ``have``
    matches (:func:`~course_lib.grading.check.matches`); ``None`` if none does."""
    with np.errstate(all="ignore"):  # wrong answers may divide by zero
        for wrong, explanation in candidates:
            if matches(have, wrong, rtol, atol):
                return explanation
    return None


def mistake_explainer(mistakes: Mapping[str, Callable[..., Any] | Mistake]) -> Explain:
    """An ``explain`` for :func:`numeric_compare`: the explanation of the first of ``mistakes``
    (explanation -> wrong answer or :class:`Mistake`) that the learner's result shows, in
    their order; a wrong answer is a function of the case's arguments (float arrays as
    float64) by default, recognized within the case's tolerances."""
    declared = [(text, as_mistake(mistake)) for text, mistake in mistakes.items()]

    def explain(have: np.ndarray, case: Case) -> str | None:
        args = None
        for text, mistake in declared:
            if args is None and mistake.uses == "args" and not callable(mistake.match):
                args = mistake_args(case)
            if mistake.recognizes(have, case, args):
                return mistake.explanation(text, have, case)
        return None

    return explain


def wrong_answers(
    mistakes: Mapping[str, Callable[..., Any] | Mistake], case: Case
) -> Iterator[tuple[Any, str]]:
    """``(wrong answer, explanation)`` for each wrong answer of ``mistakes`` recognized by its
    values (``match="values"``) that applies to ``case``, in order and one at a time: for a
    ``compare`` of its own (answers of several parts, numbers that are not arrays) to recognize
    them its way, e.g. with :func:`first_match` (which also silences NumPy's warnings while it
    computes them)."""
    args = None
    for text, declared in mistakes.items():
        mistake = as_mistake(declared)
        if mistake.match != "values":
            continue
        if args is None and mistake.uses == "args":
            args = mistake_args(case)
        for wrong in mistake.answers(case, args):
            yield wrong, text


def exact_mistake(
    value: Any, mistakes: Mapping[str, Callable[..., Any] | Mistake], case: Case
) -> str | None:
    """The explanation of the first of ``mistakes`` whose wrong answer is ``value`` exactly,
    for a ``compare`` of answers that are counts or sizes (an int, a tuple of them)."""
    return first_match(np.asarray(value, np.float64), wrong_answers(mistakes, case), 0.0, 0.0)


def bilinear_variant(
    image: np.ndarray,
    pixels: np.ndarray,
    *,
    shift: float = 0.5,
    nearest: bool = False,
    zero_border: bool = False,
    swap: bool = False,
) -> np.ndarray:
    """Bilinear samples `[..., C]` of ``image`` `[H, W, C]` at ``pixels`` `[..., 2]` (x, y; no
    masking), in float64, with the variants learners' mistakes follow.

    The default samples between pixel centres (``shift`` 0.5) and clamps to the border pixels;
    ``shift=0`` treats pixel corners as the samples, ``nearest`` rounds instead of
    interpolating, ``zero_border`` reads zeros outside the image instead of clamping, ``swap``
    exchanges rows and columns. Shared by the exercise modules that grade warps and
    unprojections.
    """
    height, width = image.shape[:2]
    pixels = np.nan_to_num(pixels, nan=0.0, posinf=1e9, neginf=-1e9)
    col, row = pixels[..., 0] - shift, pixels[..., 1] - shift
    if swap:
        col, row = row, col
    if nearest:
        r = np.clip(np.floor(row + shift), 0, height - 1).astype(int)
        c = np.clip(np.floor(col + shift), 0, width - 1).astype(int)
        return image[r, c]
    if not zero_border:
        col, row = np.clip(col, 0, width - 1), np.clip(row, 0, height - 1)
    col, row = np.clip(col, -2, width + 1), np.clip(row, -2, height + 1)
    c0, r0 = np.floor(col), np.floor(row)
    wc, wr = (col - c0)[..., None], (row - r0)[..., None]
    result = 0.0
    for dr, dc, weight in ((0, 0, (1 - wr) * (1 - wc)), (0, 1, (1 - wr) * wc),
                           (1, 0, wr * (1 - wc)), (1, 1, wr * wc)):  # fmt: skip
        r, c = (r0 + dr).astype(int), (c0 + dc).astype(int)
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        if not zero_border:
            inside = np.ones_like(inside)
        value = image[np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)]
        result = result + weight * value * inside[..., None]
    return result
