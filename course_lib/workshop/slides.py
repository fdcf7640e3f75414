"""reveal.js decks made from the chapters: ``course slides [CHAPTER ...]`` (``make slides``).

A deck shows what a chapter computed: its figures are the image outputs of the chapter's
*executed* notebook, taken from the book build's execution cache (jupyter-cache,
``_build/.jupyter_cache``), so no chapter runs again. What goes on the slides is the chapter's
notebook-level metadata ``course.slides``::

    "course": {"slides": {
        "title": "Tensors and gradients",        # the title slide's heading
        "notes": "...",                          # the title slide's speaker notes
        "figures": [                             # one slide per key figure, at least one
            {"cell": "47ff02c9", "caption": "...", "notes": "...", "output": 0}
        ],
        "listings": [                            # code slides: the cell's source, highlighted
            {"cell": "40dca9ae", "caption": "...", "notes": "...", "highlight": "1-7"}
        ],
        "takeaways": ["...", "..."]              # the closing slide's points
    }}

``cell`` is a code cell's nbformat id; ``output`` (optional) picks one of the cell's image
outputs, counted from 0, when it has several; ``highlight`` (optional) is reveal.js's
``data-line-numbers`` (``"3-5"``, ``"1,4|6-8"``: steps separated by ``|``). Text may use
`backticks` for code. The selection lives in the notebook's metadata rather than in cell tags
because jupyter-cache hashes the metadata of every code cell: a tag, or an edited caption, on a
cell would discard the chapter's cached execution.

A deck: the title slide (title, the chapter's part of the course as ``_toc.yml`` names it, its
place in the part), the figures and listings in notebook order, the take-aways. Every slide
carries speaker notes (``<aside class="notes">``, reveal's notes plugin); the take-aways' notes
name the chapter's exercises.

Output under OUT: ``<topic>.html`` per chapter, its figures in ``figures/<topic>/``, ``index.html``
linking every deck there, and ``reveal/``: the parts of npm's reveal.js (``node_modules``) the
decks load, copied once for all of them, with a theme whose fonts ship with it. Nothing is
fetched from the network; the decks work from ``file://`` and from any static server.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import string
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib import checks

TOC = "_toc.yml"
REVEAL_PACKAGE = Path("node_modules") / "reveal.js"
#: What the decks load from reveal.js (files or folders), copied to OUT/reveal/ as they lie.
REVEAL_FILES = (
    "LICENSE",
    "dist/reset.css",
    "dist/reveal.css",
    "dist/reveal.js",
    "dist/theme/white.css",
    "dist/theme/fonts/source-sans-pro",
    "plugin/notes/notes.js",
    "plugin/highlight/highlight.js",
    "plugin/highlight/monokai.css",
)
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}
_REMOTE = re.compile(r"(?:url\(|@import)\s*['\"]?\s*(?:https?:)?//", re.I)
_HIGHLIGHT = re.compile(r"\d+(?:-\d+)?(?:[,|]\d+(?:-\d+)?)*")


class SlidesError(ValueError):
    """A deck cannot be made: bad slide metadata, a chapter not executed, reveal.js missing."""


class UnknownChapter(LookupError):
    """A chapter named on the command line is not in the book."""


@dataclass(frozen=True)
class Chapter:
    """A chapter of the book, as ``_toc.yml`` places it."""

    path: Path  # the notebook
    topic: str  # the file name after ``NN_``
    part: str  # the caption of its part in _toc.yml
    number: int  # its place in the part, from 1
    count: int  # chapters in the part


@dataclass(frozen=True)
class Item:
    """A figure or listing slide."""

    kind: str  # "figure" or "listing"
    cell: str  # the code cell's id
    caption: str
    notes: str
    output: int | None = None  # figures: which image output of the cell
    highlight: str | None = None  # listings: reveal's data-line-numbers


@dataclass(frozen=True)
class SlideSpec:
    """A chapter's validated ``course.slides`` metadata; ``items`` in notebook order."""

    title: str
    notes: str
    items: tuple[Item, ...]
    takeaways: tuple[str, ...]


