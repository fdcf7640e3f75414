"""The TFG conformance harness (tests/tfg_conformance/), without TensorFlow Graphics: the module
swap, the NumPy-2 fix, the outcome recorder, the committed files and the report logic."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

HARNESS = Path(__file__).resolve().parent / "tfg_conformance"


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


harness = _load("tfg_conformance_run", HARNESS / "run.py")
swap = _load("tfg_conformance_swap", HARNESS / "tfg_swap.py")

AXIS = "geometry.transformation.axis_angle"
EULER = "geometry.transformation.euler"
AXIS_FILE = "tensorflow_graphics/geometry/transformation/tests/axis_angle_test.py"
EULER_FILE = "tensorflow_graphics/geometry/transformation/tests/euler_test.py"


def test_test_files_and_modules_map_both_ways() -> None:
    assert harness.tfg_test_file("math.vector") == "tensorflow_graphics/math/tests/vector_test.py"
    assert harness.tfg_test_file(AXIS) == AXIS_FILE
    for module in harness.MODULES:
        assert harness.module_of(harness.tfg_test_file(module) + "::T::test_x") == module
    assert harness.module_of("tensorflow_graphics/util/tests/shape_test.py::T::test_x") is None
    assert swap.tfg_name("math.vector") == "tensorflow_graphics.math.vector"
    assert swap.course_name("math.vector") == "course_lib.graphics.math.vector"


def test_select_modules_by_full_or_short_name() -> None:
    assert harness.select_modules(None) == list(harness.MODULES)
    assert harness.select_modules(["euler", AXIS, "euler"]) == [EULER, AXIS]
    with pytest.raises(ValueError, match="--only: unknown module 'eulr'"):
        harness.select_modules(["eulr"])


def test_main_rejects_an_unknown_module_with_exit_code_2(capsys) -> None:
    assert harness.main(["--only", "nope"]) == 2
    assert "--only: unknown module 'nope'" in capsys.readouterr().err


class _FakeImporter:
    """``import_module`` over a dict of modules, recording the order of the imports."""

    def __init__(self, modules: dict, missing: tuple[str, ...] = ()) -> None:
        self.modules, self.missing, self.calls = modules, missing, []

    def __call__(self, name: str) -> types.ModuleType:
        self.calls.append(name)
        for missing in self.missing:
            if name == missing or name.startswith(missing + "."):
                raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return self.modules[name]


def _fake_modules() -> dict:
    names = [
        *swap.HELPERS,
        "tensorflow_graphics.geometry.transformation",
        "tensorflow_graphics.geometry.transformation.axis_angle",
        "tensorflow_graphics.geometry.transformation.euler",
        "course_lib.graphics.geometry.transformation.axis_angle",
    ]
    modules = {name: types.ModuleType(name) for name in names}
    package = modules["tensorflow_graphics.geometry.transformation"]
    package.axis_angle = modules["tensorflow_graphics.geometry.transformation.axis_angle"]
    package.euler = modules["tensorflow_graphics.geometry.transformation.euler"]
    # A helper that bound TFG's module when it was imported, as test_helpers does.
    helpers = modules["tensorflow_graphics.geometry.transformation.tests.test_helpers"]
    helpers.axis_angle = package.axis_angle
    return modules


def test_swap_points_tfg_names_at_course_modules_after_importing_tfg() -> None:
    modules = _fake_modules()
    tfg_axis = modules["tensorflow_graphics.geometry.transformation.axis_angle"]
    course_axis = modules["course_lib.graphics.geometry.transformation.axis_angle"]
    importer = _FakeImporter(
        modules, missing=("course_lib.graphics.geometry.transformation.euler",)
    )
    swapped = swap.swap_modules([AXIS, EULER], importer, modules)

    name = "tensorflow_graphics.geometry.transformation.axis_angle"
    assert swapped[name] is course_axis and modules[name] is course_axis
    assert modules["tensorflow_graphics.geometry.transformation"].axis_angle is course_axis
    helpers = modules["tensorflow_graphics.geometry.transformation.tests.test_helpers"]
    assert helpers.axis_angle is tfg_axis  # the helpers keep TFG's functions
    # Every TFG module (and helper) was imported before the first course module.
    first_course = next(i for i, c in enumerate(importer.calls) if c.startswith("course_lib"))
    tfg_modules = {name, "tensorflow_graphics.geometry.transformation.euler"}
    assert set(importer.calls[:first_course]) == {*swap.HELPERS, *tfg_modules}
    euler = modules["tensorflow_graphics.geometry.transformation.euler"]
    assert isinstance(euler, swap.MissingModule)
    with pytest.raises(AttributeError, match="euler does not exist .*'from_quaternion'"):
        euler.from_quaternion  # noqa: B018


def test_a_course_module_that_fails_on_a_missing_dependency_is_an_error() -> None:
    def import_module(name: str) -> types.ModuleType:
        raise ModuleNotFoundError("No module named 'scipy_not_here'", name="scipy_not_here")

    with pytest.raises(ModuleNotFoundError, match="scipy_not_here"):
        swap.import_course_module(AXIS, import_module)


def test_bridge_makes_course_value_checks_follow_the_tfg_flag() -> None:
    asserts = types.ModuleType("course_lib.graphics.util.asserts")
    asserts.is_enabled = lambda: False
    flag = {"value": True}

    def read_flag() -> bool:
        return flag["value"]

    importer = _FakeImporter({"course_lib.graphics.util.asserts": asserts})
    assert swap.bridge_asserts_flag(importer, read_flag)
    assert asserts.is_enabled() is True
    flag["value"] = False
    assert asserts.is_enabled() is False
    absent = _FakeImporter({}, missing=("course_lib.graphics.util.asserts",))
    assert not swap.bridge_asserts_flag(absent, read_flag)


_BROKEN_TEST_DATA = '''"""Test data whose helper fails under NumPy 2."""
import numpy as np


def _axis_angle_to_quaternion(axis, angle):
    raise AssertionError("the original ran")


QUAT_X_90 = _axis_angle_to_quaternion(np.array((1.0, 0.0, 0.0)), np.array((np.pi / 2.0,)))
'''


def test_numpy2_fix_replaces_the_helper_before_module_code_calls_it(tmp_path) -> None:
    path = tmp_path / "test_data.py"
    path.write_text(_BROKEN_TEST_DATA)
    package = types.ModuleType("pkg.tests")
    modules = {"pkg.tests": package}
    fixes = swap.NUMPY2_FIXES["tensorflow_graphics.geometry.transformation.tests.test_data"]
    module = swap.load_with_fixes("pkg.tests.test_data", path, fixes, modules)
    half = np.sin(np.pi / 4.0)
    np.testing.assert_allclose(module.QUAT_X_90, [half, 0.0, 0.0, half])
    assert modules["pkg.tests.test_data"] is module and package.test_data is module
    assert module.__doc__ == "Test data whose helper fails under NumPy 2."


def test_numpy2_fix_matches_the_quaternion_of_an_axis_angle(rng) -> None:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(-np.pi, np.pi, size=1)
    quaternion = swap._axis_angle_to_quaternion(axis, angle)
    assert quaternion.shape == (4,)
    np.testing.assert_allclose(quaternion[:3], axis * np.sin(angle[0] / 2.0))
    np.testing.assert_allclose(quaternion[3], np.cos(angle[0] / 2.0))


def test_numpy2_fix_is_reported_stale_when_the_helper_is_gone(tmp_path) -> None:
    path = tmp_path / "test_data.py"
    path.write_text("import numpy as np\nX = 1\n")
    modules: dict = {}
    with pytest.raises(RuntimeError, match="update NUMPY2_FIXES"):
        swap.load_with_fixes("pkg.test_data", path, {"_gone": len}, modules)
    assert modules == {}


def test_recorder_keeps_the_worst_outcome_of_a_test() -> None:
    recorder = swap.Recorder()
    recorder.add_test_report("a::t", "passed", "")
    recorder.add_test_report("a::t", "failed", "subtest failed")
    recorder.add_test_report("a::t", "passed", "")
    recorder.add_test_report("b::t", "skipped", "Not a test.")
    assert recorder.tests == {
        "a::t": {"outcome": "failed", "message": "subtest failed"},
        "b::t": {"outcome": "skipped", "message": "Not a test."},
    }
    assert recorder.to_json("course")["versions"]["numpy"] == np.__version__


def test_committed_expected_failures_parse_and_point_to_the_documented_differences() -> None:
    entries = harness.load_expected(harness.EXPECTED)
    for entry in entries:
        assert entry.module in harness.MODULES
        assert "Differences from TensorFlow Graphics" in entry.reason, entry.test


def test_committed_baseline_lists_tests_in_scope() -> None:
    baseline = harness.load_baseline(harness.BASELINE)
    assert len(baseline) > 500
    assert {harness.module_of(nodeid) for nodeid in baseline} == set(harness.MODULES)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{test: x}\n", "a list of entries"),
        (f"- test: {AXIS_FILE}::T::t\n", "exactly the keys 'test' and 'reason'"),
        (f"- {{test: '{AXIS_FILE}::T::t', reason: ' '}}\n", "non-empty text"),
        ("- {test: 'tensorflow_graphics/util/tests/shape_test.py::T::t', reason: r}\n", "in scope"),
        (f"- {{test: '{AXIS_FILE}', reason: r}}\n", "in scope and '::'"),
    ],
)
def test_load_expected_rejects_bad_entries(tmp_path, text: str, problem: str) -> None:
    path = tmp_path / "expected.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        harness.load_expected(path)


def _results(**tests: str) -> dict:
    """``test_name=outcome`` in axis_angle_test.py's class T."""
    return {
        "tests": {
            f"{AXIS_FILE}::T::{name}": {"outcome": outcome, "message": f"{name} {outcome}"}
            for name, outcome in tests.items()
        },
        "collection_errors": {EULER_FILE: "ImportError: boom"},
    }


