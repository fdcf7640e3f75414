"""Style transfer step: the offline extractor (shapes_cnn) against VGG19, same image size.

One compiled ``course_lib.style.StyleTransfer`` step (losses, gradient, Adam, clipping) on
Chelsea the cat with the coffee photograph as the style, both at ``--size`` pixels on their
longer side. VGG19's architecture is built without its weights (its speed does not depend on
them, and nothing is downloaded). The two steps are called alternately after warm-up calls
(which include the one-off tracing); each timing is the median of ``--repeats`` calls, reported
as steps per second and as the ratio of the two.

Usage: python benchmarks/bench_style.py [--size 256] [--repeats 10];
``benchmarks/run.py`` calls :func:`run` for the suite's table.
"""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from _report import parse_int_options, print_table  # noqa: E402 - beside this file

from course_lib import config, data, style  # noqa: E402
from course_lib.perf.benchmark import Comparison, compare  # noqa: E402
from course_lib.style import transfer  # noqa: E402

WARMUP = 2
OPTIONS = {  # main()'s --options: (default, help)
    "size": (256, "longer image side in pixels"),
    "repeats": (10, "timed calls per extractor"),
}


def finished(run: style.StyleTransfer) -> Callable[[], None]:
    """One step of ``run`` that waits for its result, so that the timing covers the work."""

    def call() -> None:
        float(run.step()["total"])

    return call


def measure(size: int = 256, repeats: int = 10) -> Comparison:
    """shapes_cnn's step (candidate) against VGG19's (reference), at the same image size."""
    config.seed_everything(0)
    content = style.fit_image(data.load_image("chelsea"), size)
    style_image = style.fit_image(data.load_image("coffee"), size)
    vgg19 = transfer.vgg19_extractor(keras.applications.VGG19(include_top=False, weights=None))
    shapes = transfer.shapes_extractor()
    candidate = finished(style.StyleTransfer(shapes, content, style_image))
    reference = finished(style.StyleTransfer(vgg19, content, style_image))
    return compare(candidate, reference, warmup=WARMUP, repeats=repeats)


def run() -> list[dict]:
    """The benchmark at its default size, as rows for ``benchmarks/run.py``."""
    return [measure().row("style transfer step, shapes_cnn", "VGG19 step, same size")]


def main(argv: list[str] | None = None) -> None:
    args = parse_int_options(__doc__, argv, OPTIONS)
    comparison = measure(args.size, args.repeats)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"Style transfer step, Chelsea ({args.size} px longest side), {device}, TensorFlow "
        f"{tf.__version__}; median of {args.repeats} alternating calls\n"
    )
    rows = [
        ("VGG19 (course: block1..5_conv1, block5_conv2)", comparison.reference),
        ("shapes_cnn (offline: conv1..mixed2)", comparison.candidate),
    ]
    print_table(
        ["extractor", "ms per step", "steps per second"],
        [[name, f"{t.median_ms:.0f}", f"{1000.0 / t.median_ms:.2f}"] for name, t in rows],
    )
    print(f"\nshapes_cnn is {comparison.speedup:.1f}x faster per step than VGG19 at this size")


if __name__ == "__main__":
    main()
