# The two commands the README opens with; both set up the same machine (setup + sysdeps):
#   make run   - set up, then start the dashboard on data/kaigong.duckdb (demo data built on first start)
#   make test  - set up, then run every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSSTAMP := .sysdeps-installed
PORT ?= 8501

.PHONY: run test setup sysdeps lint bench lock demo fuzz

run: setup sysdeps
	$(BIN)/python -m ui.serve --server.port $(PORT)

test: setup sysdeps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10 -m "not load"
	$(BIN)/python -m pytest -m load

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

# Debian packages the exports (and the tests) need: Chromium (kaleido's chart images, browser
# tests), Noto CJK (Chinese glyphs), poppler-utils (PNG briefing), Pango (weasyprint's PDF),
# PostgreSQL (the DuckLake catalog; the tests start their own server), a JRE (Spark's roll-up) and
# nginx (the deployment example in deploy/, which the two-server browser test goes through).
# Installed once, as root; `make run` and `make test` both depend on it.
sysdeps:
	@if command -v chromium >/dev/null && fc-list :lang=zh | grep -q "Noto Sans CJK" \
	    && command -v pdftoppm >/dev/null && ldconfig -p | grep -q libpangoft2 \
	    && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v java >/dev/null && command -v nginx >/dev/null; then :; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 \
	    postgresql default-jre-headless nginx >/dev/null; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup sysdeps
	$(BIN)/python bench/run.py

# 10,000 generated malformed files through the reader and the loader (CI runs tests/test_fuzz.py's
# small budget only); prints the counts and the slowest and largest-memory cases.
fuzz: setup
	$(BIN)/python -m tests.fuzz_many --n $(or $(FUZZ_N),10000)

demo: setup
	$(BIN)/kaigong demo

# Re-pin: exact versions with hashes, no index URLs (a registry host must not be committed).
lock:
	$(PY) -m pip install -q uv
	uv pip compile requirements.in --python-version 3.11 --generate-hashes --no-emit-index-url \
	  --no-header -o requirements.lock
