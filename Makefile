# The two commands the README opens with:
#   make run   - set up the dashboard (run.lock + the exports' Debian packages), then start it on
#                data/kaigong.duckdb (demo data built on first start)
#   make test  - set up everything (run + scale + dev locks, every Debian package the tests use), run every test
# Locks are installed as they are (--no-deps --require-hashes, then pip check): nothing is resolved against
# what a registry holds on the day. WHEELS=dir installs from a wheelhouse (make wheelhouse) with no index.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
WHEELS ?=
WHEELHOUSE ?= wheelhouse
PIP_FROM := $(if $(WHEELS),--no-index --find-links $(abspath $(WHEELS)))
PIP_LOCK := $(BIN)/pip install --disable-pip-version-check -q --no-deps --require-hashes $(PIP_FROM)
APT := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
# The exports (make run): Chromium (kaleido's chart images, the browser tests), Noto CJK (Chinese glyphs),
# poppler-utils (the PNG briefing), Pango (weasyprint's PDF).
EXPORT_DEBS := chromium fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0
# The scale-out modes (make scale, make test): PostgreSQL (the DuckLake catalog; the tests start their own
# server from its binaries), a JRE (Spark's roll-up), nginx (the deployment example a browser test runs).
SCALE_DEBS := postgresql default-jre-headless nginx
# The tests only: LibreOffice renders the Word 简报 to check it opens and prints on A4 (tests/test_brief_word.py).
TEST_DEBS := libreoffice-writer-nogui

.PHONY: run test setup setup-test scale sysdeps sysdeps-scale sysdeps-test wheelhouse lint bench lock demo fuzz docs screenshots

run: setup sysdeps
	$(BIN)/python -m ui.serve --server.port $(PORT)

test: setup-test sysdeps sysdeps-scale sysdeps-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10 -m "not load"
	$(BIN)/python -m pytest -m load

setup: $(VENV)/.run
setup-test: $(VENV)/.run $(VENV)/.scale $(VENV)/.dev
scale: $(VENV)/.run $(VENV)/.scale sysdeps-scale

$(VENV)/.run: requirements/run.lock pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(PIP_LOCK) -r requirements/run.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation $(PIP_FROM) -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.scale: requirements/scale.lock $(VENV)/.run
	$(PIP_LOCK) -r requirements/scale.lock
	$(BIN)/pip check
	touch $@

$(VENV)/.dev: requirements/dev.lock $(VENV)/.run
	$(PIP_LOCK) -r requirements/dev.lock
	$(BIN)/pip check
	touch $@

# Debian packages, installed once as root (skipped when present, so an offline machine whose IT
# department installed them from its own mirror passes).
sysdeps:
	@if command -v chromium >/dev/null && fc-list :lang=zh | grep -q "Noto Sans CJK" \
	    && command -v pdftoppm >/dev/null && ldconfig -p | grep -q libpangoft2; then :; else \
	  $(APT) $(EXPORT_DEBS) >/dev/null; fi

sysdeps-scale:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v java >/dev/null \
	    && command -v nginx >/dev/null; then :; else $(APT) $(SCALE_DEBS) >/dev/null; fi

sysdeps-test:
	@if command -v soffice >/dev/null; then :; else $(APT) --no-install-recommends $(TEST_DEBS) >/dev/null; fi

# Every wheel of the dashboard's lock (and, with LOCKS="run scale", the scale-out's), for a machine with
# no network: carry the folder in, then `make run WHEELS=<folder>`. Built on a machine of the same kind
# (Linux x86_64, CPython 3.11); the hashes in the lock check every wheel on both sides.
LOCKS ?= run
wheelhouse:
	$(PY) -m pip download --disable-pip-version-check -q --no-deps --require-hashes --only-binary=:all: \
	  $(foreach l,$(LOCKS),-r requirements/$(l).lock) -d $(WHEELHOUSE)
	@echo "$(WHEELHOUSE)：$$(ls $(WHEELHOUSE) | wc -l) 个 wheel，$$(du -sh $(WHEELHOUSE) | cut -f1)"

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup-test sysdeps sysdeps-scale
	$(BIN)/python bench/run.py

# 10,000 generated malformed files through the reader and the loader (CI runs tests/test_fuzz.py's
# small budget only); prints the counts and the slowest and largest-memory cases.
fuzz: setup-test
	$(BIN)/python -m tests.fuzz_many --n $(or $(FUZZ_N),10000)

demo: setup
	$(BIN)/kaigong demo

# docs/zh/指标口径.md from the code's own definitions (tests/test_docs.py checks it is current)
docs: setup
	$(BIN)/python -m pipelines.outputs.glossary > docs/zh/指标口径.md

# Every picture the docs use, from the demo in headless Chromium (docs/screenshots.py)
screenshots: setup-test sysdeps
	$(BIN)/python docs/screenshots.py
	PHONE_PICTURES=docs $(BIN)/python -m pytest tests/test_browser_phone.py -q -p no:cacheprovider  # docs/images/phone/

# Re-pin: exact versions with hashes, no index URLs (a registry host must not be committed). Three layered
# locks, each entry in one of them only: run (the dashboard), scale (+ the lake and Spark), dev (+ tests).
LOCK_OPTS := --python-version 3.11 --generate-hashes --no-emit-index-url --no-header
lock:
	$(PY) -m pip install -q uv
	$(PY) -m uv pip compile requirements/run.in $(LOCK_OPTS) -o requirements/run.lock
	cat requirements/run.lock requirements/scale.lock > /tmp/kaigong-scale.lock
	cat requirements/run.lock requirements/scale.lock requirements/dev.lock > /tmp/kaigong-dev.lock
	$(PY) -m uv pip compile requirements/run.in requirements/scale.in -c requirements/run.lock $(LOCK_OPTS) -o /tmp/kaigong-scale.lock
	$(PY) requirements/layer.py /tmp/kaigong-scale.lock requirements/run.lock > requirements/scale.lock
	$(PY) -m uv pip compile requirements/run.in requirements/scale.in requirements/dev.in -c requirements/run.lock \
	  -c /tmp/kaigong-scale.lock $(LOCK_OPTS) -o /tmp/kaigong-dev.lock
	$(PY) requirements/layer.py /tmp/kaigong-dev.lock requirements/run.lock requirements/scale.lock > requirements/dev.lock
