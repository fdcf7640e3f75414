"""Exercises of the chapter "A simple CNN" (book/part1/04_cnn).

- ``add_channel_axis_and_scale(images)``: uint8 ``[N, 28, 28]`` -> float32 ``[N, 28, 28, 1]``;
- ``count_conv_params(kernel_size, in_channels, filters)``: parameters of a Conv2D layer;
- ``conv_output_shape(input_shape, layers)``: shape after 'valid' convolutions and poolings;
- ``build_cnn(num_classes)``: the course's simple CNN.

Expected answers come from ``course_lib.basics.cnn`` on inputs drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.basics import cnn, mnist_models
from course_lib.grading.cases import exact_mistake, first_match, wrong_answers
from course_lib.grading.check import compare_values, float_array
from course_lib.grading.exercise import Case, define
from course_lib.grading.model_cases import define_classifier

TOPIC = "cnn"


# --- add_channel_axis_and_scale ---------------------------------------------------------------


def _prepare_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for count in (1, int(rng.integers(3, 9))):
        images = rng.integers(0, 256, size=(count, 28, 28)).astype(np.uint8)
        cases.append(
            Case(
                description=f"{count} uint8 image(s) [{count}, 28, 28]",
                args=(images,),
                expected=cnn.add_channel_axis_and_scale(images),
                hint=(
                    "images.astype(np.float32) / 255.0 scales to [0, 1]; then "
                    "[..., np.newaxis] (or tf.newaxis) adds the channel axis last."
                ),
            )
        )
    return cases


_PREPARE_MISTAKES = {
    "the values are not scaled: divide by 255": lambda images: images[..., np.newaxis],
}


def _compare_prepare(got: Any, case: Case) -> str | None:
    want = case.expected
    value = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    count = want.shape[0]
    if value.shape == (count, 1, 28, 28):
        return (
            f"expected shape {want.shape}, got {value.shape}: the channel axis goes last, "
            "as Keras's Conv2D expects [N, height, width, channels]"
        )
    if value.shape == (count, 28, 28):
        return f"expected shape {want.shape}, got {value.shape}: add the channel axis"
    if value.shape == want.shape and value.dtype.kind == "f" and value.dtype != np.float32:
        return f"expected dtype float32, got {value.dtype}: Keras layers compute in float32"
    message = compare_values(value, want, case.rtol, case.atol)
    if not message:
        return message
    candidates = wrong_answers(_PREPARE_MISTAKES, case)
    explanation = first_match(float_array(value), candidates, rtol=1e-5, atol=1e-3)
    return f"{message} ({explanation})" if explanation else message


ADD_CHANNEL_AXIS_AND_SCALE = define(
    TOPIC,
    "add_channel_axis_and_scale",
    _prepare_cases,
    _compare_prepare,
    mistakes=_PREPARE_MISTAKES,
    title="MNIST images as a CNN's input",
    references=[
        cnn.add_channel_axis_and_scale,
        cnn.add_channel_axis,
        mnist_models.normalize_images,
    ],
)


# --- count_conv_params ------------------------------------------------------------------------


def _count_cases(rng: np.random.Generator) -> list[Case]:
    specs = [(3, 1, 32), (3, 32, 64)]
    for _ in range(2):
        specs.append(
            (int(rng.choice([1, 3, 5, 7])), int(rng.integers(2, 65)), int(rng.integers(1, 129)))
        )
    return [
        Case(
            description=f"kernel_size={k}, in_channels={c}, filters={f}",
            args=(k, c, f),
            expected=cnn.count_conv_params(k, c, f),
            hint=(
                "Each filter is a kernel_size x kernel_size x in_channels block of weights "
                "plus one bias."
            ),
        )
        for k, c, f in specs
    ]


_COUNT_MISTAKES = {
    "the biases are missing (one per filter)": (
        lambda kernel_size, in_channels, filters: kernel_size**2 * in_channels * filters
    ),
    "each kernel spans all in_channels of its input": (
        lambda kernel_size, in_channels, filters: kernel_size**2 * filters + filters
    ),
    "a kernel is kernel_size x kernel_size, not kernel_size wide": (
        lambda kernel_size, in_channels, filters: kernel_size * in_channels * filters + filters
    ),
}


def _compare_count(got: Any, case: Case) -> str | None:
    want = case.expected
    try:
        value = int(got)
    except (TypeError, ValueError):
        return f"expected the integer {want}, got {got!r}"
    if value != got:
        return f"expected the integer {want}, got {got!r}"
    if value == want:
        return None
    message = f"expected {want}, got {value}"
    explanation = exact_mistake(value, _COUNT_MISTAKES, case)
    return f"{message}: {explanation}" if explanation else message


COUNT_CONV_PARAMS = define(
    TOPIC,
    "count_conv_params",
    _count_cases,
    _compare_count,
    mistakes=_COUNT_MISTAKES,
    title="Parameters of a convolution layer",
    references=[cnn.count_conv_params],
)


# --- conv_output_shape ------------------------------------------------------------------------


def _random_stack(rng: np.random.Generator) -> list[tuple]:
    layers: list[tuple] = []
    for index in range(int(rng.integers(2, 5))):
        if index and rng.random() < 0.5:
            layers.append(("pool", int(rng.choice([2, 3]))))
        kernel_sizes = [1, 3, 5] if index else [3, 5]  # the first convolution always shrinks
        layers.append(("conv", int(rng.choice([8, 16, 32, 48])), int(rng.choice(kernel_sizes))))
    return layers


def _shape_cases(rng: np.random.Generator) -> list[Case]:
    stacks = [((28, 28, 1), cnn.layer_specs())]
    while len(stacks) < 4:
        shape = (int(rng.integers(24, 65)), int(rng.integers(24, 65)), int(rng.choice([1, 3])))
        layers = _random_stack(rng)
        try:
            cnn.conv_output_shape(shape, layers)
        except ValueError:
            continue
        stacks.append((shape, layers))
    return [
        Case(
            description=f"input_shape={shape}, layers={layers}",
            args=(shape, layers),
            expected=cnn.conv_output_shape(shape, layers),
            hint=(
                "A 'valid' k x k convolution shrinks each side by k - 1 and its output depth is "
                "its number of filters; a p x p pooling divides each side by p, rounding down "
                "(//), and keeps the depth."
            ),
        )
        for shape, layers in stacks
    ]


def _shape_without(layers: list[tuple], shape: tuple, mistake: str) -> tuple | None:
    height, width, channels = shape
    for layer in layers:
        if layer[0] == "conv":
            kernel = layer[2]
            if mistake != "same":
                height, width = height - kernel + 1, width - kernel + 1
            if mistake == "shrink_by_kernel":
                height, width = height - 1, width - 1
            if mistake != "depth":
                channels = layer[1]
        else:
            size = layer[1]
            if mistake == "ceil":
                height, width = -(-height // size), -(-width // size)
            else:
                height, width = height // size, width // size
    return height, width, channels


_SHAPE_MISTAKES = {
    "a 'valid' convolution (no padding) shrinks each side by kernel_size - 1": (
        lambda shape, layers: _shape_without(layers, shape, "same")
    ),
    "a convolution's output depth is its number of filters": (
        lambda shape, layers: _shape_without(layers, shape, "depth")
    ),
    "pooling rounds down (//), as Keras's MaxPooling2D does by default": (
        lambda shape, layers: _shape_without(layers, shape, "ceil")
    ),
    "a k x k convolution shrinks each side by k - 1, not by k": (
        lambda shape, layers: _shape_without(layers, shape, "shrink_by_kernel")
    ),
}


def _compare_shape(got: Any, case: Case) -> str | None:
    want = case.expected
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"expected a tuple (height, width, channels) like {want}, got {got!r}"
    try:
        value = tuple(int(n) for n in got)
    except (TypeError, ValueError):
        return f"expected three integers like {want}, got {got!r}"
    if value == tuple(want):
        return None
    message = f"expected {tuple(want)}, got {value}"
    explanation = exact_mistake(value, _SHAPE_MISTAKES, case)
    return f"{message}: {explanation}" if explanation else message


CONV_OUTPUT_SHAPE = define(
    TOPIC,
    "conv_output_shape",
    _shape_cases,
    _compare_shape,
    mistakes=_SHAPE_MISTAKES,
    title="The shape after convolutions and poolings",
    references=[cnn.conv_output_shape],
)


# --- build_cnn --------------------------------------------------------------------------------


_BUILD_HINT = (
    "keras.Sequential([keras.Input(shape=(28, 28, 1)), Conv2D(32, (3, 3), activation='relu'), "
    "MaxPooling2D((2, 2)), Conv2D(64, (3, 3), activation='relu'), MaxPooling2D((2, 2)), "
    "Conv2D(64, (3, 3), activation='relu'), Flatten(), Dense(64, activation='relu'), "
    "Dense(num_classes, activation='softmax')])"
)


def _build_images(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.integers(2, 5))
    return rng.uniform(0.0, 1.0, size=(count, 28, 28, 1)).astype(np.float32)


BUILD_CNN = define_classifier(
    TOPIC,
    "build_cnn",
    cnn.build_simple_cnn,
    _build_images,
    title="The course's simple CNN",
    references=[cnn.build_simple_cnn],
    hint=_BUILD_HINT,
    images_text="random [28, 28, 1] images",
    input_hint="keras.Input(shape=(28, 28, 1))",
    output_hint="flatten the last feature maps and end with num_classes units",
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (ADD_CHANNEL_AXIS_AND_SCALE, COUNT_CONV_PARAMS, CONV_OUTPUT_SHAPE, BUILD_CNN)
