"""`/export/formats` per labeling config, and COCO / YOLO checked against Label Studio's own converter.

The image exports are made by export-svc from a real project (tasks and annotations made
through task-svc), then the same project's JSON export is fed to `label_studio_sdk`'s
converter; both must describe the same boxes, polygons, categories and file names.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from label_studio_sdk.converter import Converter

from .conftest import IMAGE_CONFIG, Cast, Seeder, Stack


def formats(stack: Stack, cast: Cast, project_id: int) -> dict[str, bool]:
    answer = stack.export.get(
        f"/api/projects/{project_id}/export/formats", headers=cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    enabled = [entry["name"] for entry in listed if not entry.get("disabled")]
    assert [entry["name"] for entry in listed[: len(enabled)]] == enabled  # enabled ones first
    assert all({"name", "title", "link"} <= set(entry) for entry in listed)
    return {entry["name"]: not entry.get("disabled") for entry in listed}


#: Label Studio 1.23's list, in its order (contract section 5.3), then the two beyond it.
EVERY_FORMAT = [
    "JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "COCO", "COCO_WITH_IMAGES", "VOC", "YOLO",
    "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES", "BRUSH_TO_NUMPY", "BRUSH_TO_PNG",
    "ASR_MANIFEST", "BRUSH_TO_COCO", "DOCLANG", "JSONL", "PARQUET",
]  # fmt: skip


def test_formats_follow_the_labeling_config(stack: Stack, cast: Cast, seeder: Seeder) -> None:
    ner = formats(stack, cast, seeder.project())
    assert sorted(ner) == sorted(EVERY_FORMAT)
    assert [name for name, on in ner.items() if on] == [
        "JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "JSONL", "PARQUET",
    ]  # fmt: skip
    image = formats(stack, cast, seeder.project(label_config=IMAGE_CONFIG))
    assert [name for name, on in image.items() if on] == [
        "JSON", "JSON_MIN", "CSV", "TSV", "COCO", "COCO_WITH_IMAGES", "VOC", "YOLO",
        "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES", "JSONL", "PARQUET",
    ]  # fmt: skip
    classification = formats(
        stack,
        cast,
        seeder.project(
            label_config='<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
            '<Choice value="A"/></Choices></View>'
        ),
    )
    assert [name for name, on in classification.items() if on] == [
        "JSON", "JSON_MIN", "CSV", "TSV", "JSONL", "PARQUET",
    ]  # fmt: skip
    keypoints_only = formats(
        stack,
        cast,
        seeder.project(
            label_config='<View><Image name="i" value="$img"/><KeyPointLabels name="k" toName="i">'
            '<Label value="Nose"/></KeyPointLabels></View>'
        ),
    )
    # Label Studio's rule: keypoints need rectangles for COCO and YOLO, not for YOLO OBB.
    assert not keypoints_only["COCO"] and not keypoints_only["YOLO"] and keypoints_only["YOLO_OBB"]
    brush = formats(
        stack,
        cast,
        seeder.project(
            label_config='<View><Image name="i" value="$img"/><BrushLabels name="b" toName="i">'
            '<Label value="A"/></BrushLabels></View>'
        ),
    )
    assert brush["BRUSH_TO_NUMPY"] and brush["BRUSH_TO_PNG"] and brush["BRUSH_TO_COCO"]
    assert not brush["COCO"] and not brush["VOC"]


def box(x: float, y: float, w: float, h: float, label: str, rotation: float = 0) -> dict[str, Any]:
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 640,
        "original_height": 480,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": rotation,
            "rectanglelabels": [label],
        },
    }


def outline(points: list[list[float]], label: str) -> dict[str, Any]:
    return {
        "from_name": "outline",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": 640,
        "original_height": 480,
        "value": {"points": points, "polygonlabels": [label]},
    }


@pytest.fixture()
def image_project(seeder: Seeder) -> int:
    project_id = seeder.project(label_config=IMAGE_CONFIG)
    cat, dog, _empty = seeder.tasks(
        project_id,
        [
            {"image": "https://images.example.com/pets/cat.jpg"},
            {"image": "https://images.example.com/pets/dog.png"},
            {"image": "https://images.example.com/pets/none.png"},
        ],
    )
    seeder.annotate(
        cat,
        [
            box(10, 20, 30, 40, "Cat"),
            box(50, 50, 10, 20, "Dog", rotation=30),
            outline([[10, 10], [50, 10], [30, 60]], "Cat"),
        ],
    )
    seeder.annotate(dog, [outline([[0, 0], [100, 0], [100, 100], [0, 100]], "Dog")])
    return project_id


def download(stack: Stack, cast: Cast, project_id: int, export_type: str) -> bytes:
    answer = stack.export.get(
        f"/api/projects/{project_id}/export",
        params={"exportType": export_type, "download_all_tasks": "true"},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    if export_type != "JSON":
        assert answer.headers["content-type"] == "application/zip"
        assert answer.headers["content-disposition"].endswith('.zip"')
    return answer.content


def label_studio_converts(tmp_path: Path, tasks: bytes, export_type: str) -> Path:
    source = tmp_path / "tasks.json"
    source.write_bytes(tasks)
    output = tmp_path / export_type.lower()
    converter = Converter(IMAGE_CONFIG, project_dir=str(tmp_path), download_resources=False)
    converter.convert(str(source), str(output), export_type, is_dir=False)
    return output


def test_coco_matches_label_studio(
    stack: Stack, cast: Cast, image_project: int, tmp_path: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(download(stack, cast, image_project, "COCO")))
    assert archive.testzip() is None
    ours = json.loads(archive.read("result.json"))
    expected_dir = label_studio_converts(
        tmp_path, download(stack, cast, image_project, "JSON"), "COCO"
    )
    expected = json.loads((expected_dir / "result.json").read_text())
    for key in ("images", "categories", "annotations"):
        assert ours[key] == expected[key], key
    assert len(ours["annotations"]) == 4 and ours["info"]["contributor"] == "Label Studio"


def test_yolo_matches_label_studio(
    stack: Stack, cast: Cast, image_project: int, tmp_path: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(download(stack, cast, image_project, "YOLO")))
    assert archive.testzip() is None
    expected_dir = label_studio_converts(
        tmp_path, download(stack, cast, image_project, "JSON"), "YOLO"
    )
    expected = {
        path.relative_to(expected_dir).as_posix(): path.read_text()
        for path in expected_dir.rglob("*.txt")
    }
    ours = {
        name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".txt")
    }
    assert ours == expected
    assert len([name for name in ours if name.startswith("labels/")]) == 3
    notes = json.loads(archive.read("notes.json"))
    assert notes["categories"] == [{"id": 0, "name": "Cat"}, {"id": 1, "name": "Dog"}]