def test_compare_sorts_failures_into_expected_unexpected_and_stale() -> None:
    baseline = [f"{AXIS_FILE}::T::{name}" for name in ("ok", "bad", "listed", "gone", "skip")]
    baseline.append(f"{EULER_FILE}::T::t")
    results = _results(
        ok="passed", bad="failed", listed="failed", gone="passed", skip="skipped", tfgfails="failed"
    )
    del results["tests"][f"{AXIS_FILE}::T::gone"]
    expected = [
        harness.Expected(f"{AXIS_FILE}::T::list*", "Differences from TensorFlow Graphics: x"),
        harness.Expected(f"{AXIS_FILE}::T::ok", "fixed since"),
        harness.Expected(f"{AXIS_FILE}::T::typo", "never matched"),
        harness.Expected(f"{EULER_FILE}::T::t", "only counts when euler runs"),
    ]
    report = harness.compare(baseline, results, expected, [AXIS])
    assert report.total == {AXIS: 5} and report.passed == {AXIS: 1}
    assert report.expected == {f"{AXIS_FILE}::T::listed": "listed failed"}
    assert report.unexpected == {
        f"{AXIS_FILE}::T::bad": "bad failed",
        f"{AXIS_FILE}::T::gone": "not run: not collected",
        f"{AXIS_FILE}::T::skip": "skipped: skip skipped",
    }
    assert [(entry.test[-4:], why) for entry, why in report.stale] == [
        ("::ok", "all 1 matching tests pass now"),
        ("typo", "matches no baseline test"),
    ]
    assert not report.ok

    both = harness.compare(baseline, results, expected, [AXIS, EULER])
    assert both.expected[f"{EULER_FILE}::T::t"] == "not run: ImportError: boom"
    text = harness.format_report(both, 12.0)
    assert "passed / total: 1 / 6 (16.7 %)" in text
    assert "expected failures: 2; unexpected failures: 3; stale entries: 2" in text
    assert f"{AXIS} ({AXIS_FILE}), 3:\n    T::bad: bad failed\n" in text


