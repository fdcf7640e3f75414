"""The tested pin set lives in requirements.lock; environment.yml and pyproject.toml follow it."""

import importlib.util
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

spec = importlib.util.spec_from_file_location(
    "write_environment", ROOT / "scripts/write_environment.py"
)
write_environment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(write_environment)

LOCK = (ROOT / "requirements.lock").read_text()


def test_environment_yml_mirrors_the_lock():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert sorted(pip_section) == sorted(write_environment.pins(LOCK)), (
        "environment.yml and requirements.lock drifted apart: run "
        "`python scripts/write_environment.py`"
    )
    assert f"python={write_environment.PYTHON}" in environment["dependencies"]


def test_lock_pins_the_tested_versions_exactly():
    pins = {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in (line.split("==") for line in write_environment.pins(LOCK))
    }
    expected = {
        "tensorflow-cpu": "2.21.0",
        "keras": "3.15.1",
        "tensorboard": "2.21.0",
        "numpy": "2.4.6",
        "scipy": "1.17.1",
        "matplotlib": "3.11.2",
        "scikit-image": "0.26.0",
        "scikit-learn": "1.9.1",
        "jupyter-book": "1.0.4.post1",
        "nbconvert": "7.17.2",
        "nbval": "0.11.0",
        "pytest": "9.2.0",
    }
    assert {name: pins.get(name) for name in expected} == expected
    for name in ("jupytext", "ipykernel", "ipywidgets", "tqdm", "trimesh", "ruff", "playwright"):
        assert name in pins, f"{name} is missing from requirements.lock"
    assert all("==" in line for line in write_environment.pins(LOCK))


def test_tensorflow_is_an_extra_not_a_hard_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.lower().startswith("tensorflow") for dep in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("tensorflow-cpu") for d in extras["cpu"])
    assert any(d.startswith("tensorflow[and-cuda]") for d in extras["gpu"])
    assert "dev" in extras
    assert project["scripts"]["course"] == "course_lib.cli:main"
