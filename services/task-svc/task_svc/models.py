"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from task_svc.counts import models as _counts  # noqa: F401
