"""Autogenerate the next Alembic revision of one service: `make migration SVC=task-svc MSG="..."`.

It upgrades a throwaway SQLite database to the current head, then diffs the models.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from alembic import command
from labelops_common.migrations import alembic_config

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    parser.add_argument("message")
    args = parser.parse_args()
    package = args.service.replace("-", "_")
    script_location = ROOT / "services" / args.service / package / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        config = alembic_config(
            script_location=script_location,
            database_url=f"sqlite:///{tmp}/autogenerate.sqlite3",
            service_name=args.service,
        )
        command.upgrade(config, "head")
        existing = list((script_location / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
        script = command.revision(
            config,
            message=args.message,
            autogenerate=True,
            rev_id=f"{len(existing) + 1:04d}",
        )
    # Alembic writes its own style; make the new file pass the same checks as the rest.
    for revision in script if isinstance(script, list) else [script]:
        if revision is not None:
            path = str(revision.path)
            subprocess.run(["ruff", "check", "--fix", "--quiet", path], check=False)  # noqa: S603, S607
            subprocess.run(["ruff", "format", "--quiet", path], check=True)  # noqa: S603, S607


if __name__ == "__main__":
    main()
