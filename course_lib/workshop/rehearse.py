"""A measured run-through of the workshop: the live cells of each slot, timed on this machine.

Usage: ``python -m course_lib.workshop.rehearse [--out PATH] [--slot N] [--plan PATH] [--short]
[--online] [--note TEXT]`` (``make rehearse``).

The plan (``book/workshop/plan.yml``) lists the slots of the workshop in order. A slot has a
``name``, its ``minutes`` and optionally ``chapters``; each chapter entry has:

- ``chapter``: the page, as in ``_toc.yml`` (``book/part1/01_tensors_and_gradients``);
- ``minutes``: its share of the slot (the chapters of a slot may not add up to more than it);
- for a notebook, exactly one of ``live: all``, ``live: [ids]`` (only these code cells) or
  ``skip: [ids]`` (every code cell but these): the cells run in the room, named by their
  nbformat cell ``id`` (quoted: YAML reads ``10435626`` as a number). The set-up cell (the first
  code cell, tagged ``course-setup``) always runs and cannot be skipped;
- ``short``: what to skip when short of time, a list of ``{cells: [ids], reason: text}``;
- ``exercises``: ``after_chapter: [ids]`` and ``homework: [ids]``, exercise ids of ``course
  list``;
- ``expect``: ``{cell: id, see: text}``, what the presenter should see and the live cell that
  shows it (one that also runs when short of time).

:func:`validate_plan` refuses a plan with an unknown chapter, cell id or exercise id, or with a
slot whose chapters take more minutes than the slot; it also reads the cells' Python and refuses
a skip that removes a name a later live cell uses (a static check: a skipped cell that only
changes an object in place is not seen; the run-through itself is the proof for the live cells,
``--short`` for the short path).

:func:`rehearse` runs every chapter of the chosen slots in a fresh ``python3`` kernel started in
the chapter's folder (as the book build does), executing its live cells in order and timing each
one; ``COURSE_OFFLINE=1`` is set in the kernels unless ``--online`` is given, so the run uses
the shipped substitutes and never waits on the network. The report (:func:`report`) is a
Markdown fragment included by the instructor guide. The rule it applies: a chapter fits when its
live cells, the kernel's start included, take at most :data:`FIT_FRACTION` of its minutes; a slot
fits when every chapter fits, none failed, and its total is at most that fraction of the slot.
The exit status is 1 when a slot does not fit or a cell fails (the error names the chapter and
the cell id), 2 for a bad plan or bad arguments.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml

from course_lib import checks
from course_lib.perf.benchmark import machine_summary, markdown_table, utc_now

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PLAN = ROOT / "book" / "workshop" / "plan.yml"
DEFAULT_OUT = ROOT / "book" / "workshop" / "rehearsal.md"
#: A chapter or a slot fits when its live time is at most this fraction of its minutes; the
#: rest is for talking, questions and the exercises handed out.
FIT_FRACTION = 0.5
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600  # as _config.yml's execute.timeout
SETUP_TAG = "course-setup"
EXERCISE_TIMES = ("after_chapter", "homework")
SHOWN_LINES = 6  # lines of the expected cell's printed output shown in the report
SHOWN_WIDTH = 110

_SLOT_KEYS = {"name", "minutes", "chapters"}
_CHAPTER_KEYS = {"chapter", "minutes", "live", "skip", "short", "exercises", "expect"}


@dataclasses.dataclass(frozen=True)
class Shortcut:
    """Cells to skip when short of time, and why."""

    cells: tuple[str, ...]
    reason: str


@dataclasses.dataclass(frozen=True)
class ChapterPlan:
    """One chapter of a slot: the code cells run live (notebook order, set-up cell first)."""

    chapter: str
    path: Path
    minutes: int
    live: tuple[str, ...] = ()
    short: tuple[Shortcut, ...] = ()
    after_chapter: tuple[str, ...] = ()
    homework: tuple[str, ...] = ()
    expect_cell: str | None = None
    expect: str | None = None

    @property
    def name(self) -> str:
        """The file name without its folder (``01_tensors_and_gradients``)."""
        return Path(self.chapter).name

    @property
    def short_cells(self) -> tuple[str, ...]:
        """Every cell skipped when short of time."""
        return tuple(cell for shortcut in self.short for cell in shortcut.cells)

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix == ".ipynb"


@dataclasses.dataclass(frozen=True)
class Slot:
    """A slot of the agenda; ``number`` counts from 1 in plan order."""

    number: int
    name: str
    minutes: int
    chapters: tuple[ChapterPlan, ...] = ()


@dataclasses.dataclass(frozen=True)
class Plan:
    slots: tuple[Slot, ...]


# --- The plan ------------------------------------------------------------------------------


def load_plan(
    path: Path = DEFAULT_PLAN, root: Path = ROOT, known_exercises: Collection[str] | None = None
) -> Plan:
    """Reads and validates the plan at ``path``; chapters are relative to ``root``.

    Raises:
        ValueError: if the file is not YAML or the plan is invalid (see :func:`validate_plan`).
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from error
    return validate_plan(raw, root, known_exercises)


