"""Who may see and manage users. Users are visible only inside their organization.

Acting on another user also goes through the shared rank rule (`can_act_on_user`): an
administrator manages managers and below, never a peer or the owner.
"""

from labelops_common.auth.policies import (
    ADMIN_ROLES,
    MANAGER_ROLES,
    can_act_on_user,
    can_grant_role,
)
from labelops_common.auth.principal import Principal, Role


def can_list_users(principal: Principal) -> bool:
    return principal.role in MANAGER_ROLES


def can_view_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id or principal.role in MANAGER_ROLES


def can_create_user(principal: Principal) -> bool:
    return principal.role in ADMIN_ROLES


def can_give_role(principal: Principal, role: Role) -> bool:
    return can_grant_role(principal, role)


def can_update_user(principal: Principal, user_id: int, role: Role) -> bool:
    """Oneself, or as an administrator a user of a lower rank."""
    return principal.user_id == user_id or (
        principal.role in ADMIN_ROLES and can_act_on_user(principal, user_id=user_id, role=role)
    )


def can_delete_user(principal: Principal, user_id: int, role: Role) -> bool:
    return (
        principal.user_id != user_id
        and principal.role in ADMIN_ROLES
        and can_act_on_user(principal, user_id=user_id, role=role)
    )
