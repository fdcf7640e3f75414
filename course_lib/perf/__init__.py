"""Speed and scale: timing helpers for the benchmark suite (more modules by full path).

- :mod:`~course_lib.perf.benchmark`: ``time_callable``, ``compare`` (alternating, as a ratio
  against a reference in the same process), ``machine_summary`` and ``markdown_table``.
- :mod:`~course_lib.perf.distribute` (strategies, training under them),
  :mod:`~course_lib.perf.workers` (local multi-worker clusters) and
  :mod:`~course_lib.perf.projector` (TensorBoard logs) import TensorFlow when used.
"""

from course_lib.perf import benchmark
from course_lib.perf.benchmark import *  # noqa: F403 - the names of benchmark.__all__

__all__ = list(benchmark.__all__)
