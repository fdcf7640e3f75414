"""Child side of the TensorFlow Graphics conformance run: a pytest plugin (``-p tfg_swap``).

``tests/tfg_conformance/run.py`` loads this plugin into the pytest process that runs TFG's own
unit tests from the unpacked wheel. It reads its settings from the environment:

- ``TFG_CONFORMANCE_TARGET``: ``course`` (the modules under test come from
  ``course_lib.graphics``) or ``tfg`` (TFG's own modules: the baseline run).
- ``TFG_CONFORMANCE_MODULES``: the modules under test, comma-separated, relative to the package
  root (``geometry.transformation.axis_angle``, ...).
- ``TFG_CONFORMANCE_RESULTS``: the JSON file the outcomes are written to.

Before collection it applies the NumPy-2 fix to TFG's test data (both targets), then, for the
``course`` target, imports TFG's test helpers and TFG's own modules under test, and only then
points ``tensorflow_graphics.<module>`` at ``course_lib.graphics.<module>`` (in ``sys.modules``
and on the parent package). So the test files see course_lib's modules, while TFG's helpers
(``test_helpers``, ``test_data``, ``util.test_case``, ``util.asserts``) keep the TFG functions they
bound at import: the random and preset inputs are TFG's. It also makes course_lib's value
checks (``course_lib.graphics.util.asserts.is_enabled``) follow TFG's absl flag
``tfg_add_asserts_to_graph``, which TFG's ``TestCase.setUp`` switches on: each library has its
own switch ("Differences from TensorFlow Graphics"). No TFG file is edited.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import sys
import types
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TFG_ROOT = "tensorflow_graphics"
COURSE_ROOT = "course_lib.graphics"

#: TFG's test helpers, imported before the swap so that they keep TFG's own functions.
HELPERS = (
    "tensorflow_graphics.util.test_case",
    "tensorflow_graphics.util.asserts",
    "tensorflow_graphics.geometry.transformation.tests.test_data",
    "tensorflow_graphics.geometry.transformation.tests.test_helpers",
)

#: Outcomes of one test's reports (setup, call, teardown, subtests): the worst one wins.
_RANK = {"passed": 0, "skipped": 1, "failed": 2}
_MAX_MESSAGE = 400


def _axis_angle_to_quaternion(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """TFG's ``test_data._axis_angle_to_quaternion`` for a `[3]` axis and a `[1]` angle: `[4]`.

    TFG stores ``np.cos(0.5 * angle)``, a `[1]` array, into one element of the quaternion, which
    NumPy 2 refuses ("setting an array element with a sequence"); here the angle is a scalar.
    """
    half = 0.5 * np.asarray(angle, dtype=np.float64).reshape(())
    return np.append(np.asarray(axis, dtype=np.float64) * np.sin(half), np.cos(half))


#: The NumPy-2 fix: module -> {function name: replacement}, applied as the module executes.
NUMPY2_FIXES: dict[str, dict[str, Callable[..., Any]]] = {
    "tensorflow_graphics.geometry.transformation.tests.test_data": {
        "_axis_angle_to_quaternion": _axis_angle_to_quaternion,
    },
}


def load_with_fixes(
    name: str,
    path: str | Path,
    fixes: dict[str, Callable[..., Any]],
    modules: MutableMapping[str, types.ModuleType] = sys.modules,
) -> types.ModuleType:
    """Executes the module ``name`` from ``path`` statement by statement, replacing each function
    named in ``fixes`` right after its definition (before module-level code calls it).

    Raises ``RuntimeError`` if the source lacks a function to fix (the fix is out of date).
    """
    path = Path(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
    module.__doc__ = ast.get_docstring(tree)
    modules[name] = module
    pending = dict(fixes)
    try:
        for node in tree.body:
            code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
            exec(code, module.__dict__)
            if isinstance(node, ast.FunctionDef) and node.name in pending:
                module.__dict__[node.name] = pending.pop(node.name)
    except BaseException:
        del modules[name]
        raise
    if pending:
        del modules[name]
        raise RuntimeError(f"{path} defines no {sorted(pending)}: update NUMPY2_FIXES")
    parent = modules.get(module.__package__)
    if parent is not None:
        setattr(parent, name.rpartition(".")[2], module)
    return module


def apply_numpy2_fixes(import_module: Callable[[str], Any] = importlib.import_module) -> None:
    """Loads each module of :data:`NUMPY2_FIXES` with its fix, from TFG's installed files."""
    for name, fixes in NUMPY2_FIXES.items():
        parent = import_module(name.rpartition(".")[0])
        path = Path(parent.__file__).parent / (name.rpartition(".")[2] + ".py")
        load_with_fixes(name, path, fixes)


