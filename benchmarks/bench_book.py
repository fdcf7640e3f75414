"""How long does each chapter take to execute, and how much memory? (``make bench-book``)

Usage: ``python benchmarks/bench_book.py [--only TEXT] [--out PATH] [--cell-timeout SECONDS]``.

Every chapter notebook under ``book/`` (``NN_topic.ipynb``) is executed alone, in a fresh
``python3`` kernel whose working directory is the notebook's folder, as the book build runs it
(``run_in_temp: false`` in ``_config.yml``). For each one this measures:

- the wall time, from starting the kernel to the end of the last cell;
- the peak resident memory (RSS) of the kernel and every process it started, polled every
  0.1 s (1 MB here is 2**20 bytes);

and compares the wall time with the chapter's budget: ``course.budget_s`` in the notebook's
metadata, else 90 s. The table goes to ``benchmarks/book_times.md``. These are measurements,
not tests: the exit status is 0 even when a chapter is over budget or fails (marked **NO** or
**FAILED** in the table). Outputs are not written back into the notebooks.

The kernel gets ``TF_CPP_MIN_LOG_LEVEL=2``, ``TF_ENABLE_ONEDNN_OPTS=0`` and ``COURSE_OFFLINE``
(empty: probe the network) unless they are set, as the Makefile does.

This file has no ``run()``: ``benchmarks/run.py`` (``make bench``) does not run it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from course_lib.checks import is_real
from course_lib.perf.benchmark import markdown_table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is no package
from _report import report_head  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
DEFAULT_OUT = Path(__file__).resolve().parent / "book_times.md"
DEFAULT_BUDGET_S = 90.0
CELL_TIMEOUT_S = 600  # as _config.yml's execute.timeout
KERNEL_NAME = "python3"
POLL_S = 0.1
CHAPTER = re.compile(r"^\d\d_\w+\.ipynb$")
COLUMNS = [
    ("chapter", "chapter"),
    ("wall_s", "wall (s)"),
    ("peak_rss_mb", "peak RSS (MB)"),
    ("budget_s", "budget (s)"),
    ("within", "within budget"),
]


def chapters(book: Path = BOOK) -> list[Path]:
    """The chapter notebooks under ``book`` (``NN_topic.ipynb``), in part and chapter order."""
    return sorted(
        path
        for path in book.rglob("*.ipynb")
        if CHAPTER.match(path.name) and ".ipynb_checkpoints" not in path.parts
    )


def budget_s(nb: nbformat.NotebookNode) -> float:
    """The chapter's budget in seconds: metadata ``course.budget_s``, else the default."""
    value = nb.metadata.get("course", {}).get("budget_s", DEFAULT_BUDGET_S)
    if not is_real(value) or value <= 0:
        raise ValueError(f"course.budget_s must be a positive number of seconds, got {value!r}")
    return float(value)


class PeakRss(threading.Thread):
    """Polls the summed RSS of this process's descendants (the kernel and its children)."""

    def __init__(self) -> None:
        super().__init__(name="bench-book-rss", daemon=True)
        self._me = psutil.Process()
        self._stop_event = threading.Event()
        self.peak_bytes = 0

    def run(self) -> None:
        while not self._stop_event.wait(POLL_S):
            total = 0
            try:
                children = self._me.children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_bytes = max(self.peak_bytes, total)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def execute(path: Path, cell_timeout_s: int = CELL_TIMEOUT_S) -> dict:
    """Executes one chapter; returns its row (``wall_s``, ``peak_rss_mb``, ``problem``, ...)."""
    nb = nbformat.read(path, as_version=4)
    problem = None
    try:
        budget = budget_s(nb)
    except ValueError as error:
        budget, problem = DEFAULT_BUDGET_S, str(error)
    client = NotebookClient(
        nb,
        timeout=cell_timeout_s,
        kernel_name=KERNEL_NAME,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    monitor = PeakRss()
    monitor.start()
    started = time.perf_counter()
    try:
        # The kernel's own stdout/stderr (start-up chatter) is dropped; cell outputs are kept.
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        problem = f"error: {getattr(error, 'ename', '') or 'cell failed'}"
    except CellTimeoutError:
        problem = f"a cell ran past {cell_timeout_s} s"
    except DeadKernelError:
        problem = "the kernel died"
    except Exception as error:  # noqa: BLE001 - e.g. the kernel did not start: reported
        problem = f"{type(error).__name__}: {error}"
    finally:
        wall = time.perf_counter() - started
        monitor.stop()
    return {
        "chapter": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "wall_s": wall,
        "peak_rss_mb": monitor.peak_bytes / 2**20,
        "budget_s": budget,
        "problem": problem,
    }


def verdict(row: dict) -> str:
    """The "within budget" cell: yes, **NO** (+ how much over) or **FAILED** (why)."""
    if row["problem"]:
        return f"**FAILED** ({row['problem']})"
    over = row["wall_s"] - row["budget_s"]
    return "yes" if over <= 0 else f"**NO** (+{over:.0f} s)"


def report(rows: list[dict]) -> str:
    """The Markdown of ``book_times.md``."""
    table = [{**row, "wall_s": round(row["wall_s"], 1), "within": verdict(row)} for row in rows]
    over = sum(row["within"] != "yes" for row in table)
    env = ", ".join(
        f"{name}={os.environ.get(name, '')!r}"
        for name in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "COURSE_OFFLINE")
    )
    intro = [
        "Written by `make bench-book` (`benchmarks/bench_book.py`); the latest measurement,",
        "indicative only. Each chapter ran alone in a fresh kernel in its own folder; wall time",
        "includes the kernel's start; peak RSS is the kernel and its children (1 MB = 2^20 bytes).",
        f"Budgets: `course.budget_s` in the notebook metadata, else {DEFAULT_BUDGET_S:g} s.",
    ]
    formats = {"wall_s": ".1f", "peak_rss_mb": ".0f", "budget_s": "g"}
    lines = report_head("Chapter execution times", intro, {"environment": env}) + [
        markdown_table(table, COLUMNS, formats=formats),
        "",
        f"Total {sum(row['wall_s'] for row in rows):.0f} s for {len(rows)} chapter(s); "
        f"{len(rows) - over} within budget, {over} over budget or failed.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="TEXT", help="only chapters whose file name has TEXT")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report's path")
    parser.add_argument(
        "--cell-timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell at most"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("COURSE_OFFLINE", "")

    paths = [path for path in chapters() if args.only is None or args.only in path.name]
    if not paths:
        parser.error(f"no chapter notebook under {BOOK} matches {args.only!r}")
    rows = []
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        row = execute(path, args.cell_timeout)
        rows.append(row)
        print(
            f"  {row['wall_s']:.1f} s, peak {row['peak_rss_mb']:.0f} MB, "
            f"budget {row['budget_s']:g} s: {verdict(row)}",
            flush=True,
        )
    text = report(rows)
    args.out.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
