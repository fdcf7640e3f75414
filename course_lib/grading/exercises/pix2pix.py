"""Exercises of the chapter "pix2pix" (book/part1/08_pix2pix).

- ``pix2pix_generator_loss(fake_logits, target, generated, l1_weight=100.0)``: the generator's
  loss ``bce(1, fake_logits) + l1_weight * mean |target - generated|``, a scalar;
- ``random_jitter(source, target)``: enlarge both ``[S, S, C]`` images to ``round(S * 286/256)``
  (nearest neighbour), crop both back to ``S`` at one random place, mirror both left-right
  with probability 1/2.

Expected answers come from ``course_lib.gan``; the jitter, being random, is judged by what its
outputs are: for every call, crops of the two enlarged images at one place, mirrored together,
and over the calls, several places, mirrored and not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.gan import losses, pix2pix
from course_lib.grading.cases import Mistake, other_shape
from course_lib.grading.exercise import Case, define

TOPIC = "pix2pix"

#: The course's weight of the L1 term.
COURSE_L1_WEIGHT = losses.PIX2PIX_LAMBDA
#: Calls of the learner's ``random_jitter`` per hidden case.
JITTER_CALLS = 12


def reference_generator_loss(fake_logits, target, generated, l1_weight=COURSE_L1_WEIGHT):
    """The reference answer: ``course_lib.gan.pix2pix_generator_loss``'s total."""
    return losses.pix2pix_generator_loss(fake_logits, target, generated, l1_weight)[0]


def reference_random_jitter(source, target):
    """The reference answer: ``course_lib.gan.pix2pix.random_jitter`` with a random seed."""
    seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    return pix2pix.random_jitter(source, target, seed)


# --- pix2pix_generator_loss -------------------------------------------------------------------

_LOSS_HINT = (
    "Add the adversarial term, the mean binary cross-entropy of the logits against the label 1 "
    "(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(fake_logits), fake_logits)), and "
    "l1_weight times the mean absolute difference tf.reduce_mean(tf.abs(target - generated))."
)


def _bce(label: float, logits: np.ndarray) -> float:
    return float(
        np.mean(np.maximum(logits, 0) - logits * label + np.log1p(np.exp(-np.abs(logits))))
    )


def _l1(target: np.ndarray, generated: np.ndarray) -> float:
    return float(np.mean(np.abs(target - generated)))


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    cases = []

    def case(batch: int, image: int, grid: int, description: str, **options) -> None:
        logits = rng.normal(0.0, 2.0, size=(batch, grid, grid, 1)).astype(np.float32)
        if options.get("zero_logits"):
            logits[:] = 0.0
        target = rng.uniform(-1.0, 1.0, size=(batch, image, image, 3)).astype(np.float32)
        generated = rng.uniform(-1.0, 1.0, size=target.shape).astype(np.float32)
        if options.get("perfect"):
            generated = target.copy()
        args = tuple(tf.constant(a) for a in (logits, target, generated))
        kwargs = {"l1_weight": options["weight"]} if "weight" in options else {}
        expected = reference_generator_loss(*args, **kwargs).numpy()
        cases.append(
            Case(
                description=f"{description}: logits {list(logits.shape)}, images "
                f"{list(target.shape)}" + (f", l1_weight={options['weight']}" if kwargs else ""),
                args=args,
                kwargs=kwargs,
                expected=expected,
                hint=_LOSS_HINT,
                rtol=1e-4,
                atol=1e-4,
            )
        )

    case(1, 8, 2, "one pair, the default lambda")
    case(int(rng.integers(2, 4)), 8, int(rng.integers(2, 5)), "a batch, the default lambda")
    case(2, 4, 2, "another lambda", weight=float(rng.choice([3.0, 10.0, 50.0])))
    case(1, 8, 3, "the generated image is the target: L1 is 0", perfect=True)
    case(2, 4, 2, "logits 0, a discriminator that cannot tell", zero_logits=True)
    return cases


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _right(logits: np.ndarray, target: np.ndarray, generated: np.ndarray, weight: float) -> float:
    return _bce(1.0, logits) + weight * _l1(target, generated)


