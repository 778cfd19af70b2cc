"""Each service's migration history builds exactly the schema its models declare.

A model change without a migration (or a migration that drifts from the models) shows up
here as a non-empty autogenerate diff.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from labelops_common.db import create_db_engine
from labelops_common.migrations import upgrade_to_head, version_table_for
from labelops_testing.databases import scratch_database_url

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "project-svc": "project_svc",
    "task-svc": "task_svc",
    "storage-sync": "storage_sync",
    "export-svc": "export_svc",
    "ml-gateway": "ml_gateway",
}


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_migrations_match_models(service: str) -> None:
    package = PACKAGES[service]
    importlib.import_module(f"{package}.models").import_all_models()
    metadata = importlib.import_module(f"{package}.db").Base.metadata
    migrations = ROOT / "services" / service / package / "migrations"
    with scratch_database_url(service) as url:
        upgrade_to_head(script_location=migrations, database_url=url, service_name=service)
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "version_table": version_table_for(service)},
                )
                diff = compare_metadata(context, metadata)
        finally:
            engine.dispose()
    assert diff == [], f"{service} models differ from its migrations: {diff}"
