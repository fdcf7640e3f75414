"""The folder that static hosting serves: the book, the decks, a 404 page and the PDF handout.

python -m course_lib.workshop.publish --out DIR [--html _build/html] [--slides _build/slides]
    [--book .] [--base-path /tf2-course/] [--no-pdf] [--force]

DIR gets the book's HTML at its root, the decks under ``slides/``, ``handout.pdf``, ``.nojekyll``
(GitHub Pages serves ``_static/`` as is) and ``404.html``. GitHub Pages answers every missing
address with the root's ``404.html`` whatever folder the address names, so that page's links are
absolute: they start with the site's base path, ``/<repository>/`` for project pages (from
``_config.yml``'s repository URL, or ``$PAGES_BASE_PATH``, or ``--base-path``).

The handout is printed from the same sources: ``jupyter-book build --builder singlehtml`` (the
chapters come from the execution cache; nothing re-runs) into ``_build/handout/``, then headless
Chromium prints that one page to A4 once its figures have loaded and MathJax has typeset it.

A DIR made here holds a marker file; a non-empty DIR without it is refused unless ``--force``,
so that a mistyped ``--out`` never replaces someone's folder.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

MARKER = ".course-publish.json"
HANDOUT = "handout.pdf"
SLIDES = "slides"
#: The theme's stylesheets, which the 404 page reuses when the book has them.
THEME_STYLESHEETS = (
    "_static/styles/theme.css",
    "_static/styles/pydata-sphinx-theme.css",
    "_static/styles/sphinx-book-theme.css",
)
#: Chromium's switches for headless use in containers and CI (the page tests use them too).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Added to the single-page book before printing: code wraps instead of being cut at the margin,
#: every chapter starts a page, a cell's code (the theme keeps it whole) moves with its frame,
#: figures stay whole, the Colab set-up cells and the badges that need the network go.
PRINT_CSS = """
@media print {
  .toctree-wrapper > section { break-before: page; }
  .tag_course-setup, main img[src^="http"] { display: none !important; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  pre, div.highlight, .cell_output, .output { overflow: visible !important; }
  .cell_input, .cell_output > .output, img, figure, mjx-container { break-inside: avoid; }
  img { max-width: 100% !important; height: auto; }
}
"""
#: Resolves once every image has loaded or failed, the fonts are ready and MathJax has typeset
#: the page; returns the page's own images that did not load, and whether formulas are untypeset.
_SETTLE_JS = """
async () => {
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.filter((image) => !image.complete).map((image) =>
    new Promise((done) => { image.onload = done; image.onerror = done; })));
  await document.fonts.ready;
  const hasMath = document.querySelector(".math") !== null;
  for (let tries = 0; hasMath && !(window.MathJax && MathJax.startup) && tries < 600; tries++) {
    await new Promise((done) => setTimeout(done, 100));
  }
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const local = images.filter((image) => image.src.startsWith(location.origin));
  const untypeset = hasMath && document.querySelector("mjx-container") === null;
  return [local.filter((image) => !image.naturalWidth).map((image) => image.src), untypeset];
}
"""
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
#: The attribute that names another file, per tag.
_REFERENCE_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "script": "src",
    "iframe": "src",
    "embed": "src",
    "source": "src",
    "track": "src",
    "audio": "src",
    "video": "src",
    "form": "action",
}


# --------------------------------------------------------------------------------- link checks


class _PageParser(HTMLParser):
    """Collects a page's ids (anchor targets) and the addresses it references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value for key, value in attrs if value is not None}
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        reference = values.get(_REFERENCE_ATTRIBUTES.get(tag, ""), "").strip()
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            reference = values.get("content", "").partition("url=")[2].strip()
        if reference:
            self.references.append(reference)


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def _normalize_base_path(base_path: str) -> str:
    if not isinstance(base_path, str) or not base_path.startswith("/"):
        raise ValueError(f"base_path must start with '/', got {base_path!r}")
    return base_path.rstrip("/") + "/"


def _target(folder: Path, page: Path, path: str, base_path: str) -> Path | None:
    """The file that ``path`` (a reference on ``page``) names; None if it leaves the site."""
    if path.startswith("/"):
        if not path.startswith(base_path):
            return None
        target = folder / path[len(base_path) :]
    else:
        target = page.parent / path
    target = Path(os.path.normpath(target))
    if target != folder and folder not in target.parents:
        return None
    return target / "index.html" if target.is_dir() else target


