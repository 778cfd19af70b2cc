"""Imports every table module, so the metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from task_svc.agreement import models as _agreement  # noqa: F401
    from task_svc.analytics import models as _analytics  # noqa: F401
    from task_svc.annotations import models as _annotations  # noqa: F401
    from task_svc.assignments import models as _assignments  # noqa: F401
    from task_svc.audit import models as _audit  # noqa: F401
    from task_svc.bulk import models as _bulk  # noqa: F401
    from task_svc.comments import models as _comments  # noqa: F401
    from task_svc.counts import models as _counts  # noqa: F401
    from task_svc.datamanager import models as _datamanager  # noqa: F401
    from task_svc.drafts import models as _drafts  # noqa: F401
    from task_svc.events import models as _events  # noqa: F401
    from task_svc.fieldindexes import models as _fieldindexes  # noqa: F401
    from task_svc.fsm import models as _fsm  # noqa: F401
    from task_svc.imports import models as _imports  # noqa: F401
    from task_svc.labelstream import models as _labelstream  # noqa: F401
    from task_svc.predictions import models as _predictions  # noqa: F401
    from task_svc.reviews import models as _reviews  # noqa: F401
    from task_svc.tasks import models as _tasks  # noqa: F401
