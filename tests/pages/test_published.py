"""The published folder (`make publish`) as GitHub Pages serves it, in headless Chromium.

The folder is served under its base path (``/<repository>/``), and a missing address gets the
root's 404.html with status 404, as GitHub Pages does. Checked: every internal link resolves,
search finds a chapter, the 404 page works at any depth, each chapter offers its notebook and its
Colab launch, the sidebar lists every part and chapter of _toc.yml, every figure says what it
shows (alt text), and the PDF handout has more pages than the book has chapters.
``browser`` is conftest.py's headless Chromium.
"""

import functools
import http.server
import json
import urllib.parse
from http import HTTPStatus
from pathlib import Path

import pytest
import yaml

from course_lib.workshop import publish

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = ROOT / "_build" / "publish"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = [chapter["file"] for part in TOC["parts"] for chapter in part["chapters"]]
PAGES = [TOC["root"], *CHAPTERS]
NOTEBOOKS = [entry for entry in CHAPTERS if (ROOT / f"{entry}.ipynb").is_file()]
IMAGE_FILE_NAME = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """GitHub Pages' behaviour: the folder under ``base_path``, 404.html for what is missing."""

    def __init__(self, *args, folder: Path, base_path: str, **kwargs):
        self.folder, self.base_path = folder, base_path
        super().__init__(*args, directory=str(folder), **kwargs)

    def log_message(self, format, *args):
        pass

    def translate_path(self, path):
        path = urllib.parse.urlsplit(path).path
        if not path.startswith(self.base_path):
            return str(self.folder / ".not-under-the-base-path")
        return super().translate_path("/" + path[len(self.base_path) :])

    def send_error(self, code, message=None, explain=None):
        if code != HTTPStatus.NOT_FOUND:
            return super().send_error(code, message, explain)
        body = (self.folder / "404.html").read_bytes()
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="module")
def published() -> Path:
    assert (PUBLISH / publish.MARKER).is_file(), "run make publish first: no _build/publish"
    return PUBLISH


@pytest.fixture(scope="module")
def base_path(published) -> str:
    return publish.published_base_path(published)


@pytest.fixture(scope="module")
def pages_site(published, base_path):
    """The site's root address on a local server that behaves like GitHub Pages."""
    handler = functools.partial(_PagesHandler, folder=published, base_path=base_path)
    with publish.serve(published, handler) as root:
        yield f"{root}{base_path}"


@pytest.fixture
def browser_tab(browser):
    """A new browser tab, and the JavaScript errors it reports."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    page.close()


def test_the_folder_holds_the_book_the_decks_the_handout_and_the_hosting_files(published):
    for name in ["index.html", "search.html", "404.html", ".nojekyll", publish.HANDOUT]:
        assert (published / name).is_file(), name
    assert (published / publish.SLIDES / "index.html").is_file()
    for entry in PAGES:
        assert (published / f"{entry}.html").is_file(), entry


def test_every_internal_link_resolves(published, base_path):
    checked, broken = publish.check_links(published, base_path)
    assert broken == [], f"{len(broken)} of {checked} internal links are broken"
    assert checked > len(PAGES)


def test_search_finds_the_chapter_on_rotations(pages_site, browser_tab):
    tab, errors = browser_tab
    tab.goto(f"{pages_site}search.html?q=quaternion", wait_until="load")
    tab.wait_for_selector("#search-results ul.search li a", timeout=60_000)
    found = tab.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    assert f"{pages_site}book/part2/01_transformations.html" in [h.split("#")[0] for h in found]
    assert errors == []


def test_a_missing_address_at_any_depth_gets_the_404_page(pages_site, browser_tab):
    tab, errors = browser_tab
    response = tab.goto(f"{pages_site}book/part9/no_such_chapter.html", wait_until="load")
    assert response.status == 404
    assert tab.locator("h1").inner_text() == "Page not found"
    sheets = tab.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.sheet !== null)")
    assert sheets and all(sheets), "the 404 page's stylesheets did not load"
    for href in tab.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
        assert tab.request.get(href).ok, href

    tab.fill("input[name=q]", "quaternion")
    tab.press("input[name=q]", "Enter")
    tab.wait_for_selector("#search-results ul.search li a", timeout=60_000)
    assert tab.url == f"{pages_site}search.html?q=quaternion"
    assert errors == []


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_each_chapter_offers_its_notebook_and_its_colab_launch(
    entry, published, pages_site, browser_tab
):
    tab, errors = browser_tab
    tab.goto(f"{pages_site}{entry}.html", wait_until="load")
    downloads = tab.eval_on_selector_all(
        "a.btn-download-source-button", "as => as.map(a => a.href)"
    )
    assert f"{pages_site}_sources/{entry}.ipynb" in downloads, downloads
    notebook = json.loads((published / "_sources" / f"{entry}.ipynb").read_text())
    assert notebook["cells"], entry

    repository = CONFIG["repository"]
    owner_and_name = urllib.parse.urlsplit(repository["url"]).path.strip("/")
    source = f"{repository.get('path_to_book', '')}{entry}.ipynb".lstrip("/")
    colab = (
        f"https://colab.research.google.com/github/{owner_and_name}/blob/"
        f"{repository['branch']}/{source}"
    )
    launches = tab.eval_on_selector_all(
        "a[href*='colab.research.google.com']", "as => as.map(a => a.href)"
    )
    assert colab in launches, launches


def test_the_sidebar_lists_every_part_and_chapter(pages_site, browser_tab):
    tab, errors = browser_tab
    tab.goto(f"{pages_site}{TOC['root']}.html", wait_until="load")
    nav = "nav.bd-docs-nav"
    captions = tab.eval_on_selector_all(f"{nav} .caption-text", "cs => cs.map(c => c.innerText)")
    assert captions == [part["caption"] for part in TOC["parts"]]
    links = tab.eval_on_selector_all(f"{nav} a.reference.internal", "as => as.map(a => a.href)")
    missing = [entry for entry in CHAPTERS if f"{pages_site}{entry}.html" not in links]
    assert missing == []


@pytest.mark.parametrize("entry", PAGES)
def test_every_figure_says_what_it_shows(entry, pages_site, browser_tab):
    tab, errors = browser_tab
    tab.goto(f"{pages_site}{entry}.html", wait_until="load")
    images = tab.eval_on_selector_all(
        "main img", "is => is.map(i => [i.getAttribute('src'), i.getAttribute('alt') || ''])"
    )
    # Sphinx writes the file's path as the alt text of a figure given none.
    unnamed = [
        src
        for src, alt in images
        if not alt.strip() or (" " not in alt.strip() and alt.lower().endswith(IMAGE_FILE_NAME))
    ]
    assert unnamed == [], f"{entry}: {len(unnamed)} of {len(images)} figures have no alt text"


def test_the_handout_is_a_pdf_with_more_pages_than_chapters(published):
    pdf = published / publish.HANDOUT
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert publish.pdf_page_count(pdf) > len(CHAPTERS)
