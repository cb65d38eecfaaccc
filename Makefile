# Folio's developer entry points. `make run` and `make test` work on a fresh Debian 12
# machine as root with only Python 3.11: uv is bootstrapped through pip, Python
# dependencies come from uv.lock, servers are installed by `folio services up`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --locked
FOLIO := $(RUN) folio

.PHONY: help uv sync run run-lite test test-unit lint contracts proto proto-check proto-release format typecheck bench mutation docs docs-serve services-up services-down services-status clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

uv: ## Install uv through pip when it is missing
	@# Debian's own python3 refuses plain `pip install` (PEP 668); uv is a standalone
	@# binary, so installing it for the user alone cannot break system packages.
	@command -v $(UV) >/dev/null 2>&1 \
	  || $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	@command -v $(UV) >/dev/null 2>&1 || { echo "uv is not at $(UV) after installing it"; exit 1; }

sync: uv ## Create .venv from uv.lock
	$(UV) sync --locked --quiet

run: sync ## Install what is missing and bring the whole platform up (folio up)
	$(FOLIO) up

run-lite: sync ## The embedded mode: SQLite, no servers
	$(FOLIO) up --lite

test: sync ## The whole suite with its real services (what CI runs)
	@# Starting the servers is measured too: it is where their set-up code runs.
	$(RUN) coverage erase
	$(RUN) coverage run -m folio services up
	@# The slowest tests are named at the end: the suite has a time budget (docs/development.md).
	$(RUN) pytest --cov-append --durations=30

test-unit: sync ## Unit tests only, no services needed
	$(RUN) pytest -m unit --no-cov

lint: sync ## ruff, ruff format --check, import-linter (contracts fresh from the tiers), the gRPC and GraphQL contracts
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) python scripts/contracts.py --check
	$(RUN) python scripts/event_schemas.py --check
	$(RUN) python scripts/graphql_schema.py --check
	$(RUN) lint-imports
	$(MAKE) --no-print-directory proto-check

BUF := .venv/bin/buf
PROTO_RELEASE ?= v1

proto: sync ## Regenerate the gRPC code under src/ from proto/ (grpcio-tools, mypy-protobuf)
	$(RUN) python scripts/proto.py

proto-check: sync ## Generated gRPC code fresh, buf lint, buf breaking against the last release
	$(RUN) python scripts/proto.py --check
	$(BUF) lint
	$(BUF) breaking --against proto/releases/$(PROTO_RELEASE).binpb

proto-release: sync ## Record the protos as released: proto/releases/$(PROTO_RELEASE).binpb (then bump PROTO_RELEASE)
	$(BUF) build -o proto/releases/$(PROTO_RELEASE).binpb

contracts: sync ## Regenerate the import contracts from [tool.folio.architecture]
	$(RUN) python scripts/contracts.py

format: sync ## Apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: sync ## mypy (strict)
	$(RUN) mypy

bench: sync ## Benchmarks: Folio beside its peers, JSON results under .folio/bench
	$(FOLIO) services up
	$(RUN) python -m benchmarks

mutation: sync ## Mutation testing of core logic with mutmut (see [tool.mutmut])
	$(RUN) mutmut run --max-children 2
	$(RUN) mutmut results

docs: sync ## Build the docs site (strict)
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs build --strict

docs-serve: sync ## Serve the docs site with live reload
	$(RUN) mkdocs serve

services-up: sync ## Install and start the real servers on 127.0.0.1
	$(FOLIO) services up

services-down: sync ## Stop the servers folio started
	$(FOLIO) services down

services-status: sync ## Show each server, its URL and health
	$(FOLIO) services status

clean: ## Remove build outputs and caches (keeps .folio data)
	rm -rf build dist site .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
