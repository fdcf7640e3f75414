"""How fast is course_lib's conv2d? Ratios against SciPy, TensorFlow and the naive loops.

Run: ``python benchmarks/bench_conv.py [--size 512] [--repeats 15]``. Prints a Markdown table;
``benchmarks/run.py`` calls :func:`run` for the suite's table.

Every contender computes the same valid cross-correlation of one float64 ``size x size``
image with a 3x3 and a 7x7 kernel:

- ``scipy.signal.correlate2d(image, kernel, "valid")``, the baseline (ratio 1);
- ``course_lib.conv.conv2d`` (sliding-window view + einsum); goal: at most 1.5x SciPy's time;
- ``tf.nn.conv2d`` on a ``[1, H, W, 1]`` float64 tensor made beforehand (no conversion timed);
- ``course_lib.conv.conv2d_naive`` (Python loops over the output pixels) on a smaller image,
  its time scaled up by the ratio of output pixels; goal: at least 100x slower than ``conv2d``.

Contenders are timed alternately within each repeat (one call each, in turn), after a warm-up
call, so that a change in machine load hits all of them alike; the table shows medians.
This is not a test: it never fails, it reports.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
from _report import parse_int_options, print_table  # beside this file

from course_lib import conv  # sets TensorFlow's log level before TensorFlow is imported
from course_lib.perf.benchmark import Comparison, time_alternately, time_callable

VECTORIZED_GOAL = 1.5  # conv2d's time / SciPy's time, at most
NAIVE_GOAL = 100.0  # conv2d_naive's time / conv2d's time, at least
KERNEL_SIZES = (3, 7)
OPTIONS = {  # main()'s --options: (default, help)
    "size": (512, "image side (default 512)"),
    "naive_size": (96, "naive's image side"),
    "repeats": (15, "timed calls per contender"),
}


def bench_kernel(
    size: int, kernel_size: int, naive_size: int, repeats: int
) -> dict[str, Comparison]:
    """``"ours"``, ``"tf"`` against SciPy and ``"naive"`` (scaled) against ``conv2d``."""
    import tensorflow as tf

    rng = np.random.default_rng(kernel_size)
    image = rng.random((size, size))
    kernel = rng.normal(size=(kernel_size, kernel_size))
    image_tf = tf.constant(image[np.newaxis, :, :, np.newaxis])
    kernel_tf = tf.constant(kernel[:, :, np.newaxis, np.newaxis])
    small = image[:naive_size, :naive_size]

    expected = scipy.signal.correlate2d(image, kernel, "valid")
    np.testing.assert_allclose(conv.conv2d(image, kernel), expected, rtol=1e-10, atol=1e-10)
    tf_out = tf.nn.conv2d(image_tf, kernel_tf, strides=1, padding="VALID").numpy()[0, :, :, 0]
    np.testing.assert_allclose(tf_out, expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        conv.conv2d_naive(small, kernel), conv.conv2d(small, kernel), rtol=1e-12, atol=1e-12
    )

    t = time_alternately(
        {
            "scipy": lambda: scipy.signal.correlate2d(image, kernel, "valid"),
            "ours": lambda: conv.conv2d(image, kernel),
            "tf": lambda: tf.nn.conv2d(image_tf, kernel_tf, strides=1, padding="VALID"),
        },
        warmup=1,
        repeats=repeats,
    )
    naive = time_callable(
        lambda: conv.conv2d_naive(small, kernel), warmup=1, repeats=max(3, repeats // 5)
    )
    out_big = conv.output_size(size, kernel_size) ** 2
    out_small = conv.output_size(naive_size, kernel_size) ** 2
    return {
        "ours": Comparison(t["ours"], t["scipy"]),
        "tf": Comparison(t["tf"], t["scipy"]),
        "naive": Comparison(naive.scaled(out_big / out_small), t["ours"]),
    }


def measure(
    size: int = 512, naive_size: int = 96, repeats: int = 15
) -> dict[int, dict[str, Comparison]]:
    """Kernel size -> :func:`bench_kernel`'s comparisons."""
    return {k: bench_kernel(size, k, naive_size, repeats) for k in KERNEL_SIZES}


def rows(results: dict[int, dict[str, Comparison]], naive_size: int = 96) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``) for :func:`measure`'s results."""
    out = []
    for k, c in results.items():
        kernel = f"{k}x{k}"
        out += [
            c["ours"].row(f"conv2d {kernel}", "scipy correlate2d", at_most=VECTORIZED_GOAL),
            c["tf"].row(f"tf.nn.conv2d {kernel}", "scipy correlate2d"),
            c["naive"].row(
                f"conv2d_naive {kernel} (scaled from {naive_size}²)",
                "conv2d",
                at_least=NAIVE_GOAL,
            ),
        ]
    return out


def run() -> list[dict]:
    """The benchmark at its default sizes, as rows for ``benchmarks/run.py``."""
    return rows(measure())


def main(argv: list[str] | None = None) -> int:
    args = parse_int_options(__doc__, argv, OPTIONS)

    print(f"Valid cross-correlation of a {args.size}x{args.size} float64 image, median of")
    print(f"{args.repeats} alternating calls; naive timed at {args.naive_size}x{args.naive_size}")
    print("and scaled by output pixels. Ratios are time / SciPy's time (lower is faster).\n")
    headers = ["kernel", "SciPy correlate2d (ms)", "conv2d (ms)", "conv2d / SciPy"]
    headers += ["tf.nn.conv2d / SciPy", "conv2d_naive, scaled (ms)", "naive / conv2d"]
    table, verdicts = [], []
    for k, c in measure(args.size, args.naive_size, args.repeats).items():
        ratio, naive_ratio = c["ours"].ratio, c["naive"].ratio
        table.append(
            [
                f"{k}x{k}",
                f"{c['ours'].reference.median_ms:.2f}",
                f"{c['ours'].candidate.median_ms:.2f}",
                f"{ratio:.2f}x",
                f"{c['tf'].ratio:.2f}x",
                f"{c['naive'].candidate.median_ms:.0f}",
                f"{naive_ratio:.0f}x",
            ]
        )
        verdicts.append(
            f"{k}x{k}: conv2d / SciPy {ratio:.2f}x "
            f"({'meets' if ratio <= VECTORIZED_GOAL else 'MISSES'} <= {VECTORIZED_GOAL}x); "
            f"naive / conv2d {naive_ratio:.0f}x "
            f"({'meets' if naive_ratio >= NAIVE_GOAL else 'MISSES'} >= {NAIVE_GOAL:.0f}x)"
        )
    print_table(headers, table)
    print()
    for line in verdicts:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
