# LabelOps: `make run` serves the platform, `make test` runs every check.
SHELL := /bin/bash
UV ?= uv
UV_VERSION := 0.13.9
export LABELOPS_PORT ?= 8080
export LABELOPS_DATA_DIR ?= ./data
#: `make run` serves with one process per core.
PROCESSES ?= $(shell python3 -c 'import os; print(os.cpu_count() or 1)')

.PHONY: env web run test lint proto proto-check routes routes-check permissions openapi openapi-check migration bench bench-exports bench-ml bench-floor bench-storage bench-soak bench-analytics chart-render chart-check

env: ## create .venv from the lock file (installs uv from PyPI if missing)
	@command -v $(UV) >/dev/null || python3 -m pip install -q "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet

web: ## build the web app into web/dist (npm ci from the lock file, type-check, vite build)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

# The built app is remade when a source of it is newer (`make web` always remakes it).
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f 2>/dev/null) \
	web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json

web/dist/index.html: $(WEB_SOURCES)
	@$(MAKE) --no-print-directory web

# A laptop's model server and webhook receiver are on localhost; the chart keeps this off.
run: export LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS ?= true
run: env web/dist/index.html ## every service on $LABELOPS_PORT, a process per core (embedded PostgreSQL and queue, local disk)
	$(UV) run labelops serve --target all --port $(LABELOPS_PORT) --processes $(PROCESSES)

test: env ## lint, types, real PostgreSQL (the embedded wheel's, and 15 for a smoke run) and Redis, every test
	bash scripts/test.sh

lint: env
	$(UV) run ruff check . && $(UV) run ruff format --check . && $(UV) run lint-imports

proto: env ## regenerate the gRPC stubs from proto/
	$(UV) run python scripts/proto.py generate

proto-check: env
	$(UV) run python scripts/proto.py check

routes: env ## render the route table for nginx and Helm
	$(UV) run python scripts/routes.py generate

routes-check: env
	$(UV) run python scripts/routes.py check

permissions: env ## render the README roles table from labelops_common.auth.permissions
	$(UV) run python scripts/permissions.py generate

openapi: env ## write each service's OpenAPI document (docs/openapi) and the web types generated from them
	$(UV) run python scripts/openapi.py generate

openapi-check: env
	$(UV) run python scripts/openapi.py check

migration: env ## make migration SVC=task-svc MSG="add tasks"
	$(UV) run python scripts/new_migration.py $(SVC) "$(MSG)"

AGREEMENT_SIZES ?= 100000,1000000
bench: env ## task-svc benchmark: make bench SIZES=10000,100000 LS=1 (options: bench/README.md)
	$(UV) run --no-sync python -m bench
	$(UV) run --no-sync python -m bench.agreement --sizes $(AGREEMENT_SIZES)

bench-ml: env ## predictions through the reference ML backend: make bench-ml TASKS=10000 (options: bench/README.md)
	$(UV) run --no-sync python -m bench.ml
bench-exports: env ## export benchmark: make bench-exports SIZES=100000 LS=1 (options: bench/README.md)
	$(UV) run --no-sync python -m bench.exports

bench-floor: env ## PostgreSQL's own cost of importing the bench tasks: make bench-floor SIZE=100000
	$(UV) run --no-sync python -m bench.copy_floor --size $(or $(SIZE),100000) $(if $(LS_SECONDS),--ls-seconds $(LS_SECONDS))

bench-soak: env ## 30 minutes of mixed traffic with a worker kill and a PostgreSQL restart: make bench-soak MINUTES=30
	$(UV) run --no-sync python -m bench.soak

bench-storage: env ## storage-sync benchmark: make bench-storage SIZES=20000,100000 LS=1 (bench/README.md)
	$(UV) run --no-sync python -m bench.storage

bench-analytics: env ## analytics at scale (backfill, reads, one event): make bench-analytics SIZE=1000000
	$(UV) run --no-sync python -m bench.analytics --size $(or $(SIZE),1000000)

chart-render: env ## print the rendered chart: make chart-render VALUES=helm/labelops/values-production.yaml
	@$(UV) run python scripts/chart.py render $(if $(VALUES),-f $(VALUES))

chart-check: env ## render, lint and validate the Helm chart (tests/chart)
	$(UV) run pytest -q -p no:randomly tests/chart
