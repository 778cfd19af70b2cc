"""Media fetched into archives: from uploads, local files and real HTTP servers, within the policy and the cap."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from export_svc.artifacts import LocalArtifactStorage
from export_svc.formats import ExportContext, find_format
from export_svc.formats.coco import image_file_name
from export_svc.media import MediaAccess, MediaFetcher, MediaTooLarge, MediaUnavailable
from labelops_common.labelconfig import parse_label_config
from labelops_common.outbound import OutboundPolicy
from PIL import Image

from .parity_corpus import IMAGE_BOXES, PROJECT_ID


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color=0).save(buffer, format="PNG")
    return buffer.getvalue()


CAT = png(64, 48)
DOG = png(32, 20, "L")


class MediaServer(BaseHTTPRequestHandler):
    """Serves `/pets/cat.jpg`, redirects `/moved` to it, answers 404 otherwise."""

    def do_GET(self) -> None:
        if self.path == "/pets/cat.jpg":
            self.send_response(200)
            self.send_header("Content-Length", str(len(CAT)))
            self.end_headers()
            self.wfile.write(CAT)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/pets/cat.jpg")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def media_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), MediaServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def uploads(tmp_path: Path) -> LocalArtifactStorage:
    root = tmp_path / "data"
    for key, body in (
        (f"upload/{PROJECT_ID}/1a2b3c4d-dog.png", DOG),
        ("upload/99/0000aaaa-secret.png", b"another project's file"),
    ):
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    return LocalArtifactStorage(root)


def fetcher(
    uploads: LocalArtifactStorage,
    *,
    private: bool = True,
    max_bytes: int = 10**7,
    local_root: Path | None = None,
) -> MediaFetcher:
    access = MediaAccess(
        uploads=uploads,
        policy=OutboundPolicy(allow_private_networks=private),
        max_bytes=max_bytes,
        local_files_root=local_root,
        timeout_seconds=5,
    )
    return access.fetcher(PROJECT_ID)


def read(media: MediaFetcher, reference: str) -> bytes:
    with media.fetch(reference) as fetched:
        return b"".join(fetched.chunks())


def reason(media: MediaFetcher, reference: str) -> str:
    with pytest.raises(MediaUnavailable) as caught:
        media.fetch(reference)
    return caught.value.reason


def test_uploads_of_the_project_are_read_and_no_others(uploads: LocalArtifactStorage) -> None:
    media = fetcher(uploads)
    assert read(media, f"/data/upload/{PROJECT_ID}/1a2b3c4d-dog.png") == DOG
    assert read(media, f"upload/{PROJECT_ID}/1a2b3c4d-dog.png") == DOG
    proxied = f"/storage-data/uploaded/?filepath=upload/{PROJECT_ID}/1a2b3c4d-dog.png"
    assert read(media, proxied) == DOG
    assert reason(media, "/data/upload/99/0000aaaa-secret.png") == (
        "the upload belongs to another project"
    )
    assert reason(media, f"/data/upload/{PROJECT_ID}/../99/0000aaaa-secret.png")
    assert reason(media, f"/data/upload/{PROJECT_ID}/missing.png") == "no such upload"
    assert media.fetched_bytes == 3 * len(DOG) and media.unavailable == 3


def test_local_files_stay_under_their_root(uploads: LocalArtifactStorage, tmp_path: Path) -> None:
    root = tmp_path / "local"
    (root / "scans").mkdir(parents=True)
    (root / "scans" / "a.png").write_bytes(CAT)
    (tmp_path / "outside.png").write_bytes(b"outside")
    assert "LABELOPS_EXPORT_SVC_LOCAL_FILES_ROOT" in reason(
        fetcher(uploads), "/data/local-files/?d=scans/a.png"
    )
    media = fetcher(uploads, local_root=root)
    assert read(media, "/data/local-files/?d=scans/a.png") == CAT
    assert reason(media, "/data/local-files/?d=../outside.png") == (
        "the path leaves the local files root"
    )
    assert reason(media, "/data/local-files/?d=%2Fetc%2Fpasswd") in (
        "no such local file",
        "the path leaves the local files root",
    )


def test_web_media_passes_the_outbound_policy(
    uploads: LocalArtifactStorage, media_server: str
) -> None:
    allowed = fetcher(uploads, private=True)
    assert read(allowed, f"{media_server}/pets/cat.jpg") == CAT
    assert read(allowed, f"{media_server}/moved") == CAT  # the redirect hop is checked too
    assert reason(allowed, f"{media_server}/nothing.png") == "the server answered 404"
    refused = fetcher(uploads, private=False)
    assert "refused by the outbound address policy" in reason(
        refused, f"{media_server}/pets/cat.jpg"
    )
    assert reason(refused, "ftp://files.example.com/cat.png") == "the scheme 'ftp' is not fetched"
    assert "storage-sync" in reason(refused, "s3://bucket/cat.png")


def test_the_cap_stops_the_export(uploads: LocalArtifactStorage, media_server: str) -> None:
    media = fetcher(uploads, max_bytes=len(CAT) + len(DOG) - 1)
    assert read(media, f"{media_server}/pets/cat.jpg") == CAT
    with pytest.raises(MediaTooLarge, match="LABELOPS_EXPORT_SVC_MEDIA_MAX_BYTES"):
        media.fetch(f"/data/upload/{PROJECT_ID}/1a2b3c4d-dog.png")
    assert media.fetched_bytes == len(CAT)


def image_tasks(server: str) -> list[dict[str, Any]]:
    """The corpus's image boxes, the web image served by the test server."""
    tasks: list[dict[str, Any]] = json.loads(json.dumps(IMAGE_BOXES.tasks))
    tasks[0]["data"]["image"] = f"{server}/pets/cat.jpg"
    return tasks


