"""Runs the performance suite and writes its ratio table to ``benchmarks/results.md``.

Usage: ``python benchmarks/run.py [--only NAME] [--timeout SECONDS] [--out PATH]``
(``make bench``; ``make bench ONLY=conv``).

A benchmark is a ``benchmarks/bench_*.py`` file with a top-level ``run()`` function that returns
a list of rows (dicts) with at least ``name``, ``reference``, ``ratio``, ``candidate_ms`` and
``reference_ms``, and optionally ``goal`` (text) and ``met`` (bool);
``course_lib.perf.benchmark.Comparison.row`` makes them. Files without ``run()``
(``bench_book.py``, which has its own target) are skipped. Adding a benchmark needs no change
here.

Each benchmark runs in its own Python process under a time limit, so that one crash or hang
costs only its own rows; the table then shows what went wrong. This is a measurement, not a
test: the exit status is 0 even when goals are missed or a benchmark fails (2 for bad
arguments). ``--only`` runs one benchmark and, unless ``--out`` is given, writes no file.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # benchmarks/ is no package: report() imports _report from here
ROOT = HERE.parent
DEFAULT_OUT = HERE / "results.md"
DEFAULT_TIMEOUT_S = 900.0
REQUIRED_KEYS = ("name", "reference", "ratio", "candidate_ms", "reference_ms")
COLUMNS = [
    ("benchmark", "benchmark"),
    ("name", "name"),
    ("reference", "reference"),
    ("ratio", "ratio"),
    ("candidate_ms", "candidate median (ms)"),
    ("reference_ms", "reference median (ms)"),
    ("goal", "goal (ratio)"),
    ("met", "met"),
]


def has_run_function(path: Path) -> bool:
    """Whether the file defines a top-level ``run`` function (read, not imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError):
        return True  # let the worker report the problem in the table
    return any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body)


def discover(folder: Path = HERE) -> list[Path]:
    """The benchmark files in ``folder``, sorted by name."""
    return [path for path in sorted(folder.glob("bench_*.py")) if has_run_function(path)]


def benchmark_name(path: Path) -> str:
    """``bench_conv.py`` -> ``conv``."""
    return path.stem.removeprefix("bench_")


def select(paths: list[Path], only: str | None) -> list[Path]:
    """The benchmark ``only`` names (``conv``, ``bench_conv`` or ``bench_conv.py``), or all."""
    if only is None:
        return paths
    wanted = benchmark_name(Path(only))
    chosen = [path for path in paths if benchmark_name(path) == wanted]
    if not chosen:
        names = ", ".join(benchmark_name(path) for path in paths)
        raise SystemExit(f"run.py: no benchmark named {only!r} (there are: {names})")
    return chosen


def check_rows(rows: object) -> list[dict]:
    """``rows`` as a list of dicts with the required keys; raises ``ValueError`` otherwise."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"run() must return a list of dicts, got {type(rows).__name__}")
    for row in rows:
        missing = [key for key in REQUIRED_KEYS if key not in row]
        if missing:
            raise ValueError(f"a row of run() lacks {', '.join(missing)}: {row!r}")
    return rows


def worker(path: Path, out: Path) -> int:
    """In the child process: imports the benchmark file, calls ``run()``, writes its rows."""
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"_benchmark_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = check_rows(module.run())
    out.write_text(json.dumps(rows, default=float), encoding="utf-8")
    return 0


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_one(path: Path, timeout_s: float) -> tuple[list[dict], str | None, float]:
    """Runs one benchmark in a child process: (rows, problem or ``None``, seconds)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        out = Path(tmp, "rows.json")
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path), str(out)]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, killed whole on timeout
        )
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            seconds = time.monotonic() - started
            return [], f"timed out after {timeout_s:g} s", seconds
        seconds = time.monotonic() - started
        if process.returncode != 0:
            said = tail(output or "", 1) or f"exit status {process.returncode}"
            print(tail(output or ""), file=sys.stderr)
            return [], f"failed: {said}", seconds
        return json.loads(out.read_text(encoding="utf-8")), None, seconds


def format_row(benchmark: str, row: dict) -> dict:
    """A result row as the table shows it (numbers stay numbers; ``met`` becomes text)."""
    met = row.get("met")
    return {
        "benchmark": benchmark,
        "name": row["name"],
        "reference": row["reference"],
        "ratio": float(row["ratio"]),
        "candidate_ms": float(row["candidate_ms"]),
        "reference_ms": float(row["reference_ms"]),
        "goal": row.get("goal") or "",
        "met": "" if met is None else ("yes" if met else "**NO**"),
    }


def report(table_rows: list[dict], problems: list[str], seconds: dict[str, float]) -> str:
    """The Markdown of ``results.md``."""
    from _report import report_head

    from course_lib.perf.benchmark import markdown_table

    intro = [
        "Written by `make bench` (`benchmarks/run.py`); the latest measurement, indicative only.",
        "Each ratio is the candidate's median time / the reference's median time, both measured",
        "alternately in one process (below 1: the candidate is faster).",
    ]
    ran = ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items())
    lines = report_head("Benchmark results", intro, {"benchmarks (wall time)": ran})
    lines.append(markdown_table(table_rows, COLUMNS))
    if problems:
        lines += ["", "## Problems", ""] + [f"- {problem}" for problem in problems]
    met = [row["met"] for row in table_rows]
    lines += [
        "",
        f"Goals: {met.count('yes')} met, {met.count('**NO**')} missed; "
        f"{met.count('**FAILED**')} benchmarks failed.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME", help="run one benchmark (e.g. conv)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds each benchmark may take (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument("--out", type=Path, help=f"the report (default {DEFAULT_OUT})")
    parser.add_argument("--worker", nargs=2, metavar=("FILE", "ROWS_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("COURSE_OFFLINE", "")
    if args.worker:
        return worker(Path(args.worker[0]), Path(args.worker[1]))
    if args.timeout <= 0:
        parser.error("--timeout must be positive")

    paths = select(discover(), args.only)
    out = args.out if args.out is not None else (None if args.only else DEFAULT_OUT)
    table_rows: list[dict] = []
    problems: list[str] = []
    seconds: dict[str, float] = {}
    for path in paths:
        name = benchmark_name(path)
        print(f"running {path.name} ...", flush=True)
        rows, problem, seconds[name] = run_one(path, args.timeout)
        try:
            table_rows += [format_row(name, row) for row in rows]
        except (KeyError, TypeError, ValueError) as error:
            problem = f"unreadable rows: {error}"
        if problem:
            problems.append(f"{name}: {problem}")
            table_rows.append({"benchmark": name, "name": f"({problem})", "met": "**FAILED**"})
        print(
            f"  {name}: {len(rows)} rows in {seconds[name]:.0f} s"
            + (f"; {problem}" if problem else "")
        )
    text = report(table_rows, problems, seconds)
    print()
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
