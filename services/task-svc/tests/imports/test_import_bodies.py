"""How an import's body arrives (`imports.spooling`): every format raw or as a file, several
files, `url=` forms, empty and malformed bodies, and what stays stored after a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from labelops_common.settings import get_common_settings

from .conftest import TXT_CONFIG, url  # type: ignore[import-not-found]

RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "json": ("application/json", json.dumps([{"text": "a"}, {"data": {"text": "b"}}]).encode()),
    "jsonl": ("application/x-ndjson", b'{"text": "a"}\n\n{"data": {"text": "b"}}\n'),
    "jsonl-alt": ("application/jsonl", b'{"text": "a"}\n{"text": "b"}'),
    "csv": ("text/csv", b"text,other\na,1\nb,2\n"),
    "tsv": ("text/tab-separated-values", b"text\tother\na\t1\nb\t2\n"),
    "txt": ("text/plain; charset=utf-8", b"a\n\nb\n"),
}


@pytest.mark.parametrize("kind", sorted(RAW_BODIES))
def test_every_format_as_a_raw_body(
    stack: Any, cast: Any, make_project: Any, db: Any, kind: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    content_type, body = RAW_BODIES[kind]
    answer = stack.task.post(
        url(project, "?return_task_ids=true"),
        content=body,
        headers={**cast.owner.headers, "Content-Type": content_type},
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["task_count"] == 2
    assert result["annotation_count"] == 0 and result["prediction_count"] == 0
    assert result["file_upload_ids"] == [] and result["found_formats"] == []
    assert result["could_be_tasks_list"] is False and result["data_columns"] == []
    assert isinstance(result["duration"], float)
    tasks = db.tasks(project)
    assert [task.id for task in tasks] == result["task_ids"]
    assert [task.data["text"] for task in tasks] == ["a", "b"]
    assert [task.inner_id for task in tasks] == [1, 2]
    assert db.counts(project)["task_number"] == 2


FILES: dict[str, bytes] = {
    "tasks.json": json.dumps([{"text": "a"}, {"text": "b"}]).encode(),
    "tasks.jsonl": b'{"text": "a"}\n{"text": "b"}\n',
    "tasks.csv": b"text\na\nb\n",
    "tasks.tsv": b"text\ta2\na\tx\nb\ty\n",
    "tasks.txt": b"a\nb\n",
}


@pytest.mark.parametrize("filename", sorted(FILES))
def test_every_format_as_a_multipart_file(
    stack: Any, cast: Any, make_project: Any, db: Any, filename: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files={"anything": (filename, FILES[filename], "application/octet-stream")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    extension = filename[filename.index(".") :]
    assert result["task_count"] == 2
    assert result["found_formats"] == {extension: 1}
    assert result["could_be_tasks_list"] is (extension in (".csv", ".tsv", ".txt"))
    assert len(result["file_upload_ids"]) == 1
    upload_id = result["file_upload_ids"][0]
    tasks = db.tasks(project)
    assert [task.data["text"] for task in tasks] == ["a", "b"]
    assert {task.file_upload_id for task in tasks} == {upload_id}
    expected_columns = ["$undefined$"] if extension == ".txt" else ["text"]
    if extension == ".tsv":
        expected_columns = ["a2", "text"]
    assert result["data_columns"] == expected_columns
    listed = stack.task.get(
        f"/api/projects/{project}/file-uploads?ids=[{upload_id}]", headers=cast.owner.headers
    )
    assert listed.status_code == 200
    [upload] = listed.json()
    assert upload["id"] == upload_id and upload["size"] == len(FILES[filename])
    assert upload["file"].startswith(f"upload/{project}/") and upload["file"].endswith(filename)


def test_several_files_in_one_request(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files=[
            ("file", ("one.csv", b"text\na\n", "text/csv")),
            ("other", ("two.json", b'[{"text": "b"}, {"text": "c"}]', "application/json")),
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["task_count"] == 3
    assert result["found_formats"] == {".csv": 1, ".json": 1}
    assert len(result["file_upload_ids"]) == 2
    assert db.state(project)["file_uploads"] == 2


def test_a_bad_file_removes_its_upload(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files={"file": ("bad.csv", b"other\nx\n", "text/csv")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400
    assert "Error at item 0" in answer.json()["validation_errors"]["non_field_errors"][0]
    assert db.state(project)["file_uploads"] == 0
    assert not list((data_dir / "upload" / str(project)).glob("*"))


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"[]", "application/json", 400, "No tasks added"),
        (b"", "application/json", 400, "No data found"),
        (b"[{", "application/json", 400, "Invalid JSON"),
        (b"text\n", "text/csv", 400, "No tasks added"),
        (b"<xml/>", "application/xml", 415, "Unsupported media type"),
    ],
)
def test_empty_and_malformed_bodies(
    stack: Any,
    cast: Any,
    make_project: Any,
    db: Any,
    body: bytes,
    content_type: str,
    status: int,
    fragment: str,
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project), content=body, headers={**cast.owner.headers, "Content-Type": content_type}
    )
    assert answer.status_code == status, answer.text
    assert fragment in answer.text
    assert db.task_count(project) == 0


def test_url_form_field_with_json(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project), data={"url": json.dumps([{"text": "from form"}])}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    assert [task.data for task in db.tasks(project)] == [{"text": "from form"}]
    remote = stack.task.post(
        url(project), data={"url": "http://169.254.169.254/latest"}, headers=cast.owner.headers
    )
    assert remote.status_code == 400
    assert "url" in remote.json()["validation_errors"]


def test_raw_body_with_commit_false_is_kept_as_an_upload(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project, "?commit_to_project=false"), json=[{"text": "a"}], headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    [upload_id] = answer.json()["file_upload_ids"]
    again = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": [upload_id]},
        headers=cast.owner.headers,
    )
    assert again.status_code == 201, again.text
    assert [task.data for task in db.tasks(project)] == [{"text": "a"}]


class _FileServer(BaseHTTPRequestHandler):
    """Serves a JSON file, a CSV with no extension, a redirect and a 404."""

    routes: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self) -> None:
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"missing"))
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", body.decode())
            body = b""
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FileServer)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _FileServer.routes = {
        "/tasks.json": (
            200,
            "application/json",
            json.dumps([{"text": "a"}, {"text": "b"}]).encode(),
        ),
        "/export": (200, "text/csv; charset=utf-8", b"text\nc\nd\ne\n"),
        "/moved": (302, "text/plain", f"{base}/tasks.json".encode()),
        "/to-metadata": (302, "text/plain", b"http://169.254.169.254/latest/meta-data/"),
        "/page": (200, "text/html", b"<html></html>"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def private_networks_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS", "true")
    get_common_settings.cache_clear()
    yield
    monkeypatch.delenv("LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS")
    get_common_settings.cache_clear()


def test_url_import_is_refused_for_a_loopback_server_by_default(
    stack: Any, cast: Any, make_project: Any, db: Any, file_server: str
) -> None:
    get_common_settings.cache_clear()
    project = make_project(label_config=TXT_CONFIG)
    for target in (f"{file_server}/tasks.json", file_server.replace("127.0.0.1", "localhost")):
        answer = stack.task.post(url(project), data={"url": target}, headers=cast.owner.headers)
        assert answer.status_code == 400, answer.text
        assert "loopback address, refused by the outbound address policy" in answer.text
    assert db.task_count(project) == 0


@pytest.mark.parametrize("target", ["http://0177.0.0.1/tasks.json", "http://[::1/tasks.json"])
def test_url_import_of_an_address_httpx_cannot_parse_is_a_400_on_url(
    stack: Any, cast: Any, make_project: Any, db: Any, target: str
) -> None:
    """An octal IPv4 address made httpx raise InvalidURL, which is no HTTPError: a 500."""
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(url(project), data={"url": target}, headers=cast.owner.headers)
    assert answer.status_code == 400, answer.text
    assert "url" in answer.json()["validation_errors"]
    assert db.task_count(project) == 0


@pytest.mark.usefixtures("private_networks_allowed")
def test_url_import_downloads_through_the_policy(
    stack: Any, cast: Any, make_project: Any, db: Any, file_server: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    for path, texts in (("/tasks.json", ["a", "b"]), ("/export", ["c", "d", "e"])):
        answer = stack.task.post(
            url(project), data={"url": file_server + path}, headers=cast.owner.headers
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["task_count"] == len(texts)
    moved = stack.task.post(
        url(project), data={"url": f"{file_server}/moved"}, headers=cast.owner.headers
    )
    assert moved.status_code == 201, moved.text
    assert [task.data["text"] for task in db.tasks(project)] == ["a", "b", "c", "d", "e", "a", "b"]


@pytest.mark.usefixtures("private_networks_allowed")
@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-metadata", "169.254.169.254 is a link-local address"),
        ("/missing.json", "answered HTTP 404"),
        ("/page", "cannot tell which kind of file"),
    ],
)
def test_url_import_failures_name_the_reason_and_import_nothing(
    stack: Any, cast: Any, make_project: Any, db: Any, file_server: str, path: str, reason: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project), data={"url": file_server + path}, headers=cast.owner.headers
    )
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["validation_errors"]["url"][0]
    assert db.task_count(project) == 0
