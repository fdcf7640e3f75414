"""The shipped analysis-by-synthesis checkpoints: how they are trained, loaded and re-measured.

Three checkpoints ship in ``course_lib/zoo/weights/`` (``<name>.weights.h5`` and ``<name>.json``
with the measured test figures, the data seeds and the training settings):

- ``"depth_flow_32"``: :class:`~.depth_flow.DepthFlowNet` trained on 32x32 stereo video
  (:mod:`course_lib.data.stereo_scenes`) by the photometric loss alone; its JSON records the
  depth error and the flow direction on held-out scenes against their (unused) ground truth;
- ``"latent_rotation_32"``: the geometry-aware :class:`~.latent.LatentViewSynthesis` (latent
  points rotated by the relative camera rotation);
- ``"latent_baseline_32"``: the same network without the rotation in the latent (the rotation
  appended to its code instead).

The two latent models share everything else: the training shapes (the LSM's, ``lsm.pretrained``
``"train"`` split), the number of steps, the batches, the loss and the learning-rate schedule; they
are tested on view pairs of the held-out ``"test"`` shapes, whose cameras (so relative rotations)
no training pair had. Each model keeps its last weights (no selection on test data).
``scripts/train_synthesis_checkpoints.py`` runs :func:`train_pretrained` for all three.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from course_lib import checks, config
from course_lib.data import shapes3d, stereo_scenes
from course_lib.lsm import pretrained as lsm_pretrained
from course_lib.synthesis import depth_flow, latent
from course_lib.zoo import course_models

DEPTH_FLOW_32 = "depth_flow_32"
LATENT_ROTATION_32 = "latent_rotation_32"
LATENT_BASELINE_32 = "latent_baseline_32"

#: The stereo video the depth-and-flow network is trained and tested on (32x32).
VIDEO = {"image_size": 32, "train_seeds": [0, 400], "test_seeds": [10000, 10050]}
#: View pairs of the held-out shapes the latent models are tested on.
TEST_PAIRS = {"count": 1200, "seed": 1}
#: The learning rate's cosine decay ends at this fraction of its start.
FINAL_RATE = 0.05
#: Bins of the relative rotation angle (degrees) for the latent models' errors.
ANGLE_BINS = (0, 45, 90, 135, 180)
SCRIPT = "scripts/train_synthesis_checkpoints.py"


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """A shipped checkpoint: its model and how :func:`train_pretrained` trains it."""

    name: str
    description: str
    build: Callable[[], keras.Model]
    steps: int
    batch_size: int
    learning_rate: float


_SPECS = {
    spec.name: spec
    for spec in (
        PretrainedSpec(
            DEPTH_FLOW_32,
            "depth and 3D flow from 32x32 stereo video, trained by warping alone",
            depth_flow.DepthFlowNet,
            steps=6000,
            batch_size=8,
            learning_rate=1e-3,
        ),
        PretrainedSpec(
            LATENT_ROTATION_32,
            "geometry-aware latent (64 3D points rotated by the camera rotation), 32x32 views",
            lambda: latent.LatentViewSynthesis(rotate=True),
            steps=10000,
            batch_size=32,
            learning_rate=1e-3,
        ),
        PretrainedSpec(
            LATENT_BASELINE_32,
            "the same latent network without the rotation (rotation appended), 32x32 views",
            lambda: latent.LatentViewSynthesis(rotate=False),
            steps=10000,
            batch_size=32,
            learning_rate=1e-3,
        ),
    )
}


def list_pretrained() -> tuple[str, ...]:
    """The names of the shipped checkpoints."""
    return tuple(_SPECS)


def pretrained_spec(name: str) -> PretrainedSpec:
    """The :class:`PretrainedSpec` of ``name``; ``ValueError`` for an unknown name."""
    return _SPECS[checks.one_of("name", name, list_pretrained())]


def load_video(split: str, cache_dir: str | Path | None = None) -> stereo_scenes.StereoVideo:
    """The ``"train"`` or ``"test"`` scenes of :data:`VIDEO` (rendered once, cached on disk)."""
    split = checks.one_of("split", split, ("train", "test"))
    start, stop = VIDEO[f"{split}_seeds"]
    return stereo_scenes.make_stereo_video(
        range(start, stop), image_size=VIDEO["image_size"], cache_dir=cache_dir
    )


def test_pairs(cache_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """The held-out view pairs of :data:`TEST_PAIRS` (``latent.view_pairs`` of the test shapes)."""
    return latent.view_pairs(lsm_pretrained.load_split("test", cache_dir), **TEST_PAIRS)


def build(name: str) -> keras.Model:
    """The untrained model of ``name``, built (its weights created) on a one-item batch."""
    model = pretrained_spec(name).build()
    size = VIDEO["image_size"]
    if name == DEPTH_FLOW_32:
        model(
            {
                "images": np.zeros((1, 2, 2, size, size, 3), np.float32),
                "K": shapes3d.intrinsics(size)[None],
                "stereo_t": np.asarray([stereo_scenes.STEREO_T], np.float32),
                "motion_R": np.eye(3, dtype=np.float32)[None],
                "motion_t": np.zeros((1, 3), np.float32),
            }
        )
    else:
        model({"image": np.zeros((1, size, size, 3), np.float32), "rotation": np.eye(3)[None]})
    return model


def pretrained_info(name: str, directory: str | Path | None = None) -> dict:
    """The JSON written next to ``name``'s weights (claimed figures, data, training settings)."""
    pretrained_spec(name)
    return json.loads(
        course_models.existing_shipped_file(name, ".json", directory, SCRIPT).read_text()
    )


