"""Timing helpers for the benchmark suite: medians, alternating comparisons, Markdown tables.

Speed is reported as a ratio against a reference measured in the same process, never as an
absolute time: ``compare(candidate, reference)`` calls the two alternately (A, B, A, B, ...)
after a warm-up, so a change in machine load hits both alike, and reports the ratio of their
medians. Nothing here imports TensorFlow.

>>> comparison = compare(lambda: sorted(range(1000)), lambda: list(range(1000)), repeats=5)
>>> comparison.row("sorted", "list")["reference"]
'list'
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import math
import os
import platform
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import Any

from course_lib import checks

__all__ = [
    "Comparison",
    "Timing",
    "compare",
    "machine_summary",
    "markdown_table",
    "time_alternately",
    "time_callable",
    "utc_now",
]


@dataclasses.dataclass(frozen=True)
class Timing:
    """Wall times of repeated calls to one callable.

    Attributes:
        median_s: the median of ``times_s``, in seconds.
        times_s: seconds taken by each timed call, in call order (warm-up calls excluded).
        repeats: the number of timed calls.
    """

    median_s: float
    times_s: list[float]
    repeats: int

    @classmethod
    def from_times(cls, times_s: Sequence[float]) -> Timing:
        """The timing of the given per-call seconds (at least one)."""
        if not times_s:
            raise ValueError("times_s must hold at least one time")
        times = [float(t) for t in times_s]
        return cls(median_s=statistics.median(times), times_s=times, repeats=len(times))

    @property
    def median_ms(self) -> float:
        """The median in milliseconds."""
        return 1000.0 * self.median_s

    def scaled(self, factor: float) -> Timing:
        """Every time multiplied by ``factor`` (e.g. to extrapolate from a smaller input)."""
        return Timing.from_times([t * factor for t in self.times_s])


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A candidate's timing against a reference's, measured alternately in one process.

    Attributes:
        candidate: the timing of the callable under study.
        reference: the timing of the baseline.
        ratio: candidate median / reference median (below 1: the candidate is faster).
        speedup: 1 / ratio (above 1: the candidate is faster).
    """

    candidate: Timing
    reference: Timing
    ratio: float = dataclasses.field(init=False)
    speedup: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        ratio = _safe_divide(self.candidate.median_s, self.reference.median_s)
        object.__setattr__(self, "ratio", ratio)
        object.__setattr__(self, "speedup", _safe_divide(1.0, ratio))

    def row(
        self,
        name: str,
        reference_name: str,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
    ) -> dict[str, Any]:
        """One row of a results table (the keys ``benchmarks/run.py`` expects).

        Args:
            name: what the candidate is.
            reference_name: what the reference is.
            at_most: goal: the ratio should be at most this (the candidate at least this fast).
            at_least: goal: the ratio should be at least this (e.g. a naive version's slowdown).

        Returns:
            ``name``, ``reference``, ``ratio``, ``candidate_ms``, ``reference_ms``, ``goal``
            (text, "" without one) and ``met`` (bool, ``None`` without a goal).
        """
        goals, met = [], None
        if at_most is not None:
            goals.append(f"≤ {at_most:g}")
            met = self.ratio <= at_most
        if at_least is not None:
            goals.append(f"≥ {at_least:g}")
            met = (met is not False) and self.ratio >= at_least
        return {
            "name": name,
            "reference": reference_name,
            "ratio": self.ratio,
            "candidate_ms": self.candidate.median_ms,
            "reference_ms": self.reference.median_ms,
            "goal": " and ".join(goals),
            "met": met,
        }


def _safe_divide(numerator: float, denominator: float) -> float:
    if denominator == 0.0:
        return float("inf") if numerator > 0.0 else float("nan")
    return numerator / denominator


def time_alternately(
    callables: Mapping[str, Callable[[], object]], *, warmup: int = 2, repeats: int = 10
) -> dict[str, Timing]:
    """Times several zero-argument callables in turn: one call each per round, ``repeats`` rounds.

    Each callable is first called ``warmup`` times (untimed, in the same interleaved order) to
    pay one-off costs such as imports, tracing and kernel selection.

    Args:
        callables: name -> zero-argument callable; called in the mapping's order.
        warmup: untimed rounds first, at least 0.
        repeats: timed rounds, at least 1.

    Returns:
        name -> its :class:`Timing`.

    Raises:
        TypeError: if ``callables`` is not a mapping, a value is not callable (the message names
            it) or ``warmup``/``repeats`` is not an int.
        ValueError: if ``callables`` is empty or ``warmup``/``repeats`` is out of range.
    """
    if not isinstance(callables, Mapping):
        raise TypeError(f"callables must be a mapping, got {type(callables).__name__}")
    if not callables:
        raise ValueError("callables must hold at least one callable")
    for name, fn in callables.items():
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    warmup = checks.non_negative_int("warmup", warmup)
    repeats = checks.positive_int("repeats", repeats)
    for _ in range(warmup):
        for fn in callables.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in callables}
    for _ in range(repeats):
        for name, fn in callables.items():
            start = perf_counter()
            fn()
            times[name].append(perf_counter() - start)
    return {name: Timing.from_times(values) for name, values in times.items()}


