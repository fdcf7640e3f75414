"""`course slides`: reveal.js decks from the chapters' slide metadata and their cached executions.

No chapter is executed here: each test writes a tiny book (a _toc.yml and one chapter) and caches
an "executed" copy of the chapter, its outputs written by hand, with jupyter-cache as the book
build does. The decks in a browser: tests/pages/test_slides.py.
"""

from __future__ import annotations

import base64
import copy
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import nbformat
import numpy as np
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib import cli
from course_lib.workshop import slides

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = Path("book/part1/01_demo.ipynb")
TOC = """\
format: jb-book
root: intro
parts:
  - caption: "Part 1: A demo (10 min)"
    chapters:
      - file: book/part1/01_demo
"""
METADATA = {
    "title": "A demo",
    "notes": "What the demo is about.",
    "figures": [{"cell": "figure-cell", "caption": "The `plot`", "notes": "Look at it."}],
    "listings": [
        {"cell": "listing-cell", "caption": "The code", "notes": "Read it.", "highlight": "2"}
    ],
    "takeaways": ["One point.", "Another, with `code`."],
}


def _png(value: float) -> bytes:
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, np.full((4, 6, 3), value), format="png")
    return buffer.getvalue()


def _image_output(png: bytes) -> nbformat.NotebookNode:
    return new_output(
        "display_data",
        data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
    )


