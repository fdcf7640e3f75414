"""`python -m course_lib.workshop.publish`: the hosted folder from a small fake book and decks.

No build and no browser here: the PDF handout is checked on the real book by
tests/pages/test_published.py (`make publish`, then `make check-pages`).
"""

import json
import re

import pytest
import yaml

from course_lib.workshop import publish


def _write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def book(tmp_path):
    """A book's sources, its built HTML and its decks, as the make targets leave them."""
    _write(
        tmp_path / "_config.yml",
        "title: A Small Book\nrepository:\n  url: https://github.com/someone/small-book\n",
    )
    html = tmp_path / "_build" / "html"
    _write(html / "index.html", '<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    _write(
        html / "book" / "intro.html",
        '<link rel="stylesheet" href="../_static/styles/pydata-sphinx-theme.css">'
        '<h1 id="intro">Intro</h1><a href="part1/01_first.html#gradients">first</a>'
        '<img src="../_images/plot.png" alt="a plot"><a href="../search.html?q=x">search</a>',
    )
    _write(html / "book" / "part1" / "01_first.html", '<h2 id="gradients">G</h2>')
    _write(html / "search.html", "<form action='search.html'><input name='q'></form>")
    _write(html / "_images" / "plot.png", "png")
    _write(html / "_static" / "styles" / "pydata-sphinx-theme.css", "body {}")
    _write(html / "_static" / "styles" / "sphinx-book-theme.css", "body {}")
    _write(html / ".buildinfo", "sphinx")
    slides = tmp_path / "_build" / "slides"
    _write(slides / "index.html", '<a href="first.html">First</a>')
    _write(slides / "first.html", '<script src="reveal/reveal.js"></script>')
    _write(slides / "reveal" / "reveal.js", "")
    return tmp_path


def _assemble(book, out, **kwargs):
    build = book / "_build"
    return publish.assemble(
        out, build / "html", build / "slides", title="A Small Book", base_path="/site/", **kwargs
    )


def test_the_folder_holds_the_book_the_decks_and_what_pages_hosting_needs(book, tmp_path):
    out = _assemble(book, tmp_path / "site")

    for name in ["index.html", "book/intro.html", "_images/plot.png", "search.html"]:
        assert (out / name).is_file(), name
    assert (out / "slides" / "index.html").is_file()
    assert (out / "slides" / "reveal" / "reveal.js").is_file()
    assert (out / ".nojekyll").is_file()
    assert not (out / ".buildinfo").exists()
    assert json.loads((out / publish.MARKER).read_text())["made_by"].endswith("publish")
    assert publish.published_base_path(out) == "/site/"
    assert publish.broken_links(out, "/site/") == []


def test_the_404_page_links_from_the_site_root_whatever_the_missing_address(book, tmp_path):
    out = _assemble(book, tmp_path / "site")
    page = (out / "404.html").read_text()

    assert "<title>Page not found - A Small Book</title>" in page
    assert 'href="/site/index.html"' in page
    assert 'action="/site/search.html"' in page
    assert 'href="/site/slides/index.html"' in page
    # The theme's stylesheets that the book has, and only those.
    assert 'href="/site/_static/styles/pydata-sphinx-theme.css"' in page
    assert 'href="/site/_static/styles/sphinx-book-theme.css"' in page
    assert "_static/styles/theme.css" not in page
    # Served at the domain's root instead, the same links would miss.
    assert sorted(publish.broken_links(out, "/")) == [
        "404.html: /site/_static/styles/pydata-sphinx-theme.css",
        "404.html: /site/_static/styles/sphinx-book-theme.css",
        "404.html: /site/index.html",
        "404.html: /site/search.html",
        "404.html: /site/slides/index.html",
    ]


