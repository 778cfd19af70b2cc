"""This service's audit entries, on its own database (`labelops_common.audit`)."""

from labelops_common.audit import AuditEntryMixin

from export_svc.db import Base


class AuditEntry(AuditEntryMixin, Base):
    pass
