# Bedside: one command per job. Each creates .venv and installs the locked, hash-checked
# dependencies on first use (requirements.lock, made by `make lock`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint lint-imports docs bench lock clean pg

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "Installing Bedside's locked dependencies into $(VENV) (first run takes a minute or two)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## run: start Bedside on http://127.0.0.1:8080/v1 (demo upstream unless BEDSIDE_UPSTREAM_URL is set)
run: $(STAMP)
	$(BIN)/bedside serve --quickstart $(ARGS)

## test: the whole suite (starts the local PostgreSQL if it is installed and stopped)
test: $(STAMP) pg
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: everything but the end-to-end tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

pg:
	@if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then \
	  pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	fi

## lint: ruff, mypy, and the import direction (import-linter contracts in pyproject.toml)
lint: $(STAMP) lint-imports
	$(BIN)/ruff check proxy training tests bench
	$(BIN)/mypy

## lint-imports: the layers and forbidden imports of docs/architecture.md
lint-imports: $(STAMP)
	$(BIN)/lint-imports

## docs: regenerate docs/configuration.md, docs/policy-reference.md and docs/policy.schema.json
docs: $(STAMP)
	$(BIN)/bedside docs

## bench: latency/throughput against the floor (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python bench/overhead.py

## lock: re-resolve requirements.lock from pyproject.toml (needs the registry)
lock:
	$(PY) -m pip install --quiet uv
	$(PY) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	$(PY) -m uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
