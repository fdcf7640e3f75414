"""The shipped Learnt Stereo Machine and 2D-baseline checkpoints: how they are trained, loaded and
re-measured.

Two checkpoints ship in ``course_lib/zoo/weights/`` (the course's one folder of weights), each
as ``<name>.weights.h5`` with ``<name>.json`` next to it (the measured test IoU at 1..4 views,
the data seeds and the training settings):

- ``"lsm_16"``: :class:`~.models.LearntStereoMachine` at 16³ from 32x32 views;
- ``"baseline2d_16"``: :class:`~.models.Baseline2D`, the 2D-only baseline, at 16³.

The comparison protocol is the same for both: the same training shapes, batches of 8 shapes
with 1..4 views each in random order, the same number of steps, the same loss and the same
learning-rate schedule (a cosine decay to 5 % of the start); each model's validation IoU (mean
over 1..4 views, on shapes of their own seeds) is measured every ``eval_every`` steps and the
best weights are kept; the test IoU is measured once, on held-out seeds, after training. Only
the starting learning rate is each model's own: 3e-3 for the LSM; the baseline was trained at
1e-3 and at 3e-3 and ships the run with the higher test IoU (1e-3), the harder of the two to
beat. ``scripts/train_lsm_checkpoints.py`` runs :func:`train_pretrained` for both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from course_lib import checks, config
from course_lib.data import shapes3d
from course_lib.lsm.models import Baseline2D, LearntStereoMachine
from course_lib.lsm.training import evaluate_iou, train
from course_lib.zoo import course_models

LSM_16 = "lsm_16"
BASELINE2D_16 = "baseline2d_16"

#: The shapes every checkpoint is trained, selected and tested on (recorded in its JSON).
DATA = {
    "resolution": 16,
    "image_size": 32,
    "num_views": 4,
    "train_seeds": [0, 800],
    "validation_seeds": [20000, 20050],
    "test_seeds": [10000, 10100],
}
SPLITS = ("train", "validation", "test")
#: The learning rate's cosine decay ends at this fraction of its start.
FINAL_RATE = 0.05
VIEW_COUNTS = (1, 2, 3, 4)
SCRIPT = "scripts/train_lsm_checkpoints.py"


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """A shipped checkpoint: its model and how :func:`train_pretrained` trains it."""

    name: str
    description: str
    build: Callable[[], keras.Model]
    learning_rate: float
    steps: int = 10000
    batch_size: int = 8
    pos_weight: float = 2.0
    eval_every: int = 500


_SPECS = {
    spec.name: spec
    for spec in (
        PretrainedSpec(
            LSM_16,
            "Learnt Stereo Machine, 16^3 voxels from 32x32 views",
            lambda: LearntStereoMachine(resolution=16),
            learning_rate=3e-3,
        ),
        PretrainedSpec(
            BASELINE2D_16,
            "2D-only baseline (3D-R2N2 style), 16^3 voxels from 32x32 views",
            lambda: Baseline2D(resolution=16),
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


def load_split(split: str, cache_dir: str | Path | None = None) -> shapes3d.MultiViewSet:
    """The ``"train"``, ``"validation"`` or ``"test"`` shapes of :data:`DATA` (cached on disk)."""
    split = checks.one_of("split", split, SPLITS)
    start, stop = DATA[f"{split}_seeds"]
    return shapes3d.make_multiview_set(
        range(start, stop),
        num_views=DATA["num_views"],
        resolution=DATA["resolution"],
        image_size=DATA["image_size"],
        cache_dir=cache_dir,
    )


def build(name: str) -> keras.Model:
    """The untrained model of ``name``, built (its weights created) on a one-view batch."""
    model = pretrained_spec(name).build()
    size = DATA["image_size"]
    camera = shapes3d.random_cameras(0, 1, size)
    model(
        {
            "images": np.zeros((1, 1, size, size, 3), np.float32),
            "K": camera[0][None].astype(np.float32),
            "R": camera[1][None].astype(np.float32),
            "t": camera[2][None].astype(np.float32),
        }
    )
    return model


def pretrained_info(name: str, directory: str | Path | None = None) -> dict:
    """The JSON written next to ``name``'s weights (claimed IoU, data, training settings)."""
    pretrained_spec(name)
    return json.loads(
        course_models.existing_shipped_file(name, ".json", directory, SCRIPT).read_text()
    )


def load_pretrained(name: str, directory: str | Path | None = None) -> keras.Model:
    """The trained model of ``name`` with its shipped weights (or those in ``directory``)."""
    model = build(name)
    model.load_weights(course_models.existing_shipped_file(name, ".weights.h5", directory, SCRIPT))
    return model


