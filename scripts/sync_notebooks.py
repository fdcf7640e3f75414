"""Keeps the course notebooks uniform; ``--check`` only reports (used by the test suite).

For every notebook under book/ and solutions/ (exercises/ is generated from solutions/):
- the first cell is the Colab/local set-up cell, built from the repository URL in _config.yml;
- Colab links in markdown cells point at that repository;
- outputs are stripped except in cells marked ``# NBVAL_CHECK_OUTPUT``;
- the kernel is ``python3``.

Usage: python scripts/sync_notebooks.py [--check] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("book", "solutions")
SETUP_TAG = "course-setup"
CHECKED = "NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
COLAB_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/[^/\s]+/[^/\s]+/blob/[^/\s]+/"
)


def repository() -> tuple[str, str]:
    """The repository URL and branch from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def colab_root() -> str:
    url, branch = repository()
    return (
        f"https://colab.research.google.com/github/{url.split('github.com/', 1)[1]}/blob/{branch}/"
    )


def setup_source(package: str | None = None) -> str:
    """The set-up cell's code; ``package`` replaces the pip requirement (tests install a checkout).

    Args:
        package: a pip requirement for course_lib; by default
            ``course_lib @ git+<repository>@<branch>`` from _config.yml.
    """
    if package is None:
        url, branch = repository()
        package = f"course_lib @ git+{url}@{branch}"
    if not isinstance(package, str) or '"' in package or "\n" in package:
        raise ValueError(
            f"package must be a one-line pip requirement without quotes, got {package!r}"
        )
    return f"""\
# Set-up: in Colab this installs course_lib from the repository and keeps Colab's own
# TensorFlow; locally (after `make venv`) it changes nothing.
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if "google.colab" in sys.modules:
    package = "{package}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)"""


def notebooks(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(
        p
        for d in NOTEBOOK_DIRS
        for p in (ROOT / d).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is not uniform in ``nb`` (empty when it is)."""
    found = []
    cells = nb.cells
    if not cells or cells[0].cell_type != "code" or cells[0].source != setup_source():
        found.append("first cell is not the current set-up cell")
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            if (cell.outputs or cell.execution_count) and CHECKED not in cell.source:
                found.append(f"cell {index} stores outputs")
        elif cell.cell_type == "markdown":
            for link in COLAB_LINK.findall(cell.source):
                if link != colab_root():
                    found.append(f"cell {index} links Colab at {link}")
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        found.append("kernel is not python3")
    return found


def fix(nb: nbformat.NotebookNode) -> None:
    setup = nbformat.v4.new_code_cell(setup_source(), metadata={"tags": [SETUP_TAG, "hide-input"]})
    if (
        nb.cells
        and nb.cells[0].cell_type == "code"
        and SETUP_TAG in nb.cells[0].metadata.get("tags", [])
    ):
        setup.id = nb.cells[0].get("id", setup.id)
        nb.cells[0] = setup
    else:
        nb.cells.insert(0, setup)
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECKED not in cell.source:
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = COLAB_LINK.sub(colab_root(), cell.source)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 on problems")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    bad = 0
    for path in notebooks(args.paths):
        nb = nbformat.read(path, as_version=4)
        found = problems(nb)
        if not found:
            continue
        if args.check:
            bad += 1
            print(f"{path.relative_to(ROOT)}: " + "; ".join(found))
        else:
            fix(nb)
            nbformat.write(nb, path)
            print(f"synced {path.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
