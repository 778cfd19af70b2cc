"""Agreement kept on write, read per task and per project, filtered in the data manager;
the overlap cohort decided per task."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from task_svc.agreement.models import AnnotatorPairAgreement, TaskAgreement
from task_svc.annotations.models import Annotation
from task_svc.counts.service import COHORT_STRIDE
from task_svc.tasks.models import Task


def choice(label: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


class Project:
    def __init__(self, stack: Any, cast: Any, project_id: int) -> None:
        self.stack, self.cast, self.id = stack, cast, project_id

    def task(self, text: str) -> int:
        answer = self.stack.task.post(
            "/api/tasks",
            json={"project": self.id, "data": {"text": text}},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def annotate(self, task: int, actor: Any, label: str) -> int:
        answer = self.stack.task.post(
            f"/api/tasks/{task}/annotations", json={"result": choice(label)}, headers=actor.headers
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def rows(self) -> dict[int, tuple[float | None, int, bool]]:
        with self.stack.task_runtime.database.session() as session:
            found = session.scalars(
                select(TaskAgreement).where(TaskAgreement.project_id == self.id)
            )
            return {r.task_id: (r.agreement, r.annotations_count, r.needs_review) for r in found}

    def pairs(self) -> list[tuple[int, int, int, float]]:
        with self.stack.task_runtime.database.session() as session:
            found = session.scalars(
                select(AnnotatorPairAgreement)
                .where(AnnotatorPairAgreement.project_id == self.id)
                .order_by(AnnotatorPairAgreement.task_id)
            )
            return [(p.task_id, p.annotator_a, p.annotator_b, p.score) for p in found]

    def filtered(self, *items: dict[str, Any], ordering: list[str] | None = None) -> Any:
        query: dict[str, Any] = {"filters": {"conjunction": "and", "items": list(items)}}
        if ordering:
            query["ordering"] = ordering
        return self.stack.task.get(
            "/api/tasks",
            params={"project": self.id, "query": json.dumps(query)},
            headers=self.cast.owner.headers,
        )

    def ids(self, *items: dict[str, Any], ordering: list[str] | None = None) -> list[int]:
        answer = self.filtered(*items, ordering=ordering)
        assert answer.status_code == 200, answer.text
        return [task["id"] for task in answer.json()["tasks"]]


def agreement(operator: str, value: Any) -> dict[str, Any]:
    return {
        "filter": "filter:tasks:agreement",
        "operator": operator,
        "type": "Number",
        "value": value,
    }


@pytest.fixture()
def scored(stack: Any, cast: Any, make_project: Any) -> tuple[Project, list[int]]:
    """Overlap 2, threshold 0.75. Tasks: agree (P, P), disagree (P, N), agree (N, N), one
    annotator only, none."""
    project = Project(stack, cast, make_project(maximum_annotations=2, agreement_threshold=0.75))
    tasks = [project.task(text) for text in ("agree", "disagree", "negative", "single", "none")]
    pairs = [("Positive", "Positive"), ("Positive", "Negative"), ("Negative", "Negative")]
    for task, (first, second) in zip(tasks[:3], pairs, strict=True):
        project.annotate(task, cast.annotator, first)
        project.annotate(task, cast.annotator2, second)
    project.annotate(tasks[3], cast.annotator, "Positive")
    return project, tasks


def test_each_write_keeps_the_task_and_pair_rows(scored: Any, cast: Any) -> None:
    project, (agree, disagree, negative, single, _none) = scored
    a, b = sorted((cast.annotator.user_id, cast.annotator2.user_id))
    # Two annotators on one choices control: 1 when they pick the same, else 0. Below
    # 0.75 the task needs review. One annotator alone gets no row.
    assert project.rows() == {
        agree: (1.0, 2, False),
        disagree: (0.0, 2, True),
        negative: (1.0, 2, False),
    }
    assert project.pairs() == [(agree, a, b, 1.0), (disagree, a, b, 0.0), (negative, a, b, 1.0)]

    # The second annotator changes their mind: the pair now agrees.
    with project.stack.task_runtime.database.session() as session:
        annotation_id = session.scalar(
            select(Annotation.id).where(
                Annotation.task_id == disagree,
                Annotation.completed_by_id == cast.annotator2.user_id,
            )
        )
    answer = project.stack.task.patch(
        f"/api/annotations/{annotation_id}",
        json={"result": choice("Positive")},
        headers=cast.annotator2.headers,
    )
    assert answer.status_code == 200, answer.text
    assert project.rows()[disagree] == (1.0, 2, False)

    # A second annotator on `single`, then gone again: the row follows, down to no score.
    second = project.annotate(single, cast.annotator2, "Negative")
    assert project.rows()[single] == (0.0, 2, True)
    deleted = project.stack.task.delete(
        f"/api/annotations/{second}", headers=cast.annotator2.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert project.rows()[single] == (None, 1, False)
    assert [p for p in project.pairs() if p[0] == single] == []


def test_the_task_answer_names_pairs_for_managers_only(scored: Any, stack: Any, cast: Any) -> None:
    _project, (_agree, disagree, *_rest) = scored
    a, b = sorted((cast.annotator.user_id, cast.annotator2.user_id))
    answer = stack.task.get(f"/api/tasks/{disagree}/agreement/", headers=cast.manager.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["agreement"] == 0.0
    assert body["needs_review"] is True
    assert body["annotators_count"] == 2
    assert body["controls"] == {"sentiment": 0.0}
    assert body["pairs"] == [
        {"annotator_a": a, "annotator_b": b, "score": 0.0, "controls": {"sentiment": 0.0}}
    ]
    assert body["distributions"]["sentiment"]["labels"] == {"Positive": 1, "Negative": 1}
    as_annotator = stack.task.get(
        f"/api/tasks/{disagree}/agreement/", headers=cast.annotator.headers
    )
    assert as_annotator.status_code == 200
    assert as_annotator.json()["agreement"] == 0.0
    assert as_annotator.json()["pairs"] == []
    assert (
        stack.task.get(f"/api/tasks/{disagree}/agreement/", headers=cast.outsider.headers)
    ).status_code == 404
    assert stack.task.get(f"/api/tasks/{disagree}/agreement/").status_code == 401


def test_the_project_answer_hand_calculated(scored: Any, stack: Any, cast: Any) -> None:
    project, _tasks = scored
    answer = stack.task.get(f"/api/projects/{project.id}/agreement/", headers=cast.owner.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    a, b = sorted((cast.annotator.user_id, cast.annotator2.user_id))
    # Three scored tasks: (1 + 0 + 1) / 3.
    assert body["agreement"] == pytest.approx((1 + 0 + 1) / 3)
    assert body["tasks_with_agreement"] == 3
    assert body["tasks_needing_review"] == 1
    assert body["agreement_threshold"] == 0.75
    # Krippendorff's alpha (nominal), units with two values: (P,P), (P,N), (N,N);
    # n = 6 values, n_P = 3, n_N = 3. Disagreeing ordered pairs o_PN + o_NP = 2.
    # D_o = 2 / 6; D_e = (3 x 3 + 3 x 3) / (6 x 5) = 18 / 30; alpha = 1 - D_o / D_e = 4/9.
    # (The single annotator's task has one value: not pairable, left out.)
    expected_alpha = 1 - (2 / 6) / (18 / 30)
    assert expected_alpha == pytest.approx(4 / 9)
    assert body["krippendorff_alpha"] == pytest.approx(expected_alpha)
    assert body["krippendorff_alpha_per_control"] == [
        {"control": "sentiment", "alpha": pytest.approx(expected_alpha), "tasks": 3}
    ]
    assert body["pairs"] == [
        {"annotator_a": a, "annotator_b": b, "agreement": pytest.approx(2 / 3), "tasks": 3}
    ]
    assert body["annotators"] == [
        {"annotator": a, "agreement": pytest.approx(2 / 3), "tasks": 3},
        {"annotator": b, "agreement": pytest.approx(2 / 3), "tasks": 3},
    ]
    for who, status in ((cast.annotator, 403), (cast.outsider, 404)):
        denied = stack.task.get(f"/api/projects/{project.id}/agreement/", headers=who.headers)
        assert denied.status_code == status, (who, denied.text)


def test_the_data_manager_filters_and_orders_by_agreement(scored: Any) -> None:
    project, (agree, disagree, negative, single, none) = scored
    assert project.ids(agreement("less", 0.5)) == [disagree]
    assert project.ids(agreement("greater_or_equal", 1)) == [agree, negative]
    assert project.ids(agreement("in", {"min": 0, "max": 0.5})) == [disagree]
    # "Not 1" keeps the tasks without a score, as for a NULL task column.
    assert project.ids(agreement("not_equal", 1)) == [disagree, single, none]
    assert project.ids(agreement("empty", True)) == [single, none]
    assert project.ids(agreement("empty", False)) == [agree, disagree, negative]
    # Ordered by agreement, lowest first, unscored last (PostgreSQL's NULLS LAST ascending).
    assert project.ids(ordering=["tasks:agreement"]) == [
        disagree,
        agree,
        negative,
        single,
        none,
    ]
    rows = project.filtered(agreement("less", 0.5)).json()["tasks"]
    assert [(row["id"], row["agreement"]) for row in rows] == [(disagree, 0.0)]


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        (agreement("less", "low"), "filters.items[0].value", "must be a number"),
        (agreement("contains", "1"), "filters.items[0].operator", "needs a text column"),
        (agreement("in", 0.5), "filters.items[0].value", "must be an object"),
    ],
)
def test_bad_agreement_filters_are_refused_naming_the_field(
    scored: Any, item: dict[str, Any], field: str, reason: str
) -> None:
    project, _tasks = scored
    answer = project.filtered(item)
    assert answer.status_code == 400, answer.text
    assert reason in json.dumps(answer.json()), answer.text
    assert field in json.dumps(answer.json()), answer.text


def test_a_new_threshold_moves_needs_review(scored: Any, stack: Any, cast: Any) -> None:
    project, (agree, disagree, negative, *_rest) = scored
    changed = stack.project.patch(
        f"/api/projects/{project.id}",
        json={"agreement_threshold": None},
        headers=cast.owner.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["agreement_threshold"] is None
    assert {task: row[2] for task, row in project.rows().items()} == {
        agree: False,
        disagree: False,
        negative: False,
    }
    raised = stack.project.patch(
        f"/api/projects/{project.id}", json={"agreement_threshold": 1}, headers=cast.owner.headers
    )
    assert raised.status_code == 200, raised.text
    # 1.0 is not below 1; 0.0 is.
    assert {task: row[2] for task, row in project.rows().items()} == {
        agree: False,
        disagree: True,
        negative: False,
    }
    refused = stack.project.patch(
        f"/api/projects/{project.id}", json={"agreement_threshold": 1.5}, headers=cast.owner.headers
    )
    assert refused.status_code == 400
    assert "agreement_threshold" in refused.text


def _overlaps(stack: Any, project: int) -> dict[int, int]:
    with stack.task_runtime.database.session() as session:
        return dict(
            session.execute(
                select(Task.inner_id, Task.overlap).where(Task.project_id == project)
            ).all()
        )


def test_the_overlap_cohort_is_decided_per_task_and_kept(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project(maximum_annotations=2, overlap_cohort_percentage=30)
    imported = stack.task.post(
        f"/api/projects/{project}/import",
        json=[{"text": f"t{n}"} for n in range(200)],
        headers=cast.owner.headers,
    )
    assert imported.status_code == 201, imported.text
    overlaps = _overlaps(stack, project)
    # Exactly 30 of every 100 consecutive tasks need two annotators: the same ones the rule
    # names, ((inner_id - 1) x 37) mod 100 < 30.
    assert sum(1 for o in overlaps.values() if o == 2) == 60
    assert all(
        overlap == (2 if ((inner - 1) * COHORT_STRIDE) % 100 < 30 else 1)
        for inner, overlap in overlaps.items()
    )
    assert {overlaps[inner] for inner in range(1, 201)} == {1, 2}
    # A single task gets the same rule.
    stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "x"}}, headers=cast.owner.headers
    )
    assert _overlaps(stack, project)[201] == (2 if (200 * COHORT_STRIDE) % 100 < 30 else 1)

    # The share changes: the cohort grows, the tasks already in it stay in it.
    before = {inner for inner, o in _overlaps(stack, project).items() if o == 2}
    changed = stack.project.patch(
        f"/api/projects/{project}",
        json={"overlap_cohort_percentage": 60},
        headers=cast.owner.headers,
    )
    assert changed.status_code == 200, changed.text
    after = {inner for inner, o in _overlaps(stack, project).items() if o == 2}
    assert before < after
    assert sum(1 for inner in after if inner <= 200) == 120


def test_the_label_stream_gives_a_second_annotator_only_the_cohort(
    stack: Any, cast: Any, make_project: Any
) -> None:
    """Overlap 2 for 50 %: inner ids 1, 2, 4 are in the cohort ((i - 1) x 37 mod 100 = 0,
    37, 11 are below 50; 74 is not), so task 3 is done after one annotator."""
    project = Project(
        stack, cast, make_project(maximum_annotations=2, overlap_cohort_percentage=50)
    )
    tasks = [project.task(text) for text in ("one", "two", "three", "four")]
    assert [_overlaps(stack, project.id)[inner] for inner in (1, 2, 3, 4)] == [2, 2, 1, 2]

    def drain(actor: Any) -> list[int]:
        served = []
        while True:
            answer = stack.task.get(f"/api/projects/{project.id}/next", headers=actor.headers)
            if answer.status_code == 404:
                return served
            assert answer.status_code == 200, answer.text
            served.append(answer.json()["id"])
            project.annotate(served[-1], actor, "Positive")
            assert len(served) <= len(tasks)

    assert sorted(drain(cast.annotator)) == tasks
    assert sorted(drain(cast.annotator2)) == [tasks[0], tasks[1], tasks[3]]
    with stack.task_runtime.database.session() as session:
        labeled = dict(
            session.execute(
                select(Task.id, Task.is_labeled).where(Task.project_id == project.id)
            ).all()
        )
    assert labeled == dict.fromkeys(tasks, True)


def test_the_tasks_copy_follows_every_write_and_orders_the_list(scored: Any, cast: Any) -> None:
    """`Task.agreement` (the data manager's indexed copy) equals the task's row after every
    write, and ordering by agreement reads it (scored tasks first, NULLs last)."""
    project, (agree, disagree, negative, single, none) = scored

    def copies() -> dict[int, float | None]:
        with project.stack.task_runtime.database.session() as session:
            found = session.execute(
                select(Task.id, Task.agreement).where(Task.project_id == project.id)
            )
            return {task_id: score for task_id, score in found}

    assert copies() == {agree: 1.0, disagree: 0.0, negative: 1.0, single: None, none: None}
    assert project.ids(ordering=["tasks:agreement"])[:3] == [disagree, agree, negative]
    assert set(project.ids(ordering=["-tasks:agreement"])[:2]) == {single, none}
    second = project.annotate(single, cast.annotator2, "Negative")
    assert copies()[single] == 0.0
    assert project.ids(agreement("less", 0.5), ordering=["tasks:agreement"]) == sorted(
        [disagree, single]
    )
    deleted = project.stack.task.delete(
        f"/api/annotations/{second}", headers=cast.annotator2.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert copies()[single] is None
