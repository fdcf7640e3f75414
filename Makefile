# Every target bootstraps .venv from requirements.lock when it is missing or out of date.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser assets the book and the decks serve themselves (reveal.js, TensorFlow.js), from npm.
NODE_STAMP := node_modules/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export TF_ENABLE_ONEDNN_OPTS ?= 0
export COURSE_OFFLINE ?=
export PYTHONHASHSEED ?= 0

.PHONY: venv web book test unit notebooks lint format exercises check-exercises grade check-pages bench \
	bench-book figures slides rehearse publish tfg-conformance lock clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

web: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## The HTML book in _build/html, every chapter executed (cached: only changed chapters re-run).
book: $(STAMP) $(NODE_STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going

## The whole suite: lint, unit and grader tests, notebooks under nbval, the book build, and
## TensorFlow Graphics' own tests against course_lib.graphics.
test: $(STAMP) lint unit notebooks tfg-conformance

unit: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest tests -q --ignore=tests/pages --durations=25

## nbval runs solutions/ and exercises/, and the chapters with stored outputs to compare
## (# NBVAL_CHECK_OUTPUT). Every chapter executes once per run in the book build
## (tests/test_book.py, in `unit`), which fails on any error or stderr output.
CHECKED_CHAPTERS = $(shell grep -l NBVAL_CHECK_OUTPUT book/*/*.ipynb)
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 $(CHECKED_CHAPTERS) solutions exercises

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## exercises/ generated from solutions/ (refuses to overwrite edited exercise notebooks).
exercises: $(STAMP)
	$(BIN)/course assign

check-exercises: $(STAMP)
	$(BIN)/course assign --check

## Batch grading: make grade SUBMISSIONS=folder OUT=grades.csv
SUBMISSIONS ?= submissions
OUT ?= grades.csv
grade: $(STAMP)
	$(BIN)/course grade $(SUBMISSIONS) --out $(OUT)

## reveal.js decks from the chapters' slide metadata, with the figures of the executed chapters
## (run after `make book`): _build/slides/ (CHAPTERS="cnn rasterizer": only those).
slides: $(STAMP) $(NODE_STAMP)
	$(BIN)/course slides $(CHAPTERS) --out _build/slides

## The live cells of each workshop slot executed in order on this CPU; the instructor guide shows
## the times (book/workshop/rehearsal.md).
rehearse: $(STAMP)
	$(BIN)/python -m course_lib.workshop.rehearse --out book/workshop/rehearsal.md

## A folder ready for static hosting: the book, the decks, the Beyond Python page, the PDF handout.
publish: book slides
	$(BIN)/python -m course_lib.workshop.publish --out _build/publish

## Opens the built pages, the decks and the published folder in headless Chromium
## (screenshots under _build/screenshots/).
check-pages: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q tests/pages

## TensorFlow Graphics' own unit tests against course_lib.graphics: passed / total of those TFG
## passes here, at least 95 %, every other failure a documented difference
## (tests/tfg_conformance/; the wheel is fetched from PyPI once into _build/tfg). ONLY=euler: one.
tfg-conformance: $(STAMP)
	$(BIN)/python tests/tfg_conformance/run.py $(foreach m,$(ONLY),--only $(m))

## Performance suite: every benchmarks/bench_*.py, ratios in benchmarks/results.md (ONLY=conv: one).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(ONLY),--only $(ONLY))

## Each chapter executed alone: wall time and peak memory against its budget, benchmarks/book_times.md.
bench-book: $(STAMP)
	$(BIN)/python benchmarks/bench_book.py

## Each chapter executed with COURSE_FIGURES_DIR=book/images: writes the opening picture its first
## cell shows (viz.save_opening_figure), and the chapter times (ONLY=deepdream: one chapter).
figures: $(STAMP)
	mkdir -p _build
	COURSE_FIGURES_DIR=$(CURDIR)/book/images $(BIN)/python benchmarks/bench_book.py \
		$(if $(ONLY),--only $(ONLY)) --out _build/figures_times.md

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -iv '^course' > requirements.lock.new
	( sed -n '1,2p' requirements.lock; cat requirements.lock.new ) > requirements.lock.tmp
	rm requirements.lock.new && mv requirements.lock.tmp requirements.lock
	$(BIN)/python scripts/write_environment.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
