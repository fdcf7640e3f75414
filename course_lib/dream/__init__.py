"""DeepDream (book/part1/05_deepdream): gradient ascent on an image, tiled gradients and octaves.

See :mod:`~course_lib.dream.deepdream` (steps, loops, octaves) and
:mod:`~course_lib.dream.gradients` (the cut model, the objective, tiled gradients). A typical
run on InceptionV3 (inputs in [-1, 1])::

    base = keras.applications.InceptionV3(include_top=False, weights="imagenet")
    model = dream.dream_model(base, ["mixed3", "mixed5"])
    image, trace = dream.run_deep_dream_with_octaves(data.load_image("coffee"), model)
"""

from course_lib.dream.deepdream import (
    DEFAULT_VALUE_RANGE,
    DeepDream,
    deprocess,
    dream_gradients,
    dream_loss,
    dream_model,
    get_deep_dream,
    gradient_ascent_step,
    normalize_gradients,
    octave_sizes,
    preprocess,
    random_shift,
    run_deep_dream,
    run_deep_dream_with_octaves,
    tile_bounds,
    tiled_gradients,
)

__all__ = [
    "DEFAULT_VALUE_RANGE",
    "DeepDream",
    "deprocess",
    "dream_gradients",
    "dream_loss",
    "dream_model",
    "get_deep_dream",
    "gradient_ascent_step",
    "normalize_gradients",
    "octave_sizes",
    "preprocess",
    "random_shift",
    "run_deep_dream",
    "run_deep_dream_with_octaves",
    "tile_bounds",
    "tiled_gradients",
]
