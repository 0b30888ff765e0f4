# Two commands matter: `make run` and `make test`. Both bootstrap everything they need on a
# machine that has Python 3.11+, Node.js 20.19+ with npm, and make: a pinned uv in .tools/, the
# locked environment in .venv/, the web app's locked packages in web/node_modules/ and its
# build in web/dist/ (see docs/operations.md).

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

.PHONY: run test lint lint-web test-web format bench install check-python check-node \
	web web-deps api-types chromium clean

run: install web
	$(RUN) spotify-auto-playlists serve --host $(HOST) --port $(PORT)

# The browser tests (tests/web/) drive Debian's Chromium against a real `sap serve`.
test: install lint test-web web chromium
	$(RUN) pytest
	$(RUN) python scripts/smoke.py

lint: install lint-web
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy

# The web app: TypeScript's strict check and ESLint; then its component tests (Vitest).
lint-web: web-deps
	cd web && npm run --silent typecheck
	cd web && npm run --silent lint

test-web: web-deps
	cd web && npm run --silent test

# --- the web app (web/): npm ci when the lock file changed, a build when a source did ---------

NODE_MIN := 20.19
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json

web: web/dist/.built

web-deps: web/node_modules/.installed

web/node_modules/.installed: web/package.json web/package-lock.json | check-node
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/.built: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

NODE_OK := const [major, minor] = process.versions.node.split(".").map(Number); \
	process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)

check-node:
	@command -v node >/dev/null 2>&1 || { echo "error: Node.js $(NODE_MIN) or newer is needed" \
	  "to build the web app, and node is not installed (https://nodejs.org, or your system's" \
	  "package where it is recent enough)" >&2; exit 1; }
	@node -e '$(NODE_OK)' || { echo "error: Node.js $(NODE_MIN) or newer is needed to build" \
	  "the web app; this is $$(node --version)" >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "error: npm is needed beside Node.js to install" \
	  "the web app's packages, and it is not installed" >&2; exit 1; }

# The web app's TypeScript types from the server's OpenAPI document (committed).
api-types: install web-deps
	$(RUN) python scripts/api_types.py

# Debian's Chromium for the browser tests: installed when missing and we are root.
chromium:
	@test -x /usr/bin/chromium && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
	  echo "error: the browser tests need Chromium at /usr/bin/chromium; install it with:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 1; \
	fi

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
	rm -rf .venv $(TOOLS) .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist
