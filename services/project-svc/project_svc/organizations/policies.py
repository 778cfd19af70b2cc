"""Who may do what to an organization."""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import can_act_on_user, can_grant_role
from labelops_common.auth.principal import Principal, Role


def can_view_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_update_organization(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and can(
        principal, Action.MANAGE_ORGANIZATION
    )


def can_list_members(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def can_remove_member(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id and can(principal, Action.MANAGE_USERS)


def can_remove_member_of_rank(principal: Principal, *, user_id: int, role: Role) -> bool:
    """Only members of a lower rank: an administrator cannot remove the owner or a peer."""
    return principal.user_id != user_id and can_act_on_user(principal, user_id=user_id, role=role)


def can_invite(principal: Principal) -> bool:
    """Managers and above hand out the invite link (it makes annotators)."""
    return can(principal, Action.VIEW_USERS)


def can_reset_invite(principal: Principal) -> bool:
    return can(principal, Action.MANAGE_ORGANIZATION)


def can_view_member(principal: Principal, organization_id: int, user_id: int) -> bool:
    return principal.organization_id == organization_id and (
        principal.user_id == user_id or can(principal, Action.VIEW_USERS)
    )


def can_change_member_role(
    principal: Principal, organization_id: int, *, user_id: int, role: Role, new_role: Role
) -> bool:
    """An administrator changes the role of a member of a lower rank, to a role no higher
    than their own (the shared rank rules); nobody changes their own role."""
    return (
        principal.organization_id == organization_id
        and can(principal, Action.MANAGE_USERS)
        and principal.user_id != user_id
        and can_act_on_user(principal, user_id=user_id, role=role)
        and can_grant_role(principal, new_role)
    )


def can_view_session_policy(principal: Principal) -> bool:
    return can(principal, Action.VIEW_USERS)


def can_change_session_policy(principal: Principal) -> bool:
    return can(principal, Action.MANAGE_ORGANIZATION)
