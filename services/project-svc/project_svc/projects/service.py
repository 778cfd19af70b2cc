"""Projects: create, read, list, change and delete, with the labeling config validated."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nh3
from labelops_common.auth.policies import can_see_project
from labelops_common.auth.principal import Principal
from labelops_common.events import (
    PROJECT_CREATED,
    PROJECT_DELETED,
    PROJECT_UPDATED,
    publish_after_commit,
)
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.labelconfig import (
    ControlTag,
    LabelConfig,
    LabelConfigError,
    parse_label_config,
)
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from project_svc.members import service as members
from project_svc.projects.models import Project
from project_svc.projects.schemas import ProjectFields

DEFAULT_LABEL_CONFIG = "<View></View>"

#: Columns a client may order the project list by (`ordering=-created_at`).
ORDERABLE_FIELDS = {
    "id": Project.id,
    "title": Project.title,
    "created_at": Project.created_at,
    "updated_at": Project.updated_at,
    "pinned_at": Project.pinned_at,
}


def validate_label_config(label_config: str) -> LabelConfig:
    try:
        return parse_label_config(label_config)
    except LabelConfigError as exc:
        raise ValidationFailed({"label_config": exc.messages}) from None


def _apply_fields(project: Project, fields: ProjectFields) -> None:
    values = fields.model_dump(exclude_unset=True)
    start_training = values.pop("start_training_on_annotation_update", None)
    if fields.assignment_settings is not None:
        # Each key given is set (null clears the cap or the timeout); absent keys stay.
        values.pop("assignment_settings", None)
        assignment = fields.assignment_settings.model_dump(exclude_unset=True)
        distribution = assignment.pop("label_stream_task_distribution", None)
        if distribution is not None:
            project.label_stream_task_distribution = distribution.value
        for name, value in assignment.items():
            setattr(project, name, value)
    if start_training is not None and "min_annotations_to_start_training" not in values:
        values["min_annotations_to_start_training"] = 1 if start_training else 0
    if "label_config" in values:
        config_text = values.pop("label_config") or DEFAULT_LABEL_CONFIG
        parsed = validate_label_config(config_text)
        project.label_config = config_text
        project.parsed_label_config = parsed.parsed_label_config()
    if values.get("expert_instruction") is not None:
        values["expert_instruction"] = nh3.clean(values["expert_instruction"])
    if values.get("show_collab_predictions") is False:
        # Label Studio clears the model version when predictions are hidden.
        values["model_version"] = ""
    for name, value in values.items():
        if value is None and name not in {
            "pinned_at",
            "task_data_login",
            "task_data_password",
            "agreement_threshold",
        }:
            continue
        setattr(project, name, value.value if hasattr(value, "value") else value)


def create_project(
    session: Session, *, organization_id: int, created_by_id: int, fields: ProjectFields
) -> Project:
    project = Project(
        organization_id=organization_id,
        created_by_id=created_by_id,
        label_config=DEFAULT_LABEL_CONFIG,
        parsed_label_config={},
    )
    _apply_fields(project, fields)
    session.add(project)
    session.flush()
    _publish(session, PROJECT_CREATED, project)
    return project


def _publish(session: Session, event: str, project: Project) -> None:
    """PROJECT_* once the change commits; the organization travels with it, since a
    deleted project's row is gone by the time its event is handled."""
    publish_after_commit(
        session,
        event,
        project_id=project.id,
        payload={"project_id": project.id, "organization_id": project.organization_id},
    )


def get_project(session: Session, *, project_id: int, principal: Principal) -> Project:
    """The project if the caller may see it (its organization's, and for annotators and
    reviewers one they are members of); otherwise not found (ids don't leak)."""
    project = session.get(Project, project_id)
    if project is None or not can_see_project(
        principal,
        organization_id=project.organization_id,
        is_member=members.is_member(session, project_id=project.id, user_id=principal.user_id),
    ):
        raise NotFound()
    return project


def update_project(session: Session, *, project: Project, fields: ProjectFields) -> Project:
    _apply_fields(project, fields)
    session.flush()
    _publish(session, PROJECT_UPDATED, project)
    return project


def delete_project(session: Session, *, project: Project) -> None:
    _publish(session, PROJECT_DELETED, project)
    session.delete(project)
    session.flush()


@dataclass(frozen=True)
class ProjectListQuery:
    #: Whose list it is: their organization's projects they may see.
    principal: Principal
    title: str | None = None
    ids: Sequence[int] = ()
    pinned: str = "all"
    search: str | None = None
    ordering: str | None = None


def _filtered(query: ProjectListQuery) -> Any:
    statement = select(Project).where(members.visible_projects(query.principal))
    if query.title:
        statement = statement.where(Project.title.ilike(f"%{query.title}%"))
    if query.ids:
        statement = statement.where(Project.id.in_(list(query.ids)))
    if query.pinned == "pinned_only":
        statement = statement.where(Project.pinned_at.is_not(None))
    elif query.pinned == "exclude_pinned":
        statement = statement.where(Project.pinned_at.is_(None))
    if query.search:
        pattern = f"%{query.search}%"
        statement = statement.where(
            or_(Project.title.ilike(pattern), Project.description.ilike(pattern))
        )
    return statement


