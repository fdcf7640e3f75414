"""How fast is course_lib's pure-TensorFlow rasterizer? Ratios against trimesh's ray caster.

Run: ``python benchmarks/bench_rasterizer.py [--rounds 3] [--per-round 5]``. Prints Markdown
tables; ``benchmarks/run.py`` calls :func:`run` for the suite's table.

The scene: an icosphere (subdivisions 3, 4, 5: 1,280, 5,120 and 20,480 triangles) of radius 1
at z = 3.5, seen by a 256x256 pinhole camera with focal length 250 pixels (the sphere covers
about a quarter of the image). Contenders, timed as their users call them:

- trimesh's ray caster (``mesh.ray.intersects_location``, first hits, rtree-accelerated) from
  every pixel centre, the baseline (ratio 1): the mesh is built once and warmed by one call
  before timing, so its acceleration structure is built once, as for a user who keeps it;
- ``rasterizer.rasterize`` called eagerly (it compiles itself), all four outputs fetched;
  goal: at least 300x faster than trimesh at 5k triangles (ratio at most 1/300);
- the same inside the caller's own ``tf.function`` (the plain graph, inlined);
- forward + backward: the same plus the gradient of a loss of depth and barycentrics with
  respect to the vertices, eagerly (under a ``GradientTape``) and in a ``tf.function``; goal:
  at most 3x the forward time of the same kind of call.

Timing: ``--rounds`` rounds, each one trimesh call then ``--per-round`` calls of every
rasterizer contender in turn, so that a busy machine slows all of them alike; medians. The
process CPU time of trimesh's calls and of the eager calls (all of TensorFlow's threads summed,
so it favours trimesh) gets its own row: on a shared machine it is steadier than wall time.
Results
are checked to agree (triangle ids on >= 99.9 % of covered pixels) before timing. Then time and
peak memory as the triangles (1k, 5k, 20k at 256²) and the pixels (128², 256², 512² at 5k
triangles) grow: memory is the peak resident set of a fresh process during its first forward
+ backward (tracing included), sampled every millisecond, minus its resident set just before
(TensorFlow and the mesh excluded). This is not a test: it never fails, it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from course_lib import data
from course_lib.graphics.rendering import rasterizer  # sets TensorFlow's log level first
from course_lib.graphics.util.testing import peak_memory
from course_lib.perf.benchmark import Comparison, Timing, time_alternately

SPEED_GOAL = 1 / 300  # eager forward time / trimesh's time at 5k triangles, at most
BACKWARD_GOAL = 3.0  # forward + backward time / forward time, at most
SUBDIVISIONS = (3, 4, 5)
IMAGE_SIDES = (128, 256, 512)
CONTENDERS = ("eager", "compiled", "eager_backward", "compiled_backward")


def scene(subdivisions: int, side: int = 256):
    """Vertices, triangles, focal and principal point of the benchmark scene (float32)."""
    vertices, triangles = data.load_mesh("icosphere", subdivisions)
    vertices = (vertices + np.array([0.0, 0.0, 3.5], np.float32)).astype(np.float32)
    scale = side / 256
    focal = np.array([250.0, 250.0], np.float32) * scale
    centre = np.array([side / 2, side / 2], np.float32)
    return vertices, triangles, focal, centre


def trimesh_caster(vertices, triangles, focal, centre, side):
    """A callable: trimesh's first-hit triangle ids `[side, side]` (-1 for misses).

    The mesh is built here, once, like a user who keeps it; call it once before timing (its
    first call builds the ray-acceleration structure).
    """
    import trimesh

    jj, ii = np.meshgrid(np.arange(side), np.arange(side))
    directions = np.stack(
        [(jj + 0.5 - centre[0]) / focal[0], (ii + 0.5 - centre[1]) / focal[1], np.ones(jj.shape)],
        axis=-1,
    ).reshape(-1, 3)
    origins = np.zeros_like(directions)
    mesh = trimesh.Trimesh(vertices.astype(np.float64), triangles, process=False)

    def cast():
        _, ray, tri = mesh.ray.intersects_location(origins, directions, multiple_hits=False)
        index = -np.ones(side * side, np.int64)
        index[ray] = tri
        return index.reshape(side, side)

    return cast


def rasterizer_calls(vertices, triangles, focal, centre, side) -> dict:
    """Contender name -> zero-argument callable (results fetched), see :data:`CONTENDERS`."""
    import tensorflow as tf

    size = (side, side)
    weights = tf.constant([1.0, 2.0, 3.0])

    def forward(v):
        return rasterizer.rasterize(v, triangles, focal, centre, size)

    def forward_backward(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            r = rasterizer.rasterize(v, triangles, focal, centre, size)
            loss = tf.reduce_sum(r.depth) + tf.reduce_sum(r.barycentrics * weights)
        return r, tape.gradient(loss, v)

    v = tf.constant(vertices)

    def fetched(fn):
        return lambda: tf.nest.map_structure(lambda x: x.numpy(), fn(v))

    return {
        "eager": fetched(forward),
        "compiled": fetched(tf.function(forward)),
        "eager_backward": fetched(forward_backward),
        "compiled_backward": fetched(tf.function(forward_backward)),
    }


def measure_speed(rounds: int = 3, per_round: int = 5) -> dict[int, dict[str, Comparison]]:
    """Triangles -> comparisons: each contender against trimesh (``"eager"``, ``"compiled"``),
    forward + backward against forward (``"eager_backward"``, ``"compiled_backward"``), and
    the eager call's process CPU time (all threads) against trimesh's (``"eager_cpu"``)."""
    out = {}
    for subdivisions in SUBDIVISIONS:
        vertices, triangles, focal, centre = scene(subdivisions)
        calls = rasterizer_calls(vertices, triangles, focal, centre, 256)
        cast = trimesh_caster(vertices, triangles, focal, centre, 256)
        expected = cast()  # also warms trimesh (builds its acceleration structure)
        got = calls["eager"]().triangle_index
        covered = (expected >= 0) | (got >= 0)
        agreement = np.mean(expected[covered] == got[covered])
        assert agreement >= 0.999, f"triangle ids agree on only {agreement:.4%} of pixels"
        time_alternately(calls, warmup=2, repeats=1)  # traces and warms every contender
        wall: dict[str, list[float]] = {name: [] for name in ("trimesh", *calls)}
        cpu: dict[str, list[float]] = {name: [] for name in ("trimesh", "eager")}
        for _ in range(rounds):
            order = [("trimesh", cast)] + [
                (name, fn) for _ in range(per_round) for name, fn in calls.items()
            ]
            for name, fn in order:
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                wall[name].append(time.perf_counter() - start)
                if name in cpu:
                    cpu[name].append(time.process_time() - start_cpu)
        t = {name: Timing.from_times(values) for name, values in wall.items()}
        out[len(triangles)] = {
            "eager": Comparison(t["eager"], t["trimesh"]),
            "compiled": Comparison(t["compiled"], t["trimesh"]),
            "eager_backward": Comparison(t["eager_backward"], t["eager"]),
            "compiled_backward": Comparison(t["compiled_backward"], t["compiled"]),
            "eager_cpu": Comparison(
                Timing.from_times(cpu["eager"]), Timing.from_times(cpu["trimesh"])
            ),
        }
    return out


_PROBE = "--memory-probe"


def _probe(subdivisions: int, side: int) -> None:
    """In a fresh process: one forward + backward; print RSS before it and its peak during it.

    The peak is sampled every millisecond by a thread (:func:`peak_memory`).
    """
    vertices, triangles, focal, centre = scene(subdivisions, side)
    forward_backward = rasterizer_calls(vertices, triangles, focal, centre, side)["eager_backward"]
    _, before, peak = peak_memory(forward_backward)
    print(json.dumps({"before_mb": before / 2**20, "peak_mb": peak / 2**20}))


def peak_memory_mb(subdivisions: int, side: int) -> dict[str, float]:
    """``before_mb`` and ``peak_mb`` of a fresh process's forward + backward (see the docs)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    result = subprocess.run(
        [sys.executable, __file__, _PROBE, str(subdivisions), str(side)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_growth(repeats: int = 5) -> list[dict]:
    """Time (forward, forward + backward) and peak memory as triangles and pixels grow."""
    configs = [(s, 256) for s in SUBDIVISIONS] + [(4, side) for side in IMAGE_SIDES if side != 256]
    out = []
    for subdivisions, side in configs:
        vertices, triangles, focal, centre = scene(subdivisions, side)
        calls = rasterizer_calls(vertices, triangles, focal, centre, side)
        t = time_alternately(
            {"forward": calls["eager"], "backward": calls["eager_backward"]},
            warmup=2,
            repeats=repeats,
        )
        memory = peak_memory_mb(subdivisions, side)
        out.append(
            {
                "triangles": len(triangles),
                "side": side,
                "forward_ms": t["forward"].median_ms,
                "backward_ms": t["backward"].median_ms,
                "memory_mb": memory["peak_mb"] - memory["before_mb"],
                "process_peak_mb": memory["peak_mb"],
            }
        )
    return out


def rows(results: dict[int, dict[str, Comparison]]) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``) for :func:`measure_speed`'s results."""
    out = []
    reference = "trimesh ray caster (mesh kept, warmed)"
    for triangles, c in results.items():
        goal = SPEED_GOAL if triangles == 5120 else None
        scene_name = f"{triangles:,} triangles, 256²"
        out += [
            c["eager"].row(f"rasterize, eager call, {scene_name}", reference, at_most=goal),
            c["compiled"].row(f"rasterize in the caller's tf.function, {scene_name}", reference),
            c["eager_cpu"].row(
                f"rasterize, eager call, CPU time of all threads, {scene_name}",
                "trimesh ray caster, CPU time",
            ),
            c["eager_backward"].row(
                f"rasterize forward + backward, eager, {scene_name}",
                "rasterize forward, eager",
                at_most=BACKWARD_GOAL,
            ),
            c["compiled_backward"].row(
                f"rasterize forward + backward, tf.function, {scene_name}",
                "rasterize forward, tf.function",
                at_most=BACKWARD_GOAL,
            ),
        ]
    return out


