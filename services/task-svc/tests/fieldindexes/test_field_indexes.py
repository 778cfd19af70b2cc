"""The index path answers exactly as the plain path does, stays exact under every write
path, and is used only where it is exact."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig.parser import parse_label_config
from sqlalchemy import select, text
from task_svc.datamanager import service as dm
from task_svc.fieldindexes import jobs as fieldindex_jobs
from task_svc.fieldindexes import service as fieldindexes
from task_svc.fieldindexes.models import DataFieldIndex
from task_svc.imports.validation import ImportItemError
from task_svc.imports.writer import write_tasks
from task_svc.tasks.models import Task

from .conftest import CONFIG, Project, index_path_count, plain_path_count, query

#: Values that differ by case, accents, spaces, type or presence, for both keys.
VALUES: list[Any] = [
    "c3", "C3", "c3 ", " c3", "ç3", "Ç3", "c", "c30", "", "日本語", "Ωmega", "ωmega", "zz",
    "a", "B", "b", 3, 3.0, 30, -1, 0, 1e20, 2.5, True, False, None, "true", "3",
]  # fmt: skip
MISSING = object()


def mixed_items(count: int) -> list[dict[str, Any]]:
    items = []
    for number in range(count):
        category = VALUES[number % len(VALUES)] if number % 11 else MISSING
        title = VALUES[(number * 7) % len(VALUES)] if number % 13 else MISSING
        data: dict[str, Any] = {"text": f"t{(number * 37) % 50:03d}", "info": {"rank": number % 5}}
        if category is not MISSING:
            data["category"] = category
        if title is not MISSING:
            data["title"] = title
        if number % 17 == 0:
            data["category"] = {"nested": [1, "c3"]}  # filter text is its JSON text
        items.append(data)
    return items


QUERIES = [
    query(category="c3", order="tasks:data.title"),
    query(category="c3", order="-tasks:data.title"),
    query(category="C3", order="tasks:data.text"),
    query(category="3", order="-tasks:data.text"),
    query(category=3, order="tasks:data.title"),
    query(category=True, order="tasks:data.title"),
    query(category="", order="tasks:data.title"),
    query(category="ωmega", order="-tasks:data.title"),
    query(category="c3"),
    query(category="nothing-matches", order="tasks:data.title"),
    query(order="tasks:data.title"),
    query(order="-tasks:data.title"),
    query(order="tasks:data.info.rank"),
    query(order="-filter:tasks:data.info.rank"),
]


def test_the_index_path_equals_the_plain_path(project: Project) -> None:
    project.import_(mixed_items(300))
    for body in QUERIES:
        project.save_view(body)
    definitions = project.wait_ready()
    # One per shape: the filter's value is a parameter of the query, not of the index.
    assert {(d["filter_key"], d["order_key"]) for d in definitions} == {
        ("category", "title"),
        ("category", "text"),
        ("category", None),
        (None, "title"),
        (None, "info.rank"),
    }
    for body in QUERIES:
        project.assert_same_as_plain(body)
    project.assert_entries_exact()


def test_a_project_keeps_its_most_recently_used_definitions(project: Project) -> None:
    project.import_([{"text": "t", **{f"k{n}": n for n in range(10)}}])
    for number in range(10):
        project.save_view(query(order=f"tasks:data.k{number}"))
        project.wait_ready()
    kept = project.definitions()
    assert [d["order_key"] for d in kept] == [f"k{n}" for n in range(2, 10)]
    assert len(kept) == fieldindexes.MAX_PER_PROJECT
    project.assert_same_as_plain(query(order="-tasks:data.k9"))


def test_deep_pages_of_a_larger_project(project: Project) -> None:
    project.import_(mixed_items(2000))
    body = query(category="c3", order="-tasks:data.text")
    project.save_view(body)
    project.wait_ready()
    expected, total = project.plain(body)
    assert total == len(expected) > 50
    for page in (1, 3, total // 10, total // 10 + 1):
        ids, found_total = project.page(body, page=page, size=10)
        assert ids == expected[(page - 1) * 10 : page * 10]
        assert found_total == total


def test_a_long_value_sends_queries_to_the_plain_path(project: Project) -> None:
    project.import_(mixed_items(60))
    body = query(category="c3", order="tasks:data.title")
    project.save_view(body)
    project.wait_ready()
    usable = project.usable(body)
    assert usable is not None
    long_task = project.create({"text": "x", "category": "c3", "title": "é" * 301})
    assert project.usable(body) is None
    with project.database.session() as session:  # a query that looked before the write
        assert fieldindexes.page_task_ids(session, usable, offset=0, limit=10) is None
        assert fieldindexes.count_entries(session, usable) is None
    expected, total = project.plain(body)
    assert long_task in expected
    before = plain_path_count()
    assert project.page(body, size=1000) == (expected, total)
    assert plain_path_count() == before + 1
    # An object to sort by is not exact either; shortening the string alone is not enough.
    patched = project.client.patch(
        f"/api/tasks/{long_task}",
        json={"data": {"text": "x", "category": "c3", "title": {"a": 1}}},
        headers=project.cast.owner.headers,
    )
    assert patched.status_code == 200, patched.text
    assert project.usable(body) is None
    patched = project.client.patch(
        f"/api/tasks/{long_task}",
        json={"data": {"text": "x", "category": "c3", "title": "é" * 300}},
        headers=project.cast.owner.headers,
    )
    assert patched.status_code == 200, patched.text
    project.assert_same_as_plain(body, size=50)


def test_every_write_path_keeps_the_index_exact(project: Project) -> None:
    project.import_(mixed_items(120))
    bodies = [query(category="c3", order="tasks:data.title"), query(order="-tasks:data.text")]
    for body in bodies:
        project.save_view(body)
    project.wait_ready()

    def check() -> None:
        project.assert_entries_exact()
        for body in bodies:
            project.assert_same_as_plain(body, size=40)

    created = project.create({"text": "new", "category": "c3", "title": "aaa"})
    check()
    project.import_(mixed_items(90))  # the COPY path
    check()
    patched = project.client.patch(
        f"/api/tasks/{created}",
        json={"data": {"text": "moved", "category": "C3", "title": 1}},
        headers=project.cast.owner.headers,
    )
    assert patched.status_code == 200, patched.text
    check()
    deleted = project.client.delete(f"/api/tasks/{created}", headers=project.cast.owner.headers)
    assert deleted.status_code == 204, deleted.text
    check()
    some = project.plain(bodies[0])[0][:5]
    action = project.client.post(
        "/api/dm/actions",
        params={"project": project.id, "id": "delete_tasks"},
        json={"selectedItems": {"all": False, "included": some}},
        headers=project.cast.owner.headers,
    )
    assert action.status_code == 200, action.text
    check()
    gone = project.client.delete(
        f"/api/projects/{project.id}/tasks", headers=project.cast.owner.headers
    )
    assert gone.status_code == 204, gone.text
    assert project.definitions() == []
    with project.database.session() as session:
        left = session.execute(
            text(
                "SELECT count(*) FROM data_field_entries e JOIN tasks t ON t.id = e.task_id"
                " WHERE t.project_id = :p"
            ),
            {"p": project.id},
        ).scalar_one()
    assert left == 0


def test_a_transaction_that_goes_on_after_a_bad_item_keeps_the_index_exact(
    project: Project,
) -> None:
    """write_tasks raising on a bad item leaves the triggers on and the tasks it wrote
    indexed: a caller that goes on in the same transaction misses nothing."""
    project.import_(mixed_items(20))
    project.save_view(query(category="c3", order="tasks:data.title"))
    project.wait_ready()
    info = ProjectInfo(id=project.id, organization_id=0, config=parse_label_config(CONFIG))
    items = [{"data": {"text": f"b{n}", "category": "c3", "title": f"t{n}"}} for n in range(3)]
    with project.database.session() as session:
        with pytest.raises(ImportItemError):
            write_tasks(
                session,
                project=info,
                items=[*items, {"data": {"title": "no text"}}],
                user_id=None,
                batch_size=2,
            )
        session.execute(
            text(
                "INSERT INTO tasks (project_id, inner_id, data, meta, created_at, updated_at,"
                " is_labeled, overlap, total_annotations, cancelled_annotations, total_predictions)"
                ' VALUES (:p, 1000000, \'{"text": "after", "category": "c3"}\', \'{}\','
                " now(), now(), false, 1, 0, 0, 0)"
            ),
            {"p": project.id},
        )
        session.commit()
    with project.database.session() as session:
        written = session.scalars(
            select(Task.id).where(
                Task.project_id == project.id,
                Task.data["text"].as_string().in_(["b0", "b1", "after"]),
            )
        ).all()
    assert len(written) == 3  # the first batch, then the row the transaction went on to write
    project.assert_entries_exact()
    project.assert_same_as_plain(query(category="c3", order="tasks:data.title"))


def test_a_build_waits_for_open_writers_and_misses_none(project: Project) -> None:
    """A task inserted by a transaction still open when the build starts gets its entry."""
    project.import_(mixed_items(50))
    body = query(category="c3", order="tasks:data.title")
    with project.database.session() as writer:
        writer.execute(
            text(
                "INSERT INTO tasks (project_id, inner_id, data, meta, created_at, updated_at,"
                " is_labeled, overlap, total_annotations, cancelled_annotations,"
                " total_predictions) VALUES (:p, 100000, CAST(:d AS jsonb), '{}', now(), now(),"
                " false, 1, 0, 0, 0) RETURNING id"
            ),
            {"p": project.id, "d": '{"text": "open", "category": "c3", "title": "aa"}'},
        )
        project.save_view(body)  # queues the build, which must wait for this transaction
        time.sleep(0.5)
        assert [d["state"] for d in project.definitions()] == ["building"]
        writer.commit()
    project.wait_ready()
    project.assert_entries_exact()


def test_task_writes_go_on_while_a_build_copies(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy holds no lock writers wait for; a task it copied and a writer then
    deleted loses its entry once the copy commits; a definition being copied is not
    removed from under it (nor does its removal wait)."""
    project.import_(mixed_items(200))
    body = query(category="c3", order="tasks:data.title")
    with monkeypatch.context() as patched:  # the build's steps are run by hand below
        patched.setattr(fieldindex_jobs.build_data_field_index, "send", lambda *a, **k: None)
        project.save_view(body)
    [definition] = project.definitions()
    with project.database.session() as session:
        doomed = session.scalar(
            select(Task.id).where(Task.project_id == project.id).order_by(Task.id).limit(1)
        )
    with project.database.session() as builder:
        fieldindexes.let_writers_finish(builder, project_id=project.id)
        assert fieldindexes.copy_entries(builder, index_id=definition["id"])
        with project.database.session() as writer:  # while the copy is uncommitted
            writer.execute(text("SET LOCAL lock_timeout = '3s'"))
            writer.execute(
                text(
                    "INSERT INTO tasks (project_id, inner_id, data, meta, created_at,"
                    " updated_at, is_labeled, overlap, total_annotations,"
                    " cancelled_annotations, total_predictions) VALUES (:p, 100000,"
                    " CAST(:d AS jsonb), '{}', now(), now(), false, 1, 0, 0, 0)"
                ),
                {"p": project.id, "d": '{"text": "during", "category": "c3", "title": "a"}'},
            )
            writer.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": doomed})
            writer.commit()
        with project.database.session() as remover:
            remover.execute(text("SET LOCAL lock_timeout = '3s'"))
            assert fieldindexes.delete_project_definitions(remover, project_id=project.id) == 0
            remover.rollback()
        builder.commit()
    with project.database.session() as session:
        fieldindexes.let_writers_finish(session, project_id=project.id)
        dropped = fieldindexes.drop_entries_of_deleted_tasks(
            session, index_id=definition["id"], project_id=project.id
        )
        session.commit()
        assert dropped == 1
        assert fieldindexes.mark_ready(session, index_id=definition["id"]) == "ready"
    project.assert_entries_exact()
    project.assert_same_as_plain(body)


