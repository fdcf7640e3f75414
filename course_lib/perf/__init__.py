"""Speed and scale: timing helpers for the benchmark suite (more modules by full path).

- :mod:`~course_lib.perf.benchmark`: ``time_callable``, ``compare`` (alternating, as a ratio
  against a reference in the same process), ``machine_summary`` and ``markdown_table``.
"""

from course_lib.perf.benchmark import (
    Comparison,
    Timing,
    compare,
    machine_summary,
    markdown_table,
    time_alternately,
    time_callable,
)

__all__ = [
    "Comparison",
    "Timing",
    "compare",
    "machine_summary",
    "markdown_table",
    "time_alternately",
    "time_callable",
]
