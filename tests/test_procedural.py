"""course_lib.data.procedural: the seeded, balanced 10-class shapes and textures data set."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.data import procedural
from course_lib.data.procedural import SHAPE_CLASSES, make_shapes_dataset

SHAPES = [SHAPE_CLASSES.index(name) for name in ("circle", "square", "triangle", "cross")]
TEXTURES = [label for label in range(len(SHAPE_CLASSES)) if label not in SHAPES]
#: A step between neighbouring pixels larger than this (in any channel) is an edge, not noise.
EDGE_STEP = 0.2


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    return make_shapes_dataset(30, seed=5)


def steps(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest per-channel steps to the right and downward neighbours, each ``[N, S-1, S-1]``."""
    across = np.abs(np.diff(images, axis=2)).max(axis=-1)[:, :-1, :]
    down = np.abs(np.diff(images, axis=1)).max(axis=-1)[:, :, :-1]
    return across, down


def test_shapes_dtypes_and_ranges():
    images, labels = make_shapes_dataset(3, image_size=32, seed=0)
    assert images.shape == (30, 32, 32, 3) and images.dtype == np.float32
    assert labels.shape == (30,) and labels.dtype == np.int64
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert set(labels.tolist()) <= set(range(len(SHAPE_CLASSES)))
    default_images, _ = make_shapes_dataset(1)
    side = procedural.DEFAULT_IMAGE_SIZE
    assert default_images.shape == (10, side, side, 3)


def test_ten_named_classes():
    assert len(SHAPE_CLASSES) == procedural.NUM_SHAPE_CLASSES == 10
    assert len(set(SHAPE_CLASSES)) == 10


def test_same_seed_same_images_other_seed_other_images():
    first, first_labels = make_shapes_dataset(4, image_size=40, seed=7)
    again, again_labels = make_shapes_dataset(4, image_size=40, seed=7)
    other, _ = make_shapes_dataset(4, image_size=40, seed=8)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_labels, again_labels)
    assert not np.allclose(first, other)


def test_every_class_present_balanced_and_shuffled(sample):
    _, labels = sample
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 30))
    assert not np.all(np.diff(labels) >= 0)  # shuffled, not sorted by class


def test_images_are_colourful_and_vary(sample):
    images, _ = sample
    # Foreground and background differ in colour, not only in brightness, across the set.
    channel_spread = images.max(axis=(1, 2)) - images.min(axis=(1, 2))  # [N, 3]
    assert channel_spread.max(axis=1).min() > procedural.MIN_COLOUR_DISTANCE / np.sqrt(3)
    mean_colours = images.mean(axis=(1, 2))
    assert mean_colours.std(axis=0).min() > 0.1  # backgrounds span many colours


def test_textures_have_more_edges_than_shapes(sample):
    images, labels = sample
    across, down = steps(images)
    edge_fraction = (np.maximum(across, down) > EDGE_STEP).mean(axis=(1, 2))
    assert (
        edge_fraction[np.isin(labels, SHAPES)].max()
        < edge_fraction[np.isin(labels, TEXTURES)].min()
    )


def test_stripe_classes_differ_in_orientation(sample):
    images, labels = sample
    across, down = steps(images)
    vertical_change = np.where(down > EDGE_STEP, down, 0.0).sum(axis=(1, 2))
    horizontal_change = np.where(across > EDGE_STEP, across, 0.0).sum(axis=(1, 2))
    # +1: all change is vertical (horizontal stripes), -1: all horizontal, 0: as much of both.
    orientation = (vertical_change - horizontal_change) / (vertical_change + horizontal_change)

    def of(name: str) -> np.ndarray:
        return orientation[labels == SHAPE_CLASSES.index(name)]

    assert of("horizontal_stripes").min() > 0.6  # vertical change > 4x horizontal change
    assert of("vertical_stripes").max() < -0.6
    assert np.abs(of("diagonal_stripes")).max() < 1 / 3  # within a factor 2 of each other


def test_shapes_stay_inside_the_image(sample):
    images, labels = sample
    # The border of a shape image is background: one colour, up to the noise.
    shapes = images[np.isin(labels, SHAPES)]
    border = np.concatenate(
        [shapes[:, 0], shapes[:, -1], shapes[:, :, 0], shapes[:, :, -1]], axis=1
    )  # [n, 4S, 3]
    spread = np.abs(border - np.median(border, axis=1, keepdims=True)).max(axis=(1, 2))
    assert spread.max() < EDGE_STEP


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"num_per_class": 0}, ValueError, "num_per_class"),
        ({"num_per_class": 2.5}, TypeError, "num_per_class"),
        ({"num_per_class": True}, TypeError, "num_per_class"),
        ({"num_per_class": 1, "image_size": 8}, ValueError, "image_size"),
        ({"num_per_class": 1, "image_size": 1024}, ValueError, "image_size"),
        ({"num_per_class": 1, "image_size": "48"}, TypeError, "image_size"),
        ({"num_per_class": 1, "seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        make_shapes_dataset(**kwargs)
