"""Who may see and manage users. Users are visible only inside their organization.

Acting on another user also goes through the shared rank rule (`can_act_on_user`): an
administrator manages managers and below, never a peer or the owner.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import can_act_on_user, can_grant_role
from labelops_common.auth.principal import Principal, Role


def can_list_users(principal: Principal) -> bool:
    return can(principal, Action.VIEW_USERS)


def can_view_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id or can(principal, Action.VIEW_USERS)


def can_create_user(principal: Principal) -> bool:
    return can(principal, Action.MANAGE_USERS)


def can_give_role(principal: Principal, role: Role) -> bool:
    return can_grant_role(principal, role)


def can_update_user(principal: Principal, user_id: int, role: Role) -> bool:
    """Oneself, or as an administrator a user of a lower rank."""
    return principal.user_id == user_id or (
        can(principal, Action.MANAGE_USERS)
        and can_act_on_user(principal, user_id=user_id, role=role)
    )


def can_delete_user(principal: Principal, user_id: int, role: Role) -> bool:
    return (
        principal.user_id != user_id
        and can(principal, Action.MANAGE_USERS)
        and can_act_on_user(principal, user_id=user_id, role=role)
    )
