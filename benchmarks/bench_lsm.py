"""How fast is the Learnt Stereo Machine? Unprojection throughput, train steps, training memory.

Run: ``python benchmarks/bench_lsm.py [--repeats 5]``. Prints a Markdown table;
``benchmarks/run.py`` calls :func:`run` for the suite's table (issue 15, "Speed").

- Unprojection: ``course_lib.lsm.unproject`` of 4 views' feature maps `[1, 4, 64, 64, 16]` into
  a 32^3 grid (depth channel appended), called eagerly and inside the caller's
  ``tf.function``, against the same unprojection in vectorized NumPy (:func:`numpy_unproject`:
  every voxel centre projected at once, the four neighbouring pixels gathered by fancy
  indexing, blended with the bilinear weights), checked to agree (1e-4) before timing. The
  throughput is views x voxels per second (4 x 32,768 voxel samples per call).
- Train step: one step of the LSM against one of :class:`~course_lib.lsm.models.Baseline2D`
  (both with their default sizes for the grid), each the step of ``course_lib.lsm.train``
  (:func:`~course_lib.lsm.training.voxel_loss` of the logits, its gradient, one Adam update)
  under ``tf.function``, warmed up, on a batch of 4 shapes x 4 views from
  ``data.make_multiview_set`` (cached in a temporary folder), at the chapter's quick settings
  (16^3 voxels, 32 x 32 images) and the full ones (32^3, 64 x 64).
- Memory: the peak resident set of the process while the LSM at 32^3 is built and takes its
  first :data:`MEMORY_STEPS` train steps (batch 4, 4 views; the first one traces), sampled every
  millisecond, minus the resident set just before (TensorFlow and the data excluded). Only the
  small unprojection problem has run before it, so it is close to a fresh process's figure.

Like the rest of the suite (``benchmarks/run.py``, the Makefile, the tests) this runs with
oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``), where TensorFlow's CPU ``Conv3D`` and
``Conv3DTranspose`` are far slower (the GRU's and decoders' 3D convolutions dominate both train
steps) and need more memory; ``TF_ENABLE_ONEDNN_OPTS=1 python benchmarks/bench_lsm.py`` shows
the figures with it on.

This is not a test: it never fails, it reports. No goals: the issue sets none.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from course_lib.perf.benchmark import Comparison, compare, time_alternately

VIEWS, SIDE, CHANNELS, RESOLUTION = 4, 64, 16, 32  # the unprojection problem
BATCH = 4  # shapes per train step (each seen through VIEWS views)
SETTINGS = ((16, 32), (32, 64))  # (voxel grid side, image side): quick and full
MEMORY_STEPS = 2  # LSM steps at 32^3 while its memory is sampled (its warm-up too)
FULL_REPEATS = 2  # timed rounds at 32^3 (an LSM step takes 15-20 s here, oneDNN off)
LEARNING_RATE = 1e-3


def unprojection_problem(seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 features `[1, V, S, S, C]` and V cameras of the data (`[1, V, ...]`)."""
    from course_lib.data import shapes3d

    cameras = shapes3d.random_cameras(seed, VIEWS, SIDE)
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(1, VIEWS, SIDE, SIDE, CHANNELS)).astype(np.float32)
    return {
        "features": features,
        "K": cameras.K[None].astype(np.float32),
        "R": cameras.R[None].astype(np.float32),
        "t": cameras.t[None].astype(np.float32),
    }