def test_a_folder_it_made_is_replaced_and_any_other_is_left_alone(book, tmp_path):
    out = tmp_path / "site"
    _write(out / "notes.txt", "mine")
    with pytest.raises(FileExistsError, match="--force"):
        _assemble(book, out)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "index.html").exists()

    _assemble(book, out, force=True)
    assert not (out / "notes.txt").exists()

    _write(out / "left_over.html")
    _assemble(book, out)  # its own folder: no --force needed, and nothing stale is kept
    assert not (out / "left_over.html").exists()
    assert (out / "book" / "intro.html").is_file()

    (out / publish.MARKER).unlink()
    with pytest.raises(FileExistsError, match="not made by this command"):
        _assemble(book, out)
    with pytest.raises(FileNotFoundError, match="not made by this command"):
        publish.published_base_path(out)


def test_an_empty_folder_or_a_new_one_is_used(book, tmp_path):
    (tmp_path / "empty").mkdir()
    assert (_assemble(book, tmp_path / "empty") / "index.html").is_file()
    assert (_assemble(book, tmp_path / "a" / "b") / "index.html").is_file()


def test_the_output_may_not_hold_or_lie_in_an_input(book):
    with pytest.raises(ValueError, match="overlaps the input folder"):
        _assemble(book, book / "_build", force=True)
    with pytest.raises(ValueError, match="overlaps the input folder"):
        _assemble(book, book / "_build" / "html" / "site")
    assert (book / "_build" / "html" / "index.html").is_file()
    with pytest.raises(FileExistsError, match="is a file"):
        _assemble(book, _write(book / "a_file"))


def test_missing_inputs_name_the_make_target_that_builds_them(book, tmp_path):
    build = book / "_build"
    with pytest.raises(FileNotFoundError, match="make book"):
        publish.assemble(
            tmp_path / "o", tmp_path / "none", build / "slides", title="t", base_path="/"
        )
    with pytest.raises(FileNotFoundError, match="make slides"):
        publish.assemble(
            tmp_path / "o", build / "html", tmp_path / "none", title="t", base_path="/"
        )
    assert not (tmp_path / "o").exists()


def test_the_base_path_comes_from_the_repository_or_the_environment(book, monkeypatch):
    monkeypatch.delenv("PAGES_BASE_PATH", raising=False)
    assert publish.default_base_path(book) == "/small-book/"
    monkeypatch.setenv("PAGES_BASE_PATH", "/fork-name")
    assert publish.default_base_path(book) == "/fork-name/"
    monkeypatch.setenv("PAGES_BASE_PATH", "")
    _write(book / "_config.yml", "title: No repository\n")
    assert publish.default_base_path(book) == "/"
    with pytest.raises(FileNotFoundError, match="_config.yml"):
        publish.default_base_path(book / "nowhere")
    with pytest.raises(ValueError, match="base_path must start with '/'"):
        publish.write_404(book, title="t", base_path="site/")


def test_broken_links_finds_missing_pages_images_anchors_and_escapes(tmp_path):
    _write(tmp_path / "a.html", '<h1 id="top">A</h1><a name="old">x</a>')
    _write(tmp_path / "index.html", '<meta http-equiv="Refresh" content="0; url=moved.html" />')
    _write(tmp_path / "docs" / "index.html", "<p>docs</p>")
    _write(tmp_path / "img" / "ok.png")
    _write(tmp_path / "with space.html")
    _write(
        tmp_path / "sub" / "page.html",
        """
        <a href="../a.html#top">good anchor</a>
        <a href="../a.html#old">good name anchor</a>
        <a href="../a.html#nowhere">bad anchor</a>
        <a href="../missing.html">broken link</a>
        <img src="../img/ok.png"><img src="../img/gone.png">
        <a href="../docs/">a folder: its index.html</a>
        <a href="../with%20space.html?x=1">encoded</a>
        <a href="/root/a.html">under the base path</a>
        <a href="/elsewhere/a.html">outside the base path</a>
        <a href="../../outside.html">outside the folder</a>
        <a href="#local">same page</a><a href="https://example.org/x.html">external</a>
        <a href="mailto:someone@example.org">mail</a><img src="data:image/png;base64,AAAA">
        <script src="../js/app.js"></script><link rel="stylesheet" href="../a.css">
        """,
    )
    _write(tmp_path / "_static" / "template.html", '<a href="{{ pathto("x") }}">not a page</a>')

    checked, broken = publish.check_links(tmp_path, "/root")
    assert broken == [
        "index.html: moved.html",
        "sub/page.html: ../a.html#nowhere",
        "sub/page.html: ../missing.html",
        "sub/page.html: ../img/gone.png",
        "sub/page.html: /elsewhere/a.html",
        "sub/page.html: ../../outside.html",
        "sub/page.html: ../js/app.js",
        "sub/page.html: ../a.css",
    ]
    assert checked == 14
    assert publish.broken_links(tmp_path / "docs") == []
    with pytest.raises(ValueError, match="folder must be a directory"):
        publish.broken_links(tmp_path / "a.html")


