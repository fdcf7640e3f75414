"""The workshop plan is valid and the rehearsal measures it: course_lib.workshop.rehearse.

No chapter runs here: the runner is tested on two tiny notebooks written to a temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from course_lib.workshop import rehearse

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "tensors_and_gradients.linear_train_step"
KNOWN = {EXERCISE}
NOTICE = "Offline: using a stand-in (3 items) in place of the real data."


def _notebook(path: Path, cells: list[tuple[str, str, str]]) -> Path:
    """Writes a notebook of ``(id, kind, source)`` cells; the first code cell is the set-up."""
    nb = nbformat.v4.new_notebook()
    for cell_id, kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source, id=cell_id))
    nb.cells[0].metadata["tags"] = ["course-setup"]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def book(tmp_path) -> Path:
    """A root with book/a.ipynb (runs), book/b.ipynb (fails live) and book/page.md."""
    _notebook(
        tmp_path / "book" / "a.ipynb",
        [
            ("setup", "code", "import os, time\nVALUE = 41"),
            ("title", "markdown", "# A\n\n## 1. Sleeping"),
            ("sleepy", "code", f"time.sleep(0.2)\nVALUE += 1\nprint({NOTICE!r})"),
            ("never", "code", "raise RuntimeError('this cell is not live')"),
            ("tail", "markdown", "## 2. The figure"),
            (
                "shows",
                "code",
                "print('answer', VALUE)\nprint('offline', os.environ['COURSE_OFFLINE'])",
            ),
            ("spare", "code", "print('cwd', os.getcwd())"),
        ],
    )
    _notebook(
        tmp_path / "book" / "b.ipynb",
        [
            ("setup", "code", "x = 1"),
            ("boom", "code", "1 / 0"),
            ("after", "code", "print(x)"),
        ],
    )
    (tmp_path / "book" / "page.md").write_text("# A page\n")
    return tmp_path


def _plan(a: dict | None = None, slot_minutes: int = 10) -> dict:
    chapter = {
        "chapter": "book/a",
        "minutes": 4,
        "skip": ["never"],
        "short": [{"cells": ["spare"], "reason": "it only prints the folder"}],
        "exercises": {"after_chapter": [EXERCISE], "homework": []},
        "expect": {"cell": "shows", "see": "answer 42"},
    }
    chapter.update(a or {})
    return {
        "slots": [
            {"name": "Demo", "minutes": slot_minutes, "chapters": [chapter]},
            {"name": "Break", "minutes": 5},
            {"name": "End", "minutes": 2, "chapters": [{"chapter": "book/page", "minutes": 2}]},
        ]
    }


# --- The committed plan --------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> rehearse.Plan:
    return rehearse.load_plan()


def test_the_committed_plan_is_valid_and_covers_every_chapter_of_the_book(plan):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    planned = [chapter.chapter for slot in plan.slots for chapter in slot.chapters]
    assert set(planned) == pages - {"book/instructor_guide"}
    for slot in plan.slots:
        assert sum(chapter.minutes for chapter in slot.chapters) <= slot.minutes
    for chapter in (c for slot in plan.slots for c in slot.chapters if c.is_notebook):
        assert chapter.expect and chapter.expect_cell in chapter.live, chapter.chapter
        assert chapter.after_chapter or chapter.homework, chapter.chapter


def test_the_plan_keeps_the_agenda_of_the_intro(plan):
    """The slots, their names and their times are those of the intro's agenda table."""
    intro = (ROOT / "book" / "intro.md").read_text()
    rows = re.findall(r"^\| (\d)\. ([^|]+?) \| ([^|]+?) \|", intro, re.M)

    def shown(minutes: int) -> str:
        return f"{minutes // 60} h {minutes % 60}" if minutes > 60 else f"{minutes} min"

    assert rows == [(str(s.number), s.name, shown(s.minutes)) for s in plan.slots]


# --- Validation ----------------------------------------------------------------------------


