"""The ``course`` command: exercise notebooks, batch grading, slides and environment checks.

course assign [--solutions DIR] [--exercises DIR] [--force] [--check]
course start NAME [--dir work]
course grade SUBMISSIONS... [--out grades.csv] [--timeout S] [--memory-mb MB] [--force]
course train {dcgan,pix2pix,cyclegan} --out DIR [--steps N] [--seed S] [--force]
course list
course doctor
course slides [CHAPTER ...] [--out _build/slides] [--cache _build/.jupyter_cache]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _error(command: str, message: str, code: int = EXIT_USAGE) -> int:
    print(f"course {command}: {message}", file=sys.stderr)
    return code


def cmd_assign(args: argparse.Namespace) -> int:
    from course_lib.grading import assign

    solutions, exercises = Path(args.solutions), Path(args.exercises)
    try:
        if args.check:
            stale = assign.stale_files(solutions, exercises)
            if stale:
                print(f"{exercises}/ is out of date with {solutions}/:")
                for path in stale:
                    print(f"  {path}")
                print("Run `course assign` (or `make exercises`) to regenerate.")
                return EXIT_PROBLEM
            count = len(list(solutions.glob("*.ipynb")))
            print(f"{exercises}/ is up to date with {solutions}/ ({count} notebooks)")
            return EXIT_OK
        done = assign.assign(solutions, exercises, force=args.force)
    except FileNotFoundError as error:
        return _error("assign", str(error))
    except assign.AssignError as error:
        return _error("assign", f"error: {error}", EXIT_PROBLEM)
    except assign.AssignConflict as error:
        return _error("assign", str(error).removeprefix("course assign: "), EXIT_PROBLEM)
    for path in done["written"]:
        print(f"wrote {path}")
    for path in done["removed"]:
        print(f"removed {path} (its solution notebook is gone)")
    print(
        f"{len(done['written'])} written, {len(done['unchanged'])} unchanged, "
        f"{len(done['removed'])} removed"
    )
    return EXIT_OK


def cmd_start(args: argparse.Namespace) -> int:
    from course_lib.grading import assign

    try:
        copy = assign.start(args.name, Path(args.exercises), Path(args.dir))
    except LookupError as error:
        return _error("start", str(error).strip("\"'"))
    except FileExistsError as error:
        return _error("start", str(error), EXIT_PROBLEM)
    print(f"Your copy: {copy}  (open it with `jupyter lab {copy}`; exercises/ stays untouched)")
    return EXIT_OK


#: Batch grading's own needs: the ``grade`` extra in pyproject.toml (kept out of the base install
#: so that installing course_lib in Colab leaves Colab's kernel packages as they are).
GRADE_EXTRA = {"nbclient": (0, 9), "ipykernel": (6, 25), "jupyter_client": (8, 0)}


def _missing_grade_extra() -> list[str]:
    """The ``grade`` extra's packages that are missing or older than it asks, as messages."""
    missing = []
    for name, minimum in GRADE_EXTRA.items():
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{name} (not installed)")
            continue
        numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
        if numbers < minimum:
            missing.append(f"{name} {version} (needs >= {'.'.join(map(str, minimum))})")
    return missing


