"""The audit log: who changed what, written by each service in the change's transaction.

- `AuditEntryMixin`: the `audit_entries` table a service declares on its own database.
- `record_audit(session, principal, action, obj, project_id=, changes=)`: the one call a
  change makes; `changes` is built with `changes_between`/`values_summary`/`bounded_ids`
  and never holds a secret.
- `AuditLogServicer`/`register_audit_log`: the service's entries over gRPC, which
  project-svc merges for `GET /api/audit-logs/`.
- `AuditRetentionSweep`: forgets entries older than `LABELOPS_AUDIT_RETENTION_DAYS`.
"""

from labelops_common.audit.changes import (
    MASK,
    bounded_ids,
    changes_between,
    column_values,
    field_change,
    is_secret_field,
    mask_secrets,
    values_summary,
)
from labelops_common.audit.models import AUDIT_ENTRIES_TABLE, AuditEntryMixin
from labelops_common.audit.query import (
    AuditFilter,
    Before,
    list_audit_entries,
    purge_audit_entries,
)
from labelops_common.audit.record import (
    Actor,
    AuditActor,
    AuditObject,
    RequestOrigin,
    bind_request_origin,
    record_audit,
)
from labelops_common.audit.retention import AuditRetentionSweep, purge_expired_audit_entries

__all__ = [
    "AUDIT_ENTRIES_TABLE",
    "MASK",
    "Actor",
    "AuditActor",
    "AuditEntryMixin",
    "AuditFilter",
    "AuditObject",
    "AuditRetentionSweep",
    "Before",
    "RequestOrigin",
    "bind_request_origin",
    "bounded_ids",
    "changes_between",
    "column_values",
    "field_change",
    "is_secret_field",
    "list_audit_entries",
    "mask_secrets",
    "purge_audit_entries",
    "purge_expired_audit_entries",
    "record_audit",
    "values_summary",
]
