# Two commands matter: `make run` and `make test`. Both bootstrap everything they need on a
# machine that has only Python 3.11+ and make: a pinned uv in .tools/, then the locked
# environment in .venv/ (see docs/operations.md).

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# uv must use the interpreter we checked, never download one (the network may only reach PyPI).
export UV_PYTHON := $(shell $(PYTHON) -c "import sys; print(sys.executable)" 2>/dev/null)
export UV_PYTHON_DOWNLOADS := never
RUN := $(UV) run --frozen --no-sync

HOST ?= 127.0.0.1
PORT ?= 8888

.PHONY: run test lint format bench install check-python clean

run: install
	$(RUN) spotify-auto-playlists serve --host $(HOST) --port $(PORT)

test: install lint
	$(RUN) pytest
	$(RUN) python scripts/smoke.py

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: install
	@set -e; for script in $(filter-out bench/_%,$(wildcard bench/*.py)); do \
	  echo "== $$script"; $(RUN) python $$script; done

# The project itself is installed editable, which uv does not compile: compile it here, every
# time (compileall skips what is up to date), so `sap` starts fast even where Python never
# writes .pyc files at run time (PYTHONDONTWRITEBYTECODE, a read-only tree; docs/performance.md).
install: .venv/.synced
	@$(RUN) python -m compileall -q -j 0 app

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: $(PYTHON) is older than 3.11; run 'make PYTHON=python3.11 ...'" >&2; exit 1; }

$(UV): | check-python
	@$(PYTHON) -m venv $(TOOLS) || \
	  { echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install python3-venv" >&2; exit 1; }
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: the dependencies' .pyc files are written once, at install.
.venv/.synced: pyproject.toml uv.lock Makefile $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