def validate_plan(
    raw: Any, root: Path = ROOT, known_exercises: Collection[str] | None = None
) -> Plan:
    """The plan ``raw`` (as read from YAML) checked against the chapters under ``root``.

    Args:
        raw: a mapping with ``slots``, a list of slots as described in the module's docstring.
        root: the folder the chapter paths are relative to.
        known_exercises: the valid exercise ids; by default those of ``course list``.

    Raises:
        ValueError: naming the slot, the chapter and what is wrong: an unknown key, chapter,
            cell id or exercise id, a chapter listed twice, minutes that are not a positive
            int, chapters taking more minutes than their slot, a skipped set-up cell, an
            expected output from a cell that does not run, or a skip that removes a name that
            a later live cell uses.
    """
    if known_exercises is None:
        from course_lib.grading import list_exercises

        known_exercises = list_exercises()
    known_exercises = set(known_exercises)
    if not isinstance(raw, dict) or set(raw) != {"slots"}:
        raise ValueError("the plan must be a mapping with one key, slots")
    if not isinstance(raw["slots"], list) or not raw["slots"]:
        raise ValueError("slots must be a non-empty list")
    slots, seen = [], set()
    for number, entry in enumerate(raw["slots"], start=1):
        where = f"slot {number}"
        _keys(entry, where, _SLOT_KEYS, required={"name", "minutes"})
        name = entry["name"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: name must be a non-empty string, got {name!r}")
        where = f"slot {number} ({name})"
        minutes = _minutes(entry["minutes"], where)
        chapters = entry.get("chapters", [])
        if not isinstance(chapters, list):
            raise ValueError(f"{where}: chapters must be a list")
        parsed = [_chapter(item, where, root, known_exercises) for item in chapters]
        for chapter in parsed:
            if chapter.chapter in seen:
                raise ValueError(f"{where}: chapter {chapter.chapter} is in the plan twice")
            seen.add(chapter.chapter)
        total = sum(chapter.minutes for chapter in parsed)
        if total > minutes:
            raise ValueError(
                f"{where}: its chapters take {total} minutes, more than the slot's {minutes}"
            )
        slots.append(Slot(number, name, minutes, tuple(parsed)))
    return Plan(tuple(slots))


def _keys(entry: Any, where: str, allowed: set[str], required: set[str]) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping, got {entry!r}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    missing = sorted(required - set(entry))
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")


def _minutes(value: Any, where: str) -> int:
    try:
        return checks.positive_int(f"{where}: minutes", value)
    except TypeError as error:
        raise ValueError(str(error)) from error


def _ids(value: Any, where: str, what: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: {what} must be a list of cell ids, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise ValueError(
                f"{where}: {what}: cell id {item!r} must be a quoted string "
                "(YAML reads unquoted digits as a number)"
            )
    return list(value)


def _chapter(entry: Any, slot: str, root: Path, known_exercises: set[str]) -> ChapterPlan:
    _keys(entry, slot + ", a chapter", _CHAPTER_KEYS, required={"chapter", "minutes"})
    chapter = entry["chapter"]
    where = f"{slot}, {chapter}"
    paths = [root / f"{chapter}{suffix}" for suffix in (".ipynb", ".md")]
    if not isinstance(chapter, str) or not any(path.is_file() for path in paths):
        raise ValueError(f"{slot}: unknown chapter {chapter!r} (no .ipynb or .md under {root})")
    path = next(path for path in paths if path.is_file())
    minutes = _minutes(entry["minutes"], where)
    exercises = entry.get("exercises", {})
    _keys(exercises, where + ", exercises", set(EXERCISE_TIMES), required=set())
    handed: dict[str, tuple[str, ...]] = {}
    for when in EXERCISE_TIMES:
        ids = exercises.get(when, [])
        if not isinstance(ids, list):
            raise ValueError(f"{where}: exercises.{when} must be a list of exercise ids")
        for exercise in ids:
            if exercise not in known_exercises:
                raise ValueError(f"{where}: unknown exercise {exercise!r} (see `course list`)")
        handed[when] = tuple(ids)
    if path.suffix != ".ipynb":
        extra = sorted({"live", "skip", "short", "expect"} & set(entry))
        if extra:
            raise ValueError(f"{where}: a Markdown page has no cells, so no {', '.join(extra)}")
        return ChapterPlan(chapter, path, minutes, **handed)
    return _notebook_chapter(entry, where, chapter, path, minutes, handed)


def _notebook_chapter(
    entry: dict, where: str, chapter: str, path: Path, minutes: int, handed: dict
) -> ChapterPlan:
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        raise ValueError(f"{where}: the notebook has no code cell")
    order = [cell.id for cell in code]
    other = {cell.id for cell in nb.cells if cell.cell_type != "code"}
    setup = order[0]

    def known(ids: Iterable[str], what: str) -> set[str]:
        for cell_id in ids:
            if cell_id in other:
                raise ValueError(f"{where}: {what}: cell {cell_id} is not a code cell")
            if cell_id not in order:
                raise ValueError(f"{where}: {what}: unknown cell id {cell_id!r}")
        return set(ids)

    if ("live" in entry) == ("skip" in entry):
        raise ValueError(f"{where}: give exactly one of live (all or ids) and skip (ids)")
    if "skip" in entry:
        skipped = known(_ids(entry["skip"], where, "skip"), "skip")
        if setup in skipped:
            raise ValueError(f"{where}: skip: the set-up cell {setup} always runs")
        live = [cell_id for cell_id in order if cell_id not in skipped]
    elif entry["live"] == "all":
        live = order
    else:
        chosen = known(_ids(entry["live"], where, "live"), "live") | {setup}
        live = [cell_id for cell_id in order if cell_id in chosen]

    shortcuts = entry.get("short", [])
    if not isinstance(shortcuts, list):
        raise ValueError(f"{where}: short must be a list of {{cells, reason}}")
    short = []
    for item in shortcuts:
        _keys(item, where + ", short", {"cells", "reason"}, required={"cells", "reason"})
        cells = _ids(item["cells"], where, "short")
        for cell_id in known(cells, "short"):
            if cell_id not in live:
                raise ValueError(f"{where}: short: cell {cell_id} is not live")
            if cell_id == setup:
                raise ValueError(f"{where}: short: the set-up cell {setup} always runs")
        if not isinstance(item["reason"], str) or not item["reason"].strip():
            raise ValueError(f"{where}: short: every skip needs a reason")
        short.append(Shortcut(tuple(cells), item["reason"].strip()))
    short_cells = {cell for shortcut in short for cell in shortcut.cells}

    expect_cell = expect = None
    if "expect" in entry:
        _keys(entry["expect"], where + ", expect", {"cell", "see"}, required={"cell", "see"})
        expect_cell, expect = entry["expect"]["cell"], entry["expect"]["see"]
        (expect_cell,) = _ids([expect_cell], where, "expect")
        known([expect_cell], "expect")
        if expect_cell not in live or expect_cell in short_cells:
            raise ValueError(
                f"{where}: expect: cell {expect_cell} must be live and not skipped when short"
            )
        if not isinstance(expect, str) or not expect.strip():
            raise ValueError(f"{where}: expect: see must describe the output")

    sources = [(cell.id, cell.source) for cell in code]
    check_skips(sources, set(live), where, "the live path")
    check_skips(sources, set(live) - short_cells, where, "the short-of-time path")
    return ChapterPlan(
        chapter,
        path,
        minutes,
        tuple(live),
        tuple(short),
        expect_cell=expect_cell,
        expect=expect,
        **handed,
    )


# --- The static check of skips -------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def cell_names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds at the top level, and those it reads that it does not bind itself.

    IPython syntax (``%magic``, ``!command``) is translated first (the code inside a magic,
    ``%time x = f()``, is not read). Names a function, lambda or comprehension binds for itself
    are not reads of the notebook's names.

    Raises:
        ValueError: if the cell is not valid Python.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as error:
        raise ValueError(f"not valid Python: {error}") from error
    bound = _bound(tree.body)
    return bound, _reads(tree, frozenset()) - bound


def _bound(statements: Iterable[ast.AST]) -> set[str]:
    """Names bound by ``statements`` in their own scope (not inside nested scopes)."""
    names: set[str] = set()
    stack = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            stack.extend(node.decorator_list)
            continue
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name != "*"
            )
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def _reads(node: ast.AST, local: frozenset[str]) -> set[str]:
    """Names read under ``node`` that are not bound in an enclosing local scope ``local``."""
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) and node.id not in local else set()
    if isinstance(node, _SCOPES):
        outer = [*getattr(node, "decorator_list", [])]
        if not isinstance(node, ast.ClassDef):
            arguments = node.args
            outer += [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
            params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            params += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            body = node.body if isinstance(node.body, list) else [node.body]
            inner = local | {p.arg for p in params} | _bound(body)
        else:
            outer += [*node.bases, *(k.value for k in node.keywords)]
            body, inner = node.body, local | _bound(node.body)
        found = set().union(*(_reads(child, local) for child in outer)) if outer else set()
        return found.union(*(_reads(child, inner) for child in body))
    if isinstance(node, _COMPREHENSIONS):
        targets = _bound(generator.target for generator in node.generators)
        return set().union(
            *(_reads(child, local | targets) for child in ast.iter_child_nodes(node))
        )
    return set().union(*(_reads(child, local) for child in ast.iter_child_nodes(node)))


def check_skips(
    cells: Sequence[tuple[str, str]], kept: Collection[str], where: str, path: str
) -> None:
    """Refuses a choice of ``kept`` cells in which a kept cell reads a name that only a skipped
    cell before it binds (or last rebinds): it would fail, or see another value.

    Args:
        cells: ``(id, source)`` of the notebook's code cells, in order.
        kept: the ids of the cells that run.
        where, path: for the message (the chapter, and which path through it).

    Raises:
        ValueError: naming the kept cell, the name and the skipped cell.
    """
    skipped_binding: dict[str, str] = {}
    for cell_id, source in cells:
        try:
            bound, reads = cell_names(source)
        except ValueError as error:
            raise ValueError(f"{where}: cell {cell_id}: {error}") from error
        if cell_id in kept:
            lost = sorted(reads & set(skipped_binding))
            if lost:
                raise ValueError(
                    f"{where}: cell {cell_id} reads {lost[0]!r}, which cell "
                    f"{skipped_binding[lost[0]]} binds, but {path} skips that cell"
                )
            for name in bound:
                skipped_binding.pop(name, None)
        else:
            skipped_binding.update(dict.fromkeys(bound, cell_id))


# --- The run-through -----------------------------------------------------------------------


@dataclasses.dataclass
class CellTime:
    id: str
    section: str
    seconds: float


@dataclasses.dataclass
class ChapterRun:
    """What one chapter's rehearsal measured; ``error`` names the cell that failed, if any."""

    plan: ChapterPlan
    kernel_s: float = 0.0
    cells: list[CellTime] = dataclasses.field(default_factory=list)
    output: str = ""
    notices: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None
    load: float | None = None  # the 1-minute load average when the chapter ended

    @property
    def seconds(self) -> float:
        """Wall time: the kernel's start and every cell that ran."""
        return self.kernel_s + sum(cell.seconds for cell in self.cells)

    @property
    def short_seconds(self) -> float:
        """The live time less the cells skipped when short of time (as measured here)."""
        skipped = set(self.plan.short_cells)
        return self.seconds - sum(cell.seconds for cell in self.cells if cell.id in skipped)

    def fits(self) -> bool:
        return self.error is None and self.seconds <= FIT_FRACTION * 60 * self.plan.minutes


@dataclasses.dataclass
class SlotRun:
    slot: Slot
    chapters: list[ChapterRun]

    @property
    def seconds(self) -> float:
        return sum(chapter.seconds for chapter in self.chapters)

    def fits(self) -> bool:
        return all(chapter.fits() for chapter in self.chapters) and (
            self.seconds <= FIT_FRACTION * 60 * self.slot.minutes
        )


def kernel_environment(offline: bool = True) -> dict[str, str]:
    """This process's environment for the kernels: TensorFlow kept quiet as the Makefile does,
    and ``COURSE_OFFLINE=1`` (the shipped substitutes, no network probe) unless ``offline`` is
    False (then empty: the chapters probe the network)."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    env["COURSE_OFFLINE"] = "1" if offline else ""
    return env


def _sections(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Each code cell's section: the last Markdown heading above it ("set-up" for the first)."""
    sections, heading = {}, "set-up"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [line for line in cell.source.splitlines() if line.startswith("#")]
            heading = lines[-1].lstrip("#").strip() if lines else heading
        else:
            sections[cell.id] = heading
    return sections


def _stdout(cell: nbformat.NotebookNode) -> list[str]:
    """The non-empty lines the cell printed to stdout."""
    text = "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _is_notice(line: str) -> bool:
    """A substitute announced by ``config.announce`` ("Offline: using ... in place of ...")."""
    return ": using " in line and " in place of " in line


def _printed(cell: nbformat.NotebookNode) -> str:
    """The last lines the cell printed (stdout), each cut to a readable width."""
    lines = _stdout(cell)[-SHOWN_LINES:]
    return "\n".join(
        line[:SHOWN_WIDTH] + ("..." if len(line) > SHOWN_WIDTH else "") for line in lines
    )


def run_chapter(
    chapter: ChapterPlan,
    short: bool = False,
    env: dict[str, str] | None = None,
    cell_timeout_s: int = CELL_TIMEOUT_S,
) -> ChapterRun:
    """Executes the chapter's live cells (less the short-of-time skips if ``short``) in order,
    in a fresh kernel started in the chapter's folder, timing the kernel's start and each cell.

    A failing cell stops the chapter; the run's ``error`` names the chapter and the cell id.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    run = ChapterRun(chapter)
    if not chapter.is_notebook:
        return run
    nb = nbformat.read(chapter.path, as_version=4)
    sections = _sections(nb)
    skipped = set(chapter.short_cells) if short else set()
    by_id = {cell.id: cell for cell in nb.cells}
    nb.cells = [by_id[cell_id] for cell_id in chapter.live if cell_id not in skipped]
    client = NotebookClient(
        nb,
        timeout=cell_timeout_s,
        kernel_name=KERNEL_NAME,
        allow_errors=False,
        resources={"metadata": {"path": str(chapter.path.parent)}},
    )
    env = kernel_environment() if env is None else env
    current = "the kernel's start"
    started = time.perf_counter()
    try:
        # The kernel's own stdout/stderr (start-up chatter) is dropped; cell outputs are kept.
        with client.setup_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            run.kernel_s = time.perf_counter() - started
            for index, cell in enumerate(nb.cells):
                current = f"cell {cell.id}"
                began = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                finally:
                    run.cells.append(
                        CellTime(cell.id, sections[cell.id], time.perf_counter() - began)
                    )
                if cell.id == chapter.expect_cell:
                    run.output = _printed(cell)
                run.notices += [line for line in _stdout(cell) if _is_notice(line)]
    except CellExecutionError as error:
        what = f"{error.ename}: {error.evalue}" if error.ename else "the cell failed"
        run.error = f"{chapter.chapter}, {current}: {what}"
    except CellTimeoutError:
        run.error = f"{chapter.chapter}, {current}: ran past {cell_timeout_s} s"
    except DeadKernelError:
        run.error = f"{chapter.chapter}, {current}: the kernel died"
    except Exception as error:  # noqa: BLE001 - e.g. the kernel did not start: reported
        run.error = f"{chapter.chapter}, {current}: {type(error).__name__}: {error}"
    if not run.cells and run.kernel_s == 0.0:
        run.kernel_s = time.perf_counter() - started
    run.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return run


def rehearse(
    plan: Plan,
    slots: Collection[int] | None = None,
    short: bool = False,
    env: dict[str, str] | None = None,
    cell_timeout_s: int = CELL_TIMEOUT_S,
    progress: bool = False,
) -> list[SlotRun]:
    """Runs the chapters of the plan's slots (those numbered in ``slots``; all by default).

    Raises:
        ValueError: if ``slots`` names a slot the plan does not have.
    """
    numbers = [slot.number for slot in plan.slots]
    for number in slots or ():
        if number not in numbers:
            raise ValueError(f"slot must be one of {numbers}, got {number}")
    runs = []
    for slot in plan.slots:
        if slots and slot.number not in slots:
            continue
        chapters = []
        for chapter in slot.chapters:
            if progress:
                print(f"slot {slot.number}: {chapter.chapter} ...", flush=True)
            run = run_chapter(chapter, short, env, cell_timeout_s)
            if progress:
                state = run.error or ("fits" if run.fits() else "does NOT fit")
                print(f"  {run.seconds:.1f} s of {chapter.minutes} min: {state}", flush=True)
            chapters.append(run)
        runs.append(SlotRun(slot, chapters))
    return runs


# --- The report ----------------------------------------------------------------------------


def _slowest(run: ChapterRun) -> str:
    if not run.cells:
        return ""
    cell = max(run.cells, key=lambda c: c.seconds)
    return f"{cell.seconds:.1f} s, {cell.id} ({cell.section})"


def report(
    runs: Sequence[SlotRun], short: bool = False, offline: bool = True, note: str = ""
) -> str:
    """The Markdown fragment of ``book/workshop/rehearsal.md`` (headings from level 3)."""
    path = (
        "the short-of-time path: the live cells less those the plan skips when short of time"
        if short
        else "the live cells of the plan (`live`/`skip` in `book/workshop/plan.yml`)"
    )
    network = (
        "offline: `COURSE_OFFLINE=1` in every kernel, so the chapters use their shipped "
        "substitutes and never probe the network"
        if offline
        else "online: `COURSE_OFFLINE` empty, the chapters probe the network"
    )
    percent = f"{FIT_FRACTION:.0%}"
    lines = [
        "<!-- Written by `make rehearse` (python -m course_lib.workshop.rehearse); "
        "do not edit by hand. -->",
        "",
        f"- date: {utc_now()}",
        f"- machine: {machine_summary()}",
        f"- what ran: {path}; one fresh `{KERNEL_NAME}` kernel per chapter, started in the "
        "chapter's folder; live time = the kernel's start + every live cell, in order",
        f"- network: {network}",
        f"- rule: a chapter fits when its live time is at most {percent} of its planned minutes; "
        f"a slot fits when every chapter fits, no cell failed and its total is at most {percent} "
        "of the slot's time. The rest is for talking, questions and the exercises.",
    ]
    loads = [c.load for run in runs for c in run.chapters if c.load is not None]
    if loads:
        cpus = os.cpu_count() or 1
        busy = (
            "above the CPU count: other work competed for the CPUs, so the times are inflated"
            if max(loads) > cpus
            else "at most the CPU count"
        )
        lines.append(
            f"- load: the 1-minute load average was {min(loads):.1f} to {max(loads):.1f} as the "
            f"chapters ended, on {cpus} logical CPUs ({busy})"
        )
    if note:
        lines.append(f"- note: {note}")
    columns = [
        ("chapter", "chapter"),
        ("cells", "live cells"),
        ("kernel", "kernel start (s)"),
        ("live", "live (s)"),
    ]
    columns += [] if short else [("short", "short of time (s)")]
    columns += [("slowest", "slowest cell"), ("minutes", "planned (min)"), ("fits", "fits")]
    for run in runs:
        slot = run.slot
        lines += ["", f"### Slot {slot.number}: {slot.name} ({slot.minutes} min)", ""]
        if not slot.chapters:
            lines.append("Nothing runs in this slot.")
            continue
        rows = []
        for chapter in run.chapters:
            page = not chapter.plan.is_notebook
            rows.append(
                {
                    "chapter": f"`{chapter.plan.name}`",
                    "cells": "page" if page else len(chapter.cells),
                    "kernel": None if page else round(chapter.kernel_s, 1),
                    "live": None if page else round(chapter.seconds, 1),
                    "short": None if page else round(chapter.short_seconds, 1),
                    "slowest": _slowest(chapter),
                    "minutes": chapter.plan.minutes,
                    "fits": "yes" if chapter.fits() else f"**NO** ({chapter.error or 'too long'})",
                }
            )
        lines.append(
            markdown_table(rows, columns, formats={"kernel": ".1f", "live": ".1f", "short": ".1f"})
        )
        allowed = FIT_FRACTION * slot.minutes
        verdict = "**fits**" if run.fits() else "**does not fit**"
        lines += [
            "",
            f"Slot total: {run.seconds:.0f} s ({run.seconds / 60:.1f} min) live of "
            f"{slot.minutes} min, {run.seconds / 60 / slot.minutes:.0%} of the slot "
            f"(at most {allowed:g} min allowed): {verdict}.",
        ]
        shown = [chapter for chapter in run.chapters if chapter.plan.expect_cell]
        if shown:
            lines += ["", "What the presenter should see (the expected cell's last lines):", ""]
            for chapter in shown:
                printed = chapter.output.replace("`", "'").splitlines() or ["(nothing printed)"]
                text = "; ".join(f"`{line}`" for line in printed)
                lines.append(f"- `{chapter.plan.name}` (cell {chapter.plan.expect_cell}): {text}")
    notices = [(c.plan.name, line) for run in runs for c in run.chapters for line in c.notices]
    if notices:
        lines += ["", "### Substitutes the chapters announced", ""]
        lines += [f"- `{name}`: {line}" for name, line in notices]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=DEFAULT_PLAN, help="the workshop plan")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report's path")
    parser.add_argument("--slot", type=int, action="append", help="only this slot (repeatable)")
    parser.add_argument(
        "--short", action="store_true", help="run the short-of-time path instead of the live one"
    )
    parser.add_argument("--online", action="store_true", help="let the chapters probe the network")
    parser.add_argument("--note", default="", help="a line added to the report")
    parser.add_argument(
        "--cell-timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell at most"
    )
    args = parser.parse_args(argv)
    if args.cell_timeout < 1:
        parser.error(f"--cell-timeout must be at least 1 second, got {args.cell_timeout}")
    try:
        plan = load_plan(args.plan)
        runs = rehearse(
            plan,
            args.slot,
            args.short,
            kernel_environment(not args.online),
            args.cell_timeout,
            progress=True,
        )
    except (OSError, ValueError) as error:
        parser.error(str(error))
    text = report(runs, args.short, not args.online, args.note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"written to {args.out}")
    failed = [chapter.error for run in runs for chapter in run.chapters if chapter.error]
    for error in failed:
        print(f"error: {error}", file=sys.stderr)
    misfits = [run.slot for run in runs if not run.fits()]
    for slot in misfits:
        print(
            f"slot {slot.number} ({slot.name}) does not fit its {slot.minutes} min", file=sys.stderr
        )
    return 1 if failed or misfits else 0


if __name__ == "__main__":
    raise SystemExit(main())
