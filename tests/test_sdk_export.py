"""Exports through the official SDK against `labelops serve --target all`.

The synchronous path is what the SDK's `as_json` takes on a Community server; snapshots
run on the embedded worker's `exports` queue, polled the way the SDK's helpers poll.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
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


# ------------------------------------------------- a snapshot downloaded in every format

BOX_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>"""


def box(x: float, y: float, label: str) -> dict[str, Any]:
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 800,
        "original_height": 600,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": 25.0,
            "height": 50.0,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


@dataclass(frozen=True)
class BoxSnapshot:
    project_id: int
    export_id: int
    task_ids: list[int]
    polled: list[Any]


@pytest.fixture(scope="module")
def box_snapshot(suite) -> BoxSnapshot:
    """Three images, two of them boxed, and one snapshot of them made and polled by the SDK."""
    sdk = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    project = sdk.projects.create(title="Boxes", label_config=BOX_CONFIG)
    assert project.id is not None
    task_ids = []
    for name in ("cat.jpg", "dog.jpg", "empty.jpg"):
        task = sdk.tasks.create(project=project.id, data={"image": f"/data/upload/1/{name}"})
        assert task.id is not None
        task_ids.append(task.id)
    sdk.annotations.create(id=task_ids[0], result=[box(10, 20, "Cat")])
    sdk.annotations.create(id=task_ids[1], result=[box(50, 40, "Dog"), box(0, 0, "Cat")])
    snapshot = sdk.projects.exports.create(project.id, title="all formats")
    assert snapshot.id is not None
    polled = []
    deadline = time.monotonic() + 60
    while (current := sdk.projects.exports.get(project.id, snapshot.id)).status != "completed":
        assert current.status in ("created", "in_progress"), current
        assert time.monotonic() < deadline, "the snapshot did not complete"
        polled.append(current)
        time.sleep(0.2)
    polled.append(current)
    return BoxSnapshot(
        project_id=project.id, export_id=snapshot.id, task_ids=task_ids, polled=polled
    )


def check_json(content: bytes, snapshot: BoxSnapshot) -> None:
    tasks = json.loads(content)
    assert [task["id"] for task in tasks] == snapshot.task_ids
    assert [len(task["annotations"]) for task in tasks] == [1, 1, 0]
    assert tasks[1]["annotations"][0]["result"][0]["value"]["rectanglelabels"] == ["Dog"]


def check_csv(content: bytes, snapshot: BoxSnapshot) -> None:
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [int(row["id"]) for row in rows] == snapshot.task_ids
    assert json.loads(rows[0]["box"])[0]["rectanglelabels"] == ["Cat"]
    assert rows[2]["box"] == ""


def check_coco(content: bytes, snapshot: BoxSnapshot) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        document = json.loads(archive.read("result.json"))
    assert [c["name"] for c in document["categories"]] == ["Cat", "Dog"]
    assert [image["file_name"].rsplit("/", 1)[-1] for image in document["images"]] == [
        "cat.jpg",
        "dog.jpg",
        "empty.jpg",
    ]
    boxes = [(a["image_id"], a["bbox"]) for a in document["annotations"]]
    assert boxes == [
        (0, [80.0, 120.0, 200.0, 300.0]),
        (1, [400.0, 240.0, 200.0, 300.0]),
        (1, [0.0, 0.0, 200.0, 300.0]),
    ]


def check_yolo(content: bytes, snapshot: BoxSnapshot) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.read("classes.txt").decode() == "Cat\nDog\n"
        cat = archive.read("labels/cat.txt").decode().split()
        dog = archive.read("labels/dog.txt").decode().splitlines()
    assert cat[0] == "0" and [float(v) for v in cat[1:]] == [0.225, 0.45, 0.25, 0.5]
    assert [line.split()[0] for line in dog] == ["1", "0"]


#: Each format the SDK downloads from a snapshot, and what its file must hold; a new
#: format is one more entry.
SNAPSHOT_FORMATS: dict[str, Callable[[bytes, BoxSnapshot], None]] = {
    "JSON": check_json,
    "CSV": check_csv,
    "COCO": check_coco,
    "YOLO": check_yolo,
}


def test_the_sdk_polls_a_snapshot_with_its_progress(box_snapshot: BoxSnapshot) -> None:
    final = box_snapshot.polled[-1]
    assert final.counters == {"task_number": 3} and final.md5
    # LabelOps' own fields ride along in the SDK's model.
    assert final.model_extra["progress"] == {"tasks_written": 3, "tasks_total": 3}
    assert final.model_extra["cancelled"] is False


@pytest.mark.parametrize("export_type", list(SNAPSHOT_FORMATS))
def test_the_sdk_downloads_a_snapshot_as(
    suite, box_snapshot: BoxSnapshot, export_type: str
) -> None:
    sdk = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    content = b"".join(
        sdk.projects.exports.download(
            box_snapshot.project_id, box_snapshot.export_id, export_type=export_type
        )
    )
    SNAPSHOT_FORMATS[export_type](content, box_snapshot)
