"""Instructors grade the course's own exercise notebooks as learners hand them in."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib import cli, grading

ROOT = Path(__file__).resolve().parent.parent
TOPICS = (
    "tensors_and_gradients",
    "keras_models",
    "convolution",
    "cnn",
    "deepdream",
    "style_transfer",
    "dcgan",
    "pix2pix",
    "cyclegan",
    "speed_and_scale",
    "transformations",
    "cameras",
    "materials_and_lights",
    "interpolation",
    "mesh_convolution",
    "rasterizer",
    "learnt_stereo_machine",
    "view_synthesis",
    "feature_visualization",
    "building_blocks",
    "differentiable_parameterizations",
)


def _without_check_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A learner who deleted the check cells, moved the imports last and added scratch cells."""
    cells = [c for c in nb.cells if "grading.check(" not in c.source]
    cells.insert(1, nbformat.v4.new_markdown_cell("My notes: remember the mean."))
    cells.append(nbformat.v4.new_code_cell("print('scratch work')"))
    nb.cells = cells
    return nb


def _one_wrong(nb: nbformat.NotebookNode, exercise_id: str) -> nbformat.NotebookNode:
    """Keeps every solution but redefines one target wrongly in a cell at the end."""
    target = grading.get_exercise(exercise_id).target
    nb.cells.append(nbformat.v4.new_code_cell(f"def {target}(*args, **kwargs):\n    return 0.0"))
    return nb


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[tuple[str, str], dict]:
    folder = tmp_path_factory.mktemp("submissions")
    for topic in TOPICS:
        solution = nbformat.read(ROOT / "solutions" / f"{topic}.ipynb", as_version=4)
        (folder / "ada").mkdir(exist_ok=True)
        nbformat.write(solution, folder / "ada" / f"{topic}.ipynb")
        (folder / "ben").mkdir(exist_ok=True)
        shutil.copy(ROOT / "exercises" / f"{topic}.ipynb", folder / "ben" / f"{topic}.ipynb")
        # One learner for two behaviours (one kernel per notebook is what the test costs):
        # check cells deleted, scratch cells added, and the first answer redefined wrongly.
        (folder / "cy").mkdir(exist_ok=True)
        first = grading.list_exercises(topic)[0]
        edited = _one_wrong(_without_check_cells(solution), first)
        nbformat.write(edited, folder / "cy" / f"{topic}.ipynb")
    (folder / "eve").mkdir()
    (folder / "eve" / "tensors_and_gradients.ipynb").write_text("{ not json")
    out = folder / "grades.csv"
    assert cli.main(["grade", str(folder), "--out", str(out), "--timeout", "300"]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    return {(Path(r["submission"]).parent.name, r["exercise"]): r for r in rows}


def _rows(gradebook, learner):
    return [row for (who, _), row in gradebook.items() if who == learner]


def test_a_correct_notebook_gets_full_marks(gradebook):
    ids = [i for topic in TOPICS for i in grading.list_exercises(topic)]
    for exercise_id in ids:
        row = gradebook[("ada", exercise_id)]
        assert row["status"] == "passed", row
        assert float(row["score"]) == float(row["max_score"]) > 0


def test_the_generated_exercise_notebook_is_not_attempted(gradebook):
    rows = _rows(gradebook, "ben")
    assert len(rows) == sum(len(grading.list_exercises(t)) for t in TOPICS)
    assert {r["status"] for r in rows} == {"not_attempted"}
    assert all(float(r["score"]) == 0 for r in rows)


def test_deleted_check_cells_and_extra_cells_still_get_full_marks(gradebook):
    right = [i for topic in TOPICS for i in grading.list_exercises(topic)[1:]]
    for exercise_id in right:
        row = gradebook[("cy", exercise_id)]
        assert row["status"] == "passed", row
        assert float(row["score"]) == float(row["max_score"]) > 0


def test_one_wrong_answer_costs_only_that_exercise(gradebook):
    for topic in TOPICS:
        wrong, *right = grading.list_exercises(topic)
        assert gradebook[("cy", wrong)]["status"] == "failed"
        assert float(gradebook[("cy", wrong)]["score"]) == 0
        assert gradebook[("cy", wrong)]["feedback"].startswith("✗")
        assert all(gradebook[("cy", i)]["status"] == "passed" for i in right)


def test_a_broken_file_is_reported_and_the_batch_goes_on(gradebook):
    rows = _rows(gradebook, "eve")
    assert rows and {r["status"] for r in rows} == {"invalid"}
