"""How long does a workshop's gradebook take? 30 submissions of one topic through ``course grade``.

Run: ``python benchmarks/bench_grading.py [--topic tensors_and_gradients] [--jobs N]``. Prints a
Markdown table; ``benchmarks/run.py`` calls :func:`run` for the suite's table (issue 17).

The submissions are made from the topic's own notebooks, as learners hand them in:

- 10 correct (the solution notebook, each with a scratch cell of its own);
- 10 partly wrong (the solution with one answer redefined to return zeros, a different one in
  turn, so each loses one exercise);
- 5 unsolved (the generated exercise notebook);
- 5 hostile: a cell that rewrites the grader in its kernel and forges an answer record; an
  answer that loops forever; an answer that calls the library's reference; a cell that
  allocates past the memory limit after the answers (the kernel is killed and the notebook
  rerun without that cell); ``os._exit`` after the answers.

They are graded twice by :func:`course_lib.grading.batch.grade_submissions` with the same seed
and limits (``--timeout 120 --grade-timeout 10 --memory-mb 2048``): ``jobs`` at once (the
candidate; default the number of cores) and one at a time (the reference). The rows must agree
exactly; the goal (the issue's) is the whole parallel batch in at most 120 s on this 2-core
machine. Each row's ``ratio`` is candidate / reference wall time.

This is not a test: it never fails, it reports.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib.grading import batch, get_exercise, list_exercises
from course_lib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 120.0
LIMITS = Limits(timeout=120.0, grade_timeout=10.0, memory_mb=2048.0)
_MONKEYPATCH = """import sys
import course_lib.grading.inkernel as inkernel
import course_lib.grading.transport as transport
sys.modules["course_lib.grading.check"].judge = lambda *args, **kwargs: None
inkernel.answer_into = lambda exercise_id, inputs, outputs: transport.dump(
    {"kind": "ran", "outcomes": [], "status": "passed"}, outputs
)
print("✓ all cases passed")"""


def _code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def make_submissions(folder: Path, topic: str) -> list[Path]:
    """Writes the 30 notebooks of the module docstring into ``folder``; returns their paths."""
    solution = nbformat.read(ROOT / "solutions" / f"{topic}.ipynb", as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{topic}.ipynb", as_version=4)
    ids = list_exercises(topic)
    targets = [get_exercise(i).target for i in ids]
    first = targets[0]
    module, reference = _reference_of(ids[0])
    notebooks: dict[str, nbformat.NotebookNode] = {}
    for n in range(10):
        nb = nbformat.from_dict(solution)
        nb.cells.append(_code(f"print('scratch work {n}')"))
        notebooks[f"correct{n:02d}_{topic}"] = nb
    for n in range(10):
        nb = nbformat.from_dict(solution)
        nb.cells.append(_code(f"def {targets[n % len(targets)]}(*args, **kwargs):\n    return 0.0"))
        notebooks[f"partly{n:02d}_{topic}"] = nb
    for n in range(5):
        notebooks[f"unsolved{n:02d}_{topic}"] = nbformat.from_dict(exercise)
    hostile = {
        "monkeypatch": _MONKEYPATCH,
        "endless": f"def {first}(*args, **kwargs):\n    while True:\n        pass",
        "reference": f"from {module} import {reference} as {first}",
        "memory": "import numpy as np\nhog = np.ones((4, 10**9))",
        "exit": "import os\nos._exit(1)",
    }
    for name, source in hostile.items():
        nb = nbformat.from_dict(solution)
        nb.cells.append(_code(source))
        notebooks[f"hostile_{name}_{topic}"] = nb
    paths = []
    for name, nb in notebooks.items():
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _reference_of(exercise_id: str) -> tuple[str, str]:
    """``(module, name)`` of the exercise's first reference."""
    function = get_exercise(exercise_id).references[0]
    return function.__module__, function.__name__


def grade(paths: list[Path], jobs: int, seed: int) -> tuple[list[tuple], float]:
    """The rows ``(submission, exercise, score, status)`` and the wall time of one batch."""
    started = time.perf_counter()
    rows = batch.grade_submissions(paths, LIMITS, seed=seed, jobs=jobs)
    seconds = time.perf_counter() - started
    return [(Path(r.submission).name, r.exercise, r.score, r.status) for r in rows], seconds


def run(topic: str = "tensors_and_gradients", jobs: int | None = None) -> list[dict]:
    """The benchmark's rows (see the module docstring)."""
    jobs = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        paths = make_submissions(Path(folder), topic)
        parallel, parallel_s = grade(paths, jobs, seed=17)
        serial, serial_s = grade(paths, 1, seed=17)
    if parallel != serial:
        raise AssertionError("parallel grading gave other rows than grading one at a time")
    statuses: dict[str, int] = {}
    for _, _, _, status in parallel:
        statuses[status] = statuses.get(status, 0) + 1
    counts = ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
    return [
        {
            "name": f"{len(paths)} {topic} notebooks, --jobs {jobs} ({counts})",
            "reference": "the same batch one at a time (--jobs 1), rows identical",
            "ratio": parallel_s / serial_s,
            "candidate_ms": parallel_s * 1e3,
            "reference_ms": serial_s * 1e3,
            "goal": f"batch ≤ {GOAL_S:g} s",
            "met": parallel_s <= GOAL_S,
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="tensors_and_gradients")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    (row,) = run(args.topic, args.jobs)
    print("| batch | reference | ratio | batch (s) | one at a time (s) | goal | met |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {row['name']} | {row['reference']} | {row['ratio']:.2f} | "
        f"{row['candidate_ms'] / 1e3:.1f} | {row['reference_ms'] / 1e3:.1f} | {row['goal']} | "
        f"{row['met']} |"
    )


if __name__ == "__main__":
    main()