def numpy_unproject(
    features: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray, resolution: int
) -> np.ndarray:
    """The unprojection in vectorized NumPy, written from its definition (unit cube grid).

    Every voxel centre is projected into every view at once; the four pixels around each
    projection are gathered in one fancy-indexing call and blended with their bilinear weights
    (one ``einsum``). float32 throughout, as the inputs.

    Args:
        features: `[B, V, H, W, C]` float32.
        K: `[B, V, 3, 3]` intrinsics; R `[B, V, 3, 3]`, t `[B, V, 3]`: ``x_cam = R x + t``.
        resolution: R, the grid side.

    Returns:
        `[B, V, R, R, R, C + 1]`: bilinear samples between pixel centres (``(j + 0.5, i + 0.5)``,
        clamped to the border pixels), zero behind the camera or outside the image; the voxel
        centre's camera z last.
    """
    batch, views, height, width, channels = features.shape
    ticks = (np.arange(resolution, dtype=features.dtype) + 0.5) / resolution - 0.5
    centres = np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)
    camera = centres @ np.swapaxes(R, -1, -2) + t[:, :, None, :]  # [B, V, N, 3]
    pixel = camera @ np.swapaxes(K, -1, -2)
    z = camera[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u, v = pixel[..., 0] / pixel[..., 2], pixel[..., 1] / pixel[..., 2]
    valid = (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    col = np.clip(np.nan_to_num(u - 0.5), 0, width - 1)  # continuous pixel indices
    row = np.clip(np.nan_to_num(v - 0.5), 0, height - 1)
    c0, r0 = col.astype(np.intp), row.astype(np.intp)  # floor: both are >= 0
    c1, r1 = np.minimum(c0 + 1, width - 1), np.minimum(r0 + 1, height - 1)
    fc, fr = col - np.floor(col), row - np.floor(row)
    index = np.stack([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1], -1)
    weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc], -1)
    weights *= valid[..., None]  # [B, V, N, 4]
    flat = features.reshape(batch * views, height * width, channels)
    image = np.arange(batch * views).reshape(batch, views, 1, 1)
    sampled = np.einsum("bvnk,bvnkc->bvnc", weights, flat[image, index])
    grid = np.concatenate([sampled, z[..., None]], axis=-1)
    return grid.reshape(batch, views, resolution, resolution, resolution, channels + 1)


def measure_unprojection(repeats: int = 5) -> dict[str, Comparison]:
    """``{"eager": ..., "compiled": ...}``: ``unproject`` against :func:`numpy_unproject`."""
    import tensorflow as tf

    from course_lib.lsm import unproject

    problem = unprojection_problem()
    tensors = {name: tf.constant(value) for name, value in problem.items()}

    def ours():
        return unproject(**tensors, resolution=RESOLUTION)

    compiled = tf.function(ours)

    def reference():
        return numpy_unproject(**problem, resolution=RESOLUTION)

    expected, got = reference(), ours().numpy()
    error = np.abs(got - expected).max() / np.abs(expected).max()
    assert error < 1e-4, f"the NumPy reference disagrees by {error:.2e} (relative)"
    fns = {
        "eager": lambda: ours().numpy(),
        "compiled": lambda: compiled().numpy(),
        "reference": reference,
    }
    t = time_alternately(fns, warmup=2, repeats=repeats)
    return {name: Comparison(t[name], t["reference"]) for name in ("eager", "compiled")}