def cmd_grade(args: argparse.Namespace) -> int:
    missing = _missing_grade_extra()
    if missing:
        return _error(
            "grade",
            "batch grading needs the 'grade' extra: pip install 'course_lib[grade]' "
            f"(missing: {', '.join(missing)})",
        )
    from course_lib.grading import assign, batch, gradebook
    from course_lib.grading.sandbox import Limits

    out = Path(args.out)
    previous = gradebook.previous_rows(out) if out.exists() and not args.force else {}
    if out.exists() and not args.force and not previous:
        return _error(
            "grade",
            f"{out} exists and is not a gradebook of course grade: pass --force to replace it, "
            "or another --out",
        )
    if args.jobs < 1:
        return _error("grade", f"--jobs must be at least 1, got {args.jobs}")
    for name, value in [("--timeout", args.timeout), ("--grade-timeout", args.grade_timeout)]:
        if value <= 0:
            return _error("grade", f"{name} must be positive, got {value:g}")
    if args.memory_mb <= 0:
        return _error("grade", f"--memory-mb must be positive, got {args.memory_mb:g}")
    try:
        submissions = batch.collect(args.submissions)
    except FileNotFoundError as error:
        return _error("grade", str(error))
    if not submissions:
        return _error("grade", "no notebooks found in " + ", ".join(args.submissions))
    limits = Limits(
        timeout=args.timeout, grade_timeout=args.grade_timeout, memory_mb=args.memory_mb
    )
    started = [time.monotonic()]

    def progress(number: int, total: int, path: Path, rows: list[batch.Row]) -> None:
        statuses = ", ".join(sorted({row.status for row in rows}))
        seconds = time.monotonic() - started[0]
        print(f"[{number}/{total}] {path}: {statuses} ({seconds:.1f} s)", file=sys.stderr)
        started[0] = time.monotonic()

    solutions = args.solutions if Path(args.solutions).is_dir() else None
    try:
        rows = batch.grade_submissions(
            submissions,
            limits,
            seed=args.seed,
            assignment=args.assignment,
            progress=progress,
            jobs=args.jobs,
            solutions=solutions,
            previous=previous,
        )
    except KeyboardInterrupt:
        return _error("grade", f"interrupted: {out} was not written", 130)
    except assign.AssignError as error:
        return _error("grade", f"exercise weights: {error}")
    try:
        batch.write_csv(rows, out, force=args.force or bool(previous))
    except FileExistsError as error:
        return _error("grade", str(error), EXIT_PROBLEM)
    topics = batch.list_topics()
    learners = gradebook.write_learner_csv(rows, topics, out.with_name(f"{out.stem}_learners.csv"))
    page, _ = gradebook.summary_page(rows, out.with_name(f"{out.stem}_summary"), topics=topics)
    kept = {(r.submission, r.content_hash, r.grader_version) for r in rows} & set(previous)
    print(batch.summary(rows))
    print(
        f"{len(submissions)} submissions, {len(rows)} rows -> {out}; one row per learner -> "
        f"{learners}; summary -> {page}"
        + (f" ({len(kept)} unchanged submissions kept their rows)" if previous else "")
    )
    return EXIT_OK


#: The GANs ``course train`` trains: module of :mod:`course_lib.gan` with ``train_course``.
TRAINABLE = ("dcgan", "pix2pix", "cyclegan")


