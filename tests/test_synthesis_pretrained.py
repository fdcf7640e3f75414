"""course_lib.synthesis.pretrained: the shipped checkpoints re-measured against what they claim,
the training script end to end on a few scenes and shapes, loading, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.lsm import pretrained as lsm_pretrained
from course_lib.synthesis import DepthFlowNet, LatentViewSynthesis, pretrained
from course_lib.zoo import course_models

ROOT = Path(__file__).resolve().parent.parent
NAMES = pretrained.list_pretrained()


def test_names_and_specs():
    assert NAMES == ("depth_flow_32", "latent_rotation_32", "latent_baseline_32")
    assert isinstance(pretrained.build(pretrained.DEPTH_FLOW_32), DepthFlowNet)
    rotation = pretrained.build(pretrained.LATENT_ROTATION_32)
    baseline = pretrained.build(pretrained.LATENT_BASELINE_32)
    assert isinstance(rotation, LatentViewSynthesis) and rotation.rotate
    assert isinstance(baseline, LatentViewSynthesis) and not baseline.rotate
    with pytest.raises(ValueError, match="name"):
        pretrained.pretrained_spec("depth_flow_64")


@pytest.mark.parametrize("name", NAMES)
def test_shipped_files_describe_their_training(name):
    assert course_models.shipped_file(name, ".weights.h5").exists()
    info = pretrained.pretrained_info(name)
    spec = pretrained.pretrained_spec(name)
    assert info["name"] == name and info["training"]["steps"] == spec.steps
    assert info["training"]["batch_size"] == spec.batch_size
    assert info["parameters"] == pretrained.build(name).count_params()
    assert info["training"]["last_loss"] < info["training"]["first_loss"]


@pytest.mark.parametrize("name", NAMES)
def test_claims_are_remeasured(name):
    model = pretrained.load_pretrained(name)
    measured = pretrained.measure(name, model)
    claimed = pretrained.pretrained_info(name)["test"]
    # The checkpoints are trained with oneDNN's kernels; the tests run without them.
    assert measured.keys() == claimed.keys()
    for key, value in claimed.items():
        assert measured[key] == pytest.approx(value, abs=0.005), key


def test_claims_learning_beats_the_baselines():
    depth = pretrained.pretrained_info(pretrained.DEPTH_FLOW_32)
    assert depth["test"]["depth_error"] <= 0.5 * depth["untrained_test"]["depth_error"]
    assert depth["test"]["flow_right_way"] > 0.5
    rotation = pretrained.pretrained_info(pretrained.LATENT_ROTATION_32)["test"]
    baseline = pretrained.pretrained_info(pretrained.LATENT_BASELINE_32)["test"]
    assert rotation["view_error"] < baseline["view_error"]


def test_latent_models_share_their_protocol():
    infos = [pretrained.pretrained_info(n) for n in (NAMES[1], NAMES[2])]
    assert infos[0]["data"] == infos[1]["data"]
    for key in ("steps", "batch_size", "learning_rate", "schedule", "seed"):
        assert infos[0]["training"][key] == infos[1]["training"][key]


def test_held_out_data_is_disjoint_from_training():
    video = pretrained.VIDEO
    assert not set(range(*video["train_seeds"])) & set(range(*video["test_seeds"]))
    shapes = lsm_pretrained.DATA
    assert not set(range(*shapes["train_seeds"])) & set(range(*shapes["test_seeds"]))
    with pytest.raises(ValueError, match="split"):
        pretrained.load_video("validation")


@pytest.fixture()
def tiny_data(monkeypatch, tmp_path):
    """Shrinks the data to a few scenes and shapes, cached in ``tmp_path``."""
    monkeypatch.setitem(pretrained.VIDEO, "train_seeds", [0, 8])
    monkeypatch.setitem(pretrained.VIDEO, "test_seeds", [10000, 10002])
    monkeypatch.setitem(pretrained.TEST_PAIRS, "count", 12)
    monkeypatch.setitem(lsm_pretrained.DATA, "train_seeds", [0, 4])
    monkeypatch.setitem(lsm_pretrained.DATA, "test_seeds", [10000, 10002])
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("name", ["depth_flow_32", "latent_baseline_32"])
def test_train_pretrained_writes_weights_and_claims_that_load_back(tiny_data, name):
    out = tiny_data / "weights"
    info = pretrained.train_pretrained(name, steps=3, out=out, progress=False)
    assert json.loads((out / f"{name}.json").read_text()) == info
    assert info["training"]["steps"] == 3
    model = pretrained.load_pretrained(name, directory=out)
    assert pretrained.measure(name, model) == info["test"]
    assert pretrained.pretrained_info(name, out)["name"] == name


def test_missing_files_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_synthesis_checkpoints"):
        pretrained.load_pretrained(pretrained.DEPTH_FLOW_32, directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="train_synthesis_checkpoints"):
        pretrained.pretrained_info(pretrained.LATENT_ROTATION_32, directory=tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        pretrained.train_pretrained(pretrained.DEPTH_FLOW_32, steps=0)
    with pytest.raises(SystemExit):
        pretrained.main(["latent_64"])


def test_script_rejects_an_unknown_checkpoint():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_synthesis_checkpoints.py"), "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown checkpoint 'nope'" in result.stderr
