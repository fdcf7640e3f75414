"""Alt text of the figures that code cells draw (``book/_ext/course_book.py``).

Each chapter keeps the alt texts of its output images in its notebook-level metadata,
``course.alt``: cell id -> text (every image of the cell) or a list of texts (one per image
output, in order). These tests check the map against the chapters' cells, without executing
anything, and the Sphinx hook on a tiny book whose one notebook stores its outputs.
"""

import base64
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").rglob("[0-9][0-9]_*.ipynb"))
#: Alt text is one sentence; screen readers read it in one go.
MAX_ALT_CHARS = 150
PATH_LIKE = re.compile(r"/|\.(png|jpe?g|gif|svg)\b", re.IGNORECASE)
#: ``plt.show()`` at the top level of a cell (not inside a function that may never be called).
TOP_LEVEL_SHOW = re.compile(r"^plt\.show\(\)", re.MULTILINE)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _alt_map(nb: nbformat.NotebookNode) -> dict:
    return nb.metadata.get("course", {}).get("alt", {})


def test_there_are_chapters():
    assert len(CHAPTERS) == 22


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_alt_keys_are_code_cells_and_values_short_text(chapter):
    nb = nbformat.read(chapter, as_version=4)
    alts = _alt_map(nb)
    assert alts, "the chapter has no metadata course.alt"
    code_ids = {cell.id for cell in nb.cells if cell.cell_type == "code"}
    for cell_id, alt in alts.items():
        assert cell_id in code_ids, f"course.alt names {cell_id!r}, which is not a code cell"
        texts = [alt] if isinstance(alt, str) else alt
        assert isinstance(texts, list) and texts, f"{cell_id}: a text or a list of texts"
        for text in texts:
            assert isinstance(text, str) and text.strip(), f"{cell_id}: empty alt"
            assert len(text) <= MAX_ALT_CHARS, f"{cell_id}: {len(text)} characters"
            assert not PATH_LIKE.search(text), f"{cell_id}: alt looks like a path: {text!r}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_name)
def test_slide_figures_and_plotting_cells_have_alt(chapter):
    """A static subset of what the build reports: cells known to show a figure."""
    nb = nbformat.read(chapter, as_version=4)
    alts = _alt_map(nb)
    figures = nb.metadata.get("course", {}).get("slides", {}).get("figures", [])
    plotting = [c.id for c in nb.cells if c.cell_type == "code" and TOP_LEVEL_SHOW.search(c.source)]
    assert plotting, "no cell calls plt.show()"
    for cell_id in [figure["cell"] for figure in figures] + plotting:
        assert cell_id in alts, f"cell {cell_id} shows a figure and has no alt in course.alt"


def _png(colour: tuple[int, int, int]) -> str:
    """A 4x4 PNG of one colour, base64 as a notebook stores it."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _image_output(colour: tuple[int, int, int]) -> nbformat.NotebookNode:
    data = {"image/png": _png(colour), "text/plain": "<Figure size 4x4>"}
    return nbformat.v4.new_output("display_data", data=data)


def _tiny_book(folder: Path, alt: dict, cells: list[nbformat.NotebookNode]) -> Path:
    """A book of one notebook ``figs.ipynb`` with stored outputs, built without execution."""
    book = folder / "book"
    book.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    config["sphinx"]["local_extensions"] = {"course_book": str(ROOT / "book" / "_ext")}
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: figs\n")
    (book / "index.md").write_text("# Index\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Figures"), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["course"] = {"alt": alt}
    nbformat.write(nb, book / "figs.ipynb")
    return book


def _jupyter_book_build(book: Path) -> subprocess.CompletedProcess:
    command = [Path(sys.executable).with_name("jupyter-book"), "build", book, "--warningiserror"]
    command += ["--path-output", book.parent / "out"]
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=300, cwd=book
    )


def _output_alts(html: str) -> list[str]:
    """The alt of every image that myst-nb wrote from a cell output, in page order."""
    tags = re.findall(r"<img\b[^>]*\bsrc=\"_images/[^\"]+\"[^>]*>", html)
    return [re.search(r"\balt=\"([^\"]*)\"", tag).group(1) for tag in tags]


def test_alt_texts_from_notebook_metadata_reach_the_page(tmp_path):
    one = nbformat.v4.new_code_cell("plot()", outputs=[_image_output((200, 0, 0))])
    two = nbformat.v4.new_code_cell(
        "plot(); plot()", outputs=[_image_output((0, 200, 0)), _image_output((0, 0, 200))]
    )
    both = nbformat.v4.new_code_cell(
        "plot(); plot()", outputs=[_image_output((9, 9, 9)), _image_output((99, 99, 99))]
    )
    text = nbformat.v4.new_code_cell(
        "print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    )
    alt = {one.id: "A red square", two.id: ["A green square", "A blue square"], both.id: "Grey"}
    book = _tiny_book(tmp_path, alt, [one, text, two, both])
    result = _jupyter_book_build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (tmp_path / "out" / "_build" / "html" / "figs.html").read_text()
    assert _output_alts(html) == [
        "A red square",
        "A green square",
        "A blue square",
        "Grey",
        "Grey",
    ]


def test_missing_stale_and_miscounted_alt_texts_fail_the_build_named(tmp_path):
    no_alt = nbformat.v4.new_code_cell("plot()", outputs=[_image_output((200, 0, 0))])
    miscounted = nbformat.v4.new_code_cell(
        "plot(); plot()", outputs=[_image_output((0, 200, 0)), _image_output((0, 0, 200))]
    )
    alt = {miscounted.id: ["Only one text"], "deadbeef": "A cell that is not there"}
    book = _tiny_book(tmp_path, alt, [no_alt, miscounted])
    result = _jupyter_book_build(book)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"figs.ipynb: cell {no_alt.id} shows 1 image(s) and has no alt text" in output
    assert f"figs.ipynb: cell {miscounted.id} shows 2 image(s); alt lists 1" in output
    assert "figs.ipynb: course.alt names cell 'deadbeef', which is not a code cell" in output
