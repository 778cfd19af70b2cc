"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from export_svc.audit import models as _audit  # noqa: F401
    from export_svc.exports import models as _exports  # noqa: F401
