"""How fast do course_lib's rotations rotate a million points? Ratios against SciPy.

Run: ``python benchmarks/bench_rotations.py [--points 1000000] [--repeats 41]``. Prints a
Markdown table; ``benchmarks/run.py`` calls :func:`run` for the suite's table.

Every contender rotates the same ``N x 3`` points by one rotation (shared by all points, the
broadcast case):

- ``scipy.spatial.transform.Rotation.apply`` on float64 points, the baseline (ratio 1);
- ``quaternion.rotate``, ``rotation_matrix_3d.rotate`` and ``axis_angle.rotate`` on float32
  points, each under ``tf.function``; goal: each at most SciPy's time;
- a plain ``tf.einsum("ij,nj->ni", matrix, points)`` under ``tf.function``, for scale;
- ``rotation_matrix_3d.rotate`` again with its result copied into a NumPy array
  (``.numpy()``), for scale: what a NumPy caller pays on top.

Each contender returns its library's native result: SciPy a NumPy array, TensorFlow a tensor
(computed by the time the call returns: CPU execution is synchronous).

Results are checked to agree before timing. Contenders are timed alternately within each
repeat (one call each, in turn), after warm-up calls (tracing), so that a change in machine
load hits all of them alike; the table shows medians. This is not a test: it never fails, it
reports.
"""

from __future__ import annotations

import numpy as np
from _report import parse_int_options, print_table  # beside this file
from scipy.spatial.transform import Rotation

# Imported first: sets TensorFlow's log level before TensorFlow is imported.
from course_lib.graphics.geometry.transformation import axis_angle, quaternion, rotation_matrix_3d
from course_lib.perf.benchmark import Comparison, time_alternately

GOAL = 1.0  # each rotate's time / SciPy's time, at most
CONTENDERS = {
    "quaternion": "quaternion.rotate",
    "matrix": "rotation_matrix_3d.rotate",
    "axis_angle": "axis_angle.rotate",
    "einsum": "tf.einsum (plain matrix product)",
    "matrix_numpy": "rotation_matrix_3d.rotate + .numpy()",
}
NO_GOAL = ("einsum", "matrix_numpy")
OPTIONS = {  # main()'s --options: (default, help)
    "points": (1_000_000, "points (default 1M)"),
    "repeats": (41, "timed calls per contender"),
}


def measure(points: int = 1_000_000, repeats: int = 41) -> dict[str, Comparison]:
    """Contender key (see ``CONTENDERS``) -> its comparison against SciPy's ``apply``."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    point64 = rng.normal(size=(points, 3))
    rotation = Rotation.from_rotvec([0.3, -1.2, 0.7])
    rotvec = rotation.as_rotvec()
    angle = np.linalg.norm(rotvec)

    point = tf.constant(point64.astype(np.float32))
    quat = tf.constant(rotation.as_quat().astype(np.float32))
    matrix = tf.constant(rotation.as_matrix().astype(np.float32))
    axis = tf.constant((rotvec / angle).astype(np.float32))
    angle = tf.constant([angle], tf.float32)

    calls = {
        "scipy": lambda: rotation.apply(point64),
        "quaternion": tf.function(lambda: quaternion.rotate(point, quat)),
        "matrix": tf.function(lambda: rotation_matrix_3d.rotate(point, matrix)),
        "axis_angle": tf.function(lambda: axis_angle.rotate(point, axis, angle)),
        "einsum": tf.function(lambda: tf.einsum("ij,nj->ni", matrix, point)),
    }
    calls["matrix_numpy"] = lambda: calls["matrix"]().numpy()
    expected = calls["scipy"]()
    for key in CONTENDERS:
        np.testing.assert_allclose(np.asarray(calls[key]()), expected, rtol=1e-4, atol=1e-5)

    timed = {"scipy": calls["scipy"]} | {key: calls[key] for key in CONTENDERS}
    t = time_alternately(timed, warmup=2, repeats=repeats)
    return {key: Comparison(t[key], t["scipy"]) for key in CONTENDERS}


def rows(results: dict[str, Comparison], points: int = 1_000_000) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``) for :func:`measure`'s results."""
    out = []
    for key, comparison in results.items():
        goal = None if key in NO_GOAL else GOAL
        out.append(
            comparison.row(
                f"{CONTENDERS[key]}, {points:,} points, one rotation",
                "scipy Rotation.apply",
                at_most=goal,
            )
        )
    return out


def run() -> list[dict]:
    """The benchmark at its default size, as rows for ``benchmarks/run.py``."""
    return rows(measure())


def main(argv: list[str] | None = None) -> int:
    args = parse_int_options(__doc__, argv, OPTIONS)

    results = measure(args.points, args.repeats)
    scipy_ms = next(iter(results.values())).reference.median_ms
    print(f"Rotating {args.points:,} points by one rotation, median of {args.repeats} alternating")
    print(f"calls. SciPy Rotation.apply (float64): {scipy_ms:.2f} ms. Ratios are time / SciPy's")
    print("time (lower is faster).\n")
    table = []
    for key, comparison in results.items():
        goal = "" if key in NO_GOAL else f"≤ {GOAL:g}x"
        if goal:
            goal += " met" if comparison.ratio <= GOAL else " MISSED"
        time_ms, ratio = f"{comparison.candidate.median_ms:.2f}", f"{comparison.ratio:.2f}x"
        table.append([CONTENDERS[key], time_ms, ratio, goal])
    headers = ["contender (float32, tf.function)", "time (ms)", "/ SciPy", "goal"]
    print_table(headers, table, align="lrrl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
