"""Feature-visualization steps/s at 128 px: render_vis against tf-keras-vis and a bare loop.

All variants maximize the mean of one channel of ``conv_3`` in the same three-convolution CNN on
128x128 RGB images (random weights, seeded):

- ``render_vis`` (FFT + decorrelated colour, the standard transforms), compiled (``tf.function``,
  the default) and eager (``use_tf_function=False``);
- ``render_vis`` with a plain pixel parameterization (compiled, standard transforms);
- tf-keras-vis's ``ActivationMaximization`` with its counterparts of the standard transforms
  (``Jitter(8)``, ``Scale(0.9, 1.1)``, ``Rotate2D(10)``, ``Jitter(4)``) and no regularizers;
- a bare gradient-ascent loop: one ``tf.function`` step (pixels, no transforms) per Python call.

Steps per second are steady-state rates: ``(n_long - n_short) / (t_long - t_short)``, each time
the median of ``--repeats`` whole calls, so the one-off costs of a call (tracing, building the
optimizer) cancel; the time of one whole ``--steps``-step call is reported beside it. Measured,
never asserted: the issue's goal is render_vis with the standard transforms at >= 2x the steps
per second of tf-keras-vis.

Usage: python benchmarks/bench_lucid.py [--size 128] [--steps 128] [--repeats 3];
``benchmarks/run.py`` calls :func:`run` for the suite's table.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _report import parse_int_options, print_table  # noqa: E402 - beside this file

from course_lib import config  # noqa: E402
from course_lib.lucid.optvis import objectives, param, render  # noqa: E402

CHANNEL = 0
LAYER = "conv_3"
OPTIONS = {  # main()'s --options: (default, help)
    "size": (128, "image side in pixels"),
    "steps": (128, "steps of one whole call"),
    "repeats": (3, "timed calls per length"),
}


def small_cnn(size: int) -> keras.Model:
    """Three 3x3 convolutions (and a pooling) on ``size`` x ``size`` RGB images, random weights."""
    config.seed_everything(0)
    images = keras.Input(shape=(size, size, 3), name="images")
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_1")(images)
    x = keras.layers.MaxPooling2D(2, name="pool_1")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_2")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name=LAYER)(x)
    return keras.Model(images, x, name="small_cnn")


def render_vis_run(model: keras.Model, size: int, fft: bool, compiled: bool) -> Callable:
    objective = objectives.channel(LAYER, CHANNEL)

    def call(steps: int) -> None:
        render.render_vis(
            model,
            objective,
            param_f=lambda: param.image(size, fft=fft, decorrelate=fft),
            thresholds=(steps,),
            use_tf_function=compiled,
        )

    return call


def tf_keras_vis_run(model: keras.Model, size: int) -> Callable | None:
    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.activation_maximization.input_modifiers import Jitter, Rotate2D, Scale
    except ImportError:
        return None
    maximization = ActivationMaximization(model, clone=False)
    rng = np.random.default_rng(0)
    seed_input = rng.uniform(0.4, 0.6, size=(1, size, size, 3)).astype(np.float32)

    def score(output):
        return tf.reduce_mean(output[..., CHANNEL], axis=(1, 2))

    def call(steps: int) -> None:
        with warnings.catch_warnings():  # tf-keras-vis passes Keras 3 a list for one input
            warnings.simplefilter("ignore", UserWarning)
            _maximize(steps)

    def _maximize(steps: int) -> None:
        maximization(
            score,
            seed_input=seed_input,
            input_range=(0.0, 1.0),
            input_modifiers=[Jitter(8), Scale(0.9, 1.1), Rotate2D(10.0), Jitter(4)],
            regularizers=[],
            steps=steps,
            optimizer=keras.optimizers.Adam(0.05),
        )

    return call


def bare_loop_run(model: keras.Model, size: int) -> Callable:
    """One compiled gradient-ascent step on a pixel image, called from a Python loop."""
    image = tf.Variable(tf.fill([1, size, size, 3], 0.5))
    optimizer = keras.optimizers.Adam(0.05)
    optimizer.build([image])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(model(image, training=False)[..., CHANNEL])
        optimizer.apply_gradients([(-tape.gradient(value, image), image)])
        return value

    def call(steps: int) -> None:
        for _ in range(steps):
            value = step()
        value.numpy()

    return call


def median_time(fn: Callable[[int], None], steps: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(steps)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(size: int = 128, steps: int = 128, repeats: int = 3) -> dict[str, dict]:
    """Variant -> ``{"steps_per_s", "call_s"}`` (steady-state rate; one ``steps``-step call)."""
    model = small_cnn(size)
    variants: dict[str, Callable | None] = {
        "render_vis, FFT + decorrelated, tf.function": render_vis_run(model, size, True, True),
        "render_vis, pixels, tf.function": render_vis_run(model, size, False, True),
        "render_vis, FFT + decorrelated, eager": render_vis_run(model, size, True, False),
        "tf-keras-vis ActivationMaximization": tf_keras_vis_run(model, size),
        "bare tf.function step loop (no transforms)": bare_loop_run(model, size),
    }
    results = {}
    for name, fn in variants.items():
        if fn is None:
            continue
        short, long = (8, 40) if "eager" in name or "tf-keras-vis" in name else (16, steps + 16)
        fn(short)  # warm-up
        t_short = median_time(fn, short, repeats)
        t_long = median_time(fn, long, repeats)
        rate = (long - short) / max(t_long - t_short, 1e-9)
        call_s = t_short + (steps - short) / rate
        results[name] = {"steps_per_s": rate, "call_s": call_s}
    return results


def run() -> list[dict]:
    """Rows for ``benchmarks/run.py``: each variant's time per step against tf-keras-vis's."""
    results = measure()
    reference_name = "tf-keras-vis ActivationMaximization"
    reference = results.get(reference_name)
    rows = []
    for name, result in results.items():
        if name == reference_name or reference is None:
            continue
        candidate_ms = 1000.0 / result["steps_per_s"]
        reference_ms = 1000.0 / reference["steps_per_s"]
        ratio = candidate_ms / reference_ms
        goal = "≤ 0.5" if name.startswith("render_vis, FFT") and "eager" not in name else ""
        rows.append(
            {
                "name": f"lucid step, {name}",
                "reference": f"{reference_name} step",
                "ratio": ratio,
                "candidate_ms": candidate_ms,
                "reference_ms": reference_ms,
                "goal": goal,
                "met": (ratio <= 0.5) if goal else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_int_options(__doc__, argv, OPTIONS)
    results = measure(args.size, args.steps, args.repeats)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"Maximizing {LAYER}:{CHANNEL} of a three-convolution CNN at {args.size}x{args.size}, "
        f"{device}, TensorFlow {tf.__version__}, Keras {keras.__version__}; "
        f"median of {args.repeats} calls\n"
    )
    reference = results.get("tf-keras-vis ActivationMaximization")
    table = []
    for name, result in results.items():
        relative = result["steps_per_s"] / reference["steps_per_s"] if reference else float("nan")
        table.append(
            [name, f"{result['steps_per_s']:.1f}", f"{result['call_s']:.2f}", f"{relative:.2f}x"]
        )
    print_table(["variant", "steps/s", f"one {args.steps}-step call (s)", "vs tf-keras-vis"], table)


if __name__ == "__main__":
    main()