def test_a_valid_synthetic_plan_gives_the_live_cells_in_order(book):
    plan = rehearse.validate_plan(_plan(), book, KNOWN)
    demo = plan.slots[0].chapters[0]
    assert demo.live == ("setup", "sleepy", "shows", "spare")
    assert demo.short_cells == ("spare",)
    assert demo.after_chapter == (EXERCISE,) and demo.homework == ()
    assert [slot.number for slot in plan.slots] == [1, 2, 3]
    assert plan.slots[2].chapters[0].path == book / "book" / "page.md"
    raw = _plan({"live": ["spare", "shows", "sleepy"]})
    del raw["slots"][0]["chapters"][0]["skip"]
    listed = rehearse.validate_plan(raw, book, KNOWN)
    assert listed.slots[0].chapters[0].live == demo.live  # notebook order, set-up added


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chapter": "book/missing"}, "unknown chapter 'book/missing'"),
        ({"skip": ["nosuch"]}, "unknown cell id 'nosuch'"),
        ({"skip": None, "live": ["never", "gone"]}, "unknown cell id 'gone'"),
        ({"short": [{"cells": ["nope"], "reason": "r"}]}, "unknown cell id 'nope'"),
        ({"expect": {"cell": "nada", "see": "s"}}, "unknown cell id 'nada'"),
        ({"skip": ["title"]}, "cell title is not a code cell"),
        ({"skip": [12345678]}, "must be a quoted string"),
        ({"exercises": {"homework": ["tensors_and_gradients.nope"]}}, "unknown exercise"),
        ({"exercises": {"later": []}}, "unknown key(s) later"),
        ({"minutes": 11}, "its chapters take 11 minutes, more than the slot's 10"),
        ({"minutes": 0}, "minutes must be >= 1"),
        ({"minutes": "4"}, "minutes must be an int"),
        ({"skip": ["setup"]}, "the set-up cell setup always runs"),
        ({"skip": None}, "give exactly one of live"),
        ({"live": "all"}, "give exactly one of live"),
        ({"short": [{"cells": ["never"], "reason": "r"}]}, "cell never is not live"),
        ({"short": [{"cells": ["spare"], "reason": " "}]}, "every skip needs a reason"),
        ({"expect": {"cell": "never", "see": "s"}}, "must be live and not skipped when short"),
        ({"short": [{"cells": ["shows"], "reason": "r"}]}, "must be live and not skipped"),
        ({"colour": "red"}, "unknown key(s) colour"),
        # A skip that removes a name a later cell reads: VALUE is first bound in the set-up
        # cell, so only its rebinding by a skipped cell is lost.
        ({"skip": ["never", "sleepy"]}, "cell shows reads 'VALUE', which cell sleepy binds"),
        (
            {"short": [{"cells": ["sleepy"], "reason": "r"}]},
            "but the short-of-time path skips that cell",
        ),
    ],
)
def test_validation_refuses_a_bad_chapter_naming_it(book, change, message):
    plan = _plan({key: value for key, value in change.items() if value is not None})
    for key, value in change.items():
        if value is None:
            del plan["slots"][0]["chapters"][0][key]
    with pytest.raises(ValueError, match="slot 1") as caught:
        rehearse.validate_plan(plan, book, KNOWN)
    assert message in str(caught.value)


def test_validation_refuses_bad_slots_and_pages(book):
    cases = [
        ({"slots": []}, "slots must be a non-empty list"),
        ({"slots": [{"name": "x"}]}, "slot 1: missing minutes"),
        ({"slot": []}, "one key, slots"),
    ]
    twice = _plan()
    twice["slots"][2]["chapters"].append({"chapter": "book/a", "minutes": 1, "live": "all"})
    twice["slots"][2]["minutes"] = 5
    cases.append((twice, "chapter book/a is in the plan twice"))
    page = _plan()
    page["slots"][2]["chapters"][0]["live"] = "all"
    cases.append((page, "a Markdown page has no cells, so no live"))
    for raw, message in cases:
        with pytest.raises(ValueError) as caught:
            rehearse.validate_plan(raw, book, KNOWN)
        assert message in str(caught.value)


