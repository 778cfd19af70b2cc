"""Who may do what to an organization."""

from labelops_common.auth.policies import ADMIN_ROLES
from labelops_common.auth.principal import Principal


def can_view_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_update_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in ADMIN_ROLES


def can_list_members(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_remove_member(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in ADMIN_ROLES
