"""Gradebook views of the batch grader's rows: per-learner table, summary page, regrading cache.

The batch grader (:mod:`course_lib.grading.batch`) writes one row per submission and exercise
(a "long" table). This module turns such rows into what an instructor hands on:

- :func:`learner_table` / :func:`write_learner_csv`: one row per learner, ready for an LMS.
- :func:`summary_page`: ``summary.md`` and ``summary.png``, per-exercise statistics, the most
  common mistakes and the score distribution.
- :func:`content_hash`, :func:`grader_version`, :func:`previous_rows`: what a regrade needs to
  reuse the rows of submissions that changed neither themselves nor the grader.

Rows are any objects with the attributes of :class:`course_lib.grading.batch.Row` (see
:class:`RowLike`); this module does not import ``batch``, which imports it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from course_lib.grading.check import STATUS_MEANINGS, Status

#: The long CSV's columns: batch's six, then the regrading cache's two.
CACHE_COLUMNS = ("content_hash", "grader_version")
LONG_COLUMNS = ("submission", "exercise", "score", "max_score", "status", "feedback")
LEARNER_COLUMNS = ("learner", "total", "max_total")
#: Characters that separate a learner id from a topic name in a file or folder name.
SEPARATORS = "_-. "
#: How many of the most common mistakes the summary lists per exercise.
TOP_MISTAKES = 3
#: Buckets of ``score / max_score`` in the summary picture: (label, colour).
_BUCKETS = (
    ("0", "#d73027"),
    ("1–49%", "#fc8d59"),
    ("50–99%", "#91bfdb"),
    ("100%", "#1a9850"),
)


class RowLike(Protocol):
    """What this module reads of a gradebook row (:class:`course_lib.grading.batch.Row`)."""

    @property
    def submission(self) -> str: ...
    @property
    def exercise(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def max_score(self) -> float: ...
    @property
    def status(self) -> str: ...
    @property
    def feedback(self) -> str: ...


def _number(value: float) -> str:
    """A score as the CSV writes it (as ``batch._number``): ``2.5``, ``3``, ``0.3333``."""
    return f"{round(float(value), 4):g}"


# --- Learners ---------------------------------------------------------------------------------


def _topic_pattern(topics: Iterable[str]) -> re.Pattern[str] | None:
    names = sorted({t for t in topics if t}, key=lambda t: (-len(t), t))
    if not names:
        return None
    sep = re.escape(SEPARATORS)
    alternatives = "|".join(re.escape(t) for t in names)
    return re.compile(rf"(?<![^{sep}])(?:{alternatives})(?![^{sep}])", re.IGNORECASE)


def _without_topics(name: str, pattern: re.Pattern[str] | None) -> str:
    parts = pattern.split(name) if pattern is not None else [name]
    return "_".join(p.strip(SEPARATORS) for p in parts if p.strip(SEPARATORS))


def learner_of(submission: str, topics: Iterable[str]) -> str:
    """The learner id of a submission path.

    Rule: the notebook's file stem with every known topic name removed, along with the
    separators (``_ - .`` and space) around it, is the learner when something is left
    (``subs/alice_tensors_and_gradients.ipynb`` -> ``alice``, ``bob-cnn.ipynb`` -> ``bob``,
    ``cnn_carol_v2.ipynb`` -> ``carol_v2``). Otherwise, when the stem is just a topic name, the
    nearest folder whose name is not just a topic name gives it, the same way
    (``subs/alice/tensors_and_gradients.ipynb`` -> ``alice``). The full stem when nothing else
    does (``cnn.ipynb`` -> ``cnn``).

    Topic names match whole separator-delimited parts of a name, case-insensitively, longest
    first (``mesh_convolution`` before ``convolution``): ``vincnnt_cnn`` -> ``vincnnt``.
    """
    pattern = _topic_pattern(topics)
    path = Path(submission)
    for name in [path.stem, *(parent.name for parent in path.parents)]:
        rest = _without_topics(name, pattern)
        if rest:
            return rest
    return path.stem


def _best_rows(rows: Iterable[RowLike], topics: Iterable[str]) -> dict[str, dict[str, RowLike]]:
    """learner -> exercise -> that learner's best row for it (highest score, then max_score).

    Every learner appears, also one whose rows name no exercise (an invalid notebook).
    """
    topics = list(topics)
    learners: dict[str, str] = {}
    best: dict[str, dict[str, RowLike]] = {}
    for row in rows:
        if row.submission not in learners:
            learners[row.submission] = learner_of(row.submission, topics)
        mine = best.setdefault(learners[row.submission], {})
        if not row.exercise:
            continue
        kept = mine.get(row.exercise)
        key = (float(row.score), float(row.max_score))
        if kept is None or key > (float(kept.score), float(kept.max_score)):
            mine[row.exercise] = row
    return best


def learner_table(
    rows: Iterable[RowLike], topics: Iterable[str]
) -> tuple[list[str], list[list[str]]]:
    """The gradebook with one row per learner (see :func:`learner_of`), for an LMS.

    Returns:
        ``(header, table)``: the header ``learner, total, max_total, <exercise id>...``
        (exercise ids sorted) and one row of strings per learner, sorted by learner. A cell is
        the learner's best score for the exercise over their submissions, or empty when they
        submitted none for it; ``total`` and ``max_total`` add the best scores and their max
        scores over the exercises the learner has rows for. Numbers are written as in the
        long CSV (``2.5``, ``3``, ``0.3333``).
    """
    best = _best_rows(rows, topics)
    exercises = sorted({exercise for mine in best.values() for exercise in mine})
    table = []
    for learner in sorted(best):
        mine = best[learner]
        total = sum(float(r.score) for r in mine.values())
        max_total = sum(float(r.max_score) for r in mine.values())
        cells = [_number(mine[e].score) if e in mine else "" for e in exercises]
        table.append([learner, _number(total), _number(max_total), *cells])
    return [*LEARNER_COLUMNS, *exercises], table


def _write_atomic(path: Path, data: bytes) -> Path:
    """Writes ``data`` to ``path`` through a temporary file in the same folder + ``os.replace``
    (readers see the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0o600 -> the usual permissions
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_learner_csv(rows: Iterable[RowLike], topics: Iterable[str], path: str | Path) -> Path:
    """Writes :func:`learner_table` as a UTF-8 CSV at ``path`` atomically, replacing any file
    there; returns ``path``."""
    header, table = learner_table(rows, topics)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(table)
    return _write_atomic(Path(path), text.getvalue().encode("utf-8"))


# --- Mistakes ---------------------------------------------------------------------------------

_CASE_LINE = re.compile(r"case \d+ \(")
_LOOKS_LIKE = "It looks like "
#: Parenthesized clauses at the end of a case line that are not a mistake's explanation:
#: compare_values' count and dtype kinds, a traceback frame, batch's notes.
_NOT_EXPLANATION = re.compile(
    r"\d+ of \d+ values differ\b|(bool|integer|float|complex) values$|in \S+, line \d+|note: "
    r"|result of the notebook's own check\(\) call"
)


def _feedback_lines(feedback: str) -> list[str]:
    """Feedback's non-blank lines, stripped, whether multi-line or joined with `` | ``."""
    return [
        part.strip()
        for line in str(feedback).splitlines()
        for part in line.split(" | ")
        if part.strip()
    ]


def _closing(text: str, start: int) -> int:
    """The index of the ``)`` matching the ``(`` at ``start``; -1 when there is none."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return -1


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _explanation(case_line: str) -> str | None:
    """The ``(explanation)`` that ``numeric_compare`` appended to a ``case N (...): message``
    line; ``None`` when the message does not end with one."""
    opening = case_line.index("(")
    closing = _closing(case_line, opening)
    if closing < 0 or not case_line.startswith(": ", closing + 1):
        closing = case_line.find("): ")
    if closing < 0:
        return None
    message = case_line[closing + 3 :].strip()
    if message.startswith("raised ") or not message.endswith(")"):
        return None  # exceptions have no explanation; "(...)" in their text is theirs
    # The explanation starts at the last " (" that closes everything before it.
    for start in (m.start() for m in reversed(list(re.finditer(r" \(", message)))):
        if _balanced(message[:start]):
            clause = message[start + 2 : -1].strip()
            if " " in clause and not _NOT_EXPLANATION.match(clause):
                return clause
            return None
    return None


def mistake_of(feedback: str) -> str | None:
    """The classification of the mistake in a row's feedback; ``None`` when it has none.

    That is the text of an ``It looks like <text>.`` line (without the final period), else the
    explanation in parentheses that ends the first ``case N (...): ...`` line (added by
    ``numeric_compare``) when it reads like one: it contains a space and is not a count such as
    ``2 of 3 values differ``. Works on multi-line feedback and on the CSV's one-line form
    (lines joined with `` | ``).
    """
    lines = _feedback_lines(feedback)
    for line in lines:
        if line.startswith(_LOOKS_LIKE):
            text = line[len(_LOOKS_LIKE) :].strip()
            text = text[:-1].rstrip() if text.endswith(".") else text
            if text:
                return text
    for line in lines:
        if _CASE_LINE.match(line):
            return _explanation(line)
    return None


# --- Summary page -----------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _status_order(present: Iterable[str]) -> list[str]:
    known = [str(s) for s in Status]
    present = set(present)
    return [s for s in known if s in present] + sorted(present - set(known))


def _by_exercise(rows: Sequence[RowLike]) -> dict[str, list[RowLike]]:
    groups: dict[str, list[RowLike]] = {}
    for row in rows:
        groups.setdefault(row.exercise, []).append(row)
    return dict(sorted(groups.items(), key=lambda item: (not item[0], item[0])))


def _fraction(row: RowLike) -> float:
    maximum = float(row.max_score)
    return float(row.score) / maximum if maximum > 0 else 0.0


def _markdown(
    rows: Sequence[RowLike], learners: int, groups: dict[str, list[RowLike]], title: str
) -> str:
    submissions = len({r.submission for r in rows})
    statuses = _status_order(r.status for r in rows)
    lines = [
        f"# {title}",
        "",
        f"- Submissions: {submissions}",
        f"- Learners: {learners}",
        f"- Graded rows (submission × exercise): {len(rows)}",
        "",
        "## Exercises",
        "",
    ]
    if not rows:
        lines += ["No submissions.", ""]
    else:
        header = ["exercise", "submissions", "mean score / max", "passed %", *statuses]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for exercise, its_rows in groups.items():
            counts = Counter(r.status for r in its_rows)
            mean = sum(float(r.score) for r in its_rows) / len(its_rows)
            maximum = max(float(r.max_score) for r in its_rows)
            cells = [
                f"`{_cell(exercise)}`" if exercise else "(no exercise)",
                str(len({r.submission for r in its_rows})),
                f"{_number(mean)} / {_number(maximum)}" if maximum > 0 else "–",
                _percent(counts["passed"], len(its_rows)),
                *(str(counts[s]) if counts[s] else "" for s in statuses),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Statuses:", ""]
        lines += [f"- `{s}`: {STATUS_MEANINGS.get(s, '(unknown status)')}" for s in statuses]
        lines.append("")
    lines += ["## Most common mistakes", ""]
    found = False
    for exercise, its_rows in groups.items():
        mistakes = Counter(m for m in (mistake_of(r.feedback) for r in its_rows) if m)
        if not mistakes:
            continue
        found = True
        lines += [f"### `{exercise}`" if exercise else "### (no exercise)", ""]
        lines += [f"- {count} × {text}" for text, count in mistakes.most_common(TOP_MISTAKES)]
        lines.append("")
    if not found:
        lines += ["No recognised mistakes.", ""]
    lines += ["## Score distribution", "", "![score distribution](summary.png)", ""]
    return "\n".join(lines)


def _picture(groups: dict[str, list[RowLike]], totals: list[float], title: str) -> bytes:
    """The summary picture as PNG bytes (Agg, without pyplot: the caller's backend is kept)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    exercises = [e for e in groups if e]
    height = min(1.5 + 0.3 * max(len(exercises), 1), 36.0)
    figure = Figure(figsize=(10, height + 3.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=[height, 3.5])
    figure.suptitle(title, fontsize="x-large")

    counts = [[0] * len(_BUCKETS) for _ in exercises]
    for index, exercise in enumerate(exercises):
        for row in groups[exercise]:
            fraction = _fraction(row)
            bucket = (
                0 if fraction <= 0 else 3 if fraction >= 1 - 1e-9 else 1 if fraction < 0.5 else 2
            )
            counts[index][bucket] += 1
    top.set_title("Score as a fraction of the exercise's max score")
    if exercises:
        left = [0] * len(exercises)
        for bucket, (label, colour) in enumerate(_BUCKETS):
            widths = [c[bucket] for c in counts]
            top.barh(exercises, widths, left=left, color=colour, label=label, edgecolor="white")
            left = [a + b for a, b in zip(left, widths, strict=True)]
        top.invert_yaxis()
        top.set_xlabel("submissions")
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.legend(title="score / max", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        top.set_axis_off()
        top.text(0.5, 0.5, "no graded exercises", ha="center", va="center")

    bottom.hist(totals, bins=10, range=(0, 100), color="#4575b4", edgecolor="white")
    bottom.set_title(f"Learners' totals ({len(totals)} learner{'s' * (len(totals) != 1)})")
    bottom.set_xlabel("total (% of the learner's max total)")
    bottom.set_ylabel("learners")
    bottom.set_xlim(0, 100)
    bottom.set_ylim(bottom=0, top=None if totals else 1)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def summary_page(
    rows: Iterable[RowLike],
    out_dir: str | Path,
    title: str = "Gradebook summary",
    topics: Iterable[str] | None = None,
) -> tuple[Path, Path]:
    """Writes ``summary.md`` and ``summary.png`` in ``out_dir`` (created if needed).

    The Markdown has the number of submissions and learners; a table with one line per
    exercise (submissions, mean score / max score, % passed, count per status); the
    :data:`TOP_MISTAKES` most common mistakes per exercise (:func:`mistake_of`) with counts; and
    the picture. The picture (about 1000 px wide) shows, per exercise, how many submissions
    scored 0, under half, at least half and all of the max score, and a histogram of learners'
    totals in % of their max total (learners and totals as in :func:`learner_table`).

    Args:
        rows: the long gradebook rows (one per submission and exercise).
        out_dir: the folder of the two files; existing ones are replaced atomically.
        title: the page's and the picture's title.
        topics: the topic names for :func:`learner_of`; default: the topics of the rows'
            exercise ids (``<topic>.<name>``).

    Returns:
        The paths ``(summary.md, summary.png)``.
    """
    rows = list(rows)
    if topics is None:
        topics = {r.exercise.split(".", 1)[0] for r in rows if r.exercise}
    best = _best_rows(rows, topics)
    totals = []
    for mine in best.values():
        maximum = sum(float(r.max_score) for r in mine.values())
        total = sum(float(r.score) for r in mine.values())
        totals.append(100 * total / maximum if maximum > 0 and math.isfinite(total) else 0.0)
    groups = _by_exercise(rows)
    out_dir = Path(out_dir)
    markdown = _markdown(rows, len(best), groups, title)
    png = _picture(groups, totals, title)
    md_path = _write_atomic(out_dir / "summary.md", markdown.encode("utf-8"))
    png_path = _write_atomic(out_dir / "summary.png", png)
    return md_path, png_path


# --- Regrading cache --------------------------------------------------------------------------

_CHUNK = 1 << 20


def content_hash(path: str | Path) -> str:
    """The sha256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def source_hash(folder: str | Path, extra: str = "") -> str:
    """A short hash (16 hex) of every ``.py`` file under ``folder`` (relative paths and bytes,
    sorted by relative path) and ``extra``: renaming, editing, adding or removing one changes it.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*.py"))
    for relative, path in files:
        data = path.read_bytes()
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    digest.update(b"\0extra\0" + extra.encode())
    return digest.hexdigest()[:16]


def _extra_exercise_sources() -> str:
    """The sha256 of the instructor's ``COURSE_EXERCISE_MODULES`` sources ("" when none)."""
    from course_lib.grading.exercise import extra_modules

    names = extra_modules()
    if not names:
        return ""
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}\0".encode())
        try:
            spec = importlib.util.find_spec(name)
            origin = Path(spec.origin) if spec is not None and spec.origin else None
            if origin is not None and spec.submodule_search_locations:
                digest.update(source_hash(origin.parent).encode())
            elif origin is not None and origin.is_file():
                digest.update(origin.read_bytes())
        except (ImportError, ValueError, OSError):  # not found: a grading error, not ours
            digest.update(b"?")
    return digest.hexdigest()


def grader_version(extra: str = "") -> str:
    """A short hash (16 hex) that changes whenever grading may give another result.

    It covers every ``.py`` file of ``course_lib`` (the grader, the exercises, and the library
    code their expected values come from), ``course_lib.__version__``, the modules named in
    ``COURSE_EXERCISE_MODULES`` and ``extra`` (the grading settings that change results, e.g.
    the limits).
    """
    import course_lib

    version = str(getattr(course_lib, "__version__", ""))
    mixed = f"{version}\0{_extra_exercise_sources()}\0{extra}"
    return source_hash(Path(course_lib.__file__).resolve().parent, mixed)


def previous_rows(csv_path: str | Path) -> dict[tuple[str, str, str], list[dict[str, str]]]:
    """The rows of an earlier long CSV, for reuse: ``(submission, content_hash,
    grader_version)`` -> that submission's rows, in file order.

    Each row is a dict of the columns ``submission, exercise, score, max_score, status,
    feedback, content_hash, grader_version`` (strings; ``score`` and ``max_score`` are numbers
    ``float`` accepts). Rows with an empty hash or version are left out. A missing file, an
    older CSV without the two cache columns, or an unreadable or damaged one (not UTF-8, a
    row with the wrong number of fields, a score that is not a number) gives ``{}``: then
    everything is graded again. Never raises because of the file's content.
    """
    columns = (*LONG_COLUMNS, *CACHE_COLUMNS)
    grouped: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    try:
        with open(csv_path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not set(columns) <= set(header):
                return {}
            index = {name: header.index(name) for name in columns}
            for fields in reader:
                if not fields:
                    continue
                if len(fields) != len(header):
                    return {}
                row = {name: fields[i] for name, i in index.items()}
                for number in (row["score"], row["max_score"]):
                    float(number)  # ValueError: damaged
                if not row["content_hash"] or not row["grader_version"]:
                    continue
                key = (row["submission"], row["content_hash"], row["grader_version"])
                grouped.setdefault(key, []).append(row)
    except (OSError, UnicodeError, csv.Error, ValueError):
        return {}
    return grouped
