#!/usr/bin/env bash
# The test command (`make test`): lint, type-check, start real infrastructure, run every
# test, stop what it started. Exit status is the first failure's.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

status=0
step() {
  local name="$1"; shift
  local started=$SECONDS
  echo "==> $name"
  if "$@"; then
    echo "==> $name: ok ($((SECONDS - started)) s)"
  else
    local code=$?
    echo "==> $name: FAILED ($code)"
    [ $status -eq 0 ] && status=$code
  fi
}

step "stubs are current" uv run python scripts/proto.py check
step "rendered routes are current" uv run python scripts/routes.py check
step "monitoring copies in the chart are current" uv run python scripts/monitoring.py check
step "compose edge config is current" uv run python scripts/edge.py check
step "OpenAPI documents and web types are current" uv run python scripts/openapi.py check
step "README roles table is current" uv run python scripts/permissions.py check
step "ruff" uv run ruff check .
step "ruff format" uv run ruff format --check .
step "mypy" uv run mypy libs/labelops-common/labelops_common libs/labelops-runtime/labelops_runtime \
  libs/labelops-testing/labelops_testing services/project-svc/project_svc services/task-svc/task_svc \
  services/storage-sync/storage_sync services/export-svc/export_svc services/ml-gateway/ml_gateway \
  scripts
# The import contracts in pyproject.toml: services independent, the shared library and what
# ships import no service and no test support, router -> service -> models in every domain.
step "import contracts" uv run lint-imports

step "web app builds (types, bundle)" make --no-print-directory web
step "web lint and unit tests" bash -c 'cd web && npm run lint && npm test'

trap 'bash scripts/testinfra.sh down' EXIT
bash scripts/testinfra.sh up || { echo "==> infrastructure failed to start"; exit 1; }
set -a; . .testinfra/env; set +a

mkdir -p test-artifacts
step "pytest" uv run pytest -q -p no:randomly --junitxml=test-artifacts/junit.xml "$@"
# The oldest PostgreSQL major the chart supports (README of helm/labelops): migrations, the
# SDK against the single process, and the SQL that leans most on the server.
if [ $# -eq 0 ]; then
  step "smoke on PostgreSQL 15" env LABELOPS_TEST_POSTGRES_URL="$LABELOPS_TEST_OLDEST_POSTGRES_URL" \
    uv run pytest -q -p no:randomly --junitxml=test-artifacts/junit-postgresql-15.xml \
    tests/test_migrations_match_models.py tests/test_sdk_projects.py \
    services/task-svc/tests/fieldindexes services/task-svc/tests/labelstream
fi
exit $status
