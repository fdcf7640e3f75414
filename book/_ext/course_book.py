"""Sphinx tweaks for the course book.

sphinx-thebe 0.3 registers its inline configuration script once per read of the documents, so
a rebuild declares ``const THEBE_JS_URL`` twice and the browser reports a JavaScript error on
every page. Each page keeps only the first copy of every script.

The *Beyond Python* page (``book/beyond_python.md``) runs the course's digits classifier with
TensorFlow.js, all served by the book itself: ``book/_static`` (the page's script) is added to the
static files, and once the HTML is written the build copies TensorFlow.js from ``node_modules``
(``make web`` installs it) to ``_static/vendor/tf.min.js`` and exports ``digits_cnn`` with
``python -m course_lib.export`` to ``_static/beyond_python/model/``. Without ``node_modules`` the
build stops at once and says to run ``make web``.

Alt text of the figures that code cells draw: myst-nb gives an output image no alt, and the page
then reads its file path. A chapter keeps its alt texts in its notebook-level metadata,
``metadata["course"]["alt"]``, keyed by code cell id (notebook-level, because jupyter-cache hashes
every key of a cell's metadata and only ``kernelspec`` of the notebook's, so a caption changed there
keeps the cached execution). A value is a string, the alt of every image the cell shows, or a list
of strings, one per output that shows an image, in order. On ``doctree-read`` each myst-nb code-cell
container (``nb_element="cell_code"``, whose ``cell_index`` indexes the notebook's cells) is matched
to its cell id in the source notebook, read again (myst-nb parses that file and the execution
merges outputs into it cell by cell, so the indices agree), and the images of its ``image/*``
outputs (one mime bundle per output) get their alt. An
output image without alt text, a key that is not a code cell of the notebook, a cell with alt but
no image or a list of the wrong length is collected, and all of them are reported in one warning
(an error under ``--warningiserror``) once every document is read, naming chapter and cell id.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

BEYOND_PYTHON = "book/beyond_python"
#: The course model the page runs, and where its export and TensorFlow.js go under _static.
BEYOND_PYTHON_MODEL = "digits_cnn"
MODEL_FOLDER = ("beyond_python", "model")
TFJS_SOURCE = ("node_modules", "@tensorflow", "tfjs", "dist", "tf.min.js")
TFJS_TARGET = ("vendor", "tf.min.js")
EXPORT_TIMEOUT_S = 600
#: The build environment's record of alt-text problems: docname -> messages.
ALT_PROBLEMS = "course_alt_problems"


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same inline script is registered once with filename None and once with "".
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _book_static(app, config):
    static = Path(app.srcdir) / "book" / "_static"
    if static.is_dir():
        config.html_static_path = [*config.html_static_path, str(static)]


def _has_beyond_python(app) -> bool:
    return (Path(app.srcdir) / f"{BEYOND_PYTHON}.md").is_file()


def _tfjs_source(app) -> Path:
    return Path(app.srcdir).joinpath(*TFJS_SOURCE)


def _require_tfjs(app):
    if app.builder.format == "html" and _has_beyond_python(app) and not _tfjs_source(app).is_file():
        raise ExtensionError(
            f"{_tfjs_source(app)} is missing: the Beyond Python page serves TensorFlow.js from "
            "node_modules; run `make web` first"
        )


def _beyond_python_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    if BEYOND_PYTHON not in app.env.found_docs:
        return
    static = Path(app.outdir) / "_static"
    vendor = static.joinpath(*TFJS_TARGET)
    vendor.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_tfjs_source(app), vendor)

    folder = static.joinpath(*MODEL_FOLDER)
    command = [sys.executable, "-m", "course_lib.export", BEYOND_PYTHON_MODEL, str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S)
    if result.returncode != 0:
        raise ExtensionError(
            f"exporting {BEYOND_PYTHON_MODEL} for the Beyond Python page failed "
            f"({' '.join(command)}):\n{result.stderr[-3000:]}"
        )
    logger.info(f"Beyond Python: TensorFlow.js in {vendor}, {BEYOND_PYTHON_MODEL} in {folder}")


def _alt_problems(env) -> dict[str, list[str]]:
    if not hasattr(env, ALT_PROBLEMS):
        setattr(env, ALT_PROBLEMS, {})
    return getattr(env, ALT_PROBLEMS)


def _is_cell(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def _image_outputs(cell: nodes.container) -> list[list[nodes.image]]:
    """The images of a myst-nb code cell, one list per output (mime bundle) that shows any."""
    outputs = []
    for bundle in cell.findall(nodes.container):
        if bundle.get("nb_element") != "mime_bundle":
            continue
        images = [
            image
            for mime in bundle.children
            if str(mime.get("mime_type", "")).startswith("image/")
            for image in mime.findall(nodes.image)
        ]
        if images:
            outputs.append(images)
    return outputs


def _alt_texts(notebook) -> tuple[dict[str, str | list[str]], list[str]]:
    """The notebook's well-formed course.alt entries, and what is wrong with the others."""
    alts = notebook.metadata.get("course", {}).get("alt", {})
    if not isinstance(alts, dict):
        return {}, [f"metadata course.alt must map cell ids to alt text, not {type(alts).__name__}"]
    code_ids = {cell.get("id") for cell in notebook.cells if cell.cell_type == "code"}
    valid, problems = {}, []
    for cell_id, alt in alts.items():
        texts = [alt] if isinstance(alt, str) else alt
        well_formed = isinstance(texts, list) and texts != []
        if cell_id not in code_ids:
            problems.append(f"course.alt names cell {cell_id!r}, which is not a code cell here")
        elif well_formed and all(isinstance(text, str) and text.strip() for text in texts):
            valid[cell_id] = alt
        else:
            problems.append(f"cell {cell_id}: alt must be a non-empty string or a list of them")
    return valid, problems


