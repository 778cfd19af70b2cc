"""Who sees which analytics: any member who may see the project sees their own figures;
managers and up see everyone's (the project's totals and each person's)."""

from __future__ import annotations

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_view_analytics(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_view_everyones_analytics(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(
        principal, Action.VIEW_ANALYTICS
    )
