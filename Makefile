# The targets CI runs are exactly these: `make test` (after `make setup`, which it calls itself).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup dev test lint typecheck unit integration e2e fuzz infra bench clean

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	npm ci --no-audit --no-fund --loglevel=error
	scripts/ensure-chromium.sh
	touch $(STAMP)

## setup: install Python and npm dependencies (idempotent)
setup: $(STAMP)

## dev: run the whole local stack and the Functions host on http://127.0.0.1:7071/api
dev: setup
	$(BIN)/python -m devstack up

## test: lint, type-check, and every test (unit, integration, end-to-end, infrastructure)
test: setup lint typecheck
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy .

unit: setup
	$(BIN)/python -m pytest -q tests/unit

integration: setup
	$(BIN)/python -m pytest -q tests/integration tests/devstack

e2e: setup
	$(BIN)/python -m pytest -q tests/e2e tests/browser

## fuzz: Schemathesis against the OpenAPI document the app serves, in its three modes (docs/fuzzing.md)
fuzz: setup
	$(BIN)/python -m pytest -q tests/fuzz

infra: setup
	$(BIN)/python -m pytest -q tests/infra

## bench: print the benchmark figures (import time, hot-path ratios, concurrent writes, requests, retention, notices, the banner's size and page load)
bench: setup
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.requests
	$(BIN)/python -m benchmarks.incidents
	$(BIN)/python -m benchmarks.proof
	$(BIN)/python -m benchmarks.notices
	$(BIN)/python -m benchmarks.retention
	$(BIN)/python -m benchmarks.web

clean:
	rm -rf $(VENV) .venv-checkov .venv-schemathesis node_modules .stack .mypy_cache .ruff_cache .pytest_cache
