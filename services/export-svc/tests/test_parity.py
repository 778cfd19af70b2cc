"""Parity with Label Studio's converter: every corpus project, in every format Label Studio offers for it.

The same task records go to export-svc's writer and to `label_studio_sdk.converter`
(2.1.2, the converter Label Studio 1.23 runs); the outputs are compared file by file.
Where export-svc differs on purpose, the comparison says so in `normalized_*` and the
service README's format table gives the reason. `*_WITH_IMAGES` are compared on a project
whose images are uploads (the converter would download web images itself, which these
tests cannot let it do); `test_export_media.py` covers web media behind the policy.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export_svc.artifacts import LocalArtifactStorage
from export_svc.formats import ConfigShape, ExportContext, catalogue, find_format
from export_svc.media import MediaAccess
from label_studio_sdk.converter import Converter
from label_studio_sdk.converter.utils import parse_config
from labelops_common.labelconfig import parse_label_config
from labelops_common.outbound import OutboundPolicy
from PIL import Image

from .parity_corpus import CORPUS, IMAGE_BOXES, PROJECT_ID, Project


def png(width: int, height: int, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


#: Formats compared on uploaded images only (`test_with_images_from_uploads_...`).
WITH_IMAGES = {"COCO_WITH_IMAGES", "YOLO_WITH_IMAGES", "YOLO_OBB_WITH_IMAGES"}
#: Formats whose media Label Studio fetches by default, and the corpus provides (as uploads).
FETCHING = {"ASR_MANIFEST", "DOCLANG"}


def supported_by_label_studio(project: Project) -> list[str]:
    return list(Converter(project.config, project_dir=None).supported_formats)


CASES = [
    pytest.param(project, name, id=f"{project.name}-{name}")
    for project in CORPUS
    for name in supported_by_label_studio(project)
    if name not in WITH_IMAGES and name != "CSV_OLD"
]


def media_root(tmp_path: Path, project: Project) -> Path:
    root = tmp_path / "media"
    for key, body in project.media.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    root.mkdir(exist_ok=True)
    return root


def ours(
    project: Project, name: str, root: Path, *, download_resources: bool | None = None
) -> bytes:
    export_format = find_format(name)
    assert export_format is not None
    access = MediaAccess(
        uploads=LocalArtifactStorage(root), policy=OutboundPolicy(), max_bytes=10**8
    )
    context = ExportContext(
        project_id=PROJECT_ID,
        parsed=parse_label_config(project.config).parsed_label_config(),
        label_config=project.config,
        download_resources=name in FETCHING if download_resources is None else download_resources,
        media=access.fetcher(PROJECT_ID),
    )
    return b"".join(export_format.write(json.loads(json.dumps(project.tasks)), context))


def label_studio(
    project: Project,
    name: str,
    tmp_path: Path,
    root: Path,
    *,
    download_resources: bool | None = None,
) -> Path:
    source = tmp_path / "tasks.json"
    source.write_text(json.dumps(project.tasks))
    output = tmp_path / "label-studio"
    output.mkdir()  # Label Studio makes the folder before converting; the brush formats need it
    converter = Converter(
        project.config,
        project_dir=str(tmp_path),
        upload_dir=str(root / "upload"),
        download_resources=name in FETCHING if download_resources is None else download_resources,
    )
    converter.convert(str(source), str(output), name, is_dir=False)
    return output


def archive_files(body: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist()}


def directory_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


# ------------------------------------------------------------------------- comparisons


def same_json(body: bytes, theirs: Path, _project: Project) -> None:
    assert json.loads(body) == json.loads((theirs / "result.json").read_bytes())


def normalized_cell(cell: str) -> str:
    """Undo export-svc's CSV-injection guard (a `'` before a formula-like text cell)."""
    if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return cell[1:]
    return cell


def same_table(delimiter: str) -> Callable[[bytes, Path, Project], None]:
    def compare(body: bytes, theirs: Path, _project: Project) -> None:
        mine = list(csv.reader(io.StringIO(body.decode()), delimiter=delimiter))
        expected = list(
            csv.reader(io.StringIO((theirs / "result.csv").read_text()), delimiter=delimiter)
        )
        assert [[normalized_cell(c) for c in row] for row in mine] == expected

    return compare


def same_text(file_name: str) -> Callable[[bytes, Path, Project], None]:
    def compare(body: bytes, theirs: Path, _project: Project) -> None:
        assert body.decode() == (theirs / file_name).read_text()

    return compare


def normalized_file_name(image: dict[str, Any]) -> dict[str, Any]:
    """Label Studio names an upload by its URL (or a path into its media folder when the file
    is on its disk); export-svc by `images/<file>`, where COCO_WITH_IMAGES puts it."""
    name = image["file_name"]
    if name.startswith("/data/upload/"):
        return {**image, "file_name": "images/" + name.rsplit("/", 1)[-1]}
    return image


def same_coco(body: bytes, theirs: Path, _project: Project) -> None:
    mine = json.loads(archive_files(body)["result.json"])
    expected = json.loads((theirs / "result.json").read_bytes())
    expected["images"] = [normalized_file_name(image) for image in expected["images"]]
    for key in ("images", "categories", "annotations"):
        assert mine[key] == expected[key], key
    assert mine["info"]["contributor"] == expected["info"]["contributor"]


def same_label_files(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    assert {n: v for n, v in files.items() if n.endswith(".txt")} == {
        n: v for n, v in expected.items() if n.endswith(".txt")
    }
    assert (
        json.loads(files["notes.json"])["categories"]
        == (json.loads(expected["notes.json"])["categories"])
    )


def same_voc(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    assert {n: v.decode() for n, v in files.items() if n.endswith(".xml")} == {
        n: v.decode() for n, v in expected.items() if n.endswith(".xml")
    }


def same_arrays(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    assert sorted(files) == sorted(expected) and files
    for name, data in files.items():
        assert np.array_equal(np.load(io.BytesIO(data)), np.load(io.BytesIO(expected[name])))


def same_pngs(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    assert sorted(files) == sorted(expected) and files
    for name, data in files.items():
        assert np.array_equal(
            np.asarray(Image.open(io.BytesIO(data))),
            np.asarray(Image.open(io.BytesIO(expected[name]))),
        )


def same_brush_coco(body: bytes, theirs: Path, _project: Project) -> None:
    mine = json.loads(archive_files(body)["result_coco.json"])
    expected = json.loads((theirs / "result_coco.json").read_bytes())
    assert mine["images"] == expected["images"] and mine["images"]
    assert mine["annotations"] == expected["annotations"] and mine["annotations"]

    def colourless(categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "color"} for c in categories]

    # Label Studio draws each category's colour at random; export-svc derives it from the name.
    assert colourless(mine["categories"]) == colourless(expected["categories"])


def same_manifest(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    mine = [json.loads(line) for line in files["manifest.json"].splitlines()]
    theirs_lines = [json.loads(line) for line in expected["manifest.json"].splitlines()]
    assert mine == theirs_lines and len(mine) == 2
    assert {n: v for n, v in files.items() if n.startswith("audio/")} == {
        n: v for n, v in expected.items() if n.startswith("audio/")
    }


def same_doclang(body: bytes, theirs: Path, _project: Project) -> None:
    files = archive_files(body)
    expected = directory_files(theirs)
    assert sorted(files) == sorted(expected)
    for name, data in files.items():
        mine = zipfile.ZipFile(io.BytesIO(data))
        other = zipfile.ZipFile(io.BytesIO(expected[name]))
        assert sorted(mine.namelist()) == sorted(other.namelist())
        for entry in mine.namelist():
            assert mine.read(entry) == other.read(entry), (name, entry)


COMPARE: dict[str, Callable[[bytes, Path, Project], None]] = {
    "JSON": same_json,
    "JSON_MIN": same_json,
    "CSV": same_table(","),
    "TSV": same_table("\t"),
    "CONLL2003": same_text("result.conll"),
    "COCO": same_coco,
    "YOLO": same_label_files,
    "YOLO_OBB": same_label_files,
    "VOC": same_voc,
    "BRUSH_TO_NUMPY": same_arrays,
    "BRUSH_TO_PNG": same_pngs,
    "BRUSH_TO_COCO": same_brush_coco,
    "ASR_MANIFEST": same_manifest,
    "DOCLANG": same_doclang,
}


@pytest.mark.parametrize(("project", "name"), CASES)
def test_export_matches_label_studio(project: Project, name: str, tmp_path: Path) -> None:
    root = media_root(tmp_path, project)
    body = ours(project, name, root)
    theirs = label_studio(project, name, tmp_path, root)
    COMPARE[name](body, theirs, project)


def test_every_corpus_format_is_compared() -> None:
    """Each format Label Studio offers for some corpus project is in the comparisons."""
    offered = {name for project in CORPUS for name in supported_by_label_studio(project)}
    assert offered - WITH_IMAGES - {"CSV_OLD"} == set(COMPARE)


#: Configs at the edges of Label Studio's rules, beside the corpus's.
EDGE_CONFIGS = {
    "two data keys": '<View><Image name="i" value="$a"/><Text name="t" value="$b"/>'
    '<RectangleLabels name="r" toName="i"><Label value="A"/></RectangleLabels>'
    '<TextArea name="n" toName="t"/></View>',
    "multi-image": '<View><Image name="i" valueList="$pages"/>'
    '<RectangleLabels name="r" toName="i"><Label value="A"/></RectangleLabels></View>',
    "keypoints alone": '<View><Image name="i" value="$img"/>'
    '<KeyPointLabels name="k" toName="i"><Label value="Nose" model_index="0"/></KeyPointLabels></View>',
    "rectangle and labels": '<View><Image name="i" value="$img"/><Rectangle name="r" toName="i"/>'
    '<Labels name="l" toName="i"><Label value="A"/></Labels></View>',
    "brush and labels": '<View><Image name="i" value="$img"/><Brush name="b" toName="i"/>'
    '<Labels name="l" toName="i"><Label value="A"/></Labels></View>',
    "video timeline": '<View><Video name="v" value="$video"/>'
    '<TimelineLabels name="t" toName="v"><Label value="Run"/></TimelineLabels></View>',
    "text from a url": '<View><Text name="t" value="$url" valueType="url"/>'
    '<Labels name="l" toName="t"><Label value="PER"/></Labels></View>',
    "audio transcription": '<View><AudioPlus name="a" value="$audio"/>'
    '<TextArea name="tr" toName="a"/></View>',
}


def label_studio_parsed(config: str) -> dict[str, Any]:
    """The parsed config Label Studio's server hands its converter: the SDK's parse, with
    `valueType` kept on inputs (the server's parser records it; the converter skips a
    `Text` read from a URL)."""
    parsed: dict[str, Any] = parse_config(config)
    if 'valueType="url"' in config:
        for info in parsed.values():
            for item in info["inputs"]:
                if item["type"] == "Text" and f'value="${item["value"]}" valueType="url"' in config:
                    item["valueType"] = "url"
    return parsed


RULE_CASES = [pytest.param(p.config, id=p.name) for p in CORPUS] + [
    pytest.param(config, id=name) for name, config in EDGE_CONFIGS.items()
]


@pytest.mark.parametrize("config", RULE_CASES)
def test_formats_offered_as_label_studio_offers_them(config: str) -> None:
    parsed = parse_label_config(config).parsed_label_config()
    shape = ConfigShape.from_parsed(parsed, config)
    offered = {f.name for f in catalogue() if f.listed and f.fits(shape)}
    beyond_label_studio = {"JSONL", "PARQUET"}
    label_studio = Converter(label_studio_parsed(config), project_dir=None)
    expected = set(label_studio.supported_formats) - {"CSV_OLD"}
    assert offered - beyond_label_studio == expected
    assert beyond_label_studio <= offered


def boxes_with_uploaded_images() -> Project:
    tasks = json.loads(json.dumps(IMAGE_BOXES.tasks[:2]))
    tasks[0]["data"]["image"] = f"/data/upload/{PROJECT_ID}/0c0c0c0c-cat.png"
    return Project(
        name="image boxes with media",
        config=IMAGE_BOXES.config,
        tasks=tasks,
        media={
            f"upload/{PROJECT_ID}/0c0c0c0c-cat.png": png(64, 48, "RGB"),
            f"upload/{PROJECT_ID}/1a2b3c4d-dog.png": png(32, 20, "L"),
        },
    )


def test_voc_with_resources_matches_label_studio(tmp_path: Path) -> None:
    """With `download_resources`, both put the images under `images/` and read the depth
    from them (a grey image has one channel)."""
    project = boxes_with_uploaded_images()
    root = media_root(tmp_path, project)
    files = archive_files(ours(project, "VOC", root, download_resources=True))
    theirs = directory_files(label_studio(project, "VOC", tmp_path, root, download_resources=True))
    assert files == theirs
    assert sorted(files) == [
        "Annotations/0c0c0c0c-cat.xml",
        "Annotations/1a2b3c4d-dog.xml",
        "images/0c0c0c0c-cat.png",
        "images/1a2b3c4d-dog.png",
    ]
    assert b"<depth>1</depth>" in files["Annotations/1a2b3c4d-dog.xml"]


@pytest.mark.parametrize("name", sorted(WITH_IMAGES))
def test_with_images_from_uploads_match_label_studio(name: str, tmp_path: Path) -> None:
    """Uploaded images land in `images/` on both sides, with the same label files; COCO's
    `file_name` differs as README note 1 says, and its sizes come from the files."""
    project = boxes_with_uploaded_images()
    root = media_root(tmp_path, project)
    files = archive_files(ours(project, name, root))
    theirs = directory_files(label_studio(project, name, tmp_path, root))
    images = {n: v for n, v in files.items() if n.startswith("images/")}
    assert images == {n: v for n, v in theirs.items() if n.startswith("images/")}
    assert len(images) == 2
    if name == "COCO_WITH_IMAGES":
        mine = json.loads(files["result.json"])
        expected = json.loads(theirs["result.json"])
        assert mine["annotations"] == expected["annotations"]
        assert [(i["width"], i["height"]) for i in mine["images"]] == [(64, 48), (32, 20)]
        assert [(i["width"], i["height"]) for i in expected["images"]] == [(64, 48), (32, 20)]
        assert [i["file_name"] for i in mine["images"]] == sorted(images)
    else:
        labels = {n: v for n, v in files.items() if n.endswith(".txt")}
        assert labels == {n: v for n, v in theirs.items() if n.endswith(".txt")}
        assert len(labels) == 3  # two label files and classes.txt