def _ids(page: Path, parsed: dict[Path, _PageParser]) -> set[str]:
    if page not in parsed:
        parsed[page] = _parse(page)
    return parsed[page].ids


def check_links(folder: Path | str, base_path: str = "/") -> tuple[int, list[str]]:
    """Checks every internal reference of every HTML page under ``folder``.

    Pages are the ``.html`` files outside ``_static/`` folders (which hold the theme's templates,
    not pages). A reference is an ``href``, a ``src``, a form's ``action`` or the address of a
    ``<meta http-equiv="refresh">`` (the book's index.html is one); external ones (with a scheme
    such as ``https:``, ``mailto:`` or ``data:``) and references to the page itself (``#anchor``)
    are skipped. A relative reference must name a file inside ``folder`` (a folder means its
    ``index.html``); one that starts with ``/`` must start with ``base_path``, the address of
    ``folder`` on the server. An ``#anchor`` on another page must be an ``id`` there.

    Returns (the number of references checked, the broken ones as ``"page: reference"``).
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ValueError(f"folder must be a directory, got {str(folder)!r}")
    base_path = _normalize_base_path(base_path)
    pages = [p for p in folder.rglob("*.html") if "_static" not in p.relative_to(folder).parts]
    pages.sort()
    parsed = {page: _parse(page) for page in pages}
    checked, broken = 0, []
    for page in pages:
        for reference in parsed[page].references:
            parts = urllib.parse.urlsplit(reference)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            checked += 1
            target = _target(folder, page, urllib.parse.unquote(parts.path), base_path)
            fragment = urllib.parse.unquote(parts.fragment)
            if (
                target is None
                or not target.is_file()
                or (fragment and target.suffix == ".html" and fragment not in _ids(target, parsed))
            ):
                broken.append(f"{page.relative_to(folder).as_posix()}: {reference}")
    return checked, broken


def broken_links(folder: Path | str, base_path: str = "/") -> list[str]:
    """The broken internal references under ``folder`` (see :func:`check_links`)."""
    return check_links(folder, base_path)[1]


# ------------------------------------------------------------------------------ the site's parts


def default_base_path(book: Path | str) -> str:
    """``$PAGES_BASE_PATH``, else ``/<repository name>/`` from ``book/_config.yml``'s repository."""
    if os.environ.get("PAGES_BASE_PATH"):
        return _normalize_base_path(os.environ["PAGES_BASE_PATH"])
    url = _config(book).get("repository", {}).get("url", "")
    name = urllib.parse.urlsplit(url).path.strip("/").rpartition("/")[2]
    return f"/{name}/" if name else "/"


def _config(book: Path | str) -> dict:
    import yaml

    path = Path(book) / "_config.yml"
    if not path.is_file():
        raise FileNotFoundError(f"no _config.yml in book folder {str(book)!r}")
    return yaml.safe_load(path.read_text()) or {}


def _root_page(book: Path | str) -> str:
    import yaml

    return yaml.safe_load((Path(book) / "_toc.yml").read_text())["root"]


