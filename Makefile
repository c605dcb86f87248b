# `make run` and `make test` each create .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test sandbox bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/synthgym run --out data/runs/default

# The sandbox tests need a Docker engine and the offline-built image.
sandbox:
	bash scripts/setup-sandbox.sh

test: $(STAMP) sandbox
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/synthgym bench

clean:
	rm -rf $(VENV) data/runs
