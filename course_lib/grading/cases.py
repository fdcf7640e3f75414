"""Pieces that exercise modules share: cases from a reference, feedback that names a mistake.

An exercise module draws its settings, lets :func:`reference_cases` compute what each case
expects, and explains a wrong answer by recognizing it::

    compare = numeric_compare(mistake_explainer({"not divided by z": lambda p: p[..., :2]}))

- :func:`reference_cases`: one :class:`Case` per setting, expecting the reference's value;
- :func:`numeric_compare`: a ``compare`` that adds an exercise's guess at the mistake to
  :func:`~course_lib.grading.check.compare_values`' message;
- :func:`first_match`, :func:`mistake_explainer`: that guess, from known wrong answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from course_lib.grading.check import compare_values, float_array, matches
from course_lib.grading.exercise import Case

#: ``explain(have, case)``: the learner's result as float64 (numeric, and not what the case
#: expects) -> what the mistake seems to be, or ``None``.
Explain = Callable[[np.ndarray, Case], str | None]


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
        as_floats: compare the learner's numbers as float64, so that an integer or float32
            answer is judged by its values; ``False``: as returned, so that a dtype of another
            kind is a difference too.
    """

    def compare(got: Any, case: Case) -> str | None:
        have = float_array(got)
        shown = have if as_floats and have is not None else got
        message = compare_values(shown, case.expected, case.rtol, case.atol)
        if message is None or have is None:
            return message
        explanation = explain(have, case)
        return f"{message} ({explanation})" if explanation else message

    return compare


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


def mistake_explainer(mistakes: Mapping[str, Callable[..., Any]]) -> Explain:
    """An ``explain`` for :func:`numeric_compare`: the first of ``mistakes`` (explanation ->
    the wrong answer, a function of the case's arguments as float64 arrays) that reproduces the
    learner's result, within the case's tolerances."""

    def explain(have: np.ndarray, case: Case) -> str | None:
        args = [np.asarray(a, dtype=np.float64) for a in case.args]
        candidates = ((mistake(*args), text) for text, mistake in mistakes.items())
        return first_match(have, candidates, case.rtol, case.atol)

    return explain


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
