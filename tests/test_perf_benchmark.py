"""course_lib.perf.benchmark (call order, medians on a fake clock, ratios, checks, tables) and
the scripts built on it, benchmarks/run.py and benchmarks/bench_book.py.

No timed assertions: times come from a fake ``perf_counter``.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import nbformat
import pytest

from course_lib.perf import benchmark
from course_lib.perf.benchmark import Comparison, Timing


class FakeClock:
    """A ``perf_counter`` stand-in: each recorder call advances it by its own duration."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def recorder(self, log: list[str], name: str, durations: list[float]):
        durations_iter = iter(durations)

        def call() -> None:
            log.append(name)
            self.now += next(durations_iter)

        return call


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(benchmark, "perf_counter", fake)
    return fake


def test_compare_alternates_candidate_and_reference_after_warmup(clock: FakeClock) -> None:
    log: list[str] = []
    a = clock.recorder(log, "A", [1.0] * 5)
    b = clock.recorder(log, "B", [1.0] * 5)
    benchmark.compare(a, b, warmup=2, repeats=3)
    assert log == ["A", "B"] * 5


def test_warmup_calls_are_not_timed(clock: FakeClock) -> None:
    log: list[str] = []
    fn = clock.recorder(log, "f", [100.0, 100.0, 1.0, 2.0, 3.0])
    timing = benchmark.time_callable(fn, warmup=2, repeats=3)
    assert len(log) == 5
    assert timing.times_s == [1.0, 2.0, 3.0]
    assert timing.repeats == 3


def test_median_of_odd_and_even_counts(clock: FakeClock) -> None:
    log: list[str] = []
    odd = benchmark.time_callable(clock.recorder(log, "f", [5.0, 1.0, 9.0]), warmup=0, repeats=3)
    assert odd.median_s == 5.0
    assert odd.median_ms == 5000.0
    even = benchmark.time_callable(
        clock.recorder(log, "g", [4.0, 1.0, 3.0, 100.0]), warmup=0, repeats=4
    )
    assert even.median_s == 3.5  # robust to the one slow outlier


def test_compare_ratio_and_speedup(clock: FakeClock) -> None:
    log: list[str] = []
    candidate = clock.recorder(log, "A", [0.0, 1.0, 1.0, 1.0])
    reference = clock.recorder(log, "B", [0.0, 4.0, 4.0, 4.0])
    comparison = benchmark.compare(candidate, reference, warmup=1, repeats=3)
    assert comparison.candidate.median_s == 1.0
    assert comparison.reference.median_s == 4.0
    assert comparison.ratio == 0.25
    assert comparison.speedup == 4.0


def test_time_alternately_keeps_the_mapping_order(clock: FakeClock) -> None:
    log: list[str] = []
    calls = {name: clock.recorder(log, name, [1.0] * 3) for name in ("x", "y", "z")}
    timings = benchmark.time_alternately(calls, warmup=1, repeats=2)
    assert log == ["x", "y", "z"] * 3
    assert list(timings) == ["x", "y", "z"]


def test_comparison_from_timings() -> None:
    comparison = Comparison(Timing.from_times([2.0, 3.0, 4.0]), Timing.from_times([1.0]))
    assert comparison.ratio == 3.0
    assert comparison.speedup == pytest.approx(1 / 3)


def test_comparison_with_a_zero_reference_is_infinite() -> None:
    comparison = Comparison(Timing.from_times([1.0]), Timing.from_times([0.0]))
    assert math.isinf(comparison.ratio)
    assert comparison.speedup == 0.0


def test_timing_scaled() -> None:
    timing = Timing.from_times([1.0, 2.0, 3.0]).scaled(10.0)
    assert timing.times_s == [10.0, 20.0, 30.0]
    assert timing.median_s == 20.0


def test_timing_from_no_times_raises() -> None:
    with pytest.raises(ValueError, match="times_s"):
        Timing.from_times([])