_LOSS_MISTAKES = {
    "return the total only, one scalar, not (total, gan, l1)": Mistake(
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: np.array(
            [
                _right(logits, target, generated, l1_weight),
                _bce(1.0, logits),
                l1_weight * _l1(target, generated),
            ]
        ),
        match="shape",
    ),
    "the loss is a single number, a scalar": Mistake(
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: np.reshape(
            _right(logits, target, generated, l1_weight), (1, 1)
        ),
        match=other_shape,
    ),
    "squared differences (L2): pix2pix's term is the mean absolute difference, L1": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            _bce(1.0, logits) + l1_weight * float(np.mean((target - generated) ** 2))
        )
    ),
    "the L1 term is not weighted: multiply it by l1_weight (100 by default)": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: _right(
            logits, target, generated, 1.0
        )
    ),
    "l1_weight multiplies the adversarial term: it weighs the L1 term": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            l1_weight * _bce(1.0, logits) + _l1(target, generated)
        )
    ),
    "the label is 0: the generator wants its images called real, 1": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            _bce(0.0, logits) + l1_weight * _l1(target, generated)
        )
    ),
    "the absolute differences were summed: take their mean": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            _bce(1.0, logits) + l1_weight * float(np.sum(np.abs(target - generated)))
        )
    ),
    "the adversarial term is missing: add bce(1, fake_logits)": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            l1_weight * _l1(target, generated)
        )
    ),
    "the L1 term is missing: add l1_weight * mean |target - generated|": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: _bce(1.0, logits)
    ),
    "the logits went through a sigmoid first: sigmoid_cross_entropy_with_logits "
    "takes the logits as they are": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: _right(
            _sigmoid(logits), target, generated, l1_weight
        )
    ),
    # with the default weight this is the right answer
    "the l1_weight argument was ignored: use it instead of 100": (
        lambda logits, target, generated, l1_weight=COURSE_L1_WEIGHT: (
            _right(logits, target, generated, COURSE_L1_WEIGHT)
            if l1_weight != COURSE_L1_WEIGHT
            else None
        )
    ),
}


PIX2PIX_GENERATOR_LOSS = define(
    TOPIC,
    "pix2pix_generator_loss",
    _loss_cases,
    mistakes=_LOSS_MISTAKES,
    title="pix2pix's generator loss: GAN + lambda * L1",
    references=[
        losses.pix2pix_generator_loss,
        losses.generator_loss,
        losses.binary_cross_entropy,
        losses.mean_absolute_error,
    ],
)


# --- random_jitter ----------------------------------------------------------------------------

_JITTER_HINT = (
    "Stack the two images (tf.stack([source, target])), resize the stack to the enlarged size "
    "with method='nearest', crop it with tf.image.random_crop to (2, S, S, C), and flip the stack "
    "left-right (tf.reverse(pair, axis=[2])) when tf.random.uniform([]) < 0.5."
)


def _jitter_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for size, channels, description in (
        (32, 3, "the tutorial's 256 px at an eighth: 32 px"),
        (16, 3, "16 px"),
        (24, 1, "one channel, 24 px"),
    ):
        shape = (size, size, channels)
        source = tf.constant(rng.uniform(size=shape).astype(np.float32))
        target = tf.constant(rng.uniform(size=shape).astype(np.float32))
        big = pix2pix.jitter_size(size)
        cases.append(
            Case(
                description=f"{description}, enlarged to {big}x{big}; {JITTER_CALLS} calls",
                args=(source, target),
                kwargs={"seed": int(rng.integers(2**31 - 1))},
                expected={"size": big},
                hint=_JITTER_HINT,
            )
        )
    return cases


def _run_jitter(random_jitter: Any, case: Case) -> list:
    tf.random.set_seed(case.kwargs["seed"])
    np.random.seed(case.kwargs["seed"])
    return [random_jitter(*case.args) for _ in range(JITTER_CALLS)]


