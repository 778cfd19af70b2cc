"""The one way a handler applies a policy: `authorize(some_policy(principal, ...))`.

Policies themselves are named functions in each service's domain folders (for example
`project_svc.projects.policies.can_update_project`), so the permission matrix can be read
and tested function by function.
"""

from __future__ import annotations

from labelops_common.auth.principal import Role
from labelops_common.http.errors import PermissionDenied

#: Roles that may administer the organization (users, tokens settings).
ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR})
#: Roles that may create and configure projects.
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR, Role.MANAGER})


def authorize(allowed: bool, detail: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(detail)