def test_row_without_a_goal() -> None:
    comparison = Comparison(Timing.from_times([0.002]), Timing.from_times([0.004]))
    row = comparison.row("ours", "scipy")
    assert row == {
        "name": "ours",
        "reference": "scipy",
        "ratio": 0.5,
        "candidate_ms": 2.0,
        "reference_ms": 4.0,
        "goal": "",
        "met": None,
    }


def test_row_goals() -> None:
    comparison = Comparison(Timing.from_times([3.0]), Timing.from_times([2.0]))
    assert comparison.row("a", "b", at_most=1.5)["met"] is True
    assert comparison.row("a", "b", at_most=1.4)["met"] is False
    assert comparison.row("a", "b", at_least=2.0)["met"] is False
    both = comparison.row("a", "b", at_least=1.0, at_most=2.0)
    assert both["goal"] == "≤ 2 and ≥ 1"
    assert both["met"] is True
    assert comparison.row("a", "b", at_least=1.0, at_most=1.2)["met"] is False


@pytest.mark.parametrize("value", [0, -1])
def test_repeats_below_one_raise(value: int) -> None:
    with pytest.raises(ValueError, match="repeats"):
        benchmark.time_callable(lambda: None, repeats=value)


@pytest.mark.parametrize("value", [1.5, "3", True, None])
def test_repeats_not_an_int_raise(value: object) -> None:
    with pytest.raises(TypeError, match="repeats"):
        benchmark.compare(lambda: None, lambda: None, repeats=value)


def test_negative_warmup_raises() -> None:
    with pytest.raises(ValueError, match="warmup"):
        benchmark.time_callable(lambda: None, warmup=-1)


def test_float_warmup_raises() -> None:
    with pytest.raises(TypeError, match="warmup"):
        benchmark.time_callable(lambda: None, warmup=1.0)


def test_zero_warmup_is_allowed(clock: FakeClock) -> None:
    log: list[str] = []
    benchmark.time_callable(clock.recorder(log, "f", [1.0]), warmup=0, repeats=1)
    assert log == ["f"]


@pytest.mark.parametrize("argument", ["candidate", "reference"])
def test_compare_names_the_argument_that_is_not_callable(argument: str) -> None:
    kwargs = {"candidate": lambda: None, "reference": lambda: None, argument: 42}
    with pytest.raises(TypeError, match=argument):
        benchmark.compare(**kwargs)


def test_time_callable_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError, match="fn"):
        benchmark.time_callable("not a function")


def test_nothing_is_called_when_an_argument_is_bad() -> None:
    log: list[str] = []
    with pytest.raises(ValueError):
        benchmark.compare(lambda: log.append("a"), lambda: log.append("b"), repeats=0)
    assert log == []


def test_time_alternately_rejects_empty_and_non_mappings() -> None:
    with pytest.raises(ValueError, match="callables"):
        benchmark.time_alternately({})
    with pytest.raises(TypeError, match="callables"):
        benchmark.time_alternately([lambda: None])


def test_real_clock_gives_non_negative_times() -> None:
    timing = benchmark.time_callable(lambda: sum(range(100)), warmup=1, repeats=3)
    assert timing.repeats == 3 and len(timing.times_s) == 3
    assert all(t >= 0.0 for t in timing.times_s)
    assert min(timing.times_s) <= timing.median_s <= max(timing.times_s)


def test_markdown_table_layout_and_alignment() -> None:
    rows = [
        {"name": "conv2d", "ratio": 1.23456, "met": True},
        {"name": "naive", "ratio": 150.0, "met": False},
    ]
    table = benchmark.markdown_table(rows, ["name", ("ratio", "ratio (x)"), "met"])
    assert table.splitlines() == [
        "| name | ratio (x) | met |",
        "|---|---:|---|",
        "| conv2d | 1.23 | yes |",
        "| naive | 150 | no |",
    ]