def _ordering(ordering: str | None) -> list[Any]:
    if not ordering:
        return [Project.pinned_at.desc().nulls_last(), Project.created_at.desc(), Project.id.desc()]
    clauses: list[Any] = []
    for part in ordering.split(","):
        name = part.strip()
        descending = name.startswith("-")
        column = ORDERABLE_FIELDS.get(name.lstrip("-"))
        if column is None:
            raise ValidationFailed(
                {"ordering": [f'"{name}" is not one of {", ".join(sorted(ORDERABLE_FIELDS))}.']}
            )
        clauses.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    clauses.append(Project.id.desc())
    return clauses


def count_projects(session: Session, *, query: ProjectListQuery) -> int:
    subquery = _filtered(query).with_only_columns(Project.id).subquery()
    return session.scalar(select(func.count()).select_from(subquery)) or 0


def list_projects(
    session: Session, *, query: ProjectListQuery, offset: int, limit: int
) -> list[Project]:
    statement = _filtered(query).order_by(*_ordering(query.ordering)).offset(offset).limit(limit)
    return list(session.scalars(statement))


def config_essential_data_changed(project: Project, new_config: LabelConfig) -> bool:
    """Whether the new config changes what existing tasks and annotations rely on.

    That is: the data keys it reads, or the control names, types and object targets.
    Label changes alone are not essential (Label Studio reports them separately).
    """
    old = project.parsed_label_config or {}
    new = new_config.parsed_label_config()
    if set(old) != set(new):
        return True
    for name, control in new.items():
        previous = old.get(name, {})
        if previous.get("type") != control.get("type"):
            return True
        if sorted(previous.get("to_name", [])) != sorted(control.get("to_name", [])):
            return True
        old_inputs = sorted(i.get("value", "") for i in previous.get("inputs", []))
        new_inputs = sorted(i.get("value", "") for i in control.get("inputs", []))
        if old_inputs != new_inputs:
            return True
    return False


@dataclass(frozen=True)
class UsesInProject:
    """What a project's annotations (and drafts) hold, by control (see `GetLabelsInUse`)."""

    #: (from_name, to_name, type) → regions
    controls: dict[tuple[str, str, str], int]
    #: (from_name, label) → (regions in annotations, regions in drafts)
    labels: dict[tuple[str, str], tuple[int, int]]


def _name_pattern(name: str) -> re.Pattern[str]:
    """A control name with a Repeater's `{{idx}}` matches the names it expands to."""
    parts = re.split(r"\{\{[^}]*\}\}", name)
    return re.compile("^" + ".*".join(re.escape(part) for part in parts) + "$")


def _count(n: int, what: str) -> str | None:
    return f"{n} {what}{'s' if n > 1 else ''}" if n else None


def check_config_fits_annotations(config: LabelConfig, uses: UsesInProject) -> None:
    """Label Studio's check of a new config against what annotations and drafts hold:
    every control they name must stay (with its target and type), and every label they
    use must stay offered by its control, unless the control's labels are dynamic.

    Refused with `label_config` naming the controls or the labels in use, with counts.
    """
    controls = [(_name_pattern(name), control) for name, control in config.controls.items()]
    targets = [_name_pattern(target) for c in config.controls.values() for target in c.to_names]
    types = {control.type for control in config.controls.values()}

    def control_for(from_name: str) -> ControlTag | None:
        return next((c for pattern, c in controls if pattern.match(from_name)), None)

    misfits = []
    for (from_name, to_name, type_), regions in sorted(uses.controls.items()):
        if type_.lower() == "textarea" or (from_name == to_name and type_ == "chatmessage"):
            continue
        if (
            control_for(from_name) is None
            or not any(pattern.match(to_name) for pattern in targets)
            or type_ not in types
        ):
            misfits.append(f"{regions} with from_name={from_name}, to_name={to_name}, type={type_}")
    if misfits:
        raise ValidationFailed(
            {
                "label_config": [
                    "Created annotations are incompatible with provided labeling schema, we "
                    "found:\n" + "\n".join(misfits)
                ]
            }
        )
    every_label = {label for c in config.controls.values() for label in c.labels}
    missing: dict[str, list[str]] = {}
    for (from_name, label), (in_annotations, in_drafts) in sorted(uses.labels.items()):
        control = control_for(from_name)
        if control is None:
            total = sum(a for (name, _), (a, _d) in uses.labels.items() if name == from_name)
            raise ValidationFailed(
                {
                    "label_config": [
                        f'There are {total} annotation(s) created with tag "{from_name}", '
                        "you can't remove it"
                    ]
                }
            )
        if control.has_dynamic_labels or control.tag == "Taxonomy" or not control.labels:
            continue
        offered = (
            every_label
            if "VideoRectangle" in {c.tag for c in config.controls.values()}
            else set(control.labels)
        )
        if label not in offered:
            shown = ", ".join(
                part
                for part in (_count(in_annotations, "annotation"), _count(in_drafts, "draft"))
                if part
            )
            missing.setdefault(from_name, []).append(f"{label} ({shown})")
    if missing:
        raise ValidationFailed(
            {
                "label_config": [
                    "These labels still exist in annotations or drafts:\n"
                    + "\n".join(labels)
                    + f'\nPlease add labels to tag with name="{from_name}".'
                    for from_name, labels in missing.items()
                ]
            }
        )
