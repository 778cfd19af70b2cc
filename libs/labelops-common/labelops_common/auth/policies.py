"""The one way a handler applies a policy: `authorize(some_policy(principal, ...))`.

Policies themselves are named functions in each service's domain folders (for example
`project_svc.projects.policies.can_update_project`), so the permission matrix can be read
and tested function by function. `project_for` is the check every service that serves a
project's objects (tasks, exports) starts with.
"""

from __future__ import annotations

from collections.abc import Callable

from labelops_common.auth.principal import Principal, Role
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound, PermissionDenied

#: A named policy on a project: may this principal do it there?
Policy = Callable[[Principal, ProjectInfo], bool]

#: Roles that may administer the organization (users, tokens settings).
ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR})
#: Roles that may create and configure projects.
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR, Role.MANAGER})


def authorize(allowed: bool, detail: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(detail)


def project_for(
    projects: ProjectDirectory, principal: Principal, project_id: int, policy: Policy
) -> ProjectInfo:
    """The project if the caller's organization owns it (else 404), and the policy allows."""
    project = projects.get(project_id)
    if project is None or project.organization_id != principal.organization_id:
        raise NotFound()
    authorize(policy(principal, project))
    return project