def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if (out / "samples.npz").exists() and not args.force:
        return _error(
            "train", f"{out} holds a trained model already: pass --force, or another --out"
        )
    if args.steps is not None and args.steps <= 0:
        return _error("train", f"--steps must be positive, got {args.steps}")
    module = importlib.import_module(f"course_lib.gan.{args.model}")
    try:
        figure = module.train_course(out, steps=args.steps, seed=args.seed, progress=True)
    except KeyboardInterrupt:
        return _error("train", "interrupted: nothing was saved", 130)
    print(module.format_figure(figure))
    print(f"checkpoint: {out / 'checkpoint'}  samples: {out / 'samples.npz'}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from course_lib.grading import get_exercise, list_exercises

    ids = list_exercises()
    width = max([len(i) for i in ids] + [0])
    for exercise_id in ids:
        exercise = get_exercise(exercise_id)
        print(f"{exercise_id:<{width}}  {exercise.title or exercise.target}")
    if not ids:
        print("no exercises registered")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    problems = 0
    rows = [("python", f"{platform.python_version()} ({sys.executable})")]
    rows.append(("course_lib", _version("course_lib")))
    if importlib.util.find_spec("tensorflow") is None:
        problems += 1
        rows.append(
            (
                "tensorflow",
                "NOT INSTALLED: pip install 'course_lib[cpu]' (or 'course_lib[gpu]' for CUDA; "
                "Colab has it already)",
            )
        )
    else:
        try:
            import keras
            import tensorflow as tf

            devices = ", ".join(d.device_type for d in tf.config.list_physical_devices()) or "?"
            rows.append(("tensorflow", f"{tf.__version__} (devices: {devices})"))
            rows.append(("keras", keras.__version__))
        except Exception as error:  # noqa: BLE001 - reported, not raised
            problems += 1
            rows.append(("tensorflow", f"installed but fails to import: {error}"))
    from course_lib import config

    if config.offline_forced():
        rows.append(("network", "offline (COURSE_OFFLINE=1): shipped substitutes are used"))
    elif config.is_online():
        rows.append(("network", "online: real datasets and models are downloaded (cached)"))
    else:
        rows.append(("network", "offline: shipped substitutes stand in for downloads"))
    rows.extend(_kernel_rows())
    try:
        from course_lib.grading import list_exercises
        from course_lib.grading.exercise import extra_modules

        ids = list_exercises()
        topics = sorted({i.split(".", 1)[0] for i in ids})
        extra = f"; plus COURSE_EXERCISE_MODULES={','.join(extra_modules())}" * bool(
            extra_modules()
        )
        rows.append(("exercises", f"{len(ids)} registered ({', '.join(topics)}){extra}"))
    except Exception as error:  # noqa: BLE001 - reported, not raised
        problems += 1
        rows.append(("exercises", f"failed to load: {type(error).__name__}: {error}"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return EXIT_PROBLEM if problems else EXIT_OK


def cmd_slides(args: argparse.Namespace) -> int:
    try:
        from course_lib.workshop import slides
    except ImportError as error:
        return _error("slides", f"needs {error.name} (it comes with the 'dev' extra)")
    started = time.monotonic()
    try:
        chapters = slides.select_chapters(args.chapters, Path("."))
    except (slides.UnknownChapter, FileNotFoundError) as error:
        return _error("slides", str(error).strip("\"'"))
    try:
        decks = slides.build_decks(chapters, Path(args.out), Path(args.cache), Path("."))
    except slides.SlidesError as error:
        return _error("slides", str(error), EXIT_PROBLEM)
    for deck in decks:
        print(f"{deck.path}: {deck.slides} slides ({deck.figures} figures)")
    print(
        f"{len(decks)} deck(s), {sum(deck.slides for deck in decks)} slides in "
        f"{time.monotonic() - started:.1f} s; index: {Path(args.out) / 'index.html'}"
    )
    return EXIT_OK


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed as a package"


def _kernel_rows() -> list[tuple[str, str]]:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from course_lib.grading.sandbox import kernel_argv

    rows = [
        (
            "grading kernel",
            " ".join(kernel_argv()[:3]) + f" (ipykernel {_version('ipykernel')}), this Python",
        )
    ]
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        python = spec.argv[0]
        same = python in ("python", "python3", sys.executable) or (
            os.path.exists(python) and os.path.samefile(python, sys.executable)
        )
        note = (
            "this Python"
            if same
            else f"ANOTHER Python ({python}): notebooks may not see course_lib"
        )
        rows.append(("jupyter python3", f"{spec.resource_dir}: {note}"))
    except NoSuchKernel:
        rows.append(("jupyter python3", "no python3 kernel spec (pip install ipykernel)"))
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``course``."""
    from course_lib.grading.batch import STATUSES

    parser = argparse.ArgumentParser(
        prog="course", description="Differentiable Graphics with TensorFlow 2: course tools."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assign = commands.add_parser(
        "assign",
        help="generate exercises/ from solutions/",
        description="Generate exercises/<name>.ipynb from solutions/<name>.ipynb: solution "
        "regions become `raise NotImplementedError()` stubs, outputs are cleared. Refuses to "
        "overwrite exercise notebooks edited since they were generated.",
    )
    assign.add_argument("--solutions", default="solutions", help="default: %(default)s")
    assign.add_argument("--exercises", default="exercises", help="default: %(default)s")
    assign.add_argument(
        "--force", action="store_true", help="overwrite edited exercise notebooks (edits are lost)"
    )
    assign.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the stale files if exercises/ is out of date",
    )
    assign.set_defaults(func=cmd_assign)

    start = commands.add_parser(
        "start",
        help="copy an exercise notebook to work/ to solve it",
        description="Copy exercises/NAME.ipynb to DIR/NAME.ipynb (never overwrites a copy).",
    )
    start.add_argument("name", help="exercise notebook name, e.g. tensors_and_gradients")
    start.add_argument("--dir", default="work", help="where your copy goes (default: %(default)s)")
    start.add_argument("--exercises", default="exercises", help="default: %(default)s")
    start.set_defaults(func=cmd_start)

    statuses = "\n".join(f"  {name:<14} {text}" for name, text in STATUSES.items())
    grade = commands.add_parser(
        "grade",
        help="grade submitted notebooks into a CSV gradebook",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run each submitted notebook in its own kernel (time and memory limited) "
        "and grade its exercises: the hidden cases are drawn and judged in this process, the "
        "kernel only runs the answers on their inputs.\nWrites one row per submission and "
        "exercise (--out: submission,exercise,score,max_score,status,feedback,content_hash,"
        "grader_version), one row per learner (OUT_learners.csv) and a summary page with a "
        "picture (OUT_summary/summary.md, summary.png).",
        epilog=f"statuses:\n{statuses}\n\nExit status 0 when the batch completed (whatever the "
        "grades), 2 on usage errors.",
    )
    grade.add_argument(
        "submissions", nargs="+", metavar="SUBMISSIONS", help="notebooks, or folders of them"
    )
    grade.add_argument("--out", default="grades.csv", help="the CSV (default: %(default)s)")
    grade.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="wall time for each notebook's cells (default: %(default)g)",
    )
    grade.add_argument(
        "--grade-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall time for grading each exercise (default: %(default)g)",
    )
    grade.add_argument(
        "--memory-mb",
        type=float,
        default=4096.0,
        metavar="MB",
        help="memory (RSS) of each kernel and its children (default: %(default)g)",
    )
    grade.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the hidden cases (default: a secret one drawn for this run; learners' "
        "check() uses 0)",
    )
    grade.add_argument(
        "--assignment",
        default="",
        metavar="TOPIC",
        help="topic of notebooks that do not say which exercises they answer",
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks graded at once, each in its own kernel (default: %(default)s, the cores)",
    )
    grade.add_argument(
        "--solutions",
        default="solutions",
        metavar="DIR",
        help="the instructor's solution notebooks, whose metadata course.weights weighs the "
        "exercises (default: %(default)s, when it exists; weight 1 otherwise)",
    )
    grade.add_argument(
        "--force",
        action="store_true",
        help="regrade every submission and replace --out (without it, an existing gradebook "
        "is updated: submissions whose content and grader are unchanged keep their rows)",
    )
    grade.set_defaults(func=cmd_grade)

    train = commands.add_parser(
        "train",
        help="train a GAN of Part 1 with its chapter's CPU settings",
        description="Train DCGAN, pix2pix or CycleGAN with the chapter's CPU settings (offline "
        "data when COURSE_OFFLINE=1 or without network), save DIR/checkpoint and "
        "DIR/samples.npz (key images: [N, H, W, C] floats in [0, 1]) and print the chapter's "
        "figure.",
    )
    train.add_argument("model", choices=TRAINABLE)
    train.add_argument("--out", required=True, metavar="DIR", help="where to save")
    train.add_argument(
        "--steps", type=int, default=None, help="train steps (default: the chapter's)"
    )
    train.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    train.add_argument("--force", action="store_true", help="overwrite a model saved in DIR")
    train.set_defaults(func=cmd_train)

    listing = commands.add_parser("list", help="list the exercise ids with their titles")
    listing.set_defaults(func=cmd_list)

    doctor = commands.add_parser(
        "doctor", help="report Python, TensorFlow, network, kernel and exercises"
    )
    doctor.set_defaults(func=cmd_doctor)

    slides = commands.add_parser(
        "slides",
        help="make reveal.js decks from the chapters (after `make book`)",
        description="Make a reveal.js deck per chapter from its slide metadata (notebook "
        "metadata course.slides) and the figures of its execution cached by the book build: "
        "OUT/<topic>.html, OUT/index.html, reveal.js copied to OUT/reveal/. Works offline.",
        epilog="Exit status 0 when every deck was written, 1 when a chapter's metadata is wrong "
        "or it is not in the cache, 2 on usage errors.",
    )
    slides.add_argument(
        "chapters",
        nargs="*",
        metavar="CHAPTER",
        help="a topic (cnn, rasterizer: the notebook's name after NN_) or a notebook path "
        "(default: every chapter)",
    )
    slides.add_argument("--out", default="_build/slides", help="default: %(default)s")
    slides.add_argument(
        "--cache",
        default="_build/.jupyter_cache",
        help="the book build's execution cache (default: %(default)s)",
    )
    slides.set_defaults(func=cmd_slides)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs ``course``; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
