"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from ml_gateway.audit import models as _audit  # noqa: F401
    from ml_gateway.backends import models as _backends  # noqa: F401
    from ml_gateway.predictions import models as _predictions  # noqa: F401
    from ml_gateway.training import models as _training  # noqa: F401