def training_batch(
    resolution: int, image_size: int, cache_dir: str | Path
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model inputs `[BATCH, VIEWS, ...]` of shapes 0..BATCH-1 and their voxels
    `[BATCH, R, R, R]` float32."""
    from course_lib.data import make_multiview_set
    from course_lib.lsm.training import batch_inputs

    data = make_multiview_set(
        range(BATCH), VIEWS, resolution, image_size, cache_dir=Path(cache_dir)
    )
    return batch_inputs(data, np.arange(BATCH)), data.voxels.astype(np.float32)


def train_step(model, inputs: dict[str, np.ndarray], voxels: np.ndarray) -> Callable[[], float]:
    """The step ``lsm.train`` runs (one device), as a zero-argument callable returning the loss.

    :func:`~course_lib.lsm.training.voxel_loss` of ``model(inputs)`` against ``voxels``, its
    gradient and one Adam update, under ``tf.function``. Builds ``model`` (one eager call) and
    the optimizer first, as ``lsm.train`` does. ``inputs`` as ``lsm.training.batch_inputs``
    gives them, ``voxels`` `[B, R, R, R]`.
    """
    import keras
    import tensorflow as tf

    from course_lib.lsm.training import voxel_loss

    inputs = {name: tf.constant(value) for name, value in inputs.items()}
    voxels = tf.constant(voxels)
    model(inputs)
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = voxel_loss(model(inputs), voxels)
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    return lambda: float(step())


def measure_training(
    cache_dir: str | Path, repeats: int = 5
) -> tuple[dict[int, Comparison], float]:
    """Grid side -> the LSM's train step against the baseline's (both compiled, warmed), and
    the LSM's training memory at the largest grid (MB).

    The largest setting runs first, in a process that has done nothing heavy yet: the
    resident set's peak growth is sampled (``graphics.util.testing.peak_memory``, every
    millisecond) while the LSM is built and takes its first :data:`MEMORY_STEPS` steps (the
    first traces), which are also its warm-up. It is timed over :data:`FULL_REPEATS` rounds.
    """
    import keras

    from course_lib.graphics.util.testing import peak_memory
    from course_lib.lsm import Baseline2D, LearntStereoMachine

    out, memory = {}, float("nan")
    for resolution, image_size in sorted(SETTINGS, reverse=True):
        inputs, voxels = training_batch(resolution, image_size, cache_dir)
        keras.utils.set_random_seed(0)
        model = LearntStereoMachine(resolution)

        def warm_lsm(model=model, inputs=inputs, voxels=voxels):
            step = train_step(model, inputs, voxels)
            for _ in range(MEMORY_STEPS):
                step()
            return step

        if resolution == SETTINGS[-1][0]:
            lsm, before, peak = peak_memory(warm_lsm)
            memory = (peak - before) / 2**20
            rounds = FULL_REPEATS
        else:
            lsm, rounds = warm_lsm(), repeats
        baseline = train_step(Baseline2D(resolution), inputs, voxels)
        for _ in range(2):
            baseline()
        out[resolution] = compare(lsm, baseline, warmup=0, repeats=rounds)
    return out, memory


def rows(
    unprojection: dict[str, Comparison], training: dict[int, Comparison], memory: float
) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``)."""
    samples = VIEWS * RESOLUTION**3
    scene = f"{VIEWS} views x {RESOLUTION}^3 voxels from {SIDE}x{SIDE}x{CHANNELS} features"
    reference = "vectorized NumPy unprojection (fancy-index bilinear gather)"
    out = []
    for key, where in (("eager", "eager call"), ("compiled", "in the caller's tf.function")):
        c = unprojection[key]
        rate = samples / c.candidate.median_s / 1e6
        numpy_rate = samples / c.reference.median_s / 1e6
        out.append(
            c.row(
                f"lsm.unproject, {where}, {scene} ({rate:.1f} M view-voxels/s; "
                f"NumPy {numpy_rate:.1f} M/s)",
                reference,
            )
        )
    for resolution, image_size in SETTINGS:
        note = ""
        if resolution == SETTINGS[-1][0]:
            note = f" (peak RSS +{memory:.0f} MB: LSM built and its first {MEMORY_STEPS} steps)"
        out.append(
            training[resolution].row(
                f"LSM train step (compiled), {resolution}^3, {image_size}x{image_size}, "
                f"batch {BATCH} x {VIEWS} views{note}",
                "Baseline2D train step, same settings (compiled)",
            )
        )
    return out


def measure(repeats: int = 5) -> list[dict]:
    """Everything, as rows: the unprojection first (a small working set), then training."""
    unprojection = measure_unprojection(repeats)
    with tempfile.TemporaryDirectory(prefix="bench-lsm-") as cache_dir:
        training, memory = measure_training(cache_dir, repeats)
    return rows(unprojection, training, memory)


def run() -> list[dict]:
    """The measurements at the default sizes, as rows for ``benchmarks/run.py``."""
    return measure()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=5, help=f"timed rounds ({FULL_REPEATS} at 32^3)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as benchmarks/run.py, before TF loads
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from course_lib.perf.benchmark import markdown_table

    columns = ["name", "reference", "ratio", "candidate_ms", "reference_ms"]
    print(markdown_table(measure(args.repeats), columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
