"""The chapters' Colab set-up cell, run against a second TensorFlow in a throwaway venv.

Colab comes with its own TensorFlow, Keras and NumPy, older than this project's lock. The set-up
cell (``scripts/sync_notebooks.py``, ``setup_source()``) must install ``course_lib`` and what it
alone needs, and leave every package that was there as it was. This test builds such an
environment from PyPI (``COLAB_LIKE``: a TensorFlow, Keras and NumPy other than the lock's), runs
the cell there with ``google.colab`` faked and the git URL replaced by a copy of this checkout,
then checks the versions and uses ``course_lib`` on that TensorFlow. It needs PyPI (as CI has)
and fails, with a message saying so, when PyPI cannot be reached.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts/sync_notebooks.py")
sync_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_notebooks)

# Colab's own versions in 2025 (TensorFlow 2.19, Keras 3.10, NumPy 2.0): none is the lock's. Its
# kernel packages are older than batch grading's (the `grade` extra): the cell must keep them too.
COLAB_LIKE = (
    "tensorflow-cpu==2.19.*",
    "keras==3.10.*",
    "numpy==2.0.2",
    "jupyter-client==6.1.12",
    "ipykernel==6.17.1",
)
WATCHED = ("tensorflow-cpu", "keras", "numpy")
INSTALL_TIMEOUT_S = 600

# Everything installed, by distribution name, and the imported modules' versions.
VERSIONS = """
import json, re
from importlib import metadata
import keras, numpy, tensorflow
print(json.dumps({
    "distributions": {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
                      for d in metadata.distributions()},
    "modules": {"tensorflow": tensorflow.__version__, "keras": keras.__version__,
                "numpy": numpy.__version__},
}))
"""

# The set-up cell as Colab runs it: ``google.colab`` is imported (only that module is faked:
# ``google`` stays the namespace package that protobuf lives in).
RUN_CELL = """
import sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")
exec(compile(open(sys.argv[1]).read(), "<set-up cell>", "exec"), {"__name__": "__main__"})
"""

# A small use of course_lib on that TensorFlow, each result against a value known by hand.
USE = """
import numpy as np
import course_lib
from course_lib import zoo
from course_lib.basics import cnn
from course_lib.graphics.geometry.transformation import axis_angle

rotated = axis_angle.rotate([[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]], [[np.pi / 2]])
np.testing.assert_allclose(rotated, [[0.0, 1.0, 0.0]], atol=1e-6)
names = zoo.imagenet_class_names()
assert len(names) == 1000, len(names)
model = cnn.build_simple_cnn()
scores = model(np.zeros((2, 28, 28, 1), np.float32)).numpy()
assert scores.shape == (2, 10), scores.shape
np.testing.assert_allclose(scores.sum(axis=-1), 1.0, rtol=1e-5)
print(course_lib.__file__)
"""


def _run(args: list, timeout: float = INSTALL_TIMEOUT_S, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def _checked(result: subprocess.CompletedProcess, what: str) -> str:
    assert result.returncode == 0, (
        f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def _versions(python: Path, env: dict) -> dict:
    out = _checked(_run([python, "-c", VERSIONS], env=env), "reading the versions")
    return json.loads(out.strip().splitlines()[-1])


def _copy_checkout(destination: Path) -> Path:
    """The files pip builds course_lib from, so that the build leaves this checkout untouched."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    shutil.copytree(ROOT / "course_lib", destination / "course_lib", ignore=ignore)
    return destination


def test_setup_source_substitutes_the_package_and_keeps_the_repository_by_default():
    url, branch = sync_notebooks.repository()
    assert f'package = "course_lib @ git+{url}@{branch}"' in sync_notebooks.setup_source()
    local = sync_notebooks.setup_source("course_lib @ file:///tmp/checkout")
    assert 'package = "course_lib @ file:///tmp/checkout"' in local
    with pytest.raises(ValueError, match="package"):
        sync_notebooks.setup_source('x"; import shutil; "')


@pytest.mark.slow
def test_setup_cell_keeps_another_tensorflow_keras_and_numpy():
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "COURSE"))
    }
    env.update(TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", PIP_NO_INPUT="1")
    env["PIP_NO_COMPILE"] = "1"  # no .pyc for TensorFlow's many files: slow, and changes no version
    with tempfile.TemporaryDirectory(prefix="course_colab_setup_") as scratch:
        scratch = Path(scratch)
        python = scratch / "venv" / "bin" / "python"
        _checked(_run([sys.executable, "-m", "venv", scratch / "venv"], env=env), "python -m venv")

        index = _run([python, "-m", "pip", "index", "versions", "tensorflow-cpu"], 120, env=env)
        if index.returncode != 0:
            pytest.fail(
                "PyPI could not be reached: this test installs a second TensorFlow from it.\n"
                + index.stderr[-2000:]
            )
        _checked(
            _run([python, "-m", "pip", "install", "-q", *COLAB_LIKE], env=env),
            f"installing {' '.join(COLAB_LIKE)}",
        )
        before = _versions(python, env)
        lock = (ROOT / "requirements.lock").read_text().lower().replace("_", "-")
        for name in WATCHED:
            assert f"{name}=={before['distributions'][name]}\n" not in lock, (
                f"{name} {before['distributions'][name]} is the lock's: not a second version"
            )

        checkout = scratch / "checkout"
        checkout.mkdir()
        _copy_checkout(checkout)
        cell = scratch / "setup_cell.py"
        cell.write_text(sync_notebooks.setup_source(f"course_lib @ {checkout.as_uri()}"))
        _checked(_run([python, "-c", RUN_CELL, cell], env=env, cwd=scratch), "the set-up cell")

        after = _versions(python, env)
        assert "course-lib" in after["distributions"], "the set-up cell did not install course_lib"
        changed = {
            name: (version, after["distributions"].get(name))
            for name, version in before["distributions"].items()
            if after["distributions"].get(name) != version
        }
        assert not changed, f"the set-up cell changed what was installed: {changed}"
        added = set(after["distributions"]) - set(before["distributions"])
        assert not added & {"tensorflow", "tensorflow-cpu", "keras", "numpy", "tf-keras"}, added
        assert after["modules"] == before["modules"]

        used = _checked(_run([python, "-c", USE], 300, env=env, cwd=scratch), "using course_lib")
        assert str(scratch / "venv") in used, f"course_lib imported from elsewhere: {used}"