def time_callable(fn: Callable[[], object], *, warmup: int = 2, repeats: int = 10) -> Timing:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls.

    ``fn`` must finish its work before it returns (for TensorFlow, fetch a result with
    ``.numpy()`` where the op could run asynchronously, e.g. on a GPU).

    Raises:
        TypeError: if ``fn`` is not callable or ``warmup``/``repeats`` is not an int.
        ValueError: if ``warmup`` < 0 or ``repeats`` < 1.
    """
    return time_alternately({"fn": fn}, warmup=warmup, repeats=repeats)["fn"]


def compare(
    candidate: Callable[[], object],
    reference: Callable[[], object],
    *,
    warmup: int = 2,
    repeats: int = 10,
) -> Comparison:
    """Times ``candidate`` against ``reference``, alternately (A, B, A, B, ...) in this process.

    Both get ``warmup`` untimed calls first (also alternately), then ``repeats`` timed calls each.

    Raises:
        TypeError: if ``candidate`` or ``reference`` is not callable (the message names it), or
            ``warmup``/``repeats`` is not an int.
        ValueError: if ``warmup`` < 0 or ``repeats`` < 1.
    """
    timings = time_alternately(
        {"candidate": candidate, "reference": reference}, warmup=warmup, repeats=repeats
    )
    return Comparison(candidate=timings["candidate"], reference=timings["reference"])


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _tensorflow_version() -> str | None:
    module = sys.modules.get("tensorflow")
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)
    for distribution in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def machine_summary() -> str:
    """One line about where the numbers were measured: CPU, core count, OS, Python, NumPy, TF.

    Does not import TensorFlow (its version comes from the installed package's metadata when it
    has not been imported yet).
    """
    count = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = count
    cores = f"{count} logical CPUs" + (f" ({usable} usable)" if usable != count else "")
    parts = [
        f"{_cpu_model()}, {cores}",
        platform.platform(terse=True),
        f"Python {platform.python_version()}",
    ]
    try:
        parts.append(f"NumPy {importlib.metadata.version('numpy')}")
    except importlib.metadata.PackageNotFoundError:
        pass
    tf_version = _tensorflow_version()
    parts.append(f"TensorFlow {tf_version}" if tf_version else "TensorFlow not installed")
    return "; ".join(parts)


def utc_now() -> str:
    """The current date and time in UTC, to the minute (``2026-01-31 14:05 UTC``)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _three_digits(value: float) -> str:
    """About three significant digits, without exponents for everyday sizes (1234.5 -> 1235)."""
    size = abs(value)
    if not math.isfinite(value) or size == 0.0 or size >= 1e9 or size < 1e-3:
        return f"{value:.3g}"
    if size >= 99.95:
        return f"{value:.0f}"
    rounded = float(f"{value:.3g}")
    return f"{rounded:.{2 - math.floor(math.log10(abs(rounded)))}f}"


def _cell(value: Any, spec: str | None) -> str:
    if value is None:
        return ""
    if spec is not None and not isinstance(value, str):
        text = format(value, spec)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = _three_digits(value)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str | tuple[str, str]],
    *,
    formats: Mapping[str, str] | None = None,
) -> str:
    """A GitHub-flavoured Markdown table of ``rows``.

    Args:
        rows: one mapping per row; a missing key or ``None`` gives an empty cell.
        columns: the keys to show, in order; a ``(key, header)`` pair gives the column a header
            other than its key.
        formats: key -> format spec for that column's non-string values (``".2f"``); otherwise
            floats show about 3 significant digits (``0.123``, ``12.3``, ``1235``), booleans
            ``yes``/``no``, the rest ``str()``.

    Returns:
        The table, one line per row after the header and separator lines, no final newline.
        Columns whose values are all numbers (or empty) are right-aligned. ``|`` in a cell is
        escaped.

    Raises:
        TypeError: if ``rows`` holds something other than a mapping, or a column is neither a
            string nor a ``(key, header)`` pair.
        ValueError: if ``columns`` is empty.
    """
    if not columns:
        raise ValueError("columns must name at least one column")
    keys, headers = [], []
    for column in columns:
        if isinstance(column, str):
            key, header = column, column
        elif (
            isinstance(column, tuple)
            and len(column) == 2
            and all(isinstance(part, str) for part in column)
        ):
            key, header = column
        else:
            raise TypeError(f"columns must hold strings or (key, header) pairs, got {column!r}")
        keys.append(key)
        headers.append(header)
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{index}] must be a mapping, got {type(row).__name__}")
    formats = formats or {}

    def numeric(key: str) -> bool:
        values = [row.get(key) for row in rows if row.get(key) is not None]
        return bool(values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )

    lines = [
        "| " + " | ".join(_cell(h, None) for h in headers) + " |",
        "|" + "|".join("---:" if numeric(key) else "---" for key in keys) + "|",
    ]
    for row in rows:
        cells = [_cell(row.get(key), formats.get(key)) for key in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
