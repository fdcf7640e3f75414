"""How fast is course_lib's sparse feature-steered convolution? Ratios against references.

Run: ``python benchmarks/bench_mesh_conv.py [--repeats 3]``. Prints a Markdown table;
``benchmarks/run.py`` calls :func:`run` for the suite's table.

The meshes: icosphere subdivisions 5 and 7 (10,242 and 163,842 vertices), their row-normalized
adjacency with self loops (``mesh.adjacency``, as FeaStNet uses it), random float32 features,
C = 16 channels in, D = 16 out, W = 8 weight matrices (FeaStNet's settings). Contenders:

- ``feature_steered_convolution`` called eagerly, and inside the caller's ``tf.function``;
- at 10k vertices, the reference is the same op written densely: the ``[V, V]`` adjacency as a
  dense matrix and the soft assignments of every vertex pair, in blocks of 64 rows (the
  unblocked ``[V, V, W]`` assignments alone would take V² W 4 bytes = 3.4 GB). Every row costs
  the same (V W exponentials and a ``[W, V] x [V, C]`` product), so it computes the first 1,024
  rows and its time is scaled by V / 1,024 (the whole takes 13-20 s here); goal: the sparse
  op at least as fast (ratio at most 1);
- at 164k vertices the dense adjacency alone would take V² 4 bytes (107 GB): not run. The
  reference there is a naive sparse version, the formula edge by edge: every neighbour's
  ``W_m x_j`` for all m (``[E, W, D]``), weighted and summed.

The references are checked to agree with the op before timing (relative 1e-4). Memory: the peak
resident set of a fresh process during its first eager call (tracing included), sampled every
millisecond, minus its resident set just before (TensorFlow, the mesh and the inputs excluded).
This is not a test: it never fails, it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from course_lib import data
from course_lib.graphics.geometry.convolution import graph_convolution as gc
from course_lib.graphics.geometry.representation import mesh
from course_lib.graphics.util.testing import peak_memory
from course_lib.perf.benchmark import Comparison, time_alternately

SUBDIVISIONS = (5, 7)  # 10,242 and 163,842 vertices
CHANNELS, OUT, MATRICES = 16, 16, 8
BLOCK = 64  # rows of the dense reference per block
DENSE_ROWS = 1024  # rows the dense reference computes; its time is scaled by V / DENSE_ROWS
SPEED_GOAL = 1.0  # sparse / dense time at 10k vertices, at most


def problem(subdivisions: int, seed: int = 0) -> tuple:
    """``(data [V, C], neighbors [V, V] SparseTensor, [var_u, var_v, var_c, var_w, var_b])``."""
    import tensorflow as tf

    vertices, faces = data.load_mesh("icosphere", subdivisions)
    neighbors = mesh.adjacency(faces, len(vertices), self_loops=True)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(len(vertices), CHANNELS)).astype(np.float32))
    shapes = [(CHANNELS, MATRICES), (CHANNELS, MATRICES), (MATRICES,)]
    shapes += [(MATRICES, CHANNELS, OUT), (OUT,)]
    variables = [tf.constant(rng.normal(size=s).astype(np.float32) * 0.3) for s in shapes]
    return x, neighbors, variables


def dense_reference(x, neighbors, variables, rows: int | None = None):
    """The op with a dense ``[V, V]`` adjacency and all-pairs assignments, by row blocks.

    Returns the first ``rows`` output rows `[rows, D]` (all V when None); its cost is the same
    for every row, so a part's time scales to the whole.
    """
    import tensorflow as tf

    u, v, c, w, b = variables
    adjacency = tf.sparse.to_dense(neighbors)  # [V, V]
    xu, xv = tf.transpose(x @ u), tf.transpose(x @ v)  # [W, V]
    out = []
    for start in range(0, x.shape[0] if rows is None else rows, BLOCK):
        logits = xu[:, start : start + BLOCK, None] + xv[:, None, :] + c[:, None, None]
        q = tf.nn.softmax(logits, axis=0) * adjacency[None, start : start + BLOCK]  # [W, B, V]
        per_matrix = tf.matmul(q, x)  # [W, B, C]
        out.append(tf.einsum("mic,mcd->id", per_matrix, w) + b)
    return tf.concat(out, axis=0)


def naive_sparse_reference(x, neighbors, variables):
    """The formula edge by edge: ``sum_j w_ij sum_m q_m (W_m x_j)`` with ``[E, W, D]`` terms."""
    import tensorflow as tf

    u, v, c, w, b = variables
    rows, cols = neighbors.indices[:, 0], neighbors.indices[:, 1]
    logits = tf.gather(x @ u, rows) + tf.gather(x @ v, cols) + c  # [E, W]
    q = tf.nn.softmax(logits, axis=-1) * neighbors.values[:, None]
    transformed = tf.einsum("ec,mcd->emd", tf.gather(x, cols), w)  # [E, W, D]
    edge_terms = tf.reduce_sum(q[:, :, None] * transformed, axis=1)
    return tf.math.unsorted_segment_sum(edge_terms, rows, x.shape[0]) + b


def calls(subdivisions: int) -> dict:
    """Name -> zero-argument callable (result fetched): ``eager``, ``compiled``, ``reference``."""
    import tensorflow as tf

    x, neighbors, variables = problem(subdivisions)

    def ours():
        return gc.feature_steered_convolution(x, neighbors, None, *variables)

    compiled = tf.function(ours)
    dense = subdivisions == SUBDIVISIONS[0]

    def reference():
        if dense:
            return dense_reference(x, neighbors, variables, DENSE_ROWS).numpy()
        return naive_sparse_reference(x, neighbors, variables).numpy()

    return {
        "eager": lambda: ours().numpy(),
        "compiled": lambda: compiled().numpy(),
        "reference": reference,
    }


def measure_speed(repeats: int = 3) -> dict[int, dict[str, Comparison]]:
    """Vertices -> ``{"eager": ..., "compiled": ...}`` comparisons against the reference."""
    out = {}
    for subdivisions in SUBDIVISIONS:
        fns = calls(subdivisions)
        got, expected = fns["eager"](), fns["reference"]()
        error = np.abs(got[: len(expected)] - expected).max() / np.abs(expected).max()
        assert error < 1e-4, f"the reference disagrees by {error:.2e} (relative)"
        t = time_alternately(fns, warmup=1, repeats=repeats)
        reference = t["reference"].scaled(len(got) / len(expected))
        out[len(got)] = {
            "eager": Comparison(t["eager"], reference),
            "compiled": Comparison(t["compiled"], reference),
        }
    return out


_PROBE = "--memory-probe"


def _probe(subdivisions: int) -> None:
    """In a fresh process: one eager call; print RSS before it and its peak during it.

    The peak is sampled every millisecond by a thread (:func:`peak_memory`).
    """
    _, before, peak = peak_memory(calls(subdivisions)["eager"])
    print(json.dumps({"before_mb": before / 2**20, "peak_mb": peak / 2**20}))


def memory_mb(subdivisions: int) -> float:
    """Peak RSS growth (MB) of a fresh process during its first eager call."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    result = subprocess.run(
        [sys.executable, __file__, _PROBE, str(subdivisions)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    return probe["peak_mb"] - probe["before_mb"]


def rows(results: dict[int, dict[str, Comparison]], memory: dict[int, float]) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``)."""
    out = []
    for (vertices, c), subdivisions in zip(results.items(), SUBDIVISIONS, strict=True):
        dense = subdivisions == SUBDIVISIONS[0]
        reference = (
            f"dense [V, V] reference (timed on {DENSE_ROWS:,} rows, scaled by V / rows)"
            if dense
            else "naive sparse reference (per edge [E, W, D]); dense not run: needs "
            f"{vertices**2 * 4 / 1e9:.0f} GB"
        )
        scene = f"{vertices:,} vertices, C=D=16, W=8"
        out += [
            c["eager"].row(
                f"feature_steered_convolution, eager call, {scene} "
                f"(peak RSS +{memory[subdivisions]:.0f} MB)",
                reference,
                at_most=SPEED_GOAL if dense else None,
            ),
            c["compiled"].row(
                f"feature_steered_convolution in the caller's tf.function, {scene}",
                reference,
                at_most=SPEED_GOAL if dense else None,
            ),
        ]
    return out


def run() -> list[dict]:
    """The speed comparison and memory at the default sizes, as rows for ``benchmarks/run.py``."""
    return rows(measure_speed(), {s: memory_mb(s) for s in SUBDIVISIONS})


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == _PROBE:
        _probe(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds")
    args = parser.parse_args(argv)
    results = measure_speed(args.repeats)
    memory = {s: memory_mb(s) for s in SUBDIVISIONS}
    table = rows(results, memory)
    print(
        "| vertices | reference | reference (ms) | eager (ms) | ratio | tf.function (ms) "
        "| ratio | peak RSS growth, eager (MB) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for k, (vertices, c) in enumerate(results.items()):
        e, g = c["eager"], c["compiled"]
        print(
            f"| {vertices:,} | {table[2 * k]['reference']} | {e.reference.median_ms:.0f} "
            f"| {e.candidate.median_ms:.1f} | {e.ratio:.4f} | {g.candidate.median_ms:.1f} "
            f"| {g.ratio:.4f} | {memory[SUBDIVISIONS[k]]:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
