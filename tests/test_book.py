"""The book builds with every chapter executed, and the pages carry no errors or log noise."""

import re
import subprocess
import sys
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


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    """Builds into a temporary folder; the execution cache in _build/ is shared with `make book`."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "--warningiserror"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
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
