"""Notebooks are stored clean and uniform; chapters, solutions and exercises stay in step."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from course_lib import grading
from course_lib.grading import assign

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts/sync_notebooks.py")
sync_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync_notebooks)

CHAPTERS = sorted((ROOT / "book").rglob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
ALL = CHAPTERS + SOLUTIONS + EXERCISES
CHECK_CALL = re.compile(r"grading\.check\(\s*[\"']([\w.]+)[\"']")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _topic(chapter: Path) -> str:
    return chapter.stem.split("_", 1)[1]


def test_there_are_chapters_solutions_and_exercises():
    assert CHAPTERS and SOLUTIONS and EXERCISES


@pytest.mark.parametrize("path", ALL, ids=_name)
def test_notebook_is_clean_and_starts_with_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert sync_notebooks.problems(nb) == [], "run `python scripts/sync_notebooks.py`"


@pytest.mark.parametrize("path", ALL, ids=_name)
def test_no_code_cell_is_only_comments(path):
    """Catches leftover placeholders (a set-up placeholder kept after the real set-up cell)."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            code = [line for line in cell.source.splitlines() if line.strip()[:1] not in ("", "#")]
            assert code, f"cell {index} has no code: {cell.source[:60]!r}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_chapter_links_stay_inside_the_book(chapter):
    """Only the book's pages are built: a relative link to exercises/ or solutions/ breaks it."""
    nb = nbformat.read(chapter, as_version=4)
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    outside = re.findall(r"\]\((\.\./\.\./[^)]*)\)", text)
    assert not outside, f"links outside book/ (use the Colab or GitHub URL): {outside}"


def test_exercises_are_generated_from_the_current_solutions():
    stale = assign.stale_files(ROOT / "solutions", ROOT / "exercises")
    assert not stale, f"exercises/ is out of date ({stale}): run `make exercises`"


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    for chapter in CHAPTERS:
        assert _name(chapter).removesuffix(".ipynb") in files
    for entry in files | {toc["root"]}:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".ipynb", ".md")), entry


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_chapter_is_seeded_and_ends_with_an_asserted_figure(chapter):
    nb = nbformat.read(chapter, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("seed_everything(" in source for source in code)
    assert re.search(r"^\s*assert\b", code[-1], re.M), "the last code cell must assert the figure"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_chapter_has_a_solutions_notebook_with_two_or_more_checked_exercises(chapter):
    topic = _topic(chapter)
    solution = ROOT / "solutions" / f"{topic}.ipynb"
    assert solution.exists(), f"{topic} has no solutions notebook"
    nb = nbformat.read(solution, as_version=4)
    checked = [i for c in nb.cells if c.cell_type == "code" for i in CHECK_CALL.findall(c.source)]
    assert len(set(checked)) >= 2
    assert nb.metadata["course"]["topic"] == topic
    assert sorted(nb.metadata["course"]["exercises"]) == sorted(set(checked))
    assert sorted(set(checked)) == grading.list_exercises(topic)
    chapter_text = "".join(c.source for c in nbformat.read(chapter, as_version=4).cells)
    assert f"exercises/{topic}.ipynb" in chapter_text, "the chapter must link its exercises"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_chapter_opens_with_the_picture_its_own_code_saves(chapter):
    """The first markdown cell shows book/images/<topic>.png, which the chapter itself writes."""
    nb = nbformat.read(chapter, as_version=4)
    topic = _topic(chapter)
    first = next(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"](../images/{topic}.png)" in first, f"first markdown cell lacks ../images/{topic}.png"
    image = ROOT / "book" / "images" / f"{topic}.png"
    assert image.is_file(), f"{_name(image)} is missing: run `make figures ONLY={topic}`"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{_name(image)} is not a PNG"
    code = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(rf"save_opening_figure\([^)]*[\"']{topic}[\"']", code), (
        f"no cell calls viz.save_opening_figure(..., {topic!r})"
    )