def write_404(out: Path | str, *, title: str, base_path: str) -> Path:
    """Writes ``out/404.html``: a short message and links to the book's first page and search.

    Its links start with ``base_path`` so that they work at any depth of a missing address; it
    uses the theme's stylesheets found in ``out``.
    """
    out, base = Path(out), _normalize_base_path(base_path)
    stylesheets = "".join(
        f'<link rel="stylesheet" href="{html.escape(base + sheet)}">\n'
        for sheet in THEME_STYLESHEETS
        if (out / sheet).is_file()
    )
    slides = ""
    if (out / SLIDES / "index.html").is_file():
        slides = f'<a href="{html.escape(base)}{SLIDES}/index.html">The workshop slides</a>'
    page = f"""<!DOCTYPE html>
<html lang="en" data-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Page not found - {html.escape(title)}</title>
{stylesheets}<style>main {{ max-width: 42rem; margin: 4rem auto; padding: 0 1.5rem; }}</style>
</head>
<body>
<main id="main-content">
<h1>Page not found</h1>
<p>There is no page at this address in <em>{html.escape(title)}</em>. The link may be mistyped,
or the page may have moved.</p>
<p><a href="{html.escape(base)}index.html">Go to the book's first page</a>, or search the book:</p>
<form action="{html.escape(base)}search.html" method="get" role="search">
<input type="search" name="q" aria-label="Search the book" placeholder="Search the book">
<button type="submit">Search</button>
</form>
<p>{slides}</p>
</main>
</body>
</html>
"""
    path = out / "404.html"
    path.write_text(page, encoding="utf-8")
    return path


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def prepare_output(out: Path | str, *, inputs: tuple[Path, ...] = (), force: bool = False) -> Path:
    """Empties ``out`` (creating it) for a new site and writes the marker into it.

    Raises FileExistsError if ``out`` is a file, or a non-empty folder without the marker (unless
    ``force``); ValueError if ``out`` contains, or lies inside, one of ``inputs``.
    """
    out = Path(out).resolve()
    for source in inputs:
        if _overlaps(out, Path(source).resolve()):
            raise ValueError(f"--out {out} overlaps the input folder {source}")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file() and not force:
            raise FileExistsError(
                f"--out {out} is not empty and was not made by this command (no {MARKER} in it); "
                "choose another folder, or pass --force to replace its contents"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_marker(out)
    return out


def _write_marker(out: Path, **fields: str) -> None:
    record = {"made_by": "course_lib.workshop.publish", **fields}
    (out / MARKER).write_text(json.dumps(record) + "\n")


def published_base_path(out: Path | str) -> str:
    """The base path that :func:`assemble` wrote ``out``'s 404 page for (from its marker)."""
    marker = Path(out) / MARKER
    if not marker.is_file():
        raise FileNotFoundError(f"{out} was not made by this command (no {MARKER})")
    return json.loads(marker.read_text())["base_path"]


def assemble(
    out: Path | str,
    html_dir: Path | str,
    slides_dir: Path | str,
    *,
    title: str,
    base_path: str,
    force: bool = False,
) -> Path:
    """Makes ``out``: the book's HTML at its root, the decks in ``slides/``, ``.nojekyll``, 404.

    Raises FileNotFoundError naming the make target when the book or the decks are not built.
    """
    html_dir, slides_dir = Path(html_dir), Path(slides_dir)
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"no built book in {html_dir} (no index.html): run `make book`")
    if not (slides_dir / "index.html").is_file():
        raise FileNotFoundError(f"no decks in {slides_dir} (no index.html): run `make slides`")
    if (html_dir / SLIDES).exists():
        raise ValueError(f"the book in {html_dir} has its own {SLIDES}/, where the decks go")
    base_path = _normalize_base_path(base_path)
    out = prepare_output(out, inputs=(html_dir, slides_dir), force=force)
    shutil.copytree(html_dir, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".buildinfo"))
    shutil.copytree(slides_dir, out / SLIDES)
    (out / ".nojekyll").write_text("")
    write_404(out, title=title, base_path=base_path)
    _write_marker(out, base_path=base_path)
    return out


# ---------------------------------------------------------------------------------- the handout


#: Names of a Chromium-based browser on PATH, in the order they are tried (Debian, Ubuntu, GitHub's
#: runner images).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_executable() -> str:
    """The Chromium that prints the handout and runs the page tests: ``$CHROMIUM`` when set, else
    the first of :data:`CHROMIUM_NAMES` on PATH."""
    chosen = os.environ.get("CHROMIUM")
    if chosen:
        if not Path(chosen).exists():
            raise FileNotFoundError(f"CHROMIUM={chosen} does not exist")
        return chosen
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        "no Chromium on PATH: install it (apt-get install chromium) or set CHROMIUM to its path"
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path | str, handler: Callable[..., Any] | None = None) -> Iterator[str]:
    """Serves ``folder`` over HTTP on a free local port, quietly; yields the root address.

    ``handler`` replaces the request handler (a ``SimpleHTTPRequestHandler`` factory already
    bound to its folder), for a server that behaves like a particular host.
    """
    handler = handler or functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def build_single_page(book: Path | str) -> Path:
    """Builds the book as one HTML page under ``book/_build/handout``; returns the page.

    Runs ``jupyter-book build --builder singlehtml`` with its own output folder (so the HTML
    build's environment stays valid) and the shared execution cache. Raises RuntimeError if the
    build fails or warns.
    """
    book = Path(book).resolve()
    output = book / "_build" / "handout"
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(book), "--builder", "singlehtml"]
    command += ["--path-output", str(output), "--warningiserror", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=book)
    if result.returncode != 0:
        log = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(f"the single-page build failed:\n{log}")
    folder = output / "_build" / "singlehtml"
    # Sphinx writes the page at the root document's path but links it as if it were at the
    # folder's root: a copy there loads its stylesheets, scripts and figures.
    page = folder / "handout.html"
    shutil.copyfile(folder / f"{_root_page(book)}.html", page)
    return page