def test_compare_of_a_clean_run_is_ok() -> None:
    baseline = [f"{AXIS_FILE}::T::ok", f"{AXIS_FILE}::T::listed"]
    expected = [harness.Expected(f"{AXIS_FILE}::T::listed", "why")]
    report = harness.compare(baseline, _results(ok="passed", listed="failed"), expected, [AXIS])
    assert report.ok and sum(report.passed.values()) == 1


def test_share_and_the_95_percent_rule_on_a_full_run(monkeypatch, tmp_path, capsys) -> None:
    baseline = [f"{AXIS_FILE}::T::t{i}" for i in range(20)]
    outcomes = {f"t{i}": "passed" for i in range(19)} | {"t19": "failed"}
    expected = [harness.Expected(f"{AXIS_FILE}::T::t19", "Differences from TensorFlow Graphics")]
    assert harness.compare(baseline, _results(**outcomes), expected, [AXIS]).share == 95.0
    monkeypatch.setattr(harness, "load_baseline", lambda path: set(baseline))
    monkeypatch.setattr(harness, "load_expected", lambda path: expected)
    monkeypatch.setattr(harness, "ensure_site", lambda cache, wheel: tmp_path)
    monkeypatch.setattr(harness, "MODULES", (AXIS,))
    monkeypatch.setattr(harness, "run_tests", lambda *args: _results(**outcomes))
    assert harness.main([]) == 0  # 19 / 20 = 95 %: enough
    outcomes["t18"] = "failed"
    expected.append(harness.Expected(f"{AXIS_FILE}::T::t18", "Differences: another"))
    assert harness.main([]) == 1  # 90 %, every failure listed: still not enough
    assert "90.00 % pass, below the 95.0 % required" in capsys.readouterr().out
    assert harness.main(["--only", "axis_angle"]) == 0  # one module: only the listing counts


