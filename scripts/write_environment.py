"""Writes environment.yml (conda) from requirements.lock, so that the two never drift apart.

Usage: python scripts/write_environment.py   (also run by `make lock`)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"


def pins(lock_text: str) -> list[str]:
    """The ``name==version`` lines of a requirements lock, comments and blanks dropped."""
    return [
        line.strip()
        for line in lock_text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def environment_yml(lock_text: str) -> str:
    lines = [
        "# Conda environment mirroring requirements.lock (scripts/write_environment.py writes it).",
        "# conda env create -f environment.yml && conda activate differentiable-graphics-tf2",
        "# then: pip install --no-deps -e .",
        "name: differentiable-graphics-tf2",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {pin}" for pin in pins(lock_text)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = (ROOT / "requirements.lock").read_text()
    (ROOT / "environment.yml").write_text(environment_yml(text))
    print(f"environment.yml: {len(pins(text))} pins")