def print_pdf(page: Path | str, pdf: Path | str, *, timeout_s: float = 300) -> None:
    """Prints the HTML ``page`` (served with its folder) to the A4 PDF ``pdf`` with Chromium.

    Waits for every image and for MathJax. Raises RuntimeError if one of the page's own images,
    stylesheets or scripts failed to load, or if its formulas are left untypeset.
    """
    from playwright.sync_api import sync_playwright

    page_path = Path(page)
    failed: list[str] = []

    with serve(page_path.parent) as root, sync_playwright() as playwright:

        def own(url: str) -> bool:
            # The theme asks every page for the search index, which a single page has not.
            return url.startswith(root) and not url.endswith("/searchindex.js")

        def on_response(response) -> None:
            if own(response.url) and response.status >= 400:
                failed.append(f"{response.status} {response.url}")

        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        try:
            tab = browser.new_page()
            tab.on("response", on_response)
            tab.on("requestfailed", lambda request: own(request.url) and failed.append(request.url))
            tab.goto(f"{root}/{page_path.name}", wait_until="load", timeout=timeout_s * 1000)
            tab.add_style_tag(content=PRINT_CSS)
            tab.set_default_timeout(timeout_s * 1000)
            missing, untypeset = tab.evaluate(_SETTLE_JS)
            if failed or missing or untypeset:
                raise RuntimeError(
                    f"{page_path.name} did not load completely: failed {failed + missing}"
                    + (", formulas not typeset" if untypeset else "")
                )
            tab.pdf(
                path=str(pdf),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center">'
                    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
                ),
            )
        finally:
            browser.close()


def pdf_page_count(pdf: Path | str) -> int:
    """The number of pages of a PDF whose page objects are not compressed (Chromium's are)."""
    return len(_PDF_PAGE.findall(Path(pdf).read_bytes()))


# ------------------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    """Runs the command; returns the exit status (2: bad arguments or inputs, 1: a failure)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.workshop.publish",
        description="Assemble the folder to host: the book, the decks, 404.html, the PDF handout.",
    )
    parser.add_argument("--out", required=True, help="the folder to write (made by this command)")
    parser.add_argument("--html", default="_build/html", help="the built book (make book)")
    parser.add_argument("--slides", default="_build/slides", help="the built decks (make slides)")
    parser.add_argument("--book", default=".", help="the book's sources (_config.yml, _toc.yml)")
    parser.add_argument(
        "--base-path",
        help="the site's address path, for 404.html's links (default: $PAGES_BASE_PATH, else "
        "/<repository name>/ from _config.yml)",
    )
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF handout")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    try:
        base_path = _normalize_base_path(args.base_path or default_base_path(args.book))
        title = str(_config(args.book).get("title", "The book"))
        out = assemble(
            args.out, args.html, args.slides, title=title, base_path=base_path, force=args.force
        )
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"publish: {error}", file=sys.stderr)
        return 2
    print(f"publish: book and decks copied to {out} (404.html links under {base_path})")

    try:
        if not args.no_pdf:
            began = time.perf_counter()
            page = build_single_page(args.book)
            print_pdf(page, out / HANDOUT)
            size_mb = (out / HANDOUT).stat().st_size / 1e6
            print(
                f"publish: {HANDOUT}: {pdf_page_count(out / HANDOUT)} pages, {size_mb:.1f} MB, "
                f"{time.perf_counter() - began:.0f} s"
            )
        checked, broken = check_links(out, base_path)
    except (RuntimeError, FileNotFoundError) as error:
        print(f"publish: {error}", file=sys.stderr)
        return 1
    if broken:
        print(f"publish: {len(broken)} of {checked} internal links are broken:", file=sys.stderr)
        for link in broken:
            print(f"  {link}", file=sys.stderr)
        return 1
    print(
        f"publish: {checked} internal links resolve; {out} is ready "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
