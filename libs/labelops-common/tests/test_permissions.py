"""The permission table: complete, ordered by rank, and what `can` and the shared policies read."""

from __future__ import annotations

import pytest
from labelops_common.auth.permissions import PERMISSIONS, Action, can, render_table
from labelops_common.auth.policies import ADMIN_ROLES, MANAGER_ROLES, can_see_project
from labelops_common.auth.principal import Principal, Role

#: Most powerful last, as `ROLE_RANK` counts.
RANK = [Role.ANNOTATOR, Role.REVIEWER, Role.MANAGER, Role.ADMINISTRATOR, Role.OWNER]


def _principal(role: Role) -> Principal:
    return Principal(user_id=1, organization_id=1, role=role)


def test_every_action_has_a_row() -> None:
    assert set(PERMISSIONS) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_a_higher_role_may_do_whatever_a_lower_one_may(action: Action) -> None:
    allowed = [role in PERMISSIONS[action] for role in RANK]
    assert allowed == sorted(allowed), f"{action.name}: {allowed}"
    assert Role.OWNER in PERMISSIONS[action]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_can_reads_the_table(role: Role, action: Action) -> None:
    assert can(_principal(role), action) is (role in PERMISSIONS[action])


def test_the_roles_that_mean_something() -> None:
    """The issue's requirements, cell by cell: reviewers read everything and review, and
    annotators only annotate; the audit log is the administrators'."""
    reviewer, annotator = _principal(Role.REVIEWER), _principal(Role.ANNOTATOR)
    assert can(reviewer, Action.VIEW_OTHERS_ANNOTATIONS) and can(reviewer, Action.REVIEW)
    assert not can(reviewer, Action.MANAGE_TASKS) and not can(reviewer, Action.ASSIGN)
    assert not can(reviewer, Action.CHANGE_OTHERS_ANNOTATIONS)
    annotator_may = {action for action in Action if can(annotator, action)}
    assert annotator_may == {
        Action.VIEW_ORGANIZATION,
        Action.VIEW_TASKS,
        Action.ANNOTATE,
        Action.COMMENT,
    }
    assert not can(_principal(Role.MANAGER), Action.VIEW_AUDIT_LOG)
    assert can(_principal(Role.ADMINISTRATOR), Action.VIEW_AUDIT_LOG)


def test_the_shared_role_sets_are_rows_of_the_table() -> None:
    assert PERMISSIONS[Action.MANAGE_PROJECT] == MANAGER_ROLES
    assert PERMISSIONS[Action.MANAGE_ORGANIZATION] == ADMIN_ROLES


@pytest.mark.parametrize("role", list(Role))
def test_who_sees_a_project(role: Role) -> None:
    sees_all = role in PERMISSIONS[Action.VIEW_ALL_PROJECTS]
    principal = _principal(role)
    assert can_see_project(principal, organization_id=1, is_member=False) is sees_all
    assert can_see_project(principal, organization_id=1, is_member=True) is True
    assert can_see_project(principal, organization_id=2, is_member=True) is False


def test_the_rendered_table_has_a_row_per_action_and_a_column_per_role() -> None:
    lines = render_table().splitlines()
    assert lines[0] == "| action | owner | administrator | manager | reviewer | annotator |"
    assert len(lines) == 2 + len(Action)
    review = next(line for line in lines if line.startswith(f"| {Action.REVIEW.value} |"))
    assert review.split("|")[2:7] == [" yes ", " yes ", " yes ", " yes ", " — "]
