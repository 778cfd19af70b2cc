"""Media uploads: stored under `upload/<project>/`, served with auth, never outside the root."""

from __future__ import annotations

import re
from typing import Any

import pytest

IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <Choices name="kind" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture()
def uploaded(stack: Any, cast: Any, make_project: Any, db: Any) -> tuple[int, str]:
    """A project with one imported image; returns (project, the task's image URL)."""
    project = make_project(label_config=IMAGE_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        files={"file": ("my cat.png", PNG, "image/png")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["found_formats"] == {".png": 1}
    [task] = db.tasks(project)
    image: str = task.data["image"]
    return project, image


def test_media_becomes_a_task_pointing_at_the_upload(
    stack: Any, cast: Any, uploaded: tuple[int, str], data_dir: Any
) -> None:
    project, image = uploaded
    assert re.fullmatch(rf"/data/upload/{project}/[0-9a-f]{{8}}-my_cat\.png", image), image
    assert (data_dir / image.removeprefix("/data/")).read_bytes() == PNG
    served = stack.task.get(image, headers=cast.owner.headers)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-security-policy"] == "sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"
    ranged = stack.task.get(image, headers={**cast.owner.headers, "Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.content == PNG[:8]
    proxied = stack.task.get(
        f"/storage-data/uploaded/?filepath={image.removeprefix('/data/')}",
        headers=cast.owner.headers,
    )
    assert proxied.status_code == 200 and proxied.content == PNG


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("manager", 200), ("annotator", 200), ("outsider", 404), ("anonymous", 401)],
)
def test_serving_permissions(
    stack: Any, cast: Any, uploaded: tuple[int, str], who: str, expected: int
) -> None:
    _, image = uploaded
    headers = {} if who == "anonymous" else getattr(cast, who).headers
    answer = stack.task.get(image, headers=headers)
    assert answer.status_code == expected
    if expected != 200:
        assert PNG[:8] not in answer.content


def test_path_traversal_is_refused(
    stack: Any, cast: Any, uploaded: tuple[int, str], data_dir: Any, make_project: Any
) -> None:
    project, image = uploaded
    name = image.rsplit("/", 1)[1]
    (data_dir / "secret.txt").write_text("top secret")
    (data_dir / "upload" / str(project) / "stray.txt").write_text("not an upload row")
    other = make_project(label_config=IMAGE_CONFIG)
    for path in (
        f"/data/upload/{project}/..%2F..%2Fsecret.txt",
        f"/data/upload/{project}/%2e%2e%2f%2e%2e%2fsecret.txt",
        f"/data/upload/{project}/..%5C..%5Csecret.txt",
        f"/data/upload/{project}/stray.txt",
        f"/data/upload/{project}/%2e%2e",
        f"/data/upload/{other}/{name}",
        f"/data/upload/{project}/{name}%00.txt",
        "/storage-data/uploaded/?filepath=upload/../secret.txt",
        f"/storage-data/uploaded/?filepath=upload/{project}/../../secret.txt",
        "/storage-data/uploaded/?filepath=/etc/passwd",
    ):
        answer = stack.task.get(path, headers=cast.owner.headers)
        assert answer.status_code == 404, path
        assert b"top secret" not in answer.content and b"not an upload" not in answer.content


def test_media_needs_a_single_data_key(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    two_keys = """<View><Image name="a" value="$a"/><Image name="b" value="$b"/></View>"""
    project = make_project(label_config=two_keys)
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        files={"file": ("x.png", PNG, "image/png")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400
    assert db.state(project) == {"tasks": 0, "annotations": 0, "predictions": 0, "file_uploads": 0}


def test_unsupported_extension(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=IMAGE_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        files={"file": ("run.exe", b"MZ", "application/octet-stream")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400 and ".exe" in answer.text
    assert db.state(project)["file_uploads"] == 0