def test_the_command_publishes_without_the_pdf_and_reports_problems(book, capsys, monkeypatch):
    monkeypatch.delenv("PAGES_BASE_PATH", raising=False)
    build = book / "_build"
    common = ["--html", str(build / "html"), "--slides", str(build / "slides"), "--book", str(book)]
    out = book / "published"

    assert publish.main(["--out", str(out), "--no-pdf", *common]) == 0
    assert "internal links resolve" in capsys.readouterr().out
    assert 'href="/small-book/index.html"' in (out / "404.html").read_text()
    assert not (out / publish.HANDOUT).exists()

    _write(build / "html" / "book" / "part1" / "01_first.html", '<img src="../../_images/no.png">')
    assert publish.main(["--out", str(out), "--no-pdf", *common]) == 1
    assert "book/part1/01_first.html: ../../_images/no.png" in capsys.readouterr().err

    missing = ["--html", str(book / "nothing"), "--slides", str(build / "slides")]
    assert publish.main(["--out", str(out), "--no-pdf", "--book", str(book), *missing]) == 2
    assert "run `make book`" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        publish.main(["--no-pdf"])
    assert exit_info.value.code == 2


def test_pdf_pages_are_counted_from_the_page_objects(tmp_path):
    pdf = _write(
        tmp_path / "a.pdf",
        "%PDF-1.4\n1 0 obj <</Type /Pages /Count 3>>\n"
        "2 0 obj <</Type /Page>>\n3 0 obj <</Type/Page /Parent 1 0 R>>\n4 0 obj <</Type /Page\n>>",
    )
    assert publish.pdf_page_count(pdf) == 3


def test_the_pages_workflow_deploys_what_make_publish_writes(repo_root):
    workflow = yaml.safe_load((repo_root / ".github" / "workflows" / "pages.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "main" in triggers["push"]["branches"]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"]

    steps = workflow["jobs"]["build"]["steps"]
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert str(uses["actions/setup-node"]["with"]["node-version"]) == "20"
    runs = [step.get("run", "").strip() for step in steps]
    upload = steps.index(uses["actions/upload-pages-artifact"])
    assert runs.index("make publish") < runs.index("make check-pages") < upload

    makefile = (repo_root / "Makefile").read_text()
    out = re.search(r"-m course_lib\.workshop\.publish --out (\S+)", makefile).group(1)
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == out == "_build/publish"

    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]


def test_the_browser_is_chosen_by_chromium_or_found_on_path(monkeypatch, tmp_path):
    browser = tmp_path / "my-chrome"
    browser.write_text("")
    monkeypatch.setenv("CHROMIUM", str(browser))
    assert publish.chromium_executable() == str(browser)
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="CHROMIUM="):
        publish.chromium_executable()
    monkeypatch.delenv("CHROMIUM")
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert publish.chromium_executable() == str(fake)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no Chromium on PATH"):
        publish.chromium_executable()
