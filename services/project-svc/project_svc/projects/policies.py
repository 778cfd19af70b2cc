"""Who may do what to a project.

Every member of the project's organization may read it (annotators need its config to
label); owners, administrators and managers may create, change and delete projects.
A project of another organization is not found rather than forbidden, so ids don't leak.
"""

from labelops_common.auth.policies import MANAGER_ROLES
from labelops_common.auth.principal import Principal


def can_view_project(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_create_project(principal: Principal) -> bool:
    return principal.role in MANAGER_ROLES


def can_update_project(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in MANAGER_ROLES


def can_delete_project(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in MANAGER_ROLES


#: Actions other services ask about over gRPC (`CheckProjectAccess`), mapped to policies.
def can_perform(principal: Principal, organization_id: int, action: str) -> bool:
    if action in {"view", "annotate"}:
        return can_view_project(principal, organization_id)
    if action in {"update", "manage", "import", "export", "delete"}:
        return can_update_project(principal, organization_id)
    return False
