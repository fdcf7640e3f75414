"""DeepDream step, eager vs ``tf.function``, on a small CNN (prints a Markdown table).

One gradient-ascent step of ``course_lib.dream`` on a random 256x256 RGB image, whole-image and
tiled, run eagerly (``DeepDream.eager_step``) and compiled (``DeepDream.step``, traced once with
free height and width). The two are called alternately; each timing is the median of
``--repeats`` calls after warm-up calls (which include the one-off tracing of the compiled step).

Usage: python benchmarks/bench_dream.py [--size 256] [--tile-size 128] [--repeats 20];
``benchmarks/run.py`` calls :func:`run` for the suite's table.
"""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _report import parse_int_options, print_table  # noqa: E402 - beside this file

from course_lib import config, dream  # noqa: E402
from course_lib.perf.benchmark import Comparison, compare  # noqa: E402

WARMUP = 3
OPTIONS = {  # main()'s --options: (default, help)
    "size": (256, "image side in pixels"),
    "tile_size": (128, "tile side of the tiled step"),
    "repeats": (20, "timed calls per variant"),
}


def small_cnn() -> keras.Model:
    """Three 3x3 convolutions and a pooling on images of any size (random weights)."""
    images = keras.Input(shape=(None, None, 3), name="images")
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_1")(images)
    x = keras.layers.MaxPooling2D(2, name="pool_1")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_2")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_3")(x)
    return keras.Model(images, x, name="small_cnn")


def finished(step: Callable[[], tuple[tf.Tensor, tf.Tensor]]) -> Callable[[], None]:
    """``step`` made to wait for its image (``.numpy()``), so that the timing covers the work."""

    def call() -> None:
        _, image = step()
        image.numpy()

    return call


def measure(
    size: int = 256, tile_size: int = 128, repeats: int = 20
) -> tuple[dict[str, Comparison], tuple[int, int]]:
    """Variant name -> tf.function's step (candidate) against the eager step (reference).

    Also returns the compiled steps' trace counts (``step``, ``tiled_step``) after timing.
    """
    config.seed_everything(0)
    model = dream.dream_model(small_cnn(), ["conv_2", "conv_3"])
    deep_dream = dream.get_deep_dream(model, value_range=(-1.0, 1.0))
    rng = np.random.default_rng(0)
    image = tf.constant(rng.uniform(-1.0, 1.0, size=(size, size, 3)), tf.float32)
    step_size = tf.constant(0.01, tf.float32)
    tiles = tf.constant(tile_size, tf.int32)
    shift = tf.constant([17, 41], tf.int32)

    variants = {
        "whole image": (
            lambda: deep_dream.eager_step(image, step_size),
            lambda: deep_dream.step(image, step_size),
        ),
        f"tiled ({tile_size} px tiles)": (
            lambda: deep_dream.eager_tiled_step(image, step_size, tiles, shift),
            lambda: deep_dream.tiled_step(image, step_size, tiles, shift),
        ),
    }
    results = {
        name: compare(finished(compiled), finished(eager), warmup=WARMUP, repeats=repeats)
        for name, (eager, compiled) in variants.items()
    }
    traces = (
        deep_dream.step.experimental_get_tracing_count(),
        deep_dream.tiled_step.experimental_get_tracing_count(),
    )
    return results, traces


def run() -> list[dict]:
    """The benchmark at its default sizes, as rows for ``benchmarks/run.py``."""
    return [
        c.row(f"DeepDream step, {name}, tf.function", "eager step")
        for name, c in measure()[0].items()
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_int_options(__doc__, argv, OPTIONS)

    results, (traces, tiled_traces) = measure(args.size, args.tile_size, args.repeats)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"DeepDream step on a {args.size}x{args.size} image, small CNN (conv_2 + conv_3), "
        f"{device}, TensorFlow {tf.__version__}; median of {args.repeats} alternating calls\n"
    )
    print_table(
        ["step", "eager (ms)", "tf.function (ms)", "eager / tf.function"],
        [
            [
                name,
                f"{c.reference.median_ms:.1f}",
                f"{c.candidate.median_ms:.1f}",
                f"{c.speedup:.2f}x",
            ]
            for name, c in results.items()
        ],
    )
    print(f"\ntraces: step {traces}, tiled_step {tiled_traces}")


if __name__ == "__main__":
    main()
