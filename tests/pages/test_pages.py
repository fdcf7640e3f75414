"""The published book in a real browser: headless Chromium opens every page of the built book.

Run after `make book` (`make check-pages`). Each page must show its title, every image on it must
have loaded, its formulas must be typeset, and no error output may be visible. Screenshots go to
_build/screenshots/.
"""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _title(entry: str) -> str:
    """The first heading of a page's source, as the reader should see it."""
    source = ROOT / f"{entry}.md"
    if source.exists():
        text = source.read_text()
    else:
        nb = nbformat.read(ROOT / f"{entry}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    title = re.search(r"^# (.+)$", text, re.M).group(1).strip()
    return title.replace("'", "\u2019")  # Sphinx's smart quotes: picture's -> picture’s


@pytest.mark.parametrize("entry", _pages())
def test_page_shows_its_title_and_figures_without_errors(entry, site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{site}/{entry}.html", wait_until="load", timeout=60_000)
    assert response is not None and response.ok, f"{entry}: HTTP {response and response.status}"

    heading = page.locator("main h1").first.inner_text().replace("#", "").strip()
    assert heading == _title(entry)

    images = page.evaluate(
        "[...document.querySelectorAll('main img')].map(i => [i.src, i.complete, i.naturalWidth])"
    )
    # External badges (Colab) cannot load offline; the book's own figures must.
    images = [image for image in images if image[0].startswith(site)]
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"{entry}: images that did not load: {broken}"
    if Path(entry).name[:2].isdigit():
        assert images, f"{entry}: a chapter page with no figure"

    if page.locator("main .math").count():  # formulas are typeset by the book's own MathJax
        page.wait_for_function("document.querySelectorAll('main mjx-container').length > 0")

    assert page.locator(".output.stderr, .output.traceback, .output_error").count() == 0
    text = page.locator("main").inner_text()
    assert "Traceback (most recent call last)" not in text
    assert not errors, f"{entry}: JavaScript errors {errors}"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{entry.replace('/', '__')}.png"), full_page=True)
    page.close()
