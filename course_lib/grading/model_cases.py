"""Exercises whose answer builds a Keras classifier for ``num_classes`` (``cnn.build_cnn``,
``keras_models.build_sequential``): the learner's model and the reference run on the same
images and are compared by :mod:`course_lib.grading.models`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_lib.grading.exercise import Case, Exercise, define
from course_lib.grading.models import compare_models, describe_model


def classifier_cases(
    rng: np.random.Generator,
    build_reference: Callable[[int], Any],
    draw_images: Callable[[np.random.Generator], np.ndarray],
    *,
    images_text: str,
    hint: str,
) -> list[Case]:
    """Three cases: ``num_classes`` 10 (MNIST's) and two others in [2, 12].

    Each case holds a few images ``[N, ...]`` from ``draw_images(rng)`` in ``kwargs["images"]``
    and expects :func:`describe_model` of ``build_reference(num_classes)`` on them; its
    description reads ``"num_classes=K, N <images_text>"``.
    """
    others = rng.choice([k for k in range(2, 13) if k != 10], size=2, replace=False)
    cases = []
    for num_classes in (10, *(int(k) for k in others)):
        images = draw_images(rng)
        cases.append(
            Case(
                description=f"num_classes={num_classes}, {len(images)} {images_text}",
                args=(num_classes,),
                kwargs={"images": images},
                expected=describe_model(build_reference(num_classes), images),
                hint=hint,
            )
        )
    return cases


def run_model_case(build: Any, case: Case) -> dict[str, Any]:
    """A ``run_case``: :func:`describe_model` of the learner's ``build(num_classes)``."""
    return describe_model(build(*case.args), case.kwargs["images"])


def define_classifier(
    topic: str,
    name: str,
    build_reference: Callable[[int], Any],
    draw_images: Callable[[np.random.Generator], np.ndarray],
    *,
    title: str,
    hint: str,
    images_text: str,
    input_hint: str,
    output_hint: str,
    references: Sequence[Callable] = (),
) -> Exercise:
    """Registers ``"<topic>.<name>"``: build a classifier like ``build_reference``.

    Its cases are :func:`classifier_cases`; a learner's model is compared with
    :func:`~course_lib.grading.models.compare_models`, whose feedback names ``input_hint``
    (how the model's input is declared) and ``output_hint`` (how it ends); ``references``
    are the exercise's (:attr:`~course_lib.grading.exercise.Exercise.references`).
    """

    def make_cases(rng: np.random.Generator) -> list[Case]:
        return classifier_cases(
            rng, build_reference, draw_images, images_text=images_text, hint=hint
        )

    def compare(got: dict[str, Any], case: Case) -> str | None:
        return compare_models(got, case.expected, input_hint=input_hint, output_hint=output_hint)

    return define(
        topic,
        name,
        make_cases,
        compare,
        run_case=run_model_case,
        title=title,
        references=references,
    )