def write(name: str, tasks: list[dict[str, Any]], media: MediaFetcher) -> dict[str, bytes]:
    export_format = find_format(name)
    assert export_format is not None and export_format.media == "always"
    context = ExportContext(
        project_id=PROJECT_ID,
        parsed=parse_label_config(IMAGE_BOXES.config).parsed_label_config(),
        label_config=IMAGE_BOXES.config,
        media=media,
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export_format.write(tasks, context))))
    return {entry: archive.read(entry) for entry in archive.namelist()}


def test_coco_with_images_carries_the_images_and_their_sizes(
    uploads: LocalArtifactStorage, media_server: str
) -> None:
    files = write("COCO_WITH_IMAGES", image_tasks(media_server), fetcher(uploads))
    images = json.loads(files["result.json"])["images"]
    archived = {name: body for name, body in files.items() if name.startswith("images/")}
    assert {image["file_name"] for image in images} == {
        *archived,
        "images/6260d9c4__none.png",  # a task whose image cannot be fetched keeps its entry
    }
    assert archived[images[1]["file_name"]] == DOG
    # Sizes come from the files (Label Studio's rule when it has the image), not the regions.
    assert [(i["width"], i["height"]) for i in images] == [(64, 48), (32, 20), (None, None)]
    boxes = json.loads(files["result.json"])["annotations"]
    assert boxes[0]["bbox"] == [64.0, 96.0, 192.0, 192.0]  # still in the drawn image's pixels


def test_yolo_with_images_is_yolo_plus_the_images(
    uploads: LocalArtifactStorage, media_server: str
) -> None:
    tasks = image_tasks(media_server)
    files = write("YOLO_WITH_IMAGES", tasks, fetcher(uploads))
    plain_format = find_format("YOLO")
    assert plain_format is not None
    context = ExportContext(
        project_id=PROJECT_ID, parsed=parse_label_config(IMAGE_BOXES.config).parsed_label_config()
    )
    plain = zipfile.ZipFile(io.BytesIO(b"".join(plain_format.write(tasks, context))))
    for name in plain.namelist():
        if name != "notes.json":
            assert files[name] == plain.read(name), name
    assert sorted(name for name in files if name.startswith("images/")) == sorted(
        name.replace("labels/", "images/").removesuffix(".txt") + ext
        for name, ext in (
            (n, ".jpg" if "cat" in n else ".png")
            for n in plain.namelist()
            if n.startswith("labels/") and "none" not in n
        )
    )


def test_a_bucket_image_that_cannot_be_fetched_leaves_no_orphan_labels(
    uploads: LocalArtifactStorage,
) -> None:
    tasks = json.loads(json.dumps(IMAGE_BOXES.tasks[:1]))
    tasks[0]["data"]["image"] = "s3://bucket/pets/cat.jpg"
    files = write("YOLO_OBB_WITH_IMAGES", tasks, fetcher(uploads))
    assert not [name for name in files if name.startswith(("labels/", "images/"))]


@pytest.mark.parametrize(
    ("reference", "entry"),
    [
        ("/data/local-files/?d=scans/a%20b.png", r"images/a b\.png"),
        (f"/storage-data/uploaded/?filepath=upload/{PROJECT_ID}/x.png", r"images/x\.png"),
        (f"/data/upload/{PROJECT_ID}/1a2b3c4d-dog.png", r"images/1a2b3c4d-dog\.png"),
        ("s3://bucket/pets/cat.jpg", r"images/cat\.jpg"),
        # A web URL gets the converter's cache name: 8 hex of the URL's md5, then the file name.
        (
            "https://cdn.example.com/x/..%5C..%5Cevil.png",
            r"images/[0-9a-f]{8}__\.\._\.\._evil\.png",
        ),
        ("https://cdn.example.com/x/..", r"images/[0-9a-f]{8}__image"),
    ],
)
def test_archive_names_never_leave_their_folder(reference: str, entry: str) -> None:
    assert re.fullmatch(entry, image_file_name(reference)), image_file_name(reference)
