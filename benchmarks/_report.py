"""What the benchmark scripts share: their integer options, printed tables and report heads.

Not a benchmark (no ``bench_`` prefix, no ``run()``); the scripts import it from this folder.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence

from course_lib.perf.benchmark import machine_summary, utc_now


def parse_int_options(
    doc: str, argv: list[str] | None, options: Mapping[str, tuple[int, str]]
) -> argparse.Namespace:
    """Parses ``--some-name N`` for each ``"some_name": (default, help)`` of ``options``, in
    that order; the help's description is the first line of ``doc`` (the script's docstring)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, (default, text) in options.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=default, help=text)
    return parser.parse_args(argv)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> None:
    """Prints a Markdown table of ready-made cells.

    ``align`` has one letter per column, ``l`` (left) or ``r`` (right); by default the first
    column is left-aligned and the others, numbers, right-aligned.
    """
    align = align or "l" + "r" * (len(headers) - 1)
    print("| " + " | ".join(headers) + " |")
    print("|" + "".join("---|" if side == "l" else "---:|" for side in align))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def report_head(title: str, intro: Sequence[str], facts: Mapping[str, str]) -> list[str]:
    """The first lines of a results file: ``# title``, the intro, then ``- key: value`` lines
    (the date and the machine first) and a blank line, ready for the table."""
    lines = [f"# {title}", "", *intro, ""]
    lines += [f"- date: {utc_now()}", f"- machine: {machine_summary()}"]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    return lines + [""]