def test_shards_split_modules_evenly_by_test_file_size(tmp_path) -> None:
    sizes = {AXIS: 900, EULER: 500, "math.vector": 400, "math.interpolation.slerp": 100}
    for module, size in sizes.items():
        path = tmp_path / harness.tfg_test_file(module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x" * size)
    assert harness.shards(tmp_path, list(sizes), 2) == [
        [AXIS, "math.interpolation.slerp"],
        [EULER, "math.vector"],
    ]
    assert harness.shards(tmp_path, list(sizes), 1) == [list(sizes)]
    assert harness.shards(tmp_path, [AXIS], 4) == [[AXIS]]


def test_merge_results_joins_the_shards() -> None:
    common = {"target": "course", "versions": {"tf": "2"}}
    first = dict(common, tests={"a": 1}, collection_errors={})
    second = dict(common, tests={"b": 2}, collection_errors={"f.py": "ImportError"})
    merged = harness.merge_results([first, second])
    assert merged == {
        "target": "course",
        "versions": {"tf": "2"},
        "tests": {"a": 1, "b": 2},
        "collection_errors": {"f.py": "ImportError"},
    }
    assert first["tests"] == {"a": 1}  # the shards are left as they were


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            "AttributeError: module 'course_lib.graphics.math.vector' has no attribute 'dot'",
            "missing function: dot",
        ),
        (
            "AttributeError: module course_lib.graphics.math.x does not exist (asked for 'f')",
            "missing module: course_lib.graphics.math.x",
        ),
        (
            'AssertionError: "must have exactly 3 dimensions in axis -1" does not match "p must"',
            'ValueError message differs: TFG expects "must have exactly N dimensions in axis N"',
        ),
        ("AssertionError: ValueError not raised", "no ValueError raised"),
        ("AssertionError: \nNot equal to tolerance rtol=1e-06", "values differ (assertAllClose)"),
    ],
)
def test_failure_kind_groups_messages(message: str, kind: str) -> None:
    assert harness.failure_kind(message) == kind
