# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python >= 3.11:
#   make demo   - the offline tour (sandbox Asana, local Slack, SQLite, no LLM, no credentials)
#   make test   - lint, type-check and the whole test suite against a real redis-server
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit serve sandbox clean

$(STAMP): pyproject.toml
	@scripts/ensure-python "$(PYTHON)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/capacity-copilot demo

test: $(STAMP) lint typecheck
	PYTHON_BIN=$(BIN)/python scripts/with-redis $(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check bot forecasting sandbox tests benchmarks
	$(BIN)/ruff format --check bot forecasting sandbox tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

serve: $(STAMP)
	$(BIN)/capacity-copilot serve

sandbox: $(STAMP)
	$(BIN)/capacity-copilot sandbox --port 8765

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis var