def _windows(image: np.ndarray, enlarged: np.ndarray) -> set[tuple[int, int, bool]]:
    """Every ``(top, left, mirrored)`` such that ``image`` is the crop of ``enlarged`` at
    ``(top, left)``, mirrored left-right or not."""
    size, big = image.shape[0], enlarged.shape[0]
    found = set()
    for mirrored in (False, True):
        picture = image[:, ::-1] if mirrored else image
        for top in range(big - size + 1):
            for left in range(big - size + 1):
                if np.allclose(enlarged[top : top + size, left : left + size], picture, atol=1e-6):
                    found.add((top, left, mirrored))
    return found


def _enlarge(image: tf.Tensor, big: int, method: str) -> np.ndarray:
    return tf.image.resize(image, (big, big), method=method).numpy()


def _as_pair(value: Any, shape: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    try:
        pair = tuple(np.asarray(v, dtype=np.float64) for v in value)
    except (TypeError, ValueError):
        return None
    return pair if all(p.shape == shape for p in pair) else None


def _not_a_crop(image: np.ndarray, original: tf.Tensor, big: int) -> str:
    size = image.shape[0]
    if np.allclose(image, original.numpy(), atol=1e-6):
        return f"an image came back unchanged: enlarge it to {big}x{big}, then crop back to {size}"
    if _windows(image, _enlarge(original, big, "bilinear")):
        return "enlarge with nearest-neighbour resizing, method='nearest', as the tutorial does"
    if _windows(image[::-1], _enlarge(original, big, "nearest")):
        return "mirrored upside down: mirror left-right (reverse the width axis)"
    return f"not a crop of the image enlarged to {big}x{big} (nearest neighbour), mirrored or not"


def _compare_jitter(got: list, case: Case) -> str | None:
    source, target = case.args
    shape = tuple(source.shape)
    big = case.expected["size"]
    enlarged = [_enlarge(image, big, "nearest") for image in (source, target)]
    places, mirrors = set(), set()
    for call, result in enumerate(got, start=1):
        pair = _as_pair(result, shape)
        if pair is None:
            return f"call {call}: expected a pair (source, target) of two {list(shape)} images"
        found = [_windows(image, picture) for image, picture in zip(pair, enlarged, strict=True)]
        for name, image, original, windows in zip(
            ("source", "target"), pair, (source, target), found, strict=True
        ):
            if not windows:
                return f"call {call}, {name}: " + _not_a_crop(image, original, big)
        common = found[0] & found[1]
        if not common:
            same_place = {w[:2] for w in found[0]} & {w[:2] for w in found[1]}
            same_mirror = {w[2] for w in found[0]} & {w[2] for w in found[1]}
            if same_place:
                return (
                    f"call {call}: the source and the target were mirrored independently: "
                    "flip both or neither, or the pair is no longer aligned"
                )
            if same_mirror:
                return (
                    f"call {call}: the source and the target were cropped at different places: "
                    "crop both at one random place (stack them and crop the stack)"
                )
            return f"call {call}: the source and the target were jittered independently"
        places |= {w[:2] for w in common}
        mirrors.add(all(w[2] for w in common))
    if len(places) == 1:
        return f"all {len(got)} calls cropped at the same place: choose the place at random"
    if mirrors == {False}:
        return f"none of the {len(got)} calls mirrored: mirror with probability 1/2"
    if mirrors == {True}:
        return f"all {len(got)} calls mirrored: mirror with probability 1/2, not always"
    return None


RANDOM_JITTER = define(
    TOPIC,
    "random_jitter",
    _jitter_cases,
    _compare_jitter,
    title="Random jitter and mirroring, the same for the input and its target",
    references=[pix2pix.random_jitter],
    run_case=_run_jitter,
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (PIX2PIX_GENERATOR_LOSS, RANDOM_JITTER)