@dataclass(frozen=True)
class Deck:
    """A deck written by :func:`build_decks`."""

    topic: str
    path: Path
    slides: int
    figures: int


def book_chapters(root: Path) -> list[Chapter]:
    """The chapter notebooks (``NN_topic.ipynb``) of ``root/_toc.yml``, in the book's order.

    Raises:
        FileNotFoundError: if ``root`` has no ``_toc.yml``.
    """
    import yaml

    toc_path = Path(root) / TOC
    if not toc_path.is_file():
        raise FileNotFoundError(f"no {TOC} in {root}: run `course slides` in the course's folder")
    toc = yaml.safe_load(toc_path.read_text())
    chapters = []
    for part in toc.get("parts", []):
        files = [Path(root) / f"{c['file']}.ipynb" for c in part.get("chapters", [])]
        files = [f for f in files if re.fullmatch(r"\d\d_\w+", f.stem) and f.is_file()]
        for number, path in enumerate(files, start=1):
            topic = path.stem.split("_", 1)[1]
            chapters.append(Chapter(path, topic, part.get("caption", ""), number, len(files)))
    return chapters


def select_chapters(names: list[str], root: Path) -> list[Chapter]:
    """The chapters named by topic (``cnn``) or notebook path; all of them when ``names`` is empty.

    Raises:
        UnknownChapter: naming the first name that is not a chapter, with the valid topics.
    """
    chapters = book_chapters(root)
    if not names:
        return chapters
    by_topic = {c.topic: c for c in chapters}
    by_path = {c.path.resolve(): c for c in chapters}
    selected: list[Chapter] = []
    for name in names:
        chapter = by_topic.get(name) or by_path.get(Path(name).resolve())
        if chapter is None:
            raise UnknownChapter(
                f"unknown chapter {name!r}; the chapters are: {', '.join(by_topic)}"
            )
        if chapter not in selected:
            selected.append(chapter)
    return selected


