"""The permission table: which organization role may do what, written once.

Every service's named policies (`task_svc/access.py`, `project_svc/*/policies.py`, the
export, storage and ML policies) ask `can(principal, Action.X)` and add only what the table
cannot say: that the object is in the caller's organization, that an annotator is a member
of the project, that they wrote the annotation. The README's table is rendered from
`PERMISSIONS` by `scripts/permissions.py` (its `check` mode fails when they drift), and
`tests/test_permission_table.py` checks every cell through the HTTP API.
"""

from __future__ import annotations

from enum import StrEnum

from labelops_common.auth.principal import Principal, Role


class Action(StrEnum):
    """What a caller asks to do; the value is the row's name in the README."""

    VIEW_ORGANIZATION = "view organization, labels and member list"
    MANAGE_ORGANIZATION = "manage organization settings, invites, JWT and session policy"
    VIEW_USERS = "view users and the invite link"
    MANAGE_USERS = "create users, change roles, remove members"
    VIEW_ALL_PROJECTS = "see every project without being a member"
    CREATE_PROJECT = "create projects"
    MANAGE_PROJECT = "change or delete a project, its labeling config and members"
    VIEW_TASKS = "view tasks of a project one sees"
    MANAGE_TASKS = "import, edit and delete tasks and predictions"
    ANNOTATE = "annotate (create and change own annotations and drafts)"
    VIEW_OTHERS_ANNOTATIONS = "view others' annotations, whatever the project's setting"
    CHANGE_OTHERS_ANNOTATIONS = "change or delete others' annotations and views"
    MARK_GROUND_TRUTH = "mark ground truth"
    REVIEW = "review annotations"
    ASSIGN = "assign tasks"
    VIEW_ANALYTICS = "view analytics"
    VIEW_AUDIT_LOG = "view the audit log"
    EXPORT = "export"
    MANAGE_STORAGES = "manage cloud storages"
    MANAGE_ML_BACKENDS = "manage ML backends"
    MANAGE_PROJECT_WEBHOOKS = "manage a project's webhooks"
    MANAGE_ORGANIZATION_WEBHOOKS = "manage organization webhooks"
    MANAGE_LABELS = "change the label library"
    COMMENT = "comment on tasks and annotations one sees"
    MODERATE_COMMENTS = "delete others' comments"


_EVERYONE = frozenset(Role)
_REVIEWERS = frozenset({Role.OWNER, Role.ADMINISTRATOR, Role.MANAGER, Role.REVIEWER})
_MANAGERS = frozenset({Role.OWNER, Role.ADMINISTRATOR, Role.MANAGER})
_ADMINISTRATORS = frozenset({Role.OWNER, Role.ADMINISTRATOR})

#: Action -> the roles allowed it. Annotators and reviewers act only inside projects they
#: are members of (`can_see_project`); managers and up see every project of their
#: organization.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_ORGANIZATION: _EVERYONE,
    Action.MANAGE_ORGANIZATION: _ADMINISTRATORS,
    Action.VIEW_USERS: _MANAGERS,
    Action.MANAGE_USERS: _ADMINISTRATORS,
    Action.VIEW_ALL_PROJECTS: _MANAGERS,
    Action.CREATE_PROJECT: _MANAGERS,
    Action.MANAGE_PROJECT: _MANAGERS,
    Action.VIEW_TASKS: _EVERYONE,
    Action.MANAGE_TASKS: _MANAGERS,
    Action.ANNOTATE: _EVERYONE,
    Action.VIEW_OTHERS_ANNOTATIONS: _REVIEWERS,
    Action.CHANGE_OTHERS_ANNOTATIONS: _MANAGERS,
    Action.MARK_GROUND_TRUTH: _MANAGERS,
    Action.REVIEW: _REVIEWERS,
    Action.ASSIGN: _MANAGERS,
    Action.VIEW_ANALYTICS: _MANAGERS,
    Action.VIEW_AUDIT_LOG: _ADMINISTRATORS,
    Action.EXPORT: _MANAGERS,
    Action.MANAGE_STORAGES: _MANAGERS,
    Action.MANAGE_ML_BACKENDS: _MANAGERS,
    Action.MANAGE_PROJECT_WEBHOOKS: _MANAGERS,
    Action.MANAGE_ORGANIZATION_WEBHOOKS: _ADMINISTRATORS,
    Action.MANAGE_LABELS: _MANAGERS,
    Action.COMMENT: _EVERYONE,
    Action.MODERATE_COMMENTS: _MANAGERS,
}


def roles_allowed(action: Action) -> frozenset[Role]:
    return PERMISSIONS[action]


def can(principal: Principal, action: Action) -> bool:
    """Does the caller's role allow `action`? (Organization and membership are the
    policies' part.)"""
    return principal.role in PERMISSIONS[action]


def render_table() -> str:
    """The table as Markdown, for the README (`scripts/permissions.py`)."""
    roles = list(Role)
    lines = [
        "| action | " + " | ".join(role.value for role in roles) + " |",
        "| --- | " + " | ".join(":---:" for _ in roles) + " |",
    ]
    for action in Action:
        cells = ["yes" if role in PERMISSIONS[action] else "—" for role in roles]
        lines.append(f"| {action.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
