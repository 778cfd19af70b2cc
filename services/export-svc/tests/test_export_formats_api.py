"""The new formats through the API: every Label Studio name answered, media from a real import,
the media cap, keypoint configs, Parquet and JSONL, and conversions of a snapshot."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow.parquet as pq
import pytest
from export_svc.exports import jobs
from export_svc.jobs import ExportJobResources
from label_studio_sdk.converter import Converter
from labelops_common.jobs import register_job_resources
from PIL import Image

from .conftest import IMAGE_CONFIG, Cast, Db, Seeded, Seeder, Stack
from .test_formats import EVERY_FORMAT, box


def export(stack: Stack, cast: Cast, project_id: int, export_type: str, **params: Any) -> Any:
    return stack.export.get(
        f"/api/projects/{project_id}/export",
        params={"exportType": export_type, "download_all_tasks": "true", **params},
        headers=cast.owner.headers,
    )


def archive(body: bytes) -> dict[str, bytes]:
    opened = zipfile.ZipFile(io.BytesIO(body))
    assert opened.testzip() is None
    return {name: opened.read(name) for name in opened.namelist()}


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color=(200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_label_studio_name_is_answered(
    stack: Stack, cast: Cast, seeder: Seeder, ner_project: Seeded
) -> None:
    """A name that fits gives its file; one that does not, or is unknown, a 400 saying why."""
    image_project = seeder.project(label_config=IMAGE_CONFIG)
    (task_id,) = seeder.tasks(image_project, [{"image": f"/data/upload/{image_project}/none.png"}])
    seeder.annotate(task_id, [box(10, 20, 30, 40, "Cat", rotation=15)])
    fits_images = {
        "JSON", "JSON_MIN", "CSV", "TSV", "COCO", "COCO_WITH_IMAGES", "VOC", "YOLO",
        "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES", "JSONL", "PARQUET", "CSV_OLD",
    }  # fmt: skip
    for name in [*EVERY_FORMAT, "CSV_OLD"]:
        answer = export(stack, cast, image_project, name)
        if name in fits_images:
            assert answer.status_code == 200, (name, answer.text)
            assert answer.content, name
        else:
            assert answer.status_code == 400, (name, answer.text)
            assert answer.json()["validation_errors"]["exportType"] == [
                f'"{name}" does not fit this project\'s labeling config.'
            ]
    unknown = export(stack, cast, ner_project.project_id, "SPACY")
    assert unknown.status_code == 400
    assert unknown.json()["validation_errors"]["exportType"] == [
        '"SPACY" is not a supported export format.'
    ]


KEYPOINT_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Person"/></RectangleLabels>
  <KeyPointLabels name="joints" toName="image"><Label value="nose"/></KeyPointLabels>
</View>
"""


def test_keypoints_without_a_skeleton_order_are_a_400_for_coco(
    stack: Stack, cast: Cast, seeder: Seeder
) -> None:
    project = seeder.project(label_config=KEYPOINT_CONFIG)
    seeder.tasks(project, [{"image": "https://images.example.com/p.jpg"}])
    coco = export(stack, cast, project, "COCO")
    assert coco.status_code == 400
    (message,) = coco.json()["validation_errors"]["exportType"]
    assert "model_index" in message
    assert export(stack, cast, project, "YOLO").status_code == 200


