# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit chaos diagram clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: the real bot when TELEGRAM_BOT_TOKEN is set, otherwise the console chat.
run: $(STAMP)
	$(BIN)/complaint-desk run

## make test: lint, type-check, then the whole test suite.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --desk-coverage=.desk-coverage.json --desk-coverage-gate=tests/convos/coverage-exceptions.yaml

## make chaos (not part of make test): the kill loop, 100 SIGKILLs of the real bot while people
## file complaints through the fake Telegram's HTTP front; prints one table (tests/chaos).
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos

diagram: $(STAMP)
	$(BIN)/complaint-desk diagram

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