def test_markdown_table_formats_missing_values_and_pipes() -> None:
    rows = [{"a": 0.5, "b": "x|y"}, {"a": None}, {"b": "z"}]
    table = benchmark.markdown_table(rows, ["a", "b"], formats={"a": ".2f"})
    lines = table.splitlines()
    assert lines[1] == "|---:|---|"
    assert lines[2] == "| 0.50 | x\\|y |"
    assert lines[3] == "|  |  |"
    assert lines[4] == "|  | z |"


def test_markdown_table_without_rows_has_a_header() -> None:
    assert benchmark.markdown_table([], ["a", "b"]) == "| a | b |\n|---|---|"


def test_markdown_table_argument_errors() -> None:
    with pytest.raises(ValueError, match="columns"):
        benchmark.markdown_table([{"a": 1}], [])
    with pytest.raises(TypeError, match="columns"):
        benchmark.markdown_table([{"a": 1}], [("a", "b", "c")])
    with pytest.raises(TypeError, match=r"rows\[1\]"):
        benchmark.markdown_table([{"a": 1}, ["a"]], ["a"])


def test_machine_summary_names_python_numpy_and_tensorflow() -> None:
    summary = benchmark.machine_summary()
    assert "Python " in summary
    assert "NumPy " in summary
    assert "TensorFlow" in summary
    assert "CPU" in summary


def test_utc_now_format() -> None:
    stamp = benchmark.utc_now()
    assert stamp.endswith(" UTC")
    assert len(stamp) == len("2026-01-31 14:05 UTC")


def test_package_exports() -> None:
    import course_lib.perf as perf

    for name in ("time_callable", "compare", "machine_summary", "markdown_table"):
        assert callable(getattr(perf, name))
    assert set(perf.__all__) <= set(dir(perf))


# benchmarks/run.py: discovery, row checks and failure isolation (fake benchmarks, no timing).