def _text(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SlidesError(f"{where} must be a non-empty string, got {value!r}")
    return value.strip()


def _mapping(where: str, value: object, required: set[str], optional: set[str]) -> dict:
    if not isinstance(value, dict):
        raise SlidesError(f"{where} must be a mapping, got {value!r}")
    missing, unknown = required - set(value), set(value) - required - optional
    if missing:
        raise SlidesError(f"{where} lacks {', '.join(sorted(missing))}")
    if unknown:
        raise SlidesError(
            f"{where} has unknown keys {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(required | optional))})"
        )
    return value


def _item(kind: str, where: str, entry: object, cells: dict[str, nbformat.NotebookNode]) -> Item:
    optional = {"output"} if kind == "figure" else {"highlight"}
    entry = _mapping(where, entry, {"cell", "caption", "notes"}, optional)
    cell_id = _text(f"{where}.cell", entry["cell"])
    cell = cells.get(cell_id)
    if cell is None or cell.cell_type != "code":
        found = f"a {cell.cell_type} cell" if cell is not None else "no such cell"
        raise SlidesError(f"{where}: cell {cell_id} must be a code cell ({found})")
    output = entry.get("output")
    if output is not None and not (checks.is_int(output) and output >= 0):
        raise SlidesError(f"{where}.output must be an int >= 0, got {output!r}")
    highlight = entry.get("highlight")
    if highlight is not None:
        if not isinstance(highlight, str) or not _HIGHLIGHT.fullmatch(highlight):
            raise SlidesError(
                f"{where}.highlight must read like '3-5' or '1,4|6-8', got {highlight!r}"
            )
        lines = len(cell.source.splitlines())
        if max(int(n) for n in re.findall(r"\d+", highlight)) > lines:
            raise SlidesError(f"{where}.highlight {highlight!r}: cell {cell_id} has {lines} lines")
    return Item(
        kind,
        cell_id,
        _text(f"{where}.caption", entry["caption"]),
        _text(f"{where}.notes", entry["notes"]),
        output,
        highlight,
    )


def slide_spec(nb: nbformat.NotebookNode, name: str) -> SlideSpec:
    """``nb``'s ``course.slides`` metadata, checked against its cells.

    Args:
        nb: the chapter (outputs are not needed here).
        name: how errors name the chapter (its path).

    Raises:
        SlidesError: naming the chapter and the faulty key or cell.
    """
    slides = nb.metadata.get("course", {}).get("slides")
    if slides is None:
        raise SlidesError(
            f"{name}: no slide metadata (notebook metadata course.slides; its keys are "
            "described in course_lib/workshop/slides.py)"
        )
    where = f"{name}: course.slides"
    slides = _mapping(where, slides, {"title", "notes", "figures", "listings", "takeaways"}, set())
    for key in ("figures", "listings", "takeaways"):
        if not isinstance(slides[key], list):
            raise SlidesError(f"{where}.{key} must be a list, got {slides[key]!r}")
    if not slides["figures"]:
        raise SlidesError(f"{where}.figures is empty: a deck shows at least one figure")
    if not slides["takeaways"]:
        raise SlidesError(f"{where}.takeaways is empty")
    cells = {cell.get("id"): cell for cell in nb.cells}
    items = [
        _item(kind, f"{where}.{key}[{index}]", entry, cells)
        for kind, key in (("figure", "figures"), ("listing", "listings"))
        for index, entry in enumerate(slides[key])
    ]
    seen = [(item.kind, item.cell, item.output) for item in items]
    if len(set(seen)) != len(seen):
        raise SlidesError(f"{where}: a cell is shown twice as the same kind of slide")
    order = {cell.get("id"): position for position, cell in enumerate(nb.cells)}
    return SlideSpec(
        title=_text(f"{where}.title", slides["title"]),
        notes=_text(f"{where}.notes", slides["notes"]),
        items=tuple(sorted(items, key=lambda item: order[item.cell])),
        takeaways=tuple(
            _text(f"{where}.takeaways[{i}]", point) for i, point in enumerate(slides["takeaways"])
        ),
    )


def executed_notebook(path: Path, cache: Path) -> nbformat.NotebookNode:
    """The chapter at ``path`` with the outputs of its execution in the jupyter-cache ``cache``.

    Raises:
        SlidesError: if there is no cache, or it holds no execution of the chapter's current code.
    """
    from jupyter_cache import get_cache

    if not (Path(cache) / "global.db").is_file():
        raise SlidesError(
            f"no execution cache at {cache}: run `make book` first (it executes the chapters "
            "and caches their outputs there)"
        )
    nb = nbformat.read(path, as_version=4)
    try:
        _, executed = get_cache(str(cache)).merge_match_into_notebook(nb)
    except KeyError:
        raise SlidesError(
            f"{path} has no execution in {cache} (never executed, or its code changed since): "
            "run `make book` first"
        ) from None
    return executed


def _inline(text: str) -> str:
    """``text`` as HTML, `backticks` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _image(cell: nbformat.NotebookNode, item: Item, name: str) -> tuple[str, bytes]:
    """The file extension and bytes of the figure ``item`` picks among ``cell``'s image outputs."""
    images = []
    for output in cell.get("outputs", []):
        shown = output.get("output_type") in ("display_data", "execute_result")
        data = output.get("data", {}) if shown else {}
        mime = next((mime for mime in IMAGE_TYPES if mime in data), None)  # one per output
        if mime is not None:
            images.append((mime, data[mime]))
    kinds = ", ".join(o.get("output_type", "?") for o in cell.get("outputs", [])) or "none"
    if not images:
        raise SlidesError(
            f"{name}: figure cell {item.cell} has no image output (its outputs: {kinds})"
        )
    if item.output is None and len(images) > 1:
        raise SlidesError(
            f"{name}: figure cell {item.cell} has {len(images)} image outputs: pick one with "
            '"output" (0 is the first)'
        )
    if item.output is not None and item.output >= len(images):
        raise SlidesError(
            f"{name}: figure cell {item.cell} has {len(images)} image outputs, no output "
            f"{item.output}"
        )
    mime, data = images[item.output or 0]
    text = "".join(data) if isinstance(data, list) else data
    if mime == "image/svg+xml":
        return IMAGE_TYPES[mime], text.encode()
    return IMAGE_TYPES[mime], base64.b64decode(text)


_DECK = string.Template("""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>$title</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="reveal/dist/reset.css">
<link rel="stylesheet" href="reveal/dist/reveal.css">
<link rel="stylesheet" href="reveal/dist/theme/white.css">
<link rel="stylesheet" href="reveal/plugin/highlight/monokai.css">
<style>
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal h1 { font-size: 1.8em; }
.reveal h3 { font-size: 1.0em; }
.reveal h3 code, .reveal li code { font-size: 0.85em; }
.reveal .part { color: #555; }
.reveal .place { font-size: 0.6em; color: #777; }
.reveal ul { font-size: 0.8em; }
.reveal pre { width: 100%; font-size: 0.36em; }
.reveal pre code { max-height: 500px; }
.reveal section img.r-stretch { margin: 0; }
</style>
</head>
<body>
<div class="reveal">
<div class="slides">
$slides
</div>
</div>
<script src="reveal/dist/reveal.js"></script>
<script src="reveal/plugin/notes/notes.js"></script>
<script src="reveal/plugin/highlight/highlight.js"></script>
<script>
Reveal.initialize({hash: true, slideNumber: "c/t", plugins: [RevealNotes, RevealHighlight]});
</script>
</body>
</html>
""")


def _section(body: str, notes: str) -> str:
    return f'<section>\n{body}\n<aside class="notes">{_inline(notes)}</aside>\n</section>'


def render_deck(
    chapter: Chapter, executed: nbformat.NotebookNode, root: Path = Path(".")
) -> tuple[str, dict[str, bytes], int]:
    """A chapter's deck: its HTML, its figure files and its number of slides.

    Args:
        chapter: where the chapter sits in the book.
        executed: the chapter's executed notebook (:func:`executed_notebook`).
        root: the course's folder, to name the chapter by its relative path.

    Returns:
        ``(html, figures, slides)``: ``figures`` maps each image's path relative to the deck
        (``figures/<topic>/<n>.png``) to its bytes.

    Raises:
        SlidesError: bad metadata, or a figure cell without the image it names.
    """
    try:
        name = str(Path(chapter.path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        name = str(chapter.path)
    spec = slide_spec(executed, name)
    cells = {cell.get("id"): cell for cell in executed.cells}
    title = (
        f"<h1>{_inline(spec.title)}</h1>\n"
        f'<p class="part">{_inline(chapter.part)}</p>\n'
        f'<p class="place">Chapter {chapter.number} of {chapter.count} in this part · '
        f"<code>{html.escape(name)}</code></p>"
    )
    sections = [_section(title, spec.notes)]
    figures: dict[str, bytes] = {}
    for item in spec.items:
        caption = f"<h3>{_inline(item.caption)}</h3>"
        cell = cells[item.cell]
        if item.kind == "figure":
            suffix, data = _image(cell, item, name)
            relative = f"figures/{chapter.topic}/{len(figures) + 1}{suffix}"
            figures[relative] = data
            alt = html.escape(item.caption.replace("`", ""))
            body = f'{caption}\n<img class="r-stretch" src="{relative}" alt="{alt}">'
        else:
            lines = f' data-line-numbers="{item.highlight}"' if item.highlight else ""
            body = (
                f'{caption}\n<pre><code class="language-python" data-trim{lines}>'
                f"{html.escape(cell.source)}</code></pre>"
            )
        sections.append(_section(body, item.notes))
    points = "\n".join(f"<li>{_inline(point)}</li>" for point in spec.takeaways)
    exercises = (
        f"Exercises for this chapter: `course start {chapter.topic}` copies "
        f"exercises/{chapter.topic}.ipynb to work/, and each answer is checked in the notebook."
    )
    sections.append(_section(f"<h2>Take-aways</h2>\n<ul>\n{points}\n</ul>", exercises))
    page = _DECK.substitute(title=html.escape(spec.title), slides="\n".join(sections))
    return page, figures, len(sections)


def copy_reveal(root: Path, out: Path) -> Path:
    """Copies the reveal.js files the decks load to ``out/reveal``; returns that folder.

    Raises:
        SlidesError: if reveal.js is not installed, or a copied stylesheet loads anything remote.
    """
    package = Path(root) / REVEAL_PACKAGE
    if not (package / "dist" / "reveal.js").is_file():
        raise SlidesError(f"reveal.js is not installed in {package}: run `make web` (npm ci)")
    target = Path(out) / "reveal"
    for name in REVEAL_FILES:
        source, copy = package / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, copy)
    for stylesheet in target.rglob("*.css"):
        if _REMOTE.search(stylesheet.read_text(errors="replace")):
            raise SlidesError(f"{stylesheet} loads a remote resource: the decks must work offline")
    return target


def build_decks(chapters: list[Chapter], out: Path, cache: Path, root: Path) -> list[Deck]:
    """Writes the decks of ``chapters`` to ``out``, with reveal.js and an index of all decks there.

    Every deck is made in memory first: on any problem nothing is written, and the error lists
    the problems of every chapter.

    Args:
        chapters: from :func:`select_chapters`.
        out: the output folder (created).
        cache: the book build's jupyter-cache folder.
        root: the course's folder (``_toc.yml``, ``node_modules``).

    Raises:
        SlidesError: listing every chapter's problem (bad metadata, not executed) or a missing
            reveal.js.
    """
    rendered, problems = [], []
    for chapter in chapters:
        try:
            rendered.append(
                (chapter, *render_deck(chapter, executed_notebook(chapter.path, cache), root))
            )
        except SlidesError as error:
            problems.append(str(error))
    if problems:
        raise SlidesError("\n".join(problems))
    out = Path(out)
    copy_reveal(root, out)
    decks = []
    for chapter, page, figures, slides in rendered:
        shutil.rmtree(out / "figures" / chapter.topic, ignore_errors=True)
        for relative, data in figures.items():
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            (out / relative).write_bytes(data)
        path = out / f"{chapter.topic}.html"
        path.write_text(page, encoding="utf-8")
        decks.append(Deck(chapter.topic, path, slides, len(figures)))
    write_index(out, root)
    return decks


def write_index(out: Path, root: Path) -> Path:
    """Writes ``out/index.html``: a link to every chapter's deck found in ``out``, by part."""
    parts: dict[str, list[str]] = {}
    for chapter in book_chapters(root):
        deck = Path(out) / f"{chapter.topic}.html"
        if deck.is_file():
            found = re.search(r"<title>(.*?)</title>", deck.read_text(encoding="utf-8"), re.S)
            title = found.group(1) if found else chapter.topic
            link = f'<li><a href="{chapter.topic}.html">{title}</a></li>'
            parts.setdefault(chapter.part, []).append(link)
    body = "\n".join(
        f"<h2>{html.escape(part)}</h2>\n<ul>\n" + "\n".join(links) + "\n</ul>"
        for part, links in parts.items()
    )
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<title>Slides</title>\n<link rel="icon" href="data:,">'
        "\n<style>body { font-family: sans-serif; max-width: 50em; "
        "margin: 2em auto; line-height: 1.5; }</style>\n</head>\n<body>\n<h1>Slides</h1>\n"
        "<p>One reveal.js deck per chapter: arrow keys move, <kbd>S</kbd> opens the speaker "
        "notes.</p>\n"
        f"{body}\n</body>\n</html>\n"
    )
    index = Path(out) / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
