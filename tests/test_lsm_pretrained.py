"""course_lib.lsm.pretrained: the shipped checkpoints re-measured against the IoU they claim, the
training script end to end on a few shapes, loading, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib.lsm import Baseline2D, LearntStereoMachine, pretrained
from course_lib.zoo import course_models

ROOT = Path(__file__).resolve().parent.parent
NAMES = pretrained.list_pretrained()


@pytest.fixture(scope="module")
def test_set():
    return pretrained.load_split("test")


def test_names_and_specs():
    assert NAMES == ("lsm_16", "baseline2d_16")
    assert isinstance(pretrained.build(pretrained.LSM_16), LearntStereoMachine)
    assert isinstance(pretrained.build(pretrained.BASELINE2D_16), Baseline2D)
    with pytest.raises(ValueError, match="name"):
        pretrained.pretrained_spec("lsm_32")


@pytest.mark.parametrize("name", NAMES)
def test_shipped_files_are_small_and_describe_their_training(name):
    weights = course_models.WEIGHTS_DIR / f"{name}.weights.h5"
    assert weights.exists() and weights.stat().st_size <= 5 * 2**20
    info = pretrained.pretrained_info(name)
    assert info["name"] == name and info["data"] == pretrained.DATA
    assert info["view_counts"] == [1, 2, 3, 4] and len(info["test_iou"]) == 4
    spec = pretrained.pretrained_spec(name)
    assert info["training"]["batch_size"] == spec.batch_size
    assert 0 < info["training"]["best_step"] <= info["training"]["steps"]
    assert info["parameters"] == pretrained.build(name).count_params()


@pytest.mark.parametrize("name", NAMES)
def test_claimed_iou_is_remeasured(name, test_set):
    model = pretrained.load_pretrained(name)
    measured = pretrained.measure(model, test_set)
    # The checkpoints are trained with oneDNN's kernels; the tests run without them.
    np.testing.assert_allclose(measured, pretrained.pretrained_info(name)["test_iou"], atol=0.01)


def test_claims_lsm_above_baseline_at_every_view_count_and_rising():
    lsm_iou = pretrained.pretrained_info(pretrained.LSM_16)["test_iou"]
    baseline_iou = pretrained.pretrained_info(pretrained.BASELINE2D_16)["test_iou"]
    assert all(a > b for a, b in zip(lsm_iou, baseline_iou, strict=True))
    assert all(later > earlier for earlier, later in zip(lsm_iou, lsm_iou[1:], strict=False))


def test_split_seeds_are_disjoint():
    ranges = [set(range(*pretrained.DATA[f"{s}_seeds"])) for s in pretrained.SPLITS]
    assert not (ranges[0] & ranges[1]) and not (ranges[0] & ranges[2])
    assert not (ranges[1] & ranges[2])
    with pytest.raises(ValueError, match="split"):
        pretrained.load_split("training")


@pytest.fixture()
def tiny_data(monkeypatch, tmp_path):
    """Shrinks the splits to a few shapes, cached in ``tmp_path``."""
    monkeypatch.setitem(pretrained.DATA, "train_seeds", [0, 8])
    monkeypatch.setitem(pretrained.DATA, "validation_seeds", [20000, 20003])
    monkeypatch.setitem(pretrained.DATA, "test_seeds", [10000, 10003])
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_train_pretrained_writes_weights_and_claims_that_load_back(tiny_data):
    out = tiny_data / "weights"
    info = pretrained.train_pretrained(
        pretrained.BASELINE2D_16, steps=5, out=out, eval_every=2, progress=False
    )
    written = json.loads((out / "baseline2d_16.json").read_text())
    assert written == info
    assert [p["step"] for p in info["training"]["validation_curve"]] == [2, 4, 5]
    best = max(info["training"]["validation_curve"], key=lambda p: np.mean(p["validation_iou"]))
    assert info["training"]["best_step"] == best["step"]
    assert info["validation_iou"] == best["validation_iou"]
    model = pretrained.load_pretrained(pretrained.BASELINE2D_16, directory=out)
    assert pretrained.measure(model, pretrained.load_split("test")) == info["test_iou"]
    assert pretrained.pretrained_info(pretrained.BASELINE2D_16, out)["name"] == "baseline2d_16"


def test_missing_files_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_lsm_checkpoints"):
        pretrained.load_pretrained(pretrained.LSM_16, directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="train_lsm_checkpoints"):
        pretrained.pretrained_info(pretrained.LSM_16, directory=tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        pretrained.train_pretrained(pretrained.LSM_16, steps=0)
    with pytest.raises(SystemExit):
        pretrained.main(["lsm_64"])


def test_script_rejects_an_unknown_checkpoint():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_lsm_checkpoints.py"), "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown checkpoint 'nope'" in result.stderr
