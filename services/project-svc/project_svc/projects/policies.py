"""Who may do what to a project.

Owners, administrators and managers see every project of their organization and may
create, change and delete them; annotators and reviewers see (and label) only the
projects they are members of (`can_see_project`, shared by every service). A project
one may not see is not found rather than forbidden, so ids don't leak.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import can_see_project
from labelops_common.auth.principal import Principal


def can_view_project(principal: Principal, organization_id: int, *, is_member: bool) -> bool:
    return can_see_project(principal, organization_id=organization_id, is_member=is_member)


def can_create_project(principal: Principal) -> bool:
    return can(principal, Action.CREATE_PROJECT)


def can_update_project(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and can(principal, Action.MANAGE_PROJECT)


def can_delete_project(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and can(principal, Action.MANAGE_PROJECT)


def can_manage_members(principal: Principal, organization_id: int) -> bool:
    return can_update_project(principal, organization_id)


#: Actions other services ask about over gRPC (`CheckProjectAccess`), as rows of the table.
REMOTE_ACTIONS = {
    "view": Action.VIEW_TASKS,
    "annotate": Action.ANNOTATE,
    "update": Action.MANAGE_PROJECT,
    "manage": Action.MANAGE_PROJECT,
    "delete": Action.MANAGE_PROJECT,
    "import": Action.MANAGE_TASKS,
    "export": Action.EXPORT,
}


def can_perform(
    principal: Principal, organization_id: int, action: str, *, is_member: bool
) -> bool:
    row = REMOTE_ACTIONS.get(action)
    return (
        row is not None
        and can_view_project(principal, organization_id, is_member=is_member)
        and can(principal, row)
    )