def load_benchmark_script(name: str):
    """A script of benchmarks/ (not a package) imported by path."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / name
    spec = importlib.util.spec_from_file_location(f"_benchmarks_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runner():
    return load_benchmark_script("run.py")


GOOD_ROW = {
    "name": "a",
    "reference": "b",
    "ratio": 0.5,
    "candidate_ms": 1.0,
    "reference_ms": 2.0,
    "goal": "≤ 1",
    "met": True,
}
GOOD_BENCHMARK = f"def run():\n    return [{GOOD_ROW!r}]\n"


def test_runner_discovers_only_files_with_run(runner, tmp_path) -> None:
    (tmp_path / "bench_good.py").write_text(GOOD_BENCHMARK)
    (tmp_path / "bench_book.py").write_text("def main():\n    pass\n")
    (tmp_path / "helper.py").write_text("def run():\n    return []\n")
    assert [p.name for p in runner.discover(tmp_path)] == ["bench_good.py"]


def test_runner_finds_the_repository_benchmarks(runner) -> None:
    names = [runner.benchmark_name(p) for p in runner.discover()]
    assert {"conv", "dream"} <= set(names)
    assert "book" not in names


def test_runner_select(runner, tmp_path) -> None:
    paths = [tmp_path / "bench_conv.py", tmp_path / "bench_dream.py"]
    for only in ("conv", "bench_conv", "bench_conv.py"):
        assert runner.select(paths, only) == paths[:1]
    assert runner.select(paths, None) == paths
    with pytest.raises(SystemExit, match="dream"):
        runner.select(paths, "nope")


def test_runner_check_rows(runner) -> None:
    row = {"name": "a", "reference": "b", "ratio": 1.0, "candidate_ms": 1.0, "reference_ms": 1.0}
    assert runner.check_rows([row]) == [row]
    with pytest.raises(ValueError, match="reference_ms"):
        runner.check_rows([{k: v for k, v in row.items() if k != "reference_ms"}])
    with pytest.raises(ValueError, match="list of dicts"):
        runner.check_rows(row)


def test_runner_runs_a_benchmark_in_a_child_process(runner, tmp_path) -> None:
    path = tmp_path / "bench_good.py"
    path.write_text(GOOD_BENCHMARK)
    rows, problem, _ = runner.run_one(path, timeout_s=120)
    assert problem is None
    assert rows == [GOOD_ROW]


def test_runner_reports_a_failing_benchmark(runner, tmp_path) -> None:
    path = tmp_path / "bench_bad.py"
    path.write_text("def run():\n    raise RuntimeError('boom')\n")
    rows, problem, _ = runner.run_one(path, timeout_s=120)
    assert rows == []
    assert "boom" in problem


def test_runner_stops_a_benchmark_past_its_time_limit(runner, tmp_path) -> None:
    path = tmp_path / "bench_slow.py"
    path.write_text("import time\n\ndef run():\n    time.sleep(600)\n")
    rows, problem, _ = runner.run_one(path, timeout_s=2)
    assert rows == []
    assert "timed out" in problem


def test_runner_report_marks_goals_and_failures(runner) -> None:
    rows = [
        runner.format_row("conv", {**GOOD_ROW, "met": False}),
        {"benchmark": "dream", "name": "(failed: boom)", "met": "**FAILED**"},
    ]
    text = runner.report(rows, ["dream: failed: boom"], {"conv": 1.0, "dream": 2.0})
    assert "| conv | a | b | 0.500 | 1.00 | 2.00 | ≤ 1 | **NO** |" in text
    assert "- dream: failed: boom" in text
    assert "0 met, 1 missed; 1 benchmarks failed" in text
    assert "machine: " in text


# benchmarks/bench_book.py: chapters, budgets, verdicts; one tiny notebook really executed.


@pytest.fixture(scope="module")
def bench_book():
    return load_benchmark_script("bench_book.py")


def test_bench_book_finds_chapters_only(bench_book, tmp_path) -> None:
    for name in ("part1/02_b.ipynb", "part1/01_a.ipynb", "part2/10_c.ipynb", "intro.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "part1/.ipynb_checkpoints").mkdir()
    (tmp_path / "part1/.ipynb_checkpoints/01_a.ipynb").write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in bench_book.chapters(tmp_path)]
    assert found == ["part1/01_a.ipynb", "part1/02_b.ipynb", "part2/10_c.ipynb"]


def test_bench_book_budget_from_metadata(bench_book) -> None:
    nb = nbformat.v4.new_notebook()
    assert bench_book.budget_s(nb) == bench_book.DEFAULT_BUDGET_S
    nb.metadata["course"] = {"budget_s": 120}
    assert bench_book.budget_s(nb) == 120.0
    nb.metadata["course"] = {"budget_s": "fast"}
    with pytest.raises(ValueError, match="budget_s"):
        bench_book.budget_s(nb)


def test_bench_book_verdicts(bench_book) -> None:
    row = {"wall_s": 80.0, "budget_s": 90.0, "problem": None}
    assert bench_book.verdict(row) == "yes"
    assert bench_book.verdict({**row, "wall_s": 101.0}) == "**NO** (+11 s)"
    assert bench_book.verdict({**row, "problem": "error: ValueError"}).startswith("**FAILED**")


def test_bench_book_runs_a_notebook_in_its_folder_and_reports_errors(bench_book, tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["course"] = {"budget_s": 30}
    nb.cells = [
        nbformat.v4.new_code_cell("open('written_here.txt', 'w').close()"),
        nbformat.v4.new_code_cell("raise ValueError('chapter broke')"),
    ]
    path = tmp_path / "01_broken.ipynb"
    nbformat.write(nb, path)
    row = bench_book.execute(path, cell_timeout_s=120)
    assert (tmp_path / "written_here.txt").exists()
    assert row["problem"] == "error: ValueError"
    assert row["budget_s"] == 30.0
    assert row["peak_rss_mb"] > 0
    assert "FAILED" in bench_book.report([row])
