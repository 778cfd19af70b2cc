"""TaskService's bulk RPCs over a real loopback gRPC server with the generated stubs.

BulkCreateTasks (all or nothing, idempotent per key and batch, storage de-duplication),
StreamTasks (keyset pages with filters, annotations and predictions), UpsertPredictions
(create then update, counters), and the counters RPCs next to them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from labelops.task.v1 import task_pb2, task_pb2_grpc
from sqlalchemy import func, select
from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import annotation_fields
from task_svc.bulk.models import AppliedBatch
from task_svc.counts.models import ProjectCounters
from task_svc.datamanager.models import View
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import prediction_fields
from task_svc.tasks.models import Task


def region(choice: str = "Positive", from_name: str = "sentiment") -> dict[str, Any]:
    return {
        "from_name": from_name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


def task_message(
    text: str,
    *,
    annotations: list[dict[str, Any]] | None = None,
    predictions: list[dict[str, Any]] | None = None,
    source_key: str = "",
    data: Any = None,
) -> task_pb2.Task:
    message = task_pb2.Task(
        data_json=json.dumps(data if data is not None else {"text": text}).encode(),
        meta_json=json.dumps({"origin": "rpc"}).encode(),
        source_key=source_key,
    )
    if annotations is not None:
        message.annotations_json = json.dumps(annotations).encode()
    if predictions is not None:
        message.predictions_json = json.dumps(predictions).encode()
    return message


@pytest.fixture()
def stub(stack) -> Iterator[task_pb2_grpc.TaskServiceStub]:
    with grpc.insecure_channel(stack.task_grpc_address) as channel:
        yield task_pb2_grpc.TaskServiceStub(channel)


def counters(stub, project_id: int) -> dict[str, int]:
    answer = stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[project_id]))
    (found,) = [c for c in answer.counts if c.project_id == project_id] or [None]
    if found is None:
        return {}
    return {
        field.name: getattr(found, field.name)
        for field in task_pb2.ProjectCounts.DESCRIPTOR.fields
        if field.name != "project_id"
    }


def db_count(stack, model: Any, project_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(model).where(model.project_id == project_id)
            )
            or 0
        )


# ------------------------------------------------------------------------ BulkCreateTasks


def test_bulk_create_three_batches_writes_tasks_children_and_counters(
    stack, stub, make_project
) -> None:
    project_id = make_project()
    batches = [
        task_pb2.TaskBatch(
            project_id=project_id,
            tasks=[
                task_message("a", annotations=[{"result": [region()], "completed_by": 7}]),
                task_message("b"),
            ],
        ),
        task_pb2.TaskBatch(
            project_id=project_id,
            tasks=[
                task_message("c", predictions=[{"result": [region("Negative")], "score": 0.5}]),
                task_message("d", source_key="s3://bucket/d.json"),
            ],
        ),
        task_pb2.TaskBatch(project_id=project_id, tasks=[task_message("e")]),
    ]
    summary = stub.BulkCreateTasks(iter(batches))
    assert (summary.task_count, summary.annotation_count, summary.prediction_count) == (5, 1, 1)
    assert len(summary.task_ids) == 5
    assert list(summary.task_ids) == sorted(summary.task_ids)
    with stack.task_runtime.database.session() as session:
        tasks = session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id))
        rows = list(tasks)
        assert [t.id for t in rows] == list(summary.task_ids)
        assert [t.data["text"] for t in rows] == ["a", "b", "c", "d", "e"]
        assert [t.inner_id for t in rows] == [1, 2, 3, 4, 5]
        assert rows[0].meta == {"origin": "rpc"}
        assert rows[0].total_annotations == 1 and rows[0].is_labeled
        assert rows[2].total_predictions == 1 and rows[2].predictions_score == 0.5
        assert rows[3].source_key == "s3://bucket/d.json"
        annotation = session.scalars(
            select(Annotation).where(Annotation.project_id == project_id)
        ).one()
        assert annotation.task_id == rows[0].id and annotation.completed_by_id == 7
    found = counters(stub, project_id)
    assert found["task_number"] == 5
    assert found["total_annotations_number"] == 1
    assert found["finished_task_number"] == 1
    assert found["num_tasks_with_annotations"] == 1
    assert found["total_predictions_number"] == 1


def test_empty_stream_creates_nothing(stub) -> None:
    summary = stub.BulkCreateTasks(iter([]))
    assert summary.task_count == 0 and list(summary.task_ids) == []


def test_retried_stream_with_the_same_idempotency_key_creates_nothing_new(
    stack, stub, make_project
) -> None:
    project_id = make_project()
    key = f"sync-{uuid.uuid4().hex}"

    def batches(count: int) -> list[task_pb2.TaskBatch]:
        return [
            task_pb2.TaskBatch(
                project_id=project_id,
                idempotency_key=key,
                tasks=[task_message(f"{index}-{n}") for n in range(3)],
            )
            for index in range(count)
        ]

    first = stub.BulkCreateTasks(iter(batches(2)))
    assert first.task_count == 6
    # The client lost the answer and retries with one more batch: only the new one is written.
    second = stub.BulkCreateTasks(iter(batches(3)))
    assert second.task_count == 9
    assert list(second.task_ids)[:6] == list(first.task_ids)
    assert db_count(stack, Task, project_id) == 9
    # The same stream again: nothing new, the same answer.
    third = stub.BulkCreateTasks(iter(batches(3)))
    assert list(third.task_ids) == list(second.task_ids)
    assert db_count(stack, Task, project_id) == 9
    assert counters(stub, project_id)["task_number"] == 9
    assert db_count(stack, AppliedBatch, project_id) == 3
    # Another key is another stream.
    other = [
        task_pb2.TaskBatch(
            project_id=project_id, idempotency_key=key + "-b", tasks=[task_message("x")]
        )
    ]
    assert stub.BulkCreateTasks(iter(other)).task_count == 1
    assert db_count(stack, Task, project_id) == 10


def test_a_bad_item_is_invalid_argument_and_writes_nothing(stack, stub, make_project) -> None:
    project_id = make_project()
    key = f"bad-{uuid.uuid4().hex}"
    batches = [
        task_pb2.TaskBatch(
            project_id=project_id,
            idempotency_key=key,
            tasks=[task_message("ok"), task_message("ok")],
        ),
        task_pb2.TaskBatch(
            project_id=project_id,
            idempotency_key=key,
            tasks=[task_message("ok"), task_message("x", data={"other": "no text key"})],
        ),
    ]
    with pytest.raises(grpc.RpcError) as caught:
        stub.BulkCreateTasks(iter(batches))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "item 3" in caught.value.details()
    assert "text" in caught.value.details()
    assert db_count(stack, Task, project_id) == 0
    assert db_count(stack, AppliedBatch, project_id) == 0
    assert counters(stub, project_id).get("task_number", 0) == 0

    # The batches are not marked as applied: fixed and retried, they are written.
    batches[1].tasks[1].data_json = json.dumps({"text": "fixed"}).encode()
    assert stub.BulkCreateTasks(iter(batches)).task_count == 4


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (task_pb2.Task(data_json=b"{not json"), "item 0: Not valid UTF-8 JSON"),
        (task_pb2.Task(data_json=b"[1, 2]"), "item 0"),
        (task_pb2.Task(), "data_json is required"),
        (
            task_pb2.Task(
                data_json=b'{"text": "t"}',
                annotations_json=json.dumps([{"result": [region("Maybe")]}]).encode(),
            ),
            "annotations[0].result[0]",
        ),
        (
            task_pb2.Task(data_json=b'{"text": "t"}', predictions_json=b'{"a": 1}'),
            "predictions: Must be a JSON list",
        ),
    ],
)
def test_malformed_items_name_the_item_and_field(
    stack, stub, make_project, message, expected
) -> None:
    project_id = make_project()
    with pytest.raises(grpc.RpcError) as caught:
        stub.BulkCreateTasks(iter([task_pb2.TaskBatch(project_id=project_id, tasks=[message])]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()
    assert db_count(stack, Task, project_id) == 0


def test_unknown_project_is_not_found_and_mixed_projects_are_invalid(
    stack, stub, make_project
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.BulkCreateTasks(
            iter([task_pb2.TaskBatch(project_id=987654321, tasks=[task_message("a")])])
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    project_id = make_project()
    other = make_project()
    with pytest.raises(grpc.RpcError) as caught:
        stub.BulkCreateTasks(
            iter(
                [
                    task_pb2.TaskBatch(project_id=project_id, tasks=[task_message("a")]),
                    task_pb2.TaskBatch(project_id=other, tasks=[task_message("b")]),
                ]
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert db_count(stack, Task, project_id) == 0 and db_count(stack, Task, other) == 0


def test_items_whose_source_key_exists_are_skipped(stack, stub, make_project) -> None:
    project_id = make_project()
    first = [task_message("a", source_key="k/a"), task_message("b", source_key="k/b")]
    stub.BulkCreateTasks(iter([task_pb2.TaskBatch(project_id=project_id, tasks=first)]))
    # A re-sync: a and b exist; c appears twice in this stream (one file, two tasks).
    again = [
        task_message("a2", source_key="k/a"),
        task_message("c1", source_key="k/c"),
        task_message("c2", source_key="k/c"),
        task_message("plain"),
    ]
    summary = stub.BulkCreateTasks(iter([task_pb2.TaskBatch(project_id=project_id, tasks=again)]))
    assert summary.task_count == 3
    with stack.task_runtime.database.session() as session:
        texts = session.scalars(
            select(Task.data).where(Task.project_id == project_id).order_by(Task.id)
        )
        assert [data["text"] for data in texts] == ["a", "b", "c1", "c2", "plain"]
    assert counters(stub, project_id)["task_number"] == 5


# ------------------------------------------------------------------------ StreamTasks


@pytest.fixture()
def big_project(stub, make_project) -> tuple[int, list[int]]:
    """2,500 tasks: every 5th annotated (one every 50th only skipped), every 7th predicted."""
    project_id = make_project()

    def item(n: int) -> task_pb2.Task:
        annotations = None
        if n % 5 == 0:
            annotations = [
                {"result": [] if n % 50 == 0 else [region()], "was_cancelled": n % 50 == 0}
            ]
        predictions = [{"result": [region("Neutral")], "score": 0.25}] if n % 7 == 0 else None
        return task_message(f"t{n}", annotations=annotations, predictions=predictions)

    batches = [
        task_pb2.TaskBatch(
            project_id=project_id, tasks=[item(n) for n in range(start, min(start + 1000, 2500))]
        )
        for start in range(0, 2500, 1000)
    ]
    summary = stub.BulkCreateTasks(iter(batches))
    assert summary.task_count == 2500
    return project_id, list(summary.task_ids)


def streamed(stub, **request: Any) -> list[task_pb2.TaskBatch]:
    return list(stub.StreamTasks(task_pb2.StreamTasksRequest(**request)))


def test_stream_pages_by_id_with_annotations_and_predictions(stub, big_project) -> None:
    project_id, ids = big_project
    batches = streamed(
        stub,
        project_id=project_id,
        batch_size=1000,
        include_annotations=True,
        include_predictions=True,
    )
    assert [len(batch.tasks) for batch in batches] == [1000, 1000, 500]
    tasks = [task for batch in batches for task in batch.tasks]
    assert [task.id for task in tasks] == ids
    assert all(batch.project_id == project_id for batch in batches)
    fifth = tasks[5]
    assert json.loads(fifth.data_json) == {"text": "t5"}
    assert json.loads(fifth.meta_json) == {"origin": "rpc"}
    assert fifth.inner_id == 6 and fifth.project_id == project_id
    (annotation,) = json.loads(fifth.annotations_json)
    assert annotation["task"] == fifth.id and annotation["project"] == project_id
    assert annotation["result"] == [region()] and annotation["was_cancelled"] is False
    assert json.loads(fifth.predictions_json) == []
    (prediction,) = json.loads(tasks[7].predictions_json)
    assert prediction["task"] == tasks[7].id and prediction["score"] == 0.25
    assert prediction["model_version"] == "undefined"
    # Without the flags the children are left out.
    plain = streamed(stub, project_id=project_id, task_ids=[ids[5]])
    assert plain[0].tasks[0].annotations_json == b""


def test_streamed_children_are_their_rest_answers(stack, stub, big_project) -> None:
    """The stream reads JSON as PostgreSQL's text and builds the objects itself: they must
    stay what `annotation_fields` / `prediction_fields` answer over REST."""
    project_id, ids = big_project
    chosen = [ids[0], ids[5], ids[7], ids[35], ids[50]]
    (batch,) = streamed(
        stub,
        project_id=project_id,
        task_ids=chosen,
        include_annotations=True,
        include_predictions=True,
    )
    with stack.task_runtime.database.session() as session:
        for task in batch.tasks:
            stored = session.get(Task, task.id)
            assert json.loads(task.data_json) == stored.data
            assert json.loads(task.meta_json) == stored.meta
            annotations = session.scalars(
                select(Annotation).where(Annotation.task_id == task.id).order_by(Annotation.id)
            )
            expected = [annotation_fields(annotation) for annotation in annotations]
            assert json.loads(task.annotations_json or b"[]") == expected
            predictions = session.scalars(
                select(Prediction).where(Prediction.task_id == task.id).order_by(Prediction.id)
            )
            expected = [prediction_fields(prediction) for prediction in predictions]
            assert json.loads(task.predictions_json or b"[]") == expected
    # Annotated: every 5th (0, 5, 35, 50); predicted: every 7th (0, 7, 35).
    assert [bool(json.loads(task.annotations_json)) for task in batch.tasks] == [1, 1, 0, 1, 1]
    assert [bool(json.loads(task.predictions_json)) for task in batch.tasks] == [1, 0, 1, 1, 0]


def test_stream_default_batch_size_and_limits(stub, big_project) -> None:
    project_id, _ = big_project
    assert [len(b.tasks) for b in streamed(stub, project_id=project_id)] == [1000, 1000, 500]
    assert [len(b.tasks) for b in streamed(stub, project_id=project_id, batch_size=2500)] == [2500]
    with pytest.raises(grpc.RpcError) as caught:
        streamed(stub, project_id=project_id, batch_size=10_001)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as caught:
        streamed(stub, project_id=987654321)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_stream_only_annotated(stub, big_project) -> None:
    project_id, ids = big_project
    batches = streamed(stub, project_id=project_id, only_annotated=True, batch_size=1000)
    got = [task.id for batch in batches for task in batch.tasks]
    # Skipped-only tasks (every 50th) have an annotation too.
    assert got == [ids[n] for n in range(0, 2500, 5)]


def test_stream_task_ids_in_batches(stub, big_project, make_project) -> None:
    project_id, ids = big_project
    other_project = make_project()
    foreign = stub.BulkCreateTasks(
        iter([task_pb2.TaskBatch(project_id=other_project, tasks=[task_message("x")])])
    ).task_ids[0]
    wanted = [*ids[100:1600][::-1], foreign, 999_999_999]
    batches = streamed(stub, project_id=project_id, task_ids=wanted, batch_size=1000)
    got = [task.id for batch in batches for task in batch.tasks]
    assert got == ids[100:1600]
    assert max(len(batch.tasks) for batch in batches) <= 1000


def test_stream_applies_a_views_filters_and_selection(stack, stub, big_project) -> None:
    project_id, ids = big_project
    with stack.task_runtime.database.session() as session:
        view = View(
            project_id=project_id,
            data={"title": "predicted"},
            filters={
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:total_predictions",
                        "operator": "greater",
                        "type": "Number",
                        "value": 0,
                    }
                ],
            },
            ordering=["-tasks:id"],
            selected_items={"all": True, "excluded": [ids[0]]},
        )
        session.add(view)
        session.commit()
        view_id = view.id
    batches = streamed(stub, project_id=project_id, view_id=view_id, batch_size=1000)
    got = [task.id for batch in batches for task in batch.tasks]
    # Pages follow task ids whatever the view's ordering; task 0 is excluded.
    assert got == [ids[n] for n in range(7, 2500, 7)]
    with_annotated = streamed(
        stub, project_id=project_id, view_id=view_id, only_annotated=True, batch_size=1000
    )
    assert [t.id for b in with_annotated for t in b.tasks] == [ids[n] for n in range(35, 2500, 35)]
    with pytest.raises(grpc.RpcError) as caught:
        streamed(stub, project_id=project_id, view_id=view_id + 10_000)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ------------------------------------------------------------------------ UpsertPredictions


def prediction(
    task_id: int, choice: str, *, score: float | None = None, version: str = "v1"
) -> task_pb2.Prediction:
    return task_pb2.Prediction(
        task_id=task_id,
        result_json=json.dumps([region(choice)]).encode(),
        score=score or 0.0,
        has_score=score is not None,
        model_version=version,
    )


def test_upsert_predictions_creates_then_updates_and_keeps_counters(
    stack, stub, make_project
) -> None:
    project_id = make_project()
    ids = list(
        stub.BulkCreateTasks(
            iter(
                [
                    task_pb2.TaskBatch(
                        project_id=project_id, tasks=[task_message("a"), task_message("b")]
                    )
                ]
            )
        ).task_ids
    )
    answer = stub.UpsertPredictions(
        task_pb2.UpsertPredictionsRequest(
            project_id=project_id,
            predictions=[prediction(ids[0], "Positive", score=0.9), prediction(ids[1], "Neutral")],
        )
    )
    assert (answer.created, answer.updated) == (2, 0)
    assert counters(stub, project_id)["total_predictions_number"] == 2
    answer = stub.UpsertPredictions(
        task_pb2.UpsertPredictionsRequest(
            project_id=project_id,
            predictions=[
                prediction(ids[0], "Negative", score=0.3),
                prediction(ids[0], "Neutral", score=0.7, version="v2"),
            ],
        )
    )
    assert (answer.created, answer.updated) == (1, 1)
    with stack.task_runtime.database.session() as session:
        rows = list(
            session.scalars(
                select(Prediction).where(Prediction.task_id == ids[0]).order_by(Prediction.id)
            )
        )
        assert [(p.model_version, p.result[0]["value"]["choices"], p.score) for p in rows] == [
            ("v1", ["Negative"], 0.3),
            ("v2", ["Neutral"], 0.7),
        ]
        task = session.get(Task, ids[0])
        assert task is not None
        assert task.total_predictions == 2
        assert task.predictions_score == pytest.approx(0.5)
        second = session.get(Task, ids[1])
        assert second is not None and second.total_predictions == 1
        assert second.predictions_score is None
    assert counters(stub, project_id)["total_predictions_number"] == 3


def test_upsert_predictions_refuses_foreign_tasks_and_bad_results(
    stack, stub, make_project
) -> None:
    project_id = make_project()
    other = make_project()
    (own,) = stub.BulkCreateTasks(
        iter([task_pb2.TaskBatch(project_id=project_id, tasks=[task_message("a")])])
    ).task_ids
    (foreign,) = stub.BulkCreateTasks(
        iter([task_pb2.TaskBatch(project_id=other, tasks=[task_message("b")])])
    ).task_ids
    cases = [
        ([prediction(own, "Positive"), prediction(foreign, "Positive")], "predictions[1].task_id"),
        ([prediction(own, "Maybe")], "predictions[0].result[0]"),
        ([task_pb2.Prediction(task_id=own, result_json=b"{no")], "predictions[0].result"),
        ([task_pb2.Prediction(task_id=own, result_json=b"42")], "must be a list of regions"),
        ([task_pb2.Prediction(task_id=own, result_json=b"[]", model_version="v" * 300)], "model"),
    ]
    for predictions, expected in cases:
        with pytest.raises(grpc.RpcError) as caught:
            stub.UpsertPredictions(
                task_pb2.UpsertPredictionsRequest(project_id=project_id, predictions=predictions)
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected in caught.value.details()
    assert db_count(stack, Prediction, project_id) == 0
    assert db_count(stack, Prediction, other) == 0
    assert counters(stub, project_id)["total_predictions_number"] == 0
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpsertPredictions(
            task_pb2.UpsertPredictionsRequest(
                project_id=987654321, predictions=[prediction(own, "Positive")]
            )
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ------------------------------------------------------------------------ counters RPCs


def test_delete_project_tasks_still_works(stack, stub, make_project) -> None:
    project_id = make_project()
    stub.BulkCreateTasks(
        iter(
            [
                task_pb2.TaskBatch(
                    project_id=project_id,
                    tasks=[task_message("a", annotations=[{"result": [region()]}])],
                )
            ]
        )
    )
    assert counters(stub, project_id)["task_number"] == 1
    deleted = stub.DeleteProjectTasks(task_pb2.DeleteProjectTasksRequest(project_id=project_id))
    assert deleted.deleted == 1
    assert db_count(stack, Task, project_id) == 0
    assert db_count(stack, Annotation, project_id) == 0
    with stack.task_runtime.database.session() as session:
        assert session.get(ProjectCounters, project_id) is None or counters(stub, project_id) == {}
