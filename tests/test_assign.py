"""course assign: exercise notebooks generated from solutions, without ever losing anyone's work."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib import cli
from course_lib.grading import assign

ROOT = Path(__file__).resolve().parent.parent

SOLVED = """import numpy as np


def rotate(point, angle):
    \"\"\"Rotates 2-D points.\"\"\"
    ### BEGIN SOLUTION
    c, s = np.cos(angle), np.sin(angle)
    return point @ np.array([[c, s], [-s, c]])
    ### END SOLUTION


for i in range(2):
    if i:
        ### BEGIN SOLUTION
        print("second")
        ### END SOLUTION
    print(i)"""

STUBBED = """import numpy as np


def rotate(point, angle):
    \"\"\"Rotates 2-D points.\"\"\"
    # YOUR CODE HERE
    raise NotImplementedError()


for i in range(2):
    if i:
        # YOUR CODE HERE
        raise NotImplementedError()
    print(i)"""


def solution_notebook(source: str = SOLVED) -> nbformat.NotebookNode:
    checked = new_code_cell("print(1 + 1)  # NBVAL_CHECK_OUTPUT", execution_count=3)
    checked.outputs = [new_output("stream", name="stdout", text="2\n")]
    solved = new_code_cell(source, execution_count=1, metadata={"tags": ["keep-me"]})
    solved.outputs = [new_output("stream", name="stdout", text="0\nsecond\n1\n")]
    plain = new_code_cell("x = 1\nx", execution_count=2)
    plain.outputs = [new_output("execute_result", data={"text/plain": "1"}, execution_count=2)]
    check = new_code_cell('grading.check("rotations.rotate", rotate)')
    nb = new_notebook(cells=[new_markdown_cell("# Rotations"), solved, plain, checked, check])
    nb.metadata["course"] = {"topic": "rotations", "exercises": ["rotations.rotate"]}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "solutions").mkdir()
    nbformat.write(solution_notebook(), tmp_path / "solutions" / "rotations.ipynb")
    second = solution_notebook(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    )
    nbformat.write(second, tmp_path / "solutions" / "basics.ipynb")
    return tmp_path


def run_assign(course: Path, force: bool = False) -> dict[str, list[Path]]:
    return assign.assign(course / "solutions", course / "exercises", force=force)


def test_solution_regions_become_stubs_at_the_markers_indentation():
    source, stubbed = assign.strip_source(SOLVED)
    assert stubbed and source == STUBBED
    assert assign.strip_source("x = 1") == ("x = 1", False)


def test_the_exercise_keeps_metadata_tags_the_stub_and_clears_outputs():
    solution = solution_notebook()
    exercise = assign.make_exercise(solution, "rotations.ipynb")
    markdown, solved, plain, checked, _ = exercise.cells
    assert markdown.source == "# Rotations"
    assert solved.source == STUBBED
    assert solved.metadata["tags"] == ["keep-me", "raises-exception"]
    assert (solved.outputs, solved.execution_count) == ([], None)
    assert (plain.outputs, plain.execution_count) == ([], None)
    assert "raises-exception" not in plain.metadata.get("tags", [])
    assert checked.outputs == solution.cells[3].outputs, "nbval compares this stored output"
    assert exercise.metadata["course"] == solution.metadata["course"]
    assert solution.cells[1].source == SOLVED, "the solution notebook object is not modified"
    assert [c.id for c in exercise.cells] == [c.id for c in solution.cells]


def test_assign_writes_deterministic_notebooks_and_a_manifest(course):
    done = run_assign(course)
    exercises = course / "exercises"
    assert sorted(p.name for p in done["written"]) == ["basics.ipynb", "rotations.ipynb"]
    first = {p.name: p.read_bytes() for p in exercises.iterdir()}
    assert all(data.endswith(b"}\n") for data in first.values())
    manifest = json.loads((exercises / assign.MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["basics.ipynb", "rotations.ipynb"]
    nb = nbformat.read(exercises / "rotations.ipynb", as_version=4)
    nbformat.validate(nb)
    assert "raise NotImplementedError()" in nb.cells[1].source
    assert "np.cos" not in json.dumps(nb)

    done = run_assign(course)
    assert done["written"] == [] and len(done["unchanged"]) == 2
    assert {p.name: p.read_bytes() for p in exercises.iterdir()} == first
    assert assign.generate(course / "solutions") == assign.generate(course / "solutions")


def test_an_edited_exercise_is_never_overwritten(course):
    run_assign(course)
    edited = course / "exercises" / "rotations.ipynb"
    edited.write_text(edited.read_text().replace("# YOUR CODE HERE", "# my attempt"))
    before = edited.read_bytes()
    solution = course / "solutions" / "basics.ipynb"
    solution.write_text(solution.read_text().replace("return 1", "return 2"))
    basics_before = (course / "exercises" / "basics.ipynb").read_bytes()
    nbformat.write(solution_notebook(SOLVED + "\n# changed"), course / "solutions/rotations.ipynb")

    with pytest.raises(assign.AssignConflict) as error:
        run_assign(course)
    assert error.value.files == [edited]
    message = str(error.value)
    assert str(edited) in message and "edited since it was generated" in message
    assert "course start rotations" in message and "--force" in message
    assert edited.read_bytes() == before
    assert (course / "exercises" / "basics.ipynb").read_bytes() == basics_before, "writes nothing"

    run_assign(course, force=True)
    assert edited.read_bytes() != before
    assert assign.stale_files(course / "solutions", course / "exercises") == []


def test_an_exercise_that_was_not_generated_is_not_overwritten(course):
    exercises = course / "exercises"
    exercises.mkdir()
    (exercises / "rotations.ipynb").write_text("an instructor's hand-made notebook")
    with pytest.raises(assign.AssignConflict, match="not generated"):
        run_assign(course)
    assert (exercises / "rotations.ipynb").read_text() == "an instructor's hand-made notebook"
    assert not (exercises / "basics.ipynb").exists()


def test_an_identical_exercise_without_manifest_is_accepted(course):
    run_assign(course)
    (course / "exercises" / assign.MANIFEST).unlink()
    done = run_assign(course)
    assert len(done["unchanged"]) == 2
    assert (course / "exercises" / assign.MANIFEST).exists()


def test_check_names_stale_missing_and_orphaned_exercises(course):
    solutions, exercises = course / "solutions", course / "exercises"
    assert assign.stale_files(solutions, exercises) == [
        exercises / "basics.ipynb",
        exercises / "rotations.ipynb",
    ]
    run_assign(course)
    assert assign.stale_files(solutions, exercises) == []
    nbformat.write(solution_notebook(SOLVED + "\n# changed"), solutions / "rotations.ipynb")
    assert assign.stale_files(solutions, exercises) == [exercises / "rotations.ipynb"]
    run_assign(course)
    (solutions / "basics.ipynb").unlink()
    assert assign.stale_files(solutions, exercises) == [exercises / "basics.ipynb"]
    done = run_assign(course)
    assert done["removed"] == [exercises / "basics.ipynb"]
    assert not (exercises / "basics.ipynb").exists()
    assert assign.stale_files(solutions, exercises) == []


def test_an_edited_orphan_is_not_removed(course):
    run_assign(course)
    orphan = course / "exercises" / "basics.ipynb"
    orphan.write_text(orphan.read_text() + " ")
    (course / "solutions" / "basics.ipynb").unlink()
    with pytest.raises(assign.AssignConflict, match="its solution is gone"):
        run_assign(course)
    assert orphan.exists()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION without a ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\nx = 1", "line 1: ### BEGIN SOLUTION is never closed"),
        (
            "### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION",
            "line 2: ### BEGIN SOLUTION inside the region opened on line 1",
        ),
    ],
)
def test_unbalanced_markers_name_the_file_and_cell_and_nothing_is_written(course, source, problem):
    path = course / "solutions" / "rotations.ipynb"
    nb = solution_notebook()
    nb.cells[2].source = source
    nbformat.write(nb, path)
    with pytest.raises(assign.AssignError) as error:
        run_assign(course)
    message = str(error.value)
    assert str(path) in message and f"cell 2 (id {nb.cells[2].id})" in message
    assert problem in message
    assert not (course / "exercises").exists()


def test_markers_written_loosely_are_still_stripped():
    source, stubbed = assign.strip_source(
        "def f():\n    ## BEGIN SOLUTION  \n    return 42\n    #END SOLUTION"
    )
    assert stubbed and "42" not in source


def test_markers_outside_code_cells_are_an_error(course):
    nb = solution_notebook()
    nb.cells[0].source = "### BEGIN SOLUTION\nThe answer is 42.\n### END SOLUTION"
    nbformat.write(nb, course / "solutions" / "rotations.ipynb")
    with pytest.raises(assign.AssignError, match="cell 0.*only allowed in code cells"):
        run_assign(course)


def test_start_copies_an_exercise_and_never_overwrites_the_copy(course):
    run_assign(course)
    exercises, work = course / "exercises", course / "work"
    copy = assign.start("rotations", exercises, work)
    assert copy == work / "rotations.ipynb"
    assert copy.read_bytes() == (exercises / "rotations.ipynb").read_bytes()
    copy.write_text("my work")
    with pytest.raises(FileExistsError, match="--dir"):
        assign.start("rotations.ipynb", exercises, work)
    assert copy.read_text() == "my work"
    with pytest.raises(LookupError, match="available: basics, rotations"):
        assign.start("quaternions", exercises, work)
    with pytest.raises(LookupError):
        assign.start("../solutions/rotations", exercises, work)


def test_an_empty_solutions_folder_is_an_error_not_a_mass_removal(course):
    run_assign(course)
    empty = course / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no solution notebooks"):
        assign.assign(empty, course / "exercises")
    assert (course / "exercises" / "rotations.ipynb").exists()


def notebook_of(
    *sources: str, exercises: list[str] | None = None, **course
) -> nbformat.NotebookNode:
    """A notebook with one code cell per source (a markdown cell for sources starting with "#!")."""
    cells = [
        new_markdown_cell(source[2:]) if source.startswith("#!") else new_code_cell(source)
        for source in sources
    ]
    nb = new_notebook(cells=cells)
    if exercises is not None:
        course["exercises"] = exercises
    if course:
        nb.metadata["course"] = {"topic": "t", **course}
    return nb


def test_exercise_ids_come_from_check_calls_in_first_appearance_order():
    nb = notebook_of(
        'from course_lib.grading import check\ncheck("t.plain", f)',
        'import course_lib.grading as grading\nprint(grading.check("t.attribute", g))',
        '%matplotlib inline\n!pip install x\n  %time y = 1\ncheck("t.magic", h)',
        '%%time\ncheck("t.cell_magic", h)',
        'check("t.unparsable", f) +\ndef (',
        'check("t.plain", f)\ngrading.check("t.attribute", g)',
        'check(name, f)\ncheck(f"t.{name}", f)\ncheck()\ncheck(answer="t.keyword")',
        'checker("t.other_name")\nself.checks("t.other_attribute")\nrecheck("t.prefix")',
        '#!check("t.in_markdown", f)',
        'a, b = check("t.second", 1), check("t.first_on_its_line_but_later", 2)',
        'if ok:\n    for _ in x:\n        check("t.nested", [check("t.inner", 0)])',
    )
    assert assign.exercise_ids_of(nb) == [
        "t.plain",
        "t.attribute",
        "t.magic",
        "t.cell_magic",
        "t.second",
        "t.first_on_its_line_but_later",
        "t.nested",
        "t.inner",
    ]
    assert assign.exercise_ids_of(notebook_of()) == []
    listed = nbformat.reads(nbformat.writes(nb), as_version=4)  # sources stored as lists of lines
    assert assign.exercise_ids_of(listed) == assign.exercise_ids_of(nb)


def test_the_exercise_lists_the_ids_of_the_check_calls():
    solution = notebook_of('check("t.a", 1)\nimport grading', 'grading.check("t.b", 2)')
    solution.metadata["course"] = {"topic": "t", "exercises": ["t.a", "t.b"], "extra": 1}
    exercise = assign.make_exercise(solution, "t.ipynb")
    assert exercise.metadata["course"] == {"topic": "t", "exercises": ["t.a", "t.b"], "extra": 1}
    plain = assign.make_exercise(notebook_of("x = 1"), "reading.ipynb")
    assert "course" not in plain.metadata, "a notebook without exercises gets no course metadata"


@pytest.mark.parametrize(
    ("listed", "problem"),
    [
        (["t.a"], "missing (checked but not listed): t.b"),
        (["t.a", "t.b", "t.c", "t.d"], "extra (listed but never checked): t.c, t.d"),
        (["t.b", "t.a"], "the same ids in another order"),
        (["t.a", "t.b", "t.a"], "listed more than once: t.a"),
        (None, "missing (checked but not listed): t.a, t.b"),
    ],
)
def test_metadata_that_drifts_from_the_check_calls_is_an_error(course, listed, problem):
    path = course / "solutions" / "rotations.ipynb"
    nbformat.write(notebook_of('check("t.a", 1)', 'check("t.b", 2)', exercises=listed), path)
    with pytest.raises(assign.AssignError) as error:
        run_assign(course)
    message = str(error.value)
    assert str(path) in message and problem in message
    assert not (course / "exercises").exists(), "nothing is written"
    with pytest.raises(assign.AssignError, match="differs from the ids of its check"):
        assign.stale_files(course / "solutions", course / "exercises")


def test_both_ways_missing_and_extra_are_named(course):
    nb = notebook_of('check("t.a", 1)', exercises=["t.b"])
    with pytest.raises(assign.AssignError) as error:
        assign.make_exercise(nb, "t.ipynb")
    assert "missing (checked but not listed): t.a; extra (listed but never checked): t.b" in str(
        error.value
    )
    with pytest.raises(assign.AssignError, match="must be a list of exercise ids"):
        assign.make_exercise(notebook_of(exercises="t.a"), "t.ipynb")


def test_assign_check_reports_drift(course, capsys):
    solutions, exercises = course / "solutions", course / "exercises"
    run_assign(course)
    nb = nbformat.read(solutions / "basics.ipynb", as_version=4)
    nb.metadata["course"]["exercises"].append("rotations.gone")
    nbformat.write(nb, solutions / "basics.ipynb")
    # `course assign --check`, without building the whole parser (which imports batch grading)
    args = argparse.Namespace(solutions=solutions, exercises=exercises, check=True, force=False)
    assert cli.cmd_assign(args) == cli.EXIT_PROBLEM
    err = capsys.readouterr().err
    assert str(solutions / "basics.ipynb") in err and "extra (listed but never checked)" in err
    assert "rotations.gone" in err


def test_weights_default_to_one_and_are_left_out_of_the_exercise():
    nb = notebook_of(
        'check("t.a", 1)', 'check("t.b", 2)', 'check("t.c", 3)', exercises=["t.a", "t.b", "t.c"]
    )
    assert assign.weights_of(nb) == {"t.a": 1.0, "t.b": 1.0, "t.c": 1.0}
    nb.metadata["course"]["weights"] = {"t.c": 2, "t.a": 0.5}
    weights = assign.weights_of(nb)
    assert weights == {"t.a": 0.5, "t.b": 1.0, "t.c": 2.0}
    assert list(weights) == ["t.a", "t.b", "t.c"]
    assert all(type(w) is float for w in weights.values())
    exercise = assign.make_exercise(nb, "t.ipynb")
    assert "weights" not in exercise.metadata["course"], "never read from a learner's notebook"
    assert nb.metadata["course"]["weights"] == {"t.c": 2, "t.a": 0.5}, "the solution is kept"


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ({"t.z": 2}, "names 't.z', which is not one of its exercises (t.a, t.b)"),
        ({"t.a": 0}, "weights['t.a'] must be a positive number, not 0"),
        ({"t.b": -1.5}, "weights['t.b'] must be a positive number, not -1.5"),
        ({"t.a": "2"}, "weights['t.a'] must be a positive number, not '2'"),
        ({"t.a": True}, "weights['t.a'] must be a positive number, not True"),
        ({"t.a": None}, "weights['t.a'] must be a positive number, not None"),
        ({"t.a": math.inf}, "weights['t.a'] must be a positive number, not inf"),
        ({"t.a": math.nan}, "weights['t.a'] must be a positive number, not nan"),
        ([2, 1], "course.weights must map exercise ids to numbers"),
    ],
)
def test_invalid_weights_are_an_error_naming_the_notebook_and_entry(course, weights, problem):
    nb = notebook_of('check("t.a", 1)', 'check("t.b", 2)', exercises=["t.a", "t.b"])
    nb.metadata["course"]["weights"] = weights
    with pytest.raises(assign.AssignError) as error:
        assign.weights_of(nb, "t.ipynb")
    assert str(error.value).startswith("t.ipynb: ") and problem in str(error.value)
    path = course / "solutions" / "rotations.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(assign.AssignError, match=re.escape(str(path))):
        run_assign(course)
    assert not (course / "exercises").exists()
    with pytest.raises(assign.AssignError, match=re.escape(str(path))):
        assign.solution_weights(course / "solutions", "rotations")


def test_solution_weights_are_read_from_the_solutions_folder_only(course):
    solutions = course / "solutions"
    nb = notebook_of('check("t.a", 1)', 'check("t.b", 2)', exercises=["t.a", "t.b"])
    nb.metadata["course"]["weights"] = {"t.b": 3}
    nbformat.write(nb, solutions / "t.ipynb")
    assert assign.solution_weights(solutions, "t") == {"t.a": 1.0, "t.b": 3.0}
    assert assign.solution_weights(solutions, "t.ipynb") == {"t.a": 1.0, "t.b": 3.0}
    assert assign.solution_weights(solutions, "rotations") == {"rotations.rotate": 1.0}
    assert assign.solution_weights(solutions, "missing") == {}
    assert assign.solution_weights(course / "nowhere", "t") == {}
    (course / "elsewhere.ipynb").write_text((solutions / "t.ipynb").read_text())
    for outside in ("../elsewhere", "", ".", "..", "sub/t"):
        assert assign.solution_weights(solutions, outside) == {}, outside
    nb.metadata["course"]["exercises"] = ["t.a"]
    nbformat.write(nb, solutions / "t.ipynb")
    with pytest.raises(assign.AssignError, match="missing"):
        assign.solution_weights(solutions, "t")
    (solutions / "broken.ipynb").write_text("{ not json")
    with pytest.raises(assign.AssignError, match="not a readable notebook"):
        assign.solution_weights(solutions, "broken")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda path: path.name
)
def test_every_solution_lists_the_exercises_it_checks(path):
    nb = nbformat.read(path, as_version=4)
    ids = assign.exercise_ids_of(nb)
    assert ids and nb.metadata["course"]["exercises"] == ids
    assert all(exercise_id.startswith(f"{path.stem}.") for exercise_id in ids)
    weights = assign.solution_weights(ROOT / "solutions", path.stem)
    assert list(weights) == ids and all(w > 0 for w in weights.values())
    if path.stem == "speed_and_scale":
        assert weights["speed_and_scale.collatz_steps"] == 2


def test_unbalanced_markers_are_reported_before_metadata_drift():
    nb = notebook_of("### BEGIN SOLUTION\nx = 1", exercises=["t.never_checked"])
    never_closed = r"cell 0 \(id \w+\): line 1: ### BEGIN SOLUTION is never closed"
    with pytest.raises(assign.AssignError, match=never_closed):
        assign.make_exercise(nb, "t.ipynb")
