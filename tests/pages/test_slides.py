"""The decks in a real browser: headless Chromium opens every chapter's reveal.js deck.

Run after `make book` (`make check-pages`): the decks are made into a temporary folder from the
book build's execution cache, then each is opened from a local HTTP server (and one from
file://).
Every slide must render (shown, inside the slide's height, its images loaded, its code
highlighted) and carry speaker notes; no request may leave the machine, fail or be answered
with an error, and nothing may log an error. Screenshots of the slides go to
_build/screenshots/slides/. ``browser`` is conftest.py's headless Chromium.
"""

from pathlib import Path

import pytest

from course_lib.workshop import publish, slides

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "_build" / ".jupyter_cache"
SCREENSHOTS = ROOT / "_build" / "screenshots" / "slides"
CHAPTERS = slides.book_chapters(ROOT)

#: The current slide after ``Reveal.slide(index)``: what the test asserts about it.
SLIDE_STATE = """index => {
    Reveal.slide(index);
    const slide = Reveal.getCurrentSlide();
    const box = slide.getBoundingClientRect();
    const style = getComputedStyle(slide);
    return {
        index: Reveal.getIndices().h,
        present: slide.classList.contains("present"),
        shown: style.display !== "none" && style.visibility !== "hidden",
        width: box.width,
        height: slide.offsetHeight,
        maxHeight: Reveal.getConfig().height,
        images: [...slide.querySelectorAll("img")].map(
            i => [i.getAttribute("src"), i.complete && i.naturalWidth > 0,
                  i.getBoundingClientRect().height]),
        code: slide.querySelectorAll("pre code").length,
        highlighted: slide.querySelectorAll("pre code.hljs").length,
        notes: (Reveal.getSlideNotes() || "").trim(),
        heading: (slide.querySelector("h1, h2, h3") || {}).textContent || "",
    };
}"""


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    assert (CACHE / "global.db").is_file(), "build the book first: make book"
    out = tmp_path_factory.mktemp("slides")
    built = slides.build_decks(CHAPTERS, out, CACHE, ROOT)
    return out, {deck.topic: deck for deck in built}


@pytest.fixture(scope="module")
def server(decks):
    with publish.serve(decks[0]) as root:
        yield root


def _open(browser, url: str):
    """A page at ``url`` and the lists its requests, failures and errors are recorded in."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    seen = {"requests": [], "failures": [], "errors": []}
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on(
        "requestfailed",
        lambda request: seen["failures"].append(f"{request.url}: {request.failure}"),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and seen["failures"].append(f"{response.url}: HTTP {response.status}")
        ),
    )
    page.on(
        "console", lambda message: message.type == "error" and seen["errors"].append(message.text)
    )
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(url, wait_until="load", timeout=60_000)
    return page, seen


# Every deck over HTTP; over file:// one deck with figures and listings stands for all (they
# share one template and the same relative asset paths; tests/test_slides.py checks the paths).
FILE_TOPIC = "rasterizer" if any(c.topic == "rasterizer" for c in CHAPTERS) else CHAPTERS[0].topic


@pytest.mark.parametrize(
    ("topic", "scheme"),
    [(chapter.topic, "http") for chapter in CHAPTERS] + [(FILE_TOPIC, "file")],
)
def test_every_slide_renders_offline_with_speaker_notes(topic, scheme, decks, server, browser):
    out, built = decks
    local = server if scheme == "http" else "file://"
    url = f"{server}/{topic}.html" if scheme == "http" else (out / f"{topic}.html").as_uri()
    page, seen = _open(browser, url)
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
    assert page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts].some("
        "f => f.family.includes('Source Sans Pro') && f.status === 'loaded'))"
    )

    total = page.evaluate("Reveal.getTotalSlides()")
    assert total == built[topic].slides == page.locator(".slides > section").count()
    figures = 0
    for index in range(total):
        state = page.evaluate(SLIDE_STATE, index)
        where = f"{topic} slide {index + 1} ({state['heading'][:50]!r})"
        assert state["index"] == index and state["present"] and state["shown"], where
        assert state["width"] > 0 and 0 < state["height"] <= state["maxHeight"], (where, state)
        assert state["notes"], f"{where}: no speaker notes"
        broken = [src for src, loaded, height in state["images"] if not (loaded and height > 50)]
        assert not broken, f"{where}: images not shown {broken}"
        figures += len(state["images"])
        assert state["highlighted"] == state["code"], f"{where}: code not highlighted"
        if scheme == "http":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{topic}_{index + 1:02d}.png"))
    assert figures == built[topic].figures

    remote = [url for url in seen["requests"] if not url.startswith((local, "data:"))]
    assert not remote, f"{topic}: requests that leave the machine {remote}"
    assert not seen["failures"], f"{topic}: failed requests {seen['failures']}"
    assert not seen["errors"], f"{topic}: errors {seen['errors']}"
    page.close()


def test_the_index_links_every_deck(decks, server, browser):
    out, built = decks
    page, seen = _open(browser, f"{server}/index.html")
    links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert sorted(links) == sorted(f"{topic}.html" for topic in built)
    assert not seen["failures"] and not seen["errors"]
    page.close()
