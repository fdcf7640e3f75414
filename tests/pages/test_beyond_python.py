"""The Beyond Python page in headless Chromium: digits drawn with the mouse, read by TensorFlow.js.

Run after `make book` (`make check-pages`). Held-out digits of ``digits_cnn``'s test set are drawn
on the page's canvas as real mouse strokes (each row's run of inked 8x8 cells is one stroke, one
pen width high); the class and probability the page shows are compared with the Keras model's
prediction on the exact 28x28 input the page fed its model. The page must log no error and fetch
nothing from outside the local server.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from playwright.sync_api import Page
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from course_lib import zoo
from course_lib.data import mnist

PAGE = "book/beyond_python.html"
#: Held-out digits drawn (the test set has 360).
DIGITS = 120
#: Least share of drawn digits on which the page and Keras must pick the same class.
AGREEMENT = 0.99
#: 8x8 cells at or above this count (of 16) are inked.
INK = 8
#: Largest gap between the probability the page shows (rounded to 0.1 %) and Keras's.
PROBABILITY_TOLERANCE = 0.001
#: Least share of drawn digits the page reads as their label: the strokes keep only the inked
#: cells, so less than the model's test accuracy, but a drawing made into the model's input the
#: wrong way (transposed, off-centre, wrongly scaled) falls far below.
DRAWN_ACCURACY_FLOOR = 0.75


def _held_out_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 originals (0..16) of ``course_test_set("digits_cnn")`` and their labels."""
    digits = load_digits()
    _, images, _, labels = train_test_split(
        digits.images,
        digits.target,
        test_size=mnist.DIGITS_TEST_SIZE,
        stratify=digits.target,
        random_state=mnist.DIGITS_SPLIT_SEED,
    )
    x_test, y_test = zoo.course_test_set("digits_cnn")
    assert np.array_equal(mnist.digits_to_mnist_images(images), np.round(x_test * 255.0))
    assert np.array_equal(labels, y_test)
    return images, labels


def _strokes(digit: np.ndarray) -> list[tuple[int, int, int]]:
    """``(row, first column, last column)`` of every run of inked cells, row by row."""
    strokes = []
    for row, values in enumerate(digit >= INK):
        column = 0
        while column < len(values):
            if values[column]:
                end = column
                while end + 1 < len(values) and values[end + 1]:
                    end += 1
                strokes.append((row, column, end))
                column = end
            column += 1
    return strokes


@dataclass
class Visit:
    """The open page, the errors it logged and the addresses outside the site it asked for."""

    tab: Page
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def visit(site, browser):
    """The page, loaded with its model."""
    visit = Visit(browser.new_page(viewport={"width": 1280, "height": 900}))
    visit.tab.on("pageerror", lambda error: visit.errors.append(f"pageerror: {error}"))
    visit.tab.on(
        "console",
        lambda message: message.type == "error" and visit.errors.append(message.text),
    )

    def only_local(route):
        if route.request.url.startswith(site + "/"):
            route.continue_()
        else:
            visit.outside.append(route.request.url)
            route.abort()

    visit.tab.route("**/*", only_local)
    response = visit.tab.goto(f"{site}/{PAGE}", wait_until="load", timeout=60_000)
    assert response is not None and response.ok
    visit.tab.evaluate("() => window.beyondPython.ready")
    yield visit
    visit.tab.close()


def test_the_model_loads_from_the_book_itself(visit):
    status = visit.tab.locator("#bp-status").inner_text()
    assert status.startswith("Model loaded"), status
    assert not visit.errors, visit.errors
    assert not visit.outside, f"requests outside the local server: {visit.outside}"


def test_drawn_digits_get_the_class_keras_gives_the_same_input(visit):
    page = visit.tab
    images, labels = _held_out_digits()
    images, labels = images[:DIGITS], labels[:DIGITS]
    canvas = page.locator("#bp-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    pen = page.evaluate("() => window.beyondPython.penWidth")
    cell = pen * box["width"] / page.evaluate("() => document.getElementById('bp-canvas').width")
    left = box["x"] + (box["width"] - 8 * cell) / 2
    top = box["y"] + (box["height"] - 8 * cell) / 2

    shown, inputs, cells = [], [], []
    for digit in images:
        page.click("#bp-clear")
        for row, first, last in _strokes(digit):
            y = top + (row + 0.5) * cell
            page.mouse.move(left + (first + 0.5) * cell, y)
            page.mouse.down()
            if last > first:
                page.mouse.move(left + (last + 0.5) * cell, y)
            page.mouse.up()
        state = page.evaluate(
            """async () => {
                await window.beyondPython.settled();
                return {
                    digit: document.getElementById('bp-digit').textContent,
                    probability: document.getElementById('bp-probability').textContent,
                    input: window.beyondPython.lastInput,
                    cells: window.beyondPython.lastCells,
                };
            }"""
        )
        assert state["input"] is not None, "the page made no input from the drawing"
        percent = re.fullmatch(r"(\d+\.\d) %", state["probability"])
        assert percent, state["probability"]
        shown.append((int(state["digit"]), float(percent.group(1)) / 100))
        inputs.append(state["input"])
        cells.append(state["cells"])

    inputs = np.asarray(inputs, dtype=np.float32).reshape(-1, 28, 28)
    cells = np.asarray(cells, dtype=np.float64).reshape(-1, 8, 8)
    # The page makes its 28x28 input from its 8x8 counts as the training digits were made.
    gap = np.abs(mnist.digits_to_mnist_images(cells) - inputs * 255.0)
    assert gap.max() <= 1.0 + 1e-3, f"page input differs from digits_to_mnist_images by {gap.max()}"

    model = zoo.load_course_model("digits_cnn", compile=False)
    probabilities = model.predict(inputs, verbose=0)
    page_classes = np.array([digit for digit, _ in shown])
    keras_classes = probabilities.argmax(axis=1)
    agreement = float(np.mean(page_classes == keras_classes))
    accuracy = float(np.mean(page_classes == labels))
    same = page_classes == keras_classes
    probability_gap = np.abs(
        np.array([p for _, p in shown])[same] - probabilities.max(axis=1)[same]
    ).max()
    print(
        f"\nBeyond Python: {len(shown)} digits drawn with the mouse; page and Keras agree on "
        f"{agreement:.1%}; shown probability within {probability_gap:.4f} of Keras's; "
        f"page's class is the digit's label for {accuracy:.1%}"
    )
    assert len(shown) >= 100
    assert agreement >= AGREEMENT
    assert probability_gap <= PROBABILITY_TOLERANCE
    assert accuracy >= DRAWN_ACCURACY_FLOOR
    assert not visit.errors, visit.errors
    assert not visit.outside, f"requests outside the local server: {visit.outside}"


def test_predict_pixels_feeds_the_model_directly(visit):
    page = visit.tab
    x_test, _ = zoo.course_test_set("digits_cnn")
    image = x_test[0]
    result = page.evaluate(
        "async (pixels) => await window.beyondPython.predictPixels(pixels)", image.ravel().tolist()
    )
    model = zoo.load_course_model("digits_cnn", compile=False)
    expected = model.predict(image[None], verbose=0)[0]
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-4)
    assert result["digit"] == int(expected.argmax())
    assert page.locator("#bp-digit").inner_text() == str(result["digit"])
    assert not visit.errors, visit.errors
