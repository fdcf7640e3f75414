"""course_lib.viz: the opening figures chapters save of their own results."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from skimage.io import imread

from course_lib import viz


@pytest.fixture
def figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.linspace(0, 1, 64).reshape(8, 8))
    yield fig
    plt.close(fig)


def test_nothing_is_written_without_the_variable(figure, monkeypatch, tmp_path):
    monkeypatch.delenv(viz.FIGURES_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert viz.save_opening_figure(figure, "deepdream") is None
    assert list(tmp_path.iterdir()) == []


def test_the_figure_is_written_as_a_png_named_after_the_topic(figure, monkeypatch, tmp_path):
    monkeypatch.setenv(viz.FIGURES_ENV, str(tmp_path / "images"))
    path = viz.save_opening_figure(figure, "deepdream")
    assert path == tmp_path / "images" / "deepdream.png"
    picture = imread(path)
    assert picture.ndim == 3 and 100 < picture.shape[1] <= 400  # 4 in at 100 dpi, cropped


def test_wide_figures_are_scaled_to_at_most_960_pixels(monkeypatch, tmp_path):
    monkeypatch.setenv(viz.FIGURES_ENV, str(tmp_path))
    fig, ax = plt.subplots(figsize=(20, 3))
    ax.plot([0, 1], [0, 1])
    try:
        picture = imread(viz.save_opening_figure(fig, "wide"))
    finally:
        plt.close(fig)
    assert picture.shape[1] <= 960


def test_the_default_folder_is_the_books_images():
    path = viz.opening_figure_path("rasterizer")
    assert path.parts[-3:] == ("book", "images", "rasterizer.png")


@pytest.mark.parametrize("topic", ["", "Deep Dream", "../escape", "05_deepdream", None])
def test_bad_topics_are_refused(figure, topic):
    with pytest.raises(ValueError, match="topic"):
        viz.save_opening_figure(figure, topic)


def test_a_non_figure_is_refused():
    with pytest.raises(TypeError, match="figure"):
        viz.save_opening_figure(np.zeros((4, 4)), "deepdream")