def load_pretrained(name: str, directory: str | Path | None = None) -> keras.Model:
    """The trained model of ``name`` with its shipped weights (or those in ``directory``)."""
    model = build(name)
    model.load_weights(course_models.existing_shipped_file(name, ".weights.h5", directory, SCRIPT))
    return model


def measure_depth_flow(model: depth_flow.DepthFlowNet, video) -> dict[str, float]:
    """Held-out figures of a depth-and-flow model against the scenes' (unused) ground truth.

    Returns:
        ``{"depth_error"`` (mean absolute relative error), ``"flow_cosine"`` (mean over scenes
        of :func:`~.depth_flow.flow_direction`), ``"flow_right_way"`` (fraction of scenes with
        a positive cosine), ``"moving_flow"`` and ``"static_flow"`` (mean predicted flow length
        on the moving object's and on the other pixels), ``"true_motion"`` (mean true length)``}``.
    """
    predicted = depth_flow.predict(model, video)
    cosine = depth_flow.flow_direction(predicted["flow"], video.moving, video.object_motion)
    length = np.linalg.norm(predicted["flow"], axis=-1)
    figures = {
        "depth_error": depth_flow.depth_error(predicted["depth"], video.depths[:, 0, 0]),
        "flow_cosine": float(cosine.mean()),
        "flow_right_way": float((cosine > 0).mean()),
        "moving_flow": float(length[video.moving].mean()),
        "static_flow": float(length[~video.moving].mean()),
        "true_motion": float(np.linalg.norm(video.object_motion, axis=-1).mean()),
    }
    return {k: round(v, 4) for k, v in figures.items()}


def measure_latent(model: latent.LatentViewSynthesis, pairs: dict) -> dict:
    """The mean absolute error of the synthesized views of ``pairs``, overall and in each bin of
    :data:`ANGLE_BINS` (None for an empty bin)."""
    errors = latent.view_errors(model, pairs)
    bins = np.digitize(pairs["angle"], ANGLE_BINS[1:-1])
    return {
        "view_error": round(float(errors.mean()), 4),
        "view_error_by_angle": [  # None for a bin without pairs
            round(float(errors[bins == b].mean()), 4) if np.any(bins == b) else None
            for b in range(len(ANGLE_BINS) - 1)
        ],
    }


def measure(name: str, model: keras.Model, cache_dir: str | Path | None = None) -> dict:
    """:func:`measure_depth_flow` on the test video, or :func:`measure_latent` on
    :func:`test_pairs`, for the model of ``name``."""
    if pretrained_spec(name).name == DEPTH_FLOW_32:
        return measure_depth_flow(model, load_video("test", cache_dir))
    return measure_latent(model, test_pairs(cache_dir))


def train_pretrained(
    name: str,
    steps: int | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Trains ``name`` (Adam, cosine decay to ``FINAL_RATE``), measures it, and writes
    ``<name>.weights.h5`` and ``<name>.json`` to ``out`` (default ``course_lib/zoo/weights``).

    Returns:
        The dict written to ``<name>.json``.
    """
    import tensorflow as tf

    spec = pretrained_spec(name)
    steps = checks.positive_int("steps", spec.steps if steps is None else steps)
    config.seed_everything(seed)
    model = build(name)
    schedule = keras.optimizers.schedules.CosineDecay(spec.learning_rate, steps, alpha=FINAL_RATE)
    start = time.perf_counter()
    if name == DEPTH_FLOW_32:
        data = {"video": dict(VIDEO)}
        untrained = measure(name, model, cache_dir)
        losses = depth_flow.train_depth_flow(
            model, load_video("train", cache_dir), steps, spec.batch_size, schedule, seed, progress
        )
    else:
        split = lsm_pretrained.DATA
        data = {
            "train_seeds": split["train_seeds"],
            "test_seeds": split["test_seeds"],
            "image_size": split["image_size"],
            "test_pairs": dict(TEST_PAIRS),
        }
        untrained = None
        losses = latent.train_latent(
            model, lsm_pretrained.load_split("train", cache_dir), steps, spec.batch_size,
            schedule, seed, progress,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    info = {
        "name": name,
        "description": spec.description,
        "test": measure(name, model, cache_dir),
        "untrained_test": untrained,
        "parameters": int(model.count_params()),
        "data": data,
        "training": {
            "steps": steps,
            "batch_size": spec.batch_size,
            "optimizer": "adam",
            "learning_rate": spec.learning_rate,
            "schedule": f"cosine decay to {FINAL_RATE} x over the steps",
            "seed": seed,
            "first_loss": round(float(np.mean(losses[:50])), 5),
            "last_loss": round(float(np.mean(losses[-50:])), 5),
            "train_seconds": round(seconds, 1),
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "command": f"python scripts/train_synthesis_checkpoints.py {name} --steps {steps} "
        f"--seed {seed}",
    }
    out = Path(out or course_models.WEIGHTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    model.save_weights(course_models.shipped_file(name, ".weights.h5", out))
    course_models.shipped_file(name, ".json", out).write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    """``train_synthesis_checkpoints.py [NAME ...] [--steps N] [--seed S] [--out DIR]``."""
    parser = argparse.ArgumentParser(
        description="Train the shipped analysis-by-synthesis checkpoints and measure them."
    )
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(list_pretrained())}")
    parser.add_argument("--steps", type=int, default=None, help="default: the spec's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help=f"default: {course_models.WEIGHTS_DIR}")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in list_pretrained():
            parser.error(f"unknown checkpoint {name!r}; choose from {', '.join(list_pretrained())}")
    for name in args.names or list_pretrained():
        info = train_pretrained(name, steps=args.steps, out=args.out, seed=args.seed)
        print(f"{name}: test {info['test']}, {info['training']['train_seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
