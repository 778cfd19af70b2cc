"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from project_svc.accounts import models as _accounts  # noqa: F401
    from project_svc.audit import models as _audit  # noqa: F401
    from project_svc.labels import models as _labels  # noqa: F401
    from project_svc.members import models as _members  # noqa: F401
    from project_svc.organizations import models as _organizations  # noqa: F401
    from project_svc.projects import models as _projects  # noqa: F401
    from project_svc.tokens import models as _tokens  # noqa: F401
    from project_svc.users import models as _users  # noqa: F401
    from project_svc.webhooks import models as _webhooks  # noqa: F401
