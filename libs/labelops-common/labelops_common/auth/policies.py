"""The one way a handler applies a policy: `authorize(some_policy(principal, ...))`.

Policies themselves are named functions in each service's domain folders (for example
`project_svc.projects.policies.can_update_project`), so the permission matrix can be read
and tested function by function. `project_for` is the check every service that serves a
project's objects (tasks, exports) starts with; `can_see_project` is who sees a project at
all, written once for every service. `can_act_on_user` and `can_grant_role` are
the rank rule every policy on another user goes through. What each role may do is the
permission table of `labelops_common.auth.permissions` (`can(principal, Action.X)`).
"""

from __future__ import annotations

from collections.abc import Callable

from labelops_common.auth.permissions import Action, can, roles_allowed
from labelops_common.auth.principal import Principal, Role
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound, PermissionDenied

#: A named policy on a project: may this principal do it there?
Policy = Callable[[Principal, ProjectInfo], bool]

#: Roles that may administer the organization (users, tokens settings): read from the
#: permission table, which policies ask through `can`.
ADMIN_ROLES = roles_allowed(Action.MANAGE_ORGANIZATION)
#: Roles that may create and configure projects.
MANAGER_ROLES = roles_allowed(Action.MANAGE_PROJECT)
#: How much each role may do: `Role` lists the most powerful first.
ROLE_RANK = {role: rank for rank, role in enumerate(reversed(Role))}


def outranks(role: Role, other: Role) -> bool:
    """Strictly above: an administrator does not outrank another administrator."""
    return ROLE_RANK[role] > ROLE_RANK[other]


def can_act_on_user(principal: Principal, *, user_id: int, role: Role) -> bool:
    """Anyone may act on themselves; on another user only from a strictly higher rank, so
    nobody takes over a peer or a superior (an administrator never resets the owner)."""
    return principal.user_id == user_id or outranks(principal.role, role)


def can_grant_role(principal: Principal, role: Role) -> bool:
    """Nobody gives anyone (themselves included) a role above their own."""
    return not outranks(role, principal.role)


def can_see_project(principal: Principal, *, organization_id: int, is_member: bool) -> bool:
    """Managers and up see every project of their organization; annotators and reviewers
    only the projects they were made members of."""
    return principal.organization_id == organization_id and (
        can(principal, Action.VIEW_ALL_PROJECTS) or is_member
    )


def can_read_audit_log(principal: Principal, *, organization_id: int) -> bool:
    """The audit log of an organization (`/api/audit-logs/`): its owner and
    administrators only; it names every member and what they did."""
    return principal.organization_id == organization_id and can(principal, Action.VIEW_AUDIT_LOG)


def authorize(allowed: bool, detail: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(detail)


def project_for(
    projects: ProjectDirectory, principal: Principal, project_id: int, policy: Policy
) -> ProjectInfo:
    """The project if the caller may see it (else 404, so ids don't leak), and the policy
    allows."""
    project = projects.get(project_id)
    if project is None or not can_see_project(
        principal,
        organization_id=project.organization_id,
        is_member=principal.user_id in project.member_user_ids,
    ):
        raise NotFound()
    authorize(policy(principal, project))
    return project
