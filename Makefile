# litreview: `make review` runs the whole review, `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= outputs
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install review test test-bench test-fast lint lab bench bench-scale clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install litreview with its test tools

review: install  ## run ingest -> topics -> review on data/corpus into outputs/
	$(BIN)/litreview run --out $(OUT)

test: install  ## lint, then the test suite (incl. papermill end-to-end runs; not the bench runs)
	$(BIN)/ruff check lib tests bench
	$(BIN)/python -m pytest -m "not bench_run"

test-bench: install  ## the benchmark commands end to end on small samples (seed harness, scale path)
	$(BIN)/python -m pytest -m bench_run

test-fast: install  ## the unit tests only (no papermill, no embedding model)
	$(BIN)/python -m pytest -m "not slow"

lint: install  ## ruff
	$(BIN)/ruff check lib tests bench

lab: install  ## open JupyterLab on the notebooks, kernel from .venv
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: install  ## theme-quality and seed-corpus speed benchmarks (needs ../shared/bench)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_bench.py quality seed outline

bench-scale: install  ## the whole review on 74k abstracts (needs ../shared/bench)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_bench.py scale

clean:  ## remove outputs (keeps .venv)
	rm -rf $(OUT)/data $(OUT)/figures $(OUT)/models $(OUT)/notebooks $(OUT)/report $(OUT)/manifest.json
