"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from storage_sync.audit import models as _audit  # noqa: F401
    from storage_sync.storages import models as _storages  # noqa: F401
    from storage_sync.sync import models as _sync  # noqa: F401