class MissingModule(types.ModuleType):
    """Stands in for a module that ``course_lib.graphics`` lacks: every attribute is an error."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError(f"module {self.__name__} does not exist (asked for {attr!r})")


def course_name(module: str) -> str:
    """``math.vector`` -> ``course_lib.graphics.math.vector``."""
    return f"{COURSE_ROOT}.{module}"


def tfg_name(module: str) -> str:
    """``math.vector`` -> ``tensorflow_graphics.math.vector``."""
    return f"{TFG_ROOT}.{module}"


def import_course_module(
    module: str, import_module: Callable[[str], Any] = importlib.import_module
) -> types.ModuleType:
    """``course_lib.graphics.<module>``, or a :class:`MissingModule` where it does not exist."""
    name = course_name(module)
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return MissingModule(name)


def swap_modules(
    module_names: list[str],
    import_module: Callable[[str], Any] = importlib.import_module,
    modules: MutableMapping[str, types.ModuleType] = sys.modules,
) -> dict[str, types.ModuleType]:
    """Points ``tensorflow_graphics.<m>`` at ``course_lib.graphics.<m>`` for each ``m``.

    TFG's helpers and TFG's own modules are imported first (so the package ``__init__`` files,
    which import every submodule, have run and bound TFG's functions); then each name is
    replaced in ``modules`` and on its parent package. Returns ``{tfg name: course module}``.
    """
    for name in HELPERS:
        import_module(name)
    for module in module_names:
        import_module(tfg_name(module))
    swapped = {}
    for module in module_names:
        name = tfg_name(module)
        replacement = import_course_module(module, import_module)
        parent, _, leaf = name.rpartition(".")
        modules[name] = replacement
        setattr(modules[parent], leaf, replacement)
        swapped[name] = replacement
    return swapped


def tfg_asserts_flag() -> bool:
    """TFG's absl flag ``tfg_add_asserts_to_graph``, which TFG's ``TestCase.setUp`` sets."""
    from absl import flags
    from tensorflow_graphics.util import tfg_flags

    return bool(flags.FLAGS[tfg_flags.TFG_ADD_ASSERTS_TO_GRAPH].value)


def bridge_asserts_flag(
    import_module: Callable[[str], Any] = importlib.import_module,
    read_flag: Callable[[], bool] = tfg_asserts_flag,
) -> bool:
    """Makes course_lib's value checks follow TFG's flag (``util.asserts.is_enabled``).

    TFG switches its value checks on with an absl flag (its tests do, in ``setUp``, and off
    again with ``flagsaver``); course_lib with ``util.asserts`` ("Differences from TensorFlow
    Graphics"). Returns False where course_lib has no such switch (then nothing is bridged).
    """
    name = f"{COURSE_ROOT}.util.asserts"
    try:
        asserts = import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return False
    if not hasattr(asserts, "is_enabled"):
        return False
    asserts.is_enabled = read_flag
    return True


def _message(report: Any) -> str:
    """The one-line reason of a failed or skipped report."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        text = str(longrepr[2])
    else:
        lines = str(longrepr or "").strip().splitlines()
        text = lines[-1] if lines else ""
    return text.strip()[:_MAX_MESSAGE]


class Recorder:
    """Collects each test's worst outcome and its message, and the collection errors."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, str]] = {}
        self.collection_errors: dict[str, str] = {}

    def add_test_report(self, nodeid: str, outcome: str, message: str) -> None:
        previous = self.tests.get(nodeid)
        if previous is None or _RANK[outcome] > _RANK[previous["outcome"]]:
            self.tests[nodeid] = {"outcome": outcome, "message": message}

    def pytest_runtest_logreport(self, report: Any) -> None:
        outcome = report.outcome if report.outcome in _RANK else "failed"
        message = _message(report) if outcome != "passed" else ""
        self.add_test_report(report.nodeid, outcome, message)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collection_errors[report.nodeid] = _message(report)

    def to_json(self, target: str) -> dict[str, Any]:
        tensorflow = sys.modules.get("tensorflow")
        versions = {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "tensorflow": getattr(tensorflow, "__version__", "not imported"),
        }
        return {
            "target": target,
            "versions": versions,
            "tests": self.tests,
            "collection_errors": self.collection_errors,
        }


_RECORDER = pytest.StashKey[Recorder]()


def pytest_configure(config: Any) -> None:
    target = os.environ.get("TFG_CONFORMANCE_TARGET", "")
    if target not in ("course", "tfg"):
        raise RuntimeError(f"TFG_CONFORMANCE_TARGET must be 'course' or 'tfg', not {target!r}")
    apply_numpy2_fixes()
    if target == "course":
        module_names = [m for m in os.environ.get("TFG_CONFORMANCE_MODULES", "").split(",") if m]
        swap_modules(module_names)
        bridge_asserts_flag()
    recorder = Recorder()
    config.pluginmanager.register(recorder, "tfg_conformance_recorder")
    config.stash[_RECORDER] = recorder


def pytest_sessionfinish(session: Any) -> None:
    recorder = session.config.stash.get(_RECORDER, None)
    results = os.environ.get("TFG_CONFORMANCE_RESULTS")
    if recorder is None or not results:
        return
    data = recorder.to_json(os.environ["TFG_CONFORMANCE_TARGET"])
    Path(results).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