def test_load_plan_refuses_a_file_that_is_not_yaml(tmp_path):
    path = tmp_path / "plan.yml"
    path.write_text("slots: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        rehearse.load_plan(path, tmp_path, KNOWN)


@pytest.mark.parametrize(
    ("source", "bound", "reads"),
    [
        ("a = b + 1", {"a"}, {"b"}),
        ("def f(x):\n    y = x * k\n    return y", {"f"}, {"k"}),
        ("squares = [i * i for i in values]", {"squares"}, {"values"}),
        ("import numpy as np\nfrom os import path\nnp.sum(path)", {"np", "path"}, set()),
        ("for row in table:\n    total = row", {"row", "total"}, {"table"}),
        ("%matplotlib inline\nresult = slow(3)", {"result"}, {"slow", "get_ipython"}),
        ("class M:\n    size = 3\n    def f(self):\n        return size2", {"M"}, {"size2"}),
        ("try:\n    go()\nexcept ValueError as error:\n    print(error)", {"error"}, {"go"}),
    ],
)
def test_cell_names_reads_module_level_bindings_and_free_reads(source, bound, reads):
    found_bound, found_reads = rehearse.cell_names(source)
    assert found_bound == bound
    assert found_reads - {"print", "ValueError"} == reads


# --- The runner ----------------------------------------------------------------------------


@pytest.fixture
def runs(book) -> list[rehearse.SlotRun]:
    plan = _plan()
    plan["slots"][0]["chapters"].append({"chapter": "book/b", "minutes": 3, "live": "all"})
    return rehearse.rehearse(rehearse.validate_plan(plan, book, KNOWN))


def test_rehearsal_runs_the_live_cells_in_order_and_times_them(runs, book):
    demo, failing = runs[0].chapters
    assert [cell.id for cell in demo.cells] == ["setup", "sleepy", "shows", "spare"]
    times = {cell.id: cell.seconds for cell in demo.cells}
    assert times["sleepy"] >= 0.2 and times["shows"] < 0.2
    assert demo.kernel_s > 0 and demo.seconds == pytest.approx(demo.kernel_s + sum(times.values()))
    assert demo.short_seconds == pytest.approx(demo.seconds - times["spare"])
    assert demo.output == "answer 42\noffline 1"  # the skipped cell would have raised
    assert demo.notices == [NOTICE]
    sections = [cell.section for cell in demo.cells]
    assert sections == ["set-up", "1. Sleeping", "2. The figure", "2. The figure"]
    assert demo.error is None and demo.fits()
    assert failing.error.startswith("book/b, cell boom: ZeroDivisionError")
    assert [cell.id for cell in failing.cells] == ["setup", "boom"]
    assert not failing.fits() and not runs[0].fits()
    assert [run.slot.name for run in runs] == ["Demo", "Break", "End"]
    assert runs[1].chapters == [] and runs[1].fits() and runs[2].chapters[0].seconds == 0


def test_rehearsal_of_the_short_path_leaves_out_the_short_cells(book):
    plan = rehearse.validate_plan(_plan(), book, KNOWN)
    (run,) = rehearse.rehearse(plan, slots=[1], short=True)
    assert [cell.id for cell in run.chapters[0].cells] == ["setup", "sleepy", "shows"]
    with pytest.raises(ValueError, match="slot must be one of"):
        rehearse.rehearse(plan, slots=[4])


def test_the_report_has_a_table_per_slot_and_a_verdict(runs):
    text = rehearse.report(runs, note="a test")
    assert "### Slot 1: Demo (10 min)" in text and "### Slot 2: Break (5 min)" in text
    assert "Nothing runs in this slot." in text and "- note: a test" in text
    assert "COURSE_OFFLINE=1" in text and "at most 50%" in text
    assert "- load: the 1-minute load average was " in text
    row = next(line for line in text.splitlines() if line.startswith("| `a`"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "4" and float(cells[3]) == pytest.approx(
        runs[0].chapters[0].seconds, abs=0.06
    )
    assert cells[-1] == "yes" and cells[-2] == "4"
    assert "**NO** (book/b, cell boom: ZeroDivisionError" in text
    assert "**does not fit**" in text
    assert "- `a` (cell shows): `answer 42`; `offline 1`" in text
    assert "| `page` | page |" in text
    assert text.endswith(f"### Substitutes the chapters announced\n\n- `a`: {NOTICE}\n")


def _main_plan(book: Path, tmp_path: Path) -> Path:
    """The synthetic plan with absolute chapter paths, as ``main`` reads from the repo root."""
    plan = _plan()
    plan["slots"][0]["chapters"][0]["chapter"] = str(book / "book" / "a")
    plan["slots"][2]["chapters"][0]["chapter"] = str(book / "book" / "page")
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(plan))
    return path


def test_main_exits_nonzero_when_a_slot_does_not_fit(book, tmp_path, monkeypatch, capsys):
    plan, out = _main_plan(book, tmp_path), tmp_path / "rehearsal.md"
    monkeypatch.setattr(rehearse, "FIT_FRACTION", 0.001)  # 0.6 s of the 10 minutes
    assert rehearse.main(["--plan", str(plan), "--out", str(out), "--slot", "1"]) == 1
    assert "**does not fit**" in out.read_text()
    assert "slot 1 (Demo) does not fit" in capsys.readouterr().err


def test_main_exits_zero_when_everything_fits(book, tmp_path):
    plan, out = _main_plan(book, tmp_path), tmp_path / "rehearsal.md"
    assert rehearse.main(["--plan", str(plan), "--out", str(out), "--note", "n"]) == 0
    assert out.read_text().count("**fits**") == 2  # the break has no verdict: nothing runs


def test_main_refuses_a_bad_plan_with_exit_code_2(tmp_path, capsys):
    path = tmp_path / "plan.yml"
    path.write_text("slots: []\n")
    with pytest.raises(SystemExit) as caught:
        rehearse.main(["--plan", str(path), "--out", str(tmp_path / "r.md")])
    assert caught.value.code == 2 and "slots must be a non-empty list" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        rehearse.main(["--plan", str(path), "--cell-timeout", "0"])
    assert caught.value.code == 2 and "--cell-timeout must be at least 1" in capsys.readouterr().err


# --- The committed measurement -------------------------------------------------------------


def test_the_committed_rehearsal_matches_the_plan(plan):
    """book/workshop/rehearsal.md lists every slot and chapter of the plan with its minutes and
    number of live cells: a changed plan must be rehearsed again (`make rehearse`)."""
    text = (ROOT / "book" / "workshop" / "rehearsal.md").read_text()
    headings = re.findall(r"^### Slot (\d+): (.+) \((\d+) min\)$", text, re.M)
    assert headings == [(str(s.number), s.name, str(s.minutes)) for s in plan.slots]
    assert "short-of-time path" not in text, "commit the rehearsal of the live path"
    for slot in plan.slots:
        section = text.split(f"### Slot {slot.number}: ")[1].split("### Slot")[0]
        rows = re.findall(r"^\| `([^`]+)` \| (\w+) \|.*\| (\d+) \| (.+) \|$", section, re.M)
        expected = [
            (c.name, str(len(c.live)) if c.is_notebook else "page", str(c.minutes), "yes")
            for c in slot.chapters
        ]
        assert rows == expected, f"slot {slot.number}: rehearse again"
        if slot.chapters:
            assert ": **fits**." in section


def test_the_instructor_guide_follows_the_plan_and_includes_the_rehearsal(plan):
    """Every chapter of the plan, its expected output and the exercises handed out in the room
    are on the page as the plan states them; the measured table is included, not copied."""
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    assert guide.startswith("# Instructor guide\n")
    assert re.search(r"^```\{include\} workshop/rehearsal\.md$", guide, re.M)
    for chapter in (c for slot in plan.slots for c in slot.chapters):
        assert f"{{doc}}`{chapter.chapter.removeprefix('book/')}`" in guide, chapter.chapter
        if chapter.expect:
            assert f"- **Expect:** {chapter.expect}." in guide, chapter.chapter
        for exercise in chapter.after_chapter:
            assert f"after the chapter, `{exercise}`" in guide, exercise
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["parts"][-1] == {
        "caption": "For instructors",
        "chapters": [{"file": "book/instructor_guide"}],
    }
