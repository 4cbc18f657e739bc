# custom-audiences: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install run test lint fmt typecheck pytest fuzz crash-loops bench load clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: $(VENV)/.synced ## Create .venv/ with the service and its dev tools (from uv.lock)

run: install ## Start the API and its worker on the embedded SQLite database (./data/)
	$(BIN)/custom-audiences serve

lint: install ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install ## mypy, strict on src/
	$(BIN)/mypy

pytest: install ## The test suite only (PostgreSQL/Redis suites skip when those servers are absent)
	$(BIN)/pytest

test: lint typecheck pytest ## Everything CI runs: lint, types, and the whole test suite

FUZZ_EXAMPLES ?= 200
fuzz: install ## The model-based and schemathesis suites with many more examples (FUZZ_EXAMPLES=200)
	CUSTOM_AUDIENCES_MODEL_EXAMPLES=$(FUZZ_EXAMPLES) CUSTOM_AUDIENCES_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest tests/model tests/fuzz --timeout 3600

CRASH_ROUNDS ?= 200
crash-loops: install ## SIGKILL crash loops, long: CRASH_ROUNDS rounds per engine, a quarter of them ~10 MB
	CUSTOM_AUDIENCES_CRASH_ROUNDS=$(CRASH_ROUNDS) CUSTOM_AUDIENCES_CRASH_BIG_SHARE=0.25 \
		$(BIN)/pytest tests/acceptance/test_crash_loops.py

bench: install ## Benchmarks against a real server, as ratios to raw-engine baselines (BENCH_ARGS=--quick)
	$(BIN)/python -m bench $(BENCH_ARGS)

load: install ## Load on loopback: 200 clients, 50 slow ones, latencies and RSS across runs (LOAD_ARGS=--seconds 20)
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean: ## Remove the virtualenvs, caches and local data
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache data