def run() -> list[dict]:
    """The speed comparison at its default sizes, as rows for ``benchmarks/run.py``."""
    return rows(measure_speed())


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 4 and sys.argv[1] == _PROBE:
        _probe(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (one trimesh call each)")
    parser.add_argument("--per-round", type=int, default=5, help="rasterizer calls per round")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth table")
    args = parser.parse_args(argv)

    print("Icosphere at z = 3.5, 256x256 pinhole camera (focal 250 px); medians over")
    print(
        f"{args.rounds} rounds of one trimesh call (mesh kept, warmed) and {args.per_round} "
        "alternating calls of each rasterizer contender.\n"
    )
    print(
        "| triangles | trimesh (ms) | eager (ms) | trimesh / eager | tf.function (ms) "
        "| trimesh / tf.function | eager f + b (ms) | (f + b) / f eager "
        "| tf.function f + b (ms) | (f + b) / f tf.function |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for triangles, c in measure_speed(args.rounds, args.per_round).items():
        e, g = c["eager"], c["compiled"]
        eb, gb = c["eager_backward"], c["compiled_backward"]
        print(
            f"| {triangles:,} | {e.reference.median_ms:.0f} | {e.candidate.median_ms:.1f} "
            f"| {e.speedup:.0f}x | {g.candidate.median_ms:.1f} | {g.speedup:.0f}x "
            f"| {eb.candidate.median_ms:.1f} | {eb.ratio:.2f}x "
            f"| {gb.candidate.median_ms:.1f} | {gb.ratio:.2f}x |"
        )
        if triangles == 5120:
            verdicts.append(
                f"eager forward at 5k: {e.speedup:.0f}x faster than trimesh "
                f"({'meets' if e.ratio <= SPEED_GOAL else 'MISSES'} >= {1 / SPEED_GOAL:.0f}x); "
                f"in process CPU time (all threads): {c['eager_cpu'].speedup:.0f}x"
            )
        for kind, b in (("eager", eb), ("tf.function", gb)):
            verdicts.append(
                f"(forward + backward) / forward, {kind}, at {triangles:,}: {b.ratio:.2f}x "
                f"({'meets' if b.ratio <= BACKWARD_GOAL else 'MISSES'} <= {BACKWARD_GOAL:g}x)"
            )
    print()
    for line in verdicts:
        print(f"- {line}")
    if not args.no_growth:
        print("\nGrowth (eager calls; memory: peak RSS growth of a fresh process during forward")
        print("+ backward):\n")
        print("| triangles | image | forward (ms) | forward + backward (ms) | memory (MB) |")
        print("|---:|---:|---:|---:|---:|")
        for g in measure_growth():
            print(
                f"| {g['triangles']:,} | {g['side']}² | {g['forward_ms']:.1f} "
                f"| {g['backward_ms']:.1f} | {g['memory_mb']:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