def measure(model: keras.Model, data: shapes3d.MultiViewSet) -> list[float]:
    """The mean voxel IoU of ``model`` on ``data`` through 1, 2, 3 and 4 views."""
    return [round(evaluate_iou(model, data, views), 4) for views in VIEW_COUNTS]


def train_pretrained(
    name: str,
    steps: int | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    eval_every: int | None = None,
    learning_rate: float | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Trains ``name`` by the protocol above and writes ``<name>.weights.h5`` and ``<name>.json``.

    Args:
        name: one of :func:`list_pretrained`.
        steps: training steps (default: the spec's).
        out: folder for the files (default: ``course_lib/zoo/weights``).
        seed: seed of the initial weights and of the batches.
        eval_every: steps between validation measurements (default: the spec's).
        learning_rate: Adam's starting learning rate (default: the spec's), decayed along a
            cosine to ``FINAL_RATE`` of itself at ``steps``.
        cache_dir: where the rendered shapes are cached (default: ``shapes3d``'s).
        progress: print one line per validation measurement.

    Returns:
        The dict written to ``<name>.json``.
    """
    spec = pretrained_spec(name)
    steps = checks.positive_int("steps", spec.steps if steps is None else steps)
    eval_every = checks.positive_int("eval_every", eval_every or spec.eval_every)
    learning_rate = spec.learning_rate if learning_rate is None else float(learning_rate)
    out = Path(out or course_models.WEIGHTS_DIR)
    config.seed_everything(seed)
    train_set, validation, test = (load_split(s, cache_dir) for s in SPLITS)
    model = build(name)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=FINAL_RATE)
    best = {"step": 0, "iou": -1.0, "weights": model.get_weights(), "validation": []}
    curve = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as checkpoints:
        for until in [*range(eval_every, steps, eval_every), steps]:
            train(
                model,
                train_set,
                until,
                batch_size=spec.batch_size,
                learning_rate=schedule,
                seed=seed,
                checkpoint_dir=checkpoints,
                checkpoint_every=eval_every,
                progress=False,
                pos_weight=spec.pos_weight,
            )
            ious = measure(model, validation)
            curve.append({"step": until, "validation_iou": ious})
            if progress:
                print(f"{name} step {until}: validation IoU {ious}", flush=True)
            if np.mean(ious) > best["iou"]:
                best = {
                    "step": until,
                    "iou": float(np.mean(ious)),
                    "weights": model.get_weights(),
                    "validation": ious,
                }
    seconds = time.perf_counter() - start
    model.set_weights(best["weights"])
    import tensorflow as tf

    info = {
        "name": name,
        "description": spec.description,
        "test_iou": measure(model, test),
        "validation_iou": best["validation"],
        "view_counts": list(VIEW_COUNTS),
        "parameters": int(model.count_params()),
        "data": dict(DATA),
        "training": {
            "steps": steps,
            "best_step": best["step"],
            "eval_every": eval_every,
            "batch_size": spec.batch_size,
            "views_per_step": "uniform in 1..4, random order",
            "optimizer": "adam",
            "learning_rate": learning_rate,
            "schedule": f"cosine decay to {FINAL_RATE} x over the steps",
            "pos_weight": spec.pos_weight,
            "seed": seed,
            "train_seconds": round(seconds, 1),
            "validation_curve": curve,
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "command": f"python scripts/train_lsm_checkpoints.py {name} --steps {steps} --seed {seed}",
    }
    out.mkdir(parents=True, exist_ok=True)
    model.save_weights(course_models.shipped_file(name, ".weights.h5", out))
    course_models.shipped_file(name, ".json", out).write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    """``train_lsm_checkpoints.py [NAME ...] [--steps N] [--seed S] [--out DIR]``."""
    parser = argparse.ArgumentParser(
        description="Train the shipped LSM and 2D-baseline checkpoints and measure their test IoU."
    )
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(list_pretrained())}")
    parser.add_argument("--steps", type=int, default=None, help="default: the spec's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--out", default=None, help=f"default: {course_models.WEIGHTS_DIR}")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in list_pretrained():
            parser.error(f"unknown checkpoint {name!r}; choose from {', '.join(list_pretrained())}")
    for name in args.names or list_pretrained():
        info = train_pretrained(
            name, steps=args.steps, out=args.out, seed=args.seed, learning_rate=args.learning_rate
        )
        print(
            f"{name}: test IoU at 1..4 views {info['test_iou']} (best validation at step "
            f"{info['training']['best_step']}), {info['training']['train_seconds']:.0f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
