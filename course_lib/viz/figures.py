"""The opening picture of a chapter, produced by the chapter's own code.

Each chapter ends with a figure of its result and passes it to :func:`save_opening_figure`.
In an ordinary run (a learner, nbval, the book build) that call does nothing. ``make figures``
executes every chapter with ``COURSE_FIGURES_DIR=book/images``, and the call then writes the
figure to ``book/images/<topic>.png``, the image the chapter's first cell shows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: The folder the opening figures are written to; unset, :func:`save_opening_figure` does nothing.
FIGURES_ENV = "COURSE_FIGURES_DIR"
#: Width of the saved picture in inches (at ``DPI`` dots per inch: 960 pixels at most).
WIDTH_IN, DPI = 9.6, 100
_TOPIC = re.compile(r"^[a-z][a-z0-9_]*$")


def opening_figure_path(topic: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the opening figure of chapter ``topic`` lives: ``<directory>/<topic>.png``.

    Args:
        topic: the chapter's topic, its file name without the number (``"deepdream"``).
        directory: the folder; by default ``book/images`` of this repository.

    Raises:
        ValueError: if ``topic`` is not a lower-case identifier.
    """
    if not isinstance(topic, str) or not _TOPIC.match(topic):
        raise ValueError(f"topic must be a lower-case identifier like 'deepdream', got {topic!r}")
    if directory is None:
        directory = Path(__file__).resolve().parents[2] / "book" / "images"
    return Path(directory) / f"{topic}.png"


def save_opening_figure(figure, topic: str) -> Path | None:
    """Saves ``figure`` as chapter ``topic``'s opening picture when ``make figures`` runs.

    Args:
        figure: a matplotlib ``Figure``.
        topic: the chapter's topic (``"deepdream"`` for ``05_deepdream.ipynb``).

    Returns:
        The PNG's path when ``COURSE_FIGURES_DIR`` is set, else ``None`` (nothing is written).

    Raises:
        TypeError: if ``figure`` is not a matplotlib figure.
        ValueError: if ``topic`` is not a lower-case identifier.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
    directory = os.environ.get(FIGURES_ENV, "").strip()
    path = opening_figure_path(topic, directory or None)
    if not directory:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    width = figure.get_figwidth()
    dpi = DPI * min(1.0, WIDTH_IN / width) if width > 0 else DPI
    figure.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
    return path
