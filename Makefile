PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench bench-agent bench-baselines-env clean scalar-ui

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,adk]'
	$(MAKE) --no-print-directory scalar-ui
	touch $(STAMP)

# Scalar's API-docs bundle, served by the app instead of a CDN. Needs npm; without it Scalar uses its CDN.
SCALAR_VERSION := 1.46.4
SCALAR_DIR := $(VENV)/share/session-store/scalar
scalar-ui:
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p $(SCALAR_DIR) && cd $(SCALAR_DIR) && \
	  npm pack --silent @scalar/api-reference@$(SCALAR_VERSION) >/dev/null && \
	  tar xzf scalar-api-reference-$(SCALAR_VERSION).tgz --strip-components=3 package/dist/browser/standalone.js && \
	  rm -f scalar-api-reference-$(SCALAR_VERSION).tgz; \
	else echo "npm not found: /schema/scalar will load Scalar from its CDN (Swagger UI at /schema/swagger is local)"; fi

run: install
	$(BIN)/session-store serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install bench-baselines-env
	$(BIN)/python -m benchmarks.chat_loop
	$(BIN)/python -m benchmarks.ceiling
	$(BIN)/python -m benchmarks.workers
	$(BIN)/python -m benchmarks.profile
	$(BIN)/python -m benchmarks.point_read
	$(BIN)/python -m benchmarks.paths
	$(BIN)/python -m benchmarks.agent_store
	$(BIN)/python -m benchmarks.agent_http
	$(BIN)/python -m benchmarks.adk_service
	$(BIN)/python -m benchmarks.growth
	$(BIN)/python -m benchmarks.whole_read
	$(BIN)/python -m benchmarks.search
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.retention

bench-agent: install bench-baselines-env
	$(BIN)/python -m benchmarks.agent_store
	$(BIN)/python -m benchmarks.agent_http
	$(BIN)/python -m benchmarks.adk_service

# The baselines (Google ADK; the incumbent gateway's FastAPI + sync SQLAlchemy), in a virtualenv of their own: never a dependency.
bench-baselines-env: .venv-baselines/.installed-stamp
.venv-baselines/.installed-stamp: benchmarks/requirements-baselines.txt
	test -x .venv-baselines/bin/python || $(PYTHON) -m venv .venv-baselines
	.venv-baselines/bin/python -m pip install --quiet --upgrade pip
	.venv-baselines/bin/python -m pip install --quiet -r benchmarks/requirements-baselines.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-baselines data .pytest_cache .mypy_cache .ruff_cache
