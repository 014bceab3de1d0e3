# Every target bootstraps .venv from the hash-pinned lock files on a fresh machine.
# The sandbox runs generated code as an unprivileged user, which must be able to execute the
# venv's interpreter: prefer the system Python (world-readable) over one under /root (pyenv).
PYTHON ?= $(shell for p in /usr/bin/python3 /usr/local/bin/python3 python3; do \
	$$p -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.specship-installed

.PHONY: demo test lint bench lock clean

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Specship needs Python 3.11+ with the venv module: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

demo: $(STAMP)
	$(BIN)/python -m bot demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/zizmor --offline --no-progress .github/workflows/*.yml examples/workflows/*.yml action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --schemafile docs/specship.schema.json examples/taskboard/.github/specship.yml \
		examples/full-stack-fastapi-template/.github/specship.yml

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Regenerate the lock files (needs uv; not part of the bootstrap).
lock:
	uv pip compile --universal --python-version 3.11 --generate-hashes -q requirements.in -o requirements.lock
	uv pip compile --universal --python-version 3.11 --generate-hashes -q requirements-dev.in -o requirements-dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .specship