def _chapter(metadata: dict | None = METADATA) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# A demo\n\nSome prose.", id="title-cell"),
        new_code_cell("x = 1\ny = x < 2  # <b>escaped</b>", id="listing-cell"),
        new_code_cell("plot(x)", id="figure-cell"),
        new_code_cell("print(x)", id="printed-cell"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if metadata is not None:
        nb.metadata["course"] = {"slides": copy.deepcopy(metadata)}
    return nb


def _executed(nb: nbformat.NotebookNode, images: list[bytes]) -> nbformat.NotebookNode:
    executed = copy.deepcopy(nb)
    cells = {cell.id: cell for cell in executed.cells}
    cells["figure-cell"].outputs = [_image_output(png) for png in images]
    cells["printed-cell"].outputs = [new_output("stream", name="stdout", text="1\n")]
    return executed


def _write_book(root: Path, nb: nbformat.NotebookNode, images: list[bytes]) -> None:
    """The chapter under ``root`` and its execution in ``root/cache``."""
    (root / "_toc.yml").write_text(TOC)
    (root / CHAPTER).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / CHAPTER)
    bundle = CacheBundleIn(_executed(nb, images), str(root / CHAPTER))
    get_cache(str(root / "cache")).cache_notebook_bundle(bundle, check_validity=False)
    if not (root / "node_modules").exists():
        (root / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    _write_book(tmp_path, _chapter(), [_png(0.25)])
    return tmp_path


def _build(root: Path) -> list[slides.Deck]:
    chapters = slides.select_chapters([], root)
    return slides.build_decks(chapters, root / "out", root / "cache", root)


class _Deck(HTMLParser):
    """The slides of a deck (each: its text and its notes) and every src/href of the page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.slides: list[dict[str, str]] = []
        self.links: list[str] = []
        self._in_notes = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.links += [attributes[k] or "" for k in ("src", "href") if k in attributes]
        if tag == "section":
            self.slides.append({"text": "", "notes": "", "html": ""})
        if tag == "aside" and attributes.get("class") == "notes":
            self._in_notes = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "aside":
            self._in_notes = False

    def handle_data(self, data: str) -> None:
        if self.slides:
            self.slides[-1]["notes" if self._in_notes else "text"] += data


def test_a_deck_has_a_slide_per_item_each_with_notes_and_its_figure_as_a_file(book):
    (deck,) = _build(book)
    assert (deck.topic, deck.slides, deck.figures) == ("demo", 4, 1)
    page = deck.path.read_text()
    parsed = _Deck(page)
    assert len(parsed.slides) == 4 == page.count("<section>")
    title, listing, figure, takeaways = parsed.slides
    assert "A demo" in title["text"] and "Part 1: A demo (10 min)" in title["text"]
    assert "Chapter 1 of 1" in title["text"] and title["notes"] == "What the demo is about."
    assert "y = x < 2  # <b>escaped</b>" in listing["text"]  # the source, as text
    assert 'data-line-numbers="2"' in page and "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert figure["notes"] == "Look at it." and "<code>plot</code>" in page
    assert "One point." in takeaways["text"] and "course start demo" in takeaways["notes"]
    assert all(slide["notes"].strip() for slide in parsed.slides)

    images = [link for link in parsed.links if link.startswith("figures/")]
    assert images == ["figures/demo/1.png"]
    assert (book / "out" / images[0]).read_bytes() == _png(0.25)
    for link in parsed.links:  # every asset the deck loads is in the output folder
        assert link.startswith("data:") or (book / "out" / link).is_file(), link
    index = (book / "out" / "index.html").read_text()
    assert _Deck(index).links == ["data:,", "demo.html"] and ">A demo</a>" in index


def test_nothing_the_decks_load_comes_from_the_network(book):
    _build(book)
    out = book / "out"
    for page in [*out.glob("*.html")]:
        remote = [link for link in _Deck(page.read_text()).links if link.startswith(("http", "//"))]
        assert not remote, f"{page.name} loads {remote}"
    stylesheets = list((out / "reveal").rglob("*.css"))
    assert len(stylesheets) >= 4
    for stylesheet in stylesheets:
        assert not slides._REMOTE.search(stylesheet.read_text()), stylesheet


def test_a_theme_that_imports_remote_fonts_is_refused(tmp_path):
    package = tmp_path / slides.REVEAL_PACKAGE
    for name in slides.REVEAL_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        if "." in Path(name).name or name == "LICENSE":
            (package / name).write_text("/* */")
        else:
            (package / name).mkdir()
    (package / "dist/theme/white.css").write_text(
        "@import url(https://fonts.googleapis.com/css?family=Lato);\nbody { color: red; }"
    )
    with pytest.raises(slides.SlidesError, match="white.css loads a remote resource"):
        slides.copy_reveal(tmp_path, tmp_path / "out")
    (package / "dist/theme/white.css").write_text("body { color: red; }")
    assert (slides.copy_reveal(tmp_path, tmp_path / "out") / "dist/theme/white.css").is_file()


def _spec_error(change) -> str:
    metadata = copy.deepcopy(METADATA)
    change(metadata)
    with pytest.raises(slides.SlidesError) as error:
        slides.slide_spec(_chapter(metadata), "book/demo.ipynb")
    return str(error.value)


BAD_METADATA = [
    (lambda m: m.pop("takeaways"), "course.slides lacks takeaways"),
    (lambda m: m.update(titel="x"), "unknown keys titel"),
    (lambda m: m.update(title=" "), "course.slides.title must be a non-empty string"),
    (lambda m: m.update(figures=[]), "at least one figure"),
    (lambda m: m.update(takeaways="one"), "takeaways must be a list"),
    (lambda m: m["figures"][0].update(cell="nope"), r"figures\[0\]: cell nope .*no such cell"),
    (
        lambda m: m["listings"][0].update(cell="title-cell"),
        r"title-cell must be a code cell \(a markdown cell\)",
    ),
    (lambda m: m["figures"][0].update(notes=""), r"figures\[0\].notes must be a non-empty"),
    (lambda m: m["figures"][0].pop("caption"), r"figures\[0\] lacks caption"),
    (lambda m: m["figures"][0].update(output=-1), r"output must be an int >= 0"),
    (lambda m: m["listings"][0].update(highlight="5"), "listing-cell has 2 lines"),
    (lambda m: m["listings"][0].update(highlight="a-b"), "must read like"),
    (lambda m: m["listings"].append(dict(m["listings"][0])), "shown twice"),
]


@pytest.mark.parametrize(
    ("change", "message"), BAD_METADATA, ids=[message for _, message in BAD_METADATA]
)
def test_bad_slide_metadata_is_named(change, message):
    assert re.search(message, _spec_error(change))
    assert _spec_error(change).startswith("book/demo.ipynb: ")


def test_a_chapter_without_slide_metadata_is_named():
    with pytest.raises(slides.SlidesError, match=r"book/demo.ipynb: no slide metadata"):
        slides.slide_spec(_chapter(None), "book/demo.ipynb")


def test_a_figure_cell_without_an_image_names_the_chapter_and_the_cell(tmp_path):
    metadata = copy.deepcopy(METADATA)
    metadata["figures"][0]["cell"] = "printed-cell"
    _write_book(tmp_path, _chapter(metadata), [_png(0.25)])
    with pytest.raises(slides.SlidesError) as error:
        _build(tmp_path)
    assert str(error.value) == (
        f"{CHAPTER}: figure cell printed-cell has no image output (its outputs: stream)"
    )
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_output_picks_one_of_several_images(tmp_path):
    _write_book(tmp_path, _chapter(), [_png(0.25), _png(0.75)])
    with pytest.raises(slides.SlidesError, match='2 image outputs: pick one with "output"'):
        _build(tmp_path)
    metadata = copy.deepcopy(METADATA)
    metadata["figures"][0]["output"] = 1
    nbformat.write(_chapter(metadata), tmp_path / CHAPTER)  # same code: the cache still matches
    _build(tmp_path)
    assert (tmp_path / "out/figures/demo/1.png").read_bytes() == _png(0.75)
    metadata["figures"][0]["output"] = 2
    nbformat.write(_chapter(metadata), tmp_path / CHAPTER)
    with pytest.raises(slides.SlidesError, match="has 2 image outputs, no output 2"):
        _build(tmp_path)


def test_a_chapter_not_in_the_cache_says_to_build_the_book(book):
    nb = nbformat.read(book / CHAPTER, as_version=4)
    nb.cells[1].source += "\nz = 2"
    nbformat.write(nb, book / CHAPTER)
    with pytest.raises(slides.SlidesError, match=rf"{CHAPTER} has no execution in .*make book"):
        _build(book)
    with pytest.raises(slides.SlidesError, match="no execution cache at .*run `make book` first"):
        slides.build_decks(slides.select_chapters([], book), book / "out", book / "none", book)


def test_slide_metadata_does_not_touch_the_execution_cache_key(tmp_path):
    """Why the metadata is the notebook's: jupyter-cache hashes every code cell's metadata."""
    cache = get_cache(str(tmp_path / "cache"))

    def key(nb: nbformat.NotebookNode) -> str:
        return cache.create_hashed_notebook(nb)[1]

    bare = _chapter(None)
    assert key(bare) == key(_chapter(METADATA))
    tagged = copy.deepcopy(bare)
    tagged.cells[2].metadata["tags"] = ["slide-figure"]
    assert key(tagged) != key(bare)


def test_every_chapter_has_valid_slide_metadata():
    chapters = slides.book_chapters(ROOT)
    assert len(chapters) == len(list(ROOT.glob("book/part*/[0-9][0-9]_*.ipynb")))
    for chapter in chapters:
        spec = slides.slide_spec(nbformat.read(chapter.path, as_version=4), str(chapter.path))
        figures = sum(item.kind == "figure" for item in spec.items)
        assert 2 <= figures <= 4 and 1 <= len(spec.items) - figures <= 2, chapter.topic
        assert 3 <= len(spec.takeaways) <= 5, chapter.topic


def test_select_chapters_by_topic_or_path_and_refuses_unknown_names(book):
    assert [c.topic for c in slides.select_chapters(["demo", str(book / CHAPTER)], book)] == [
        "demo"
    ]
    with pytest.raises(
        slides.UnknownChapter, match="unknown chapter 'cnn'; the chapters are: demo"
    ):
        slides.select_chapters(["cnn"], book)


def test_cli_slides_writes_the_decks(book, monkeypatch, capsys):
    monkeypatch.chdir(book)
    assert cli.main(["slides", str(CHAPTER), "--out", "decks", "--cache", "cache"]) == 0
    out = capsys.readouterr().out
    assert "decks/demo.html: 4 slides (1 figures)" in out and "1 deck(s), 4 slides" in out
    assert (book / "decks/index.html").is_file() and (
        book / "decks/reveal/dist/reveal.js"
    ).is_file()


def test_cli_slides_usage_and_problems(book, monkeypatch, capsys):
    monkeypatch.chdir(book)
    assert cli.main(["slides", "nope", "--cache", "cache"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.strip() == (
        "course slides: unknown chapter 'nope'; the chapters are: demo"
    )
    assert cli.main(["slides", "--cache", "missing"]) == cli.EXIT_PROBLEM
    assert "run `make book` first" in capsys.readouterr().err
    monkeypatch.chdir(book / "book")
    assert cli.main(["slides"]) == cli.EXIT_USAGE
    assert "no _toc.yml in ." in capsys.readouterr().err
