"""Exports through the official SDK against `labelops serve --target all`.

The synchronous path is what the SDK's `as_json` takes on a Community server; snapshots
run on the embedded worker's `exports` queue, polled the way the SDK's helpers poll.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_TOKEN

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
</View>"""
ALICE = [
    {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
    }
]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def annotated_project(sdk: LabelStudio) -> tuple[int, list[int], int]:
    project = sdk.projects.create(title="Export", label_config=CONFIG)
    assert project.id is not None
    ids: list[int] = []
    for text in ("Alice works at Acme", "Bob", "Carol"):
        task_id = sdk.tasks.create(project=project.id, data={"text": text}).id
        assert task_id is not None
        ids.append(task_id)
    annotation = sdk.annotations.create(id=ids[0], result=ALICE, lead_time=1.5)
    assert annotation.id is not None
    return project.id, ids, annotation.id


def test_export_json_through_the_sdk(sdk: LabelStudio) -> None:
    project_id, ids, annotation_id = annotated_project(sdk)
    tasks = sdk.projects.exports.as_json(project_id)
    assert [task["id"] for task in tasks] == ids  # as_json asks for every task
    (exported,) = tasks[0]["annotations"]
    assert exported["id"] == annotation_id and exported["result"] == ALICE
    assert exported["lead_time"] == 1.5 and isinstance(exported["completed_by"], int)
    assert tasks[1]["annotations"] == []

    only_annotated = json.loads(
        b"".join(sdk.projects.exports.download_sync(project_id, export_type="JSON"))
    )
    assert [task["id"] for task in only_annotated] == [ids[0]]
    rows = list(
        csv.DictReader(io.StringIO(sdk.projects.exports.as_binary(project_id, "CSV").decode()))
    )
    assert [row["annotation_id"] for row in rows] == [str(annotation_id), "", ""]
    conll = b"".join(
        sdk.projects.exports.download_sync(project_id, export_type="CONLL2003")
    ).decode()
    assert "Alice -X- _ B-PER\n" in conll

    # The SDK types the formats as strings; Label Studio (and LabelOps) answer objects.
    listed: list[Any] = list(sdk.projects.exports.list_formats(project_id))
    names = {entry["name"]: entry for entry in listed}
    assert "disabled" not in names["CONLL2003"] and names["COCO"]["disabled"] is True

    with pytest.raises(ApiError) as refused:
        list(sdk.projects.exports.download_sync(project_id, export_type="PDF"))
    assert refused.value.status_code == 400


def test_a_snapshot_runs_on_the_exports_queue(sdk: LabelStudio, suite) -> None:
    project_id, ids, annotation_id = annotated_project(sdk)
    snapshot = sdk.projects.exports.create(project_id, title="nightly")
    assert snapshot.id is not None
    deadline = time.monotonic() + 60
    while (current := sdk.projects.exports.get(project_id, snapshot.id)).status != "completed":
        assert current.status in ("created", "in_progress"), current
        assert time.monotonic() < deadline, "the snapshot did not complete"
        time.sleep(0.3)
    assert current.counters == {"task_number": 3} and current.md5
    tasks = json.loads(
        b"".join(sdk.projects.exports.download(project_id, snapshot.id, export_type="JSON"))
    )
    assert [task["id"] for task in tasks] == ids
    assert tasks[0]["annotations"][0]["id"] == annotation_id

    converted = sdk.projects.exports.convert(project_id, snapshot.id, export_type="JSON_MIN")
    while True:
        formats = sdk.projects.exports.get(project_id, snapshot.id).converted_formats or []
        status = next(item.status for item in formats if item.id == converted.converted_format)
        if status == "completed":
            break
        assert status in ("created", "in_progress") and time.monotonic() < deadline
        time.sleep(0.3)
    records = json.loads(
        b"".join(sdk.projects.exports.download(project_id, snapshot.id, export_type="JSON_MIN"))
    )
    assert [record["annotation_id"] for record in records] == [annotation_id, None, None]

    listed = httpx.get(
        f"{suite.base_url}/api/projects/{project_id}/exports",
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
    ).json()
    assert [item["id"] for item in listed] == [snapshot.id]
    sdk.projects.exports.delete(project_id, snapshot.id)
    with pytest.raises(ApiError) as gone:
        sdk.projects.exports.get(project_id, snapshot.id)
    assert gone.value.status_code == 404
