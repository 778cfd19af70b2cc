"""The label library across both services: project-svc's `LABEL_LINK_*` events reach a
worker, label links count the annotations task-svc holds, `POST /api/labels/bulk`
(task-svc) relabels saved annotations, and a config change that annotations or drafts no
longer fit is refused with what is in use (project-svc asking task-svc)."""

from __future__ import annotations

from typing import Any

from labelops_common import events
from task_svc.annotations.models import Annotation

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="topic" toName="text"><Choice value="sports"/><Choice value="news"/></Choices>
</View>"""


def _region(label: str, from_name: str = "ner") -> dict[str, Any]:
    if from_name == "topic":
        return {
            "from_name": "topic",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    return {
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 2, "text": "hi", "labels": [label]},
    }


def _annotated(
    stack: Any, cast: Any, make_project: Any, *regions: dict[str, Any], actor: Any = None
) -> tuple[int, int]:
    actor = actor or cast.owner
    project = make_project(actor, label_config=CONFIG)
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "hi"}}, headers=actor.headers
    ).json()["id"]
    answer = stack.task.post(
        f"/api/tasks/{task}/annotations", json={"result": list(regions)}, headers=actor.headers
    )
    assert answer.status_code == 201, answer.text
    return project, int(answer.json()["id"])


def test_label_link_events_reach_the_worker(stack, cast, make_project, inbox) -> None:
    project = make_project(label_config=CONFIG)
    created = stack.project.post(
        "/api/labels/",
        json=[
            {"project": project, "from_name": "ner", "title": "LOC", "value": {"labels": ["LOC"]}}
        ],
        headers=cast.owner.headers,
    )
    assert created.status_code == 201, created.text
    links = stack.project.get(f"/api/label_links/?project={project}", headers=cast.owner.headers)
    [link] = links.json()["results"]
    (made,) = inbox.wait_for(events.LABEL_LINK_CREATED, project_id=project)
    assert made.payload == {"label_link_ids": [link["id"]]}

    stack.project.patch(
        f"/api/label_links/{link['id']}/", json={"from_name": "topic"}, headers=cast.owner.headers
    )
    (changed,) = inbox.wait_for(events.LABEL_LINK_UPDATED, project_id=project)
    assert changed.payload == {"label_link_ids": [link["id"]]}

    stack.project.delete(f"/api/label_links/{link['id']}/", headers=cast.owner.headers)
    (gone,) = inbox.wait_for(events.LABEL_LINK_DELETED, project_id=project)
    assert gone.payload == {"label_link_ids": [link["id"]]}


def test_a_link_counts_the_annotations_holding_its_label(stack, cast, make_project) -> None:
    project, _ = _annotated(stack, cast, make_project, _region("sports", "topic"))
    answer = stack.project.post(
        "/api/labels/",
        json=[
            {
                "project": project,
                "from_name": "topic",
                "title": "sports",
                "value": {"choices": ["sports"]},
            },
            {
                "project": project,
                "from_name": "topic",
                "title": "news",
                "value": {"choices": ["news"]},
            },
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    links = stack.project.get(f"/api/label_links/?project={project}", headers=cast.owner.headers)
    counts = {link["label"]: link["annotations_count"] for link in links.json()["results"]}
    sports, news = (item["id"] for item in answer.json())
    assert counts == {sports: 1, news: 0}


def test_bulk_relabel_rewrites_saved_annotations(stack, cast, make_project) -> None:
    project, annotation = _annotated(
        stack, cast, make_project, _region("PER"), _region("ORG"), _region("sports", "topic")
    )
    answer = stack.task.post(
        "/api/labels/bulk",
        json={"project": project, "old_label": ["PER"], "new_label": ["Person"]},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"annotations_updated": 1}
    with stack.task_runtime.database.session() as session:
        row = session.get(Annotation, annotation)
        assert row is not None
        assert [region["value"].get("labels") for region in row.result] == [
            ["Person"],
            ["ORG"],
            None,
        ]
    refused = stack.task.post(
        "/api/labels/bulk",
        json={"project": project, "old_label": ["ORG"], "new_label": ["X"]},
        headers=cast.annotator.headers,
    )
    assert refused.status_code == 403
    missing = stack.task.post(
        "/api/labels/bulk",
        json={"project": project, "new_label": ["X"]},
        headers=cast.owner.headers,
    )
    assert missing.status_code == 400 and "old_label" in missing.json()["validation_errors"]


def test_an_organization_wide_relabel_stays_in_the_organization(stack, cast, make_project) -> None:
    _, annotation = _annotated(stack, cast, make_project, _region("PER"))
    _, foreign = _annotated(stack, cast, make_project, _region("PER"), actor=cast.outsider)
    answer = stack.task.post(
        "/api/labels/bulk",
        json={"old_label": ["PER"], "new_label": ["Human"]},
        headers=cast.owner.headers,
    )
    assert answer.json() == {"annotations_updated": 1}
    with stack.task_runtime.database.session() as session:
        assert session.get(Annotation, annotation).result[0]["value"]["labels"] == ["Human"]
        assert session.get(Annotation, foreign).result[0]["value"]["labels"] == ["PER"]


def test_a_config_the_annotations_no_longer_fit_is_refused(stack, cast, make_project) -> None:
    project, _ = _annotated(stack, cast, make_project, _region("PER"), _region("sports", "topic"))
    without_per = CONFIG.replace('<Label value="PER"/>', "")
    answer = stack.project.patch(
        f"/api/projects/{project}", json={"label_config": without_per}, headers=cast.owner.headers
    )
    assert answer.status_code == 400, answer.text
    [reason] = answer.json()["validation_errors"]["label_config"]
    assert "These labels still exist in annotations or drafts" in reason
    assert "PER (1 annotation)" in reason and 'name="ner"' in reason
    stored = stack.project.get(f"/api/projects/{project}", headers=cast.owner.headers).json()
    assert stored["label_config"] == CONFIG

    without_topic = CONFIG.split("  <Choices")[0] + "</View>"
    validate = stack.project.post(
        f"/api/projects/{project}/validate",
        json={"label_config": without_topic},
        headers=cast.owner.headers,
    )
    assert validate.status_code == 400
    assert "from_name=topic" in validate.json()["validation_errors"]["label_config"][0]

    more = CONFIG.replace('<Label value="ORG"/>', '<Label value="ORG"/><Label value="LOC"/>')
    fine = stack.project.patch(
        f"/api/projects/{project}", json={"label_config": more}, headers=cast.owner.headers
    )
    assert fine.status_code == 200, fine.text


def test_labels_in_drafts_count_too(stack, cast, make_project) -> None:
    project = make_project(label_config=CONFIG)
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "hi"}}, headers=cast.owner.headers
    ).json()["id"]
    draft = stack.task.post(
        f"/api/tasks/{task}/drafts",
        json={"result": [_region("ORG")]},
        headers=cast.annotator.headers,
    )
    assert draft.status_code == 201, draft.text
    answer = stack.project.patch(
        f"/api/projects/{project}",
        json={"label_config": CONFIG.replace('<Label value="ORG"/>', "")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400
    assert "ORG (1 draft)" in answer.json()["validation_errors"]["label_config"][0]
