"""The book builds with every chapter executed, and the pages carry no errors or log noise."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOISE = re.compile(
    r"Traceback \(most recent call last\)|[IWEF]0000 |oneDNN custom operations|"
    r"WARNING:tensorflow|absl::|UserWarning|DeprecationWarning|output_stderr|NotImplementedError"
)


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _build(book: Path, out: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jupyter_book), "build", str(book), "--path-output", str(out), "--warningiserror"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=book,
    )


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    """Builds into a temporary folder; the execution cache in _build/ is shared with `make book`."""
    out = tmp_path_factory.mktemp("book")
    result = _build(ROOT, out)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return out / "_build" / "html"


@pytest.mark.slow
def test_every_page_is_built_without_errors_or_noise(built_book):
    for entry in _toc_files():
        page = built_book / f"{entry}.html"
        assert page.exists(), f"{entry} was not built"
        html = page.read_text()
        found = NOISE.search(html)
        assert found is None, f"{entry}: {found.group(0)!r} on the page"


@pytest.mark.slow
def test_chapters_are_executed_with_their_plots_embedded(built_book):
    chapters = [e for e in _toc_files() if Path(e).name[:2].isdigit()]
    assert chapters
    for entry in chapters:
        html = (built_book / f"{entry}.html").read_text()
        assert "cell_output" in html, f"{entry} shows no executed output"
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
        assert images, f"{entry} has no plot"
        for src in images:
            assert (built_book / Path(entry).parent / src).resolve().exists(), src
        assert "colab.research.google.com" in html, f"{entry} has no Colab launch button"


class _MainImages(HTMLParser):
    """Collects the attributes of every ``<img>`` inside the page's ``<main>``."""

    def __init__(self):
        super().__init__()
        self.inside_main = 0
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.inside_main += 1
        elif tag == "img" and self.inside_main:
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "main":
            self.inside_main -= 1


@pytest.mark.slow
def test_every_image_of_every_page_has_alt_text(built_book):
    """Alt text, not the file name myst-nb falls back to (book/_ext/course_book.py sets it)."""
    path_like = re.compile(r"/|\.(png|jpe?g|gif|svg)\b", re.IGNORECASE)
    chapters = {f"{e}.html" for e in _toc_files() if Path(e).name[:2].isdigit()}
    for page in built_book.rglob("*.html"):
        name = str(page.relative_to(built_book))
        if name.startswith("_"):  # _static, _sources: not pages of the book
            continue
        parser = _MainImages()
        parser.feed(page.read_text())
        if name in chapters:
            assert any("_images/" in (image.get("src") or "") for image in parser.images), name
        for image in parser.images:
            alt = (image.get("alt") or "").strip()
            assert alt, f"{name}: {image.get('src')} has no alt text"
            assert not path_like.search(alt), f"{name}: {image.get('src')} has alt {alt!r}"


@pytest.mark.slow
def test_a_repeat_build_takes_every_chapter_from_the_execution_cache(built_book, tmp_path):
    result = _build(ROOT, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    chapters = [e for e in _toc_files() if Path(e).name[:2].isdigit()]
    for entry in chapters:
        assert f"{entry}.ipynb: Using cached notebook" in result.stdout, entry
    assert "Executing notebook" not in result.stdout


@pytest.mark.slow
def test_a_chapter_that_raises_fails_the_build(tmp_path):
    import shutil

    import nbformat

    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: broken\n")
    (book / "index.md").write_text("# Index\n")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("1 / 0")]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, book / "broken.ipynb")
    config = (book / "_config.yml").read_text().replace("course_book: book/_ext", "")
    (book / "_config.yml").write_text(config.replace("  local_extensions:\n", ""))
    result = _build(book, tmp_path / "out")
    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stdout + result.stderr
