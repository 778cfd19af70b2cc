"""Who may use the label library: every member reads it; managers and above change it."""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal


def can_view_labels(principal: Principal) -> bool:
    return can(principal, Action.VIEW_ORGANIZATION)


def can_change_labels(principal: Principal) -> bool:
    return can(principal, Action.MANAGE_LABELS)
