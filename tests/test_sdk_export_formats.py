"""Image formats through the official SDK: a snapshot of an image project, polled, then
downloaded as COCO, YOLO, VOC and YOLO OBB, and the same files converted by the SDK's own
converter from the snapshot's JSON."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.converter import Converter

from .conftest import ADMIN_TOKEN

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels>
</View>"""


def box(x: float, y: float, label: str, rotation: float = 0) -> dict[str, object]:
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 800,
        "original_height": 600,
        "value": {
            "x": x,
            "y": y,
            "width": 20,
            "height": 30,
            "rotation": rotation,
            "rectanglelabels": [label],
        },
    }


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def test_image_formats_through_the_sdk(sdk: LabelStudio, tmp_path: Path) -> None:
    project = sdk.projects.create(title="Pets", label_config=CONFIG)
    assert project.id is not None
    for name, regions in (
        ("cat.jpg", [box(10, 10, "Cat"), box(50, 40, "Dog", rotation=20)]),
        ("dog.png", [box(5, 5, "Dog")]),
    ):
        task = sdk.tasks.create(
            project=project.id, data={"image": f"https://images.example.com/{name}"}
        )
        assert task.id is not None
        sdk.annotations.create(id=task.id, result=regions)
    formats = {entry["name"]: entry for entry in sdk.projects.exports.list_formats(project.id)}
    for name in ("COCO", "YOLO", "VOC", "YOLO_OBB", "COCO_WITH_IMAGES"):
        assert not formats[name].get("disabled"), name

    snapshot = sdk.projects.exports.create(
        project.id, serialization_options={"download_resources": False}
    )
    assert snapshot.id is not None
    deadline = time.monotonic() + 60
    while sdk.projects.exports.get(project.id, snapshot.id).status != "completed":
        assert time.monotonic() < deadline, "the snapshot did not complete"
        time.sleep(0.3)
    tasks = tmp_path / "tasks.json"
    tasks.write_bytes(
        b"".join(sdk.projects.exports.download(project.id, snapshot.id, export_type="JSON"))
    )
    assert len(json.loads(tasks.read_bytes())) == 2

    for name, suffix in (
        ("COCO", ".json"),
        ("YOLO", ".txt"),
        ("VOC", ".xml"),
        ("YOLO_OBB", ".txt"),
    ):
        body = b"".join(sdk.projects.exports.download(project.id, snapshot.id, export_type=name))
        archive = zipfile.ZipFile(io.BytesIO(body))
        ours = {n: archive.read(n) for n in archive.namelist() if n.endswith(suffix)}
        output = tmp_path / name
        output.mkdir()
        Converter(CONFIG, project_dir=str(tmp_path), download_resources=False).convert(
            str(tasks), str(output), name, is_dir=False
        )
        theirs = {
            p.relative_to(output).as_posix(): p.read_bytes() for p in output.rglob(f"*{suffix}")
        }
        if name == "COCO":
            mine, expected = json.loads(ours["result.json"]), json.loads(theirs["result.json"])
            assert mine["annotations"] == expected["annotations"] and len(mine["annotations"]) == 3
            assert mine["images"] == expected["images"]
        else:
            assert ours == theirs and len(ours) >= 2, name
