"""Every chapter that loads an ImageNet model runs end to end on the online path.

(InceptionV3; VGG19 for style transfer, whose loader ``style.load_style_extractor`` is scanned
for too and whose seeded stand-in ``COURSE_IMAGENET_WEIGHTS=seeded`` builds the same way.)

On Colab these chapters get InceptionV3 with its ImageNet weights; offline (the book build) they
fall back to the course's ``shapes_cnn``. ``COURSE_IMAGENET_WEIGHTS=seeded`` makes
``course_lib.zoo`` build InceptionV3's real architecture with seeded weights instead of
downloading them, so every line of the online branch runs here without the network. Each chapter
is executed alone in a fresh kernel in its own folder, as ``benchmarks/bench_book.py`` and the
book build run it, and must raise nothing, write nothing to stderr and really take the
InceptionV3 branch. Chapters are found by scanning their code for the model loaders, so a new
chapter that uses them is tested without being listed here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.viz.figures import FIGURES_ENV

ROOT = Path(__file__).resolve().parent.parent
LOADERS = ("load_model_for_visualization", "load_imagenet_model", "load_style_extractor")
ONLINE_ENV = {
    "COURSE_IMAGENET_WEIGHTS": "seeded",
    "COURSE_OFFLINE": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}
#: The chapters print the model's name: ``inception_v3``, or ``vgg19`` (style transfer).
INCEPTION = re.compile(r"\b(inception_v3|vgg19)\b")
#: The loaders' announcement when they fall back to the course model.
FALLBACK = re.compile(r"in place of (InceptionV3|VGG19)")


def _bench_book():
    """``benchmarks/bench_book.py`` (a script, not a package), imported by path."""
    path = ROOT / "benchmarks" / "bench_book.py"
    spec = importlib.util.spec_from_file_location("_bench_book_for_online_chapters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH_BOOK = _bench_book()


def loads_an_imagenet_model(path: Path) -> bool:
    """True when a code cell of the notebook at ``path`` calls one of ``LOADERS``."""
    nb = nbformat.read(path, as_version=4)
    return any(
        cell.cell_type == "code" and any(f"{loader}(" in cell.source for loader in LOADERS)
        for cell in nb.cells
    )


def online_chapters(book: Path = ROOT / "book") -> list[Path]:
    """The chapters under ``book`` (``NN_topic.ipynb``) that load an ImageNet model."""
    return [path for path in BENCH_BOOK.chapters(book) if loads_an_imagenet_model(path)]


CHAPTERS = online_chapters()


def _outputs(nb: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    return [
        (index, output)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ]


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return str(output.get("data", {}).get("text/plain", ""))


def online_branch_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with an executed chapter's outputs: stderr, or not the InceptionV3 branch."""
    outputs = _outputs(nb)
    problems = [
        f"cell {index} wrote to stderr: {output.get('text', '')[:500]}"
        for index, output in outputs
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    texts = [_text(output) for _, output in outputs]
    if not any(INCEPTION.search(text) for text in texts):
        problems.append("no output names inception_v3: the InceptionV3 branch was not taken")
    if any(FALLBACK.search(text) for text in texts):
        problems.append("the chapter fell back to the course model")
    return problems


def test_the_scan_finds_the_online_chapters_and_only_them(tmp_path) -> None:
    found = {path.relative_to(ROOT / "book").as_posix() for path in CHAPTERS}
    assert {
        "part1/05_deepdream.ipynb",
        "part1/06_style_transfer.ipynb",
        "part3/01_feature_visualization.ipynb",
    } <= found
    assert "part1/01_tensors_and_gradients.ipynb" not in found

    part = tmp_path / "part9"
    part.mkdir()
    for name, source in (
        ("01_uses.ipynb", "vis = zoo.load_model_for_visualization()"),
        ("02_top.ipynb", "model = zoo.load_imagenet_model(include_top=True)"),
        ("03_mentions.ipynb", "# load_imagenet_model is only named here"),
    ):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(nb, part / name)
    text = nbformat.v4.new_markdown_cell("`zoo.load_imagenet_model()` in prose")
    nbformat.write(nbformat.v4.new_notebook(cells=[text]), part / "04_prose.ipynb")
    assert [p.name for p in online_chapters(tmp_path)] == ["01_uses.ipynb", "02_top.ipynb"]


def test_the_output_checks_catch_stderr_and_the_course_model() -> None:
    def executed(*outputs):
        cell = nbformat.v4.new_code_cell("pass")
        cell.outputs = [
            nbformat.v4.new_output("stream", name=name, text=text) for name, text in outputs
        ]
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("inception_v3"), cell])

    assert online_branch_problems(executed(("stdout", "model: inception_v3, trained on x"))) == []
    noisy = online_branch_problems(executed(("stdout", "inception_v3"), ("stderr", "W0000 oops")))
    assert len(noisy) == 1 and "stderr" in noisy[0] and "W0000 oops" in noisy[0]
    offline = online_branch_problems(
        executed(("stdout", "Offline: using the course model in place of InceptionV3 (...)"))
    )
    assert len(offline) == 2  # shapes_cnn: inception_v3 named nowhere, and the fallback said
    assert online_branch_problems(executed(("stdout", "inception_v3s"))) != []


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    CHAPTERS,
    ids=[path.relative_to(ROOT / "book").with_suffix("").as_posix() for path in CHAPTERS],
)
def test_chapter_runs_on_the_inception_v3_branch(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=BENCH_BOOK.CELL_TIMEOUT_S,
        kernel_name=BENCH_BOOK.KERNEL_NAME,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = {**os.environ, **ONLINE_ENV}
    env.pop(FIGURES_ENV, None)  # a random network's pictures must never become opening pictures
    # Raises CellExecutionError (with the cell and its traceback) when a cell fails.
    client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    problems = online_branch_problems(nb)
    assert not problems, "\n".join(problems)