def test_a_build_under_concurrent_inserts_and_deletes_ends_exact(project: Project) -> None:
    project.import_(mixed_items(3000))
    body = query(category="c3", order="tasks:data.title")
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            answer = project.client.post(
                "/api/tasks",
                json={
                    "project": project.id,
                    "data": {"text": "w", "category": "c3", "title": f"w{number}"},
                },
                headers=project.cast.owner.headers,
            )
            if answer.status_code != 201:
                errors.append(answer.text)
                return
            if number % 3 == 0:
                gone = project.client.delete(
                    f"/api/tasks/{answer.json()['id']}", headers=project.cast.owner.headers
                )
                if gone.status_code != 204:
                    errors.append(gone.text)
                    return
            if number % 10 == 0:
                project.import_([{"text": "bulk", "category": "c3", "title": f"b{number}"}])

    writers = [threading.Thread(target=write) for _ in range(2)]
    for thread in writers:
        thread.start()
    try:
        time.sleep(0.3)
        project.save_view(body)
        project.wait_ready()
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert errors == []
    project.assert_entries_exact()
    project.assert_same_as_plain(body, size=500)


def test_a_view_save_creates_a_definition_of_its_shape(project: Project) -> None:
    project.import_(mixed_items(20))
    project.save_view(query(category=3, type_="Number"))  # a Number filter: not a shape
    project.save_view({**query(category="c3"), "selectedItems": {"all": False, "included": [1]}})
    assert project.definitions() == []
    project.save_view(query(category="c3", order="-tasks:data.title"))
    [definition] = project.wait_ready()
    assert definition["filter_key"] == "category"
    assert definition["order_key"] == "title"
    assert definition["entries"] == 20
    assert definition["built_at"] is not None


