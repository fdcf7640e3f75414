"""Shared fixtures of the browser checks: the built book served locally, headless Chromium.

- ``site``: the URL of a local HTTP server of ``_build/html`` (run ``make book`` first);
  ``HTML_DIR`` overrides the folder served.
- ``browser``: Playwright's Chromium (``publish.chromium_executable()``, ``CHROMIUM_ARGS``).
"""

import os
from pathlib import Path

import pytest

from course_lib.workshop.publish import (  # shared with the PDF handout's printing
    CHROMIUM_ARGS,
    chromium_executable,
    serve,
)

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("HTML_DIR", ROOT / "_build" / "html"))


@pytest.fixture(scope="module")
def site():
    assert (HTML / "index.html").exists(), "build the book first: make book"
    with serve(HTML) as root:
        yield root


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
