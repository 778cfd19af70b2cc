"""Autogenerate the next Alembic revision of one service: `make migration SVC=task-svc MSG="..."`.

It upgrades a throwaway database on a throwaway embedded PostgreSQL to the current head,
then diffs the models.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from alembic import command
from labelops_common.embedded_postgres import EmbeddedPostgres
from labelops_common.migrations import alembic_config
from labelops_testing.databases import embedded_data_dir

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    parser.add_argument("message")
    args = parser.parse_args()
    package = args.service.replace("-", "_")
    script_location = ROOT / "services" / args.service / package / "migrations"
    with embedded_data_dir() as data_dir:
        server = EmbeddedPostgres(data_dir)
        server.start(databases=["autogenerate"])
        config = alembic_config(
            script_location=script_location,
            database_url=server.url("autogenerate"),
            service_name=args.service,
        )
        try:
            command.upgrade(config, "head")
            existing = list((script_location / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
            script = command.revision(
                config,
                message=args.message,
                autogenerate=True,
                rev_id=f"{len(existing) + 1:04d}",
            )
        finally:
            server.stop()
    # Alembic writes its own style; make the new file pass the same checks as the rest.
    for revision in script if isinstance(script, list) else [script]:
        if revision is not None:
            path = str(revision.path)
            subprocess.run(["ruff", "check", "--fix", "--quiet", path], check=False)  # noqa: S603, S607
            subprocess.run(["ruff", "format", "--quiet", path], check=True)  # noqa: S603, S607


if __name__ == "__main__":
    main()