def test_list_queries_create_definitions_from_the_threshold_on(
    project: Project, stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.import_(mixed_items(30))
    body = query(category="c3", order="tasks:data.text")
    settings = stack.task_runtime.http_app.state.settings
    monkeypatch.setattr(settings, "data_field_index_min_tasks", 31)
    project.page(body)
    assert project.definitions() == []
    monkeypatch.setattr(settings, "data_field_index_min_tasks", 30)
    before = index_path_count()
    project.page(body)  # creates the definition; this answer is still the plain path's
    assert index_path_count() == before
    project.wait_ready()
    project.assert_same_as_plain(body)


def test_a_build_whose_message_was_lost_is_queued_again(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.import_(mixed_items(20))
    body = query(category="c3", order="tasks:data.text")
    lost: list[Any] = []
    with monkeypatch.context() as patched:
        patched.setattr(
            fieldindex_jobs.build_data_field_index,
            "send",
            lambda *args, **_: lost.append(args),
        )
        project.save_view(body)
    assert len(lost) == 1
    [definition] = project.definitions()
    assert definition["state"] == "building"
    project.page(body)  # queued only a moment ago: nothing is sent again
    assert project.definitions()[0]["state"] == "building"
    with project.database.session() as session:
        session.execute(
            text("UPDATE data_field_indexes SET requested_at = requested_at - :age WHERE id = :id"),
            {"age": fieldindexes.RETRY_BUILD_AFTER + timedelta(seconds=1), "id": definition["id"]},
        )
        session.commit()
    project.page(body)  # long enough: the build is queued again, and this time it runs
    project.wait_ready()
    project.assert_same_as_plain(body)


def test_the_endpoint_is_scoped_to_the_organization(project: Project) -> None:
    project.save_view(query(order="tasks:data.title"))
    project.wait_ready()
    path = "/api/dm/field-indexes"
    assert project.client.get(path, params={"project": project.id}).status_code == 401
    outsider = project.client.get(
        path, params={"project": project.id}, headers=project.cast.outsider.headers
    )
    assert outsider.status_code in (403, 404)
    assert "order_key" not in outsider.text
    missing = project.client.get(path, headers=project.cast.owner.headers)
    assert missing.status_code == 400
    [definition] = project.definitions()
    assert definition["filter_key"] is None
    assert definition["order_key"] == "title"
    assert definition["state"] == "ready"
    assert definition["entries"] == 0
    with project.database.session() as session:
        stored = session.scalars(
            select(DataFieldIndex).where(DataFieldIndex.project_id == project.id)
        ).all()
        assert [row.order_key for row in stored] == ["title"]
        assert session.scalar(select(Task.id).where(Task.project_id == project.id)) is None


def _choice(value: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def test_totals_of_a_labelled_project_equal_the_plain_path(project: Project) -> None:
    items: list[dict[str, Any]] = []
    for number, data in enumerate(mixed_items(300)):
        item: dict[str, Any] = {"data": data}
        if number % 5 == 1:
            item["annotations"] = [{"result": _choice("Positive")}] * (1 + number % 3)
        if number % 3 == 0:
            item["predictions"] = [{"result": _choice("Negative"), "score": 0.5}] * (number % 2 + 1)
        items.append(item)
    project.import_(items)
    body = query(category="C3", order="tasks:data.title")
    project.save_view(body)
    project.wait_ready()

    def index_totals() -> tuple[int, int, int]:
        before = index_path_count()
        answer = project.client.get(
            "/api/tasks",
            params={"project": project.id, "fields": "task_only", "query": json.dumps(body)},
            headers=project.cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        assert index_path_count() == before + 1
        found = answer.json()
        return found["total"], found["total_annotations"], found["total_predictions"]

    def plain_totals() -> tuple[int, int, int]:
        with project.database.session() as session:
            compiled = dm.compile_selection(
                session, project_id=project.id, selection=dm.selection_from(body)
            )
            return dm._count_selection(session, compiled)

    expected = plain_totals()
    assert expected[1] > 0 and expected[2] > 0
    assert index_totals() == expected
    # A new annotation on an unlabelled selected task moves the sums (a new tasks version).
    unlabelled = next(
        task_id
        for task_id in project.plain(body)[0]
        if project.client.get(f"/api/tasks/{task_id}", headers=project.cast.owner.headers).json()[
            "total_annotations"
        ]
        == 0
    )
    created = project.client.post(
        f"/api/tasks/{unlabelled}/annotations",
        json={"result": _choice("Negative")},
        headers=project.cast.owner.headers,
    )
    assert created.status_code == 201, created.text
    assert plain_totals() == (expected[0], expected[1] + 1, expected[2])
    assert index_totals() == plain_totals()


def test_a_ready_index_is_already_vacuumed(project: Project) -> None:
    """`ready` comes after the entries' VACUUM: the first page anyone times is index-only."""
    project.import_(mixed_items(3000))
    body = query(category="c3", order="tasks:data.title")
    project.save_view(body)
    project.wait_ready()
    usable = project.usable(body)
    assert usable is not None
    with project.database.session() as session:
        [plan] = session.execute(
            text(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + fieldindexes.sql.count_statement(filtered=True)
            ),
            {"index_id": usable.index_id, "filter_text": usable.filter_text},
        ).one()
    scans = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Index Only Scan":
            scans.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    assert scans and all(scan["Heap Fetches"] == 0 for scan in scans), scans