@pytest.fixture()
def imported_image(stack: Stack, cast: Cast, seeder: Seeder) -> tuple[int, bytes]:
    """An image project whose one task is an imported PNG, annotated with a box."""
    project = seeder.project(label_config=IMAGE_CONFIG)
    image = png(40, 30)
    answer = stack.task.post(
        f"/api/projects/{project}/import?return_task_ids=true",
        files={"file": ("tabby cat.png", image, "image/png")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    (task_id,) = answer.json()["task_ids"]
    seeder.annotate(task_id, [box(10, 20, 30, 40, "Cat")])
    return project, image


def test_coco_with_images_puts_the_uploaded_image_in_the_archive(
    stack: Stack, cast: Cast, imported_image: tuple[int, bytes]
) -> None:
    project, image = imported_image
    answer = export(stack, cast, project, "COCO_WITH_IMAGES")
    assert answer.status_code == 200, answer.text
    files = archive(answer.content)
    (name,) = [name for name in files if name.startswith("images/")]
    assert name.endswith("-tabby_cat.png") and files[name] == image
    (entry,) = json.loads(files["result.json"])["images"]
    assert (entry["file_name"], entry["width"], entry["height"]) == (name, 40, 30)
    without = archive(export(stack, cast, project, "COCO").content)
    assert list(without) == ["result.json"]


@pytest.fixture()
def small_media_cap(stack: Stack, imported_image: tuple[int, bytes]) -> Iterator[int]:
    """The export service's media cap, one byte short of the imported image, for one test.

    (Starlette's `State` keeps attributes in a dict, which monkeypatch cannot restore.)"""
    state = stack.export_runtime.http_app.state
    original = state.media_access
    cap = len(imported_image[1]) - 1
    state.media_access = dataclasses.replace(original, max_bytes=cap)
    try:
        yield cap
    finally:
        state.media_access = original


def test_past_the_media_cap_the_export_is_a_400_that_says_so(
    stack: Stack, cast: Cast, imported_image: tuple[int, bytes], small_media_cap: int
) -> None:
    project, _image = imported_image
    for name, params in (("YOLO_WITH_IMAGES", {}), ("VOC", {"download_resources": "true"})):
        answer = export(stack, cast, project, name, **params)
        assert answer.status_code == 400, answer.text
        (message,) = answer.json()["validation_errors"]["download_resources"]
        assert f"larger than {small_media_cap} bytes" in message
    # Without media the same project exports at once.
    assert export(stack, cast, project, "VOC", download_resources="false").status_code == 200


def test_voc_and_yolo_obb_match_label_studio(
    stack: Stack, cast: Cast, seeder: Seeder, tmp_path: Path
) -> None:
    project = seeder.project(label_config=IMAGE_CONFIG)
    cat, dog = seeder.tasks(
        project,
        [
            {"image": "https://images.example.com/pets/cat.jpg"},
            {"image": "https://images.example.com/pets/dog.png"},
        ],
    )
    seeder.annotate(cat, [box(10, 20, 30, 40, "Cat"), box(50, 50, 10, 20, "Dog", rotation=30)])
    seeder.annotate(dog, [box(0, 0, 50, 50, "Dog", rotation=90)])
    tasks = tmp_path / "tasks.json"
    tasks.write_bytes(export(stack, cast, project, "JSON").content)
    for name, suffix in (("VOC", ".xml"), ("YOLO_OBB", ".txt")):
        answer = export(stack, cast, project, name, download_resources="false")
        assert answer.status_code == 200, answer.text
        ours = {n: v for n, v in archive(answer.content).items() if n.endswith(suffix)}
        output = tmp_path / name
        output.mkdir()
        Converter(IMAGE_CONFIG, project_dir=str(tmp_path), download_resources=False).convert(
            str(tasks), str(output), name, is_dir=False
        )
        theirs = {
            p.relative_to(output).as_posix(): p.read_bytes() for p in output.rglob(f"*{suffix}")
        }
        assert ours == theirs and len([n for n in ours if n != "classes.txt"]) == 2


def test_parquet_and_jsonl_hold_the_json_export(
    stack: Stack, cast: Cast, ner_project: Seeded
) -> None:
    project = ner_project.project_id
    tasks = export(stack, cast, project, "JSON").json()
    lines = export(stack, cast, project, "JSONL")
    assert lines.headers["content-disposition"].endswith('.jsonl"')
    assert [json.loads(line) for line in lines.content.splitlines()] == tasks
    parquet = export(stack, cast, project, "PARQUET")
    assert parquet.status_code == 200
    assert parquet.headers["content-type"] == "application/parquet"
    table = pq.read_table(io.BytesIO(parquet.content)).to_pylist()
    assert [row["id"] for row in table] == [task["id"] for task in tasks]
    assert [json.loads(row["annotations"]) for row in table] == [t["annotations"] for t in tasks]
    assert [json.loads(row["data"]) for row in table] == [t["data"] for t in tasks]


def test_a_snapshot_converts_to_the_new_formats(
    stack: Stack, cast: Cast, imported_image: tuple[int, bytes], db: Db, sent: Any
) -> None:
    project, image = imported_image
    created = stack.export.post(
        f"/api/projects/{project}/exports/",
        json={"serialization_options": {"download_resources": False}},
        headers=cast.owner.headers,
    ).json()
    assert jobs.write_snapshot.run(created["id"]) == "succeeded"
    base = f"/api/projects/{project}/exports/{created['id']}"
    converting = stack.export.post(
        f"{base}/convert",
        json={"export_type": "YOLO_WITH_IMAGES"},
        headers=cast.owner.headers,
    )
    assert converting.status_code == 200, converting.text
    assert jobs.convert_snapshot.run(converting.json()["converted_format"]) == "succeeded"
    served = stack.export.get(
        f"{base}/download", params={"exportType": "YOLO_WITH_IMAGES"}, headers=cast.owner.headers
    )
    files = archive(served.content)
    assert [body for name, body in files.items() if name.startswith("images/")] == [image]
    # The snapshot was made without resources: VOC converted on the fly fetches none...
    voc = stack.export.get(
        f"{base}/download", params={"exportType": "VOC"}, headers=cast.owner.headers
    )
    assert not [name for name in archive(voc.content) if name.startswith("images/")]
    # ...unless the download asks for them.
    with_media = stack.export.get(
        f"{base}/download",
        params={"exportType": "VOC", "download_resources": "true"},
        headers=cast.owner.headers,
    )
    assert [n for n in archive(with_media.content) if n.startswith("images/")]
    bad = stack.export.post(
        f"{base}/convert", json={"export_type": "BRUSH_TO_PNG"}, headers=cast.owner.headers
    )
    assert bad.status_code == 400 and "export_type" in bad.json()["validation_errors"]


def test_a_conversion_past_the_media_cap_fails_and_says_why(
    stack: Stack, cast: Cast, imported_image: tuple[int, bytes], sent: Any
) -> None:
    project, image = imported_image
    created = stack.export.post(
        f"/api/projects/{project}/exports/", json={}, headers=cast.owner.headers
    ).json()
    assert jobs.write_snapshot.run(created["id"]) == "succeeded"
    base = f"/api/projects/{project}/exports/{created['id']}"
    converting = stack.export.post(
        f"{base}/convert", json={"export_type": "COCO_WITH_IMAGES"}, headers=cast.owner.headers
    )
    resources = stack.export_runtime.job_resources
    assert isinstance(resources, ExportJobResources)
    register_job_resources(
        dataclasses.replace(
            resources, media=dataclasses.replace(resources.media, max_bytes=len(image) - 1)
        )
    )
    try:
        assert jobs.convert_snapshot.run(converting.json()["converted_format"]) == "failed"
    finally:
        register_job_resources(resources)
    (converted,) = stack.export.get(base, headers=cast.owner.headers).json()["converted_formats"]
    assert converted["status"] == "failed"
    assert f"larger than {len(image) - 1} bytes" in converted["traceback"]
    assert "LABELOPS_EXPORT_SVC_MEDIA_MAX_BYTES" in converted["traceback"]


@pytest.mark.parametrize("export_type", ["JSON", "JSON_MIN"])
def test_a_json_export_matches_its_documented_answer(
    stack: Stack, cast: Cast, ner_project: Seeded, export_type: str
) -> None:
    """The document promised a binary string for `application/json` files; schemathesis
    (tests/security) found the list every JSON export is."""
    answer = export(stack, cast, ner_project.project_id, export_type)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    operation = stack.export.app.openapi()["paths"]["/api/projects/{project_id}/export"]["get"]
    documented = operation["responses"]["200"]["content"]["application/json"]["schema"]
    rows = answer.json()
    assert rows
    jsonschema.validate(rows, documented)
