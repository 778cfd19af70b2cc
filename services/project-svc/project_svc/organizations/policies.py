"""Who may do what to an organization."""

from labelops_common.auth.policies import ADMIN_ROLES, can_act_on_user
from labelops_common.auth.principal import Principal, Role


def can_view_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_update_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in ADMIN_ROLES


def can_list_members(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_remove_member(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and principal.role in ADMIN_ROLES


def can_remove_member_of_rank(principal: Principal, *, user_id: int, role: Role) -> bool:
    """Only members of a lower rank: an administrator cannot remove the owner or a peer."""
    return principal.user_id != user_id and can_act_on_user(principal, user_id=user_id, role=role)