def _set_alt(app, doctree):
    """Gives every code-cell output image its alt text from the notebook's course.alt."""
    env = app.env
    docname = env.docname
    cells = list(doctree.findall(_is_cell))
    source = Path(env.doc2path(docname))
    if source.suffix == ".ipynb":
        problems = _apply_alt_texts(nbformat.read(source, as_version=4), cells)
    else:
        problems = [
            f"code cell {cell['cell_index'] + 1} shows an image, but only .ipynb notebooks "
            "take alt text (metadata course.alt)"
            for cell in cells
            if _image_outputs(cell)
        ]
    if problems:
        _alt_problems(env)[docname] = problems
    else:
        _alt_problems(env).pop(docname, None)


def _apply_alt_texts(notebook, cells: list[nodes.container]) -> list[str]:
    """Sets the alt of the images in ``cells`` (myst-nb code-cell containers); returns problems."""
    alts, problems = _alt_texts(notebook)
    shown = set()
    for cell in cells:
        cell_id = notebook.cells[cell["cell_index"]].get("id")
        outputs = _image_outputs(cell)
        if not outputs:
            continue
        shown.add(cell_id)
        alt = alts.get(cell_id)
        texts = [alt] * len(outputs) if isinstance(alt, str) else alt
        if alt is None:
            problems.append(f"cell {cell_id} shows {len(outputs)} image(s) and has no alt text")
        elif len(texts) != len(outputs):
            problems.append(f"cell {cell_id} shows {len(outputs)} image(s); alt lists {len(texts)}")
        else:
            for images, text in zip(outputs, texts, strict=True):
                for image in images:
                    image["alt"] = text.strip()
    for cell_id in sorted(set(alts) - shown):
        problems.append(f"cell {cell_id} has alt text but shows no image")
    return problems


def _purge_alt_problems(app, env, docname):
    _alt_problems(env).pop(docname, None)


def _merge_alt_problems(app, env, docnames, other):
    found = _alt_problems(other)
    _alt_problems(env).update({name: found[name] for name in docnames if name in found})


def _report_alt_problems(app, env):
    """One warning for all documents, so that a build under -W names every missing alt."""
    problems = _alt_problems(env)
    lines = [
        f"{env.doc2path(docname, base=False)}: {problem}"
        for docname in sorted(problems)
        for problem in problems[docname]
    ]
    if lines:
        logger.warning(
            "figures of code cells need alt text in the notebook's metadata course.alt "
            "(cell id -> text, or a list of texts, one per image output):\n  " + "\n  ".join(lines)
        )


def setup(app):
    app.connect("config-inited", _book_static)
    app.connect("builder-inited", _require_tfjs)
    app.connect("html-page-context", _unique_scripts, priority=900)
    app.connect("build-finished", _beyond_python_assets)
    app.connect("doctree-read", _set_alt)
    app.connect("env-purge-doc", _purge_alt_problems)
    app.connect("env-merge-info", _merge_alt_problems)
    app.connect("env-check-consistency", _report_alt_problems)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
