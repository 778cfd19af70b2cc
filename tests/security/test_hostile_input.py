"""Hostile input per endpoint family, against the single process (issue 21, item 2).

Each input is sent as an org owner (the most powerful caller, so no refusal is a mere
permission check) and must be answered with a 4xx in Label Studio's error body that names
the field (or, for a whole-body problem, the reason), with no stack trace, and with the
counts of projects, tasks, annotations, storages, webhooks and ML backends unchanged,
counted through the API before and after.

The server refuses private networks as the chart does by default (see hostile_server), so
every SSRF target below is the server's own business to refuse, including its own port.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.security.hostile_server import (  # noqa: F401 (the fixture)
    SECRET_FILE_TEXT,
    HostileSuite,
    hostile_suite,
)

LABEL_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>'
)
ERROR_KEYS = {"id", "status_code", "version", "detail", "exc_info"}
MIB = 1024 * 1024


@dataclass
class World:
    suite: HostileSuite
    client: httpx.Client
    project: int
    task: int

    def counts(self) -> dict[str, int]:
        """Everything a hostile input could have created or removed, through the API."""
        get = self.client.get
        tasks = get("/api/tasks", params={"project": self.project, "page_size": 1}).json()
        return {
            "projects": get("/api/projects", params={"page_size": 1}).json()["count"],
            "tasks": tasks["total"],
            "annotations": tasks["total_annotations"],
            "import storages": len(get("/api/storages", params={"project": self.project}).json()),
            "export storages": len(
                get("/api/storages/export", params={"project": self.project}).json()
            ),
            "webhooks": len(get("/api/webhooks").json()),
            "ml backends": len(get("/api/ml", params={"project": self.project}).json()),
        }


@pytest.fixture(scope="module")
def world(hostile_suite: HostileSuite) -> Iterator[World]:  # noqa: F811
    with hostile_suite.client() as client:
        created = client.post(
            "/api/projects", json={"title": "Hostile input", "label_config": LABEL_CONFIG}
        )
        assert created.status_code == 201, created.text
        project = created.json()["id"]
        imported = client.post(f"/api/projects/{project}/import", json=[{"text": "a task"}])
        assert imported.status_code == 201, imported.text
        task = client.get("/api/tasks", params={"project": project}).json()["tasks"][0]["id"]
        annotated = client.post(
            f"/api/tasks/{task}/annotations",
            json={"result": [_choice("Positive")]},
        )
        assert annotated.status_code == 201, annotated.text
        yield World(suite=hostile_suite, client=client, project=project, task=task)


def _choice(value: str) -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


@dataclass(frozen=True)
class Hostile:
    """One hostile request; `{project}`, `{task}`, `{port}` and `{root}` are filled in."""

    name: str
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    #: The field the answer must name in `validation_errors`, or None for a body-wide refusal.
    field: str | None = None
    #: Words the answer must contain (any of them, case-insensitive): the reason.
    reason: tuple[str, ...] = ()
    status: int | None = None


def _fill(text: str, world: World) -> str:
    return (
        text.replace("{project}", str(world.project))
        .replace("{task}", str(world.task))
        .replace("{port}", str(urlsplit(world.suite.base_url).port))
        .replace("{root}", str(world.suite.document_root))
    )


def _fill_bytes(content: bytes, world: World) -> bytes:
    return content.replace(b"{project}", str(world.project).encode()).replace(
        b"{task}", str(world.task).encode()
    )


def _fill_value(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return _fill(value, world)
    if isinstance(value, dict):
        return {key: _fill_value(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_value(item, world) for item in value]
    return value


def send(world: World, case: Hostile) -> httpx.Response:
    headers = {}
    content = None if case.content is None else _fill_bytes(case.content, world)
    if case.json is not None:
        content = json.dumps(_fill_value(case.json, world)).encode()
        headers["content-type"] = "application/json"
    if case.content_type:
        headers["content-type"] = case.content_type
    if case.form is not None and case.files is None:
        return world.client.request(
            case.method,
            _fill(case.path, world),
            files={key: (None, _fill(value, world)) for key, value in case.form.items()},
        )
    return world.client.request(
        case.method,
        _fill(case.path, world),
        content=content,
        files=case.files,
        headers=headers,
    )


def assert_refused(response: httpx.Response, case: Hostile) -> None:
    where = f"{case.name}: {response.status_code} {response.text[:600]}"
    if case.status is not None:
        assert response.status_code == case.status, where
    assert 400 <= response.status_code < 500, where
    assert "Traceback" not in response.text and 'File "' not in response.text, where
    body = response.json()
    assert body.keys() >= ERROR_KEYS, where
    assert body["exc_info"] is None, where
    if case.field is not None:
        assert case.field in (body.get("validation_errors") or {}), where
    if case.reason:
        answer = response.text.lower()
        assert any(word.lower() in answer for word in case.reason), where


# ------------------------------------------------------------------------------ the corpus

IMPORT = "/api/projects/{project}/import"
JSON_PARSE = ("invalid json", "json parse error")


def _deep(opening: str, closing: str, depth: int, inner: str = "1") -> str:
    return opening * depth + inner + closing * depth


IMPORTS = [
    Hostile(
        "json cut short",
        "POST",
        IMPORT,
        content=b'[{"text": "a"',
        field="non_field_errors",
        content_type="application/json",
        reason=JSON_PARSE,
    ),
    Hostile(
        "json object cut short",
        "POST",
        IMPORT,
        content=b'{"data": ',
        content_type="application/json",
        field="non_field_errors",
        reason=JSON_PARSE,
    ),
    Hostile(
        "json trailing garbage",
        "POST",
        IMPORT,
        content=b'[{"text": "a"}] xyz',
        content_type="application/json",
        field="non_field_errors",
        reason=JSON_PARSE,
    ),
    Hostile(
        "json NaN",
        "POST",
        IMPORT,
        content=b'[{"text": NaN}]',
        content_type="application/json",
        field="non_field_errors",
        reason=JSON_PARSE,
    ),
    Hostile(
        "json not UTF-8",
        "POST",
        IMPORT,
        content=b'[{"text": "\xff\xfe"}]',
        content_type="application/json",
        field="non_field_errors",
        reason=("utf-8", "utf8"),
    ),
    Hostile(
        "json a string",
        "POST",
        IMPORT,
        json="just a string",
        field="non_field_errors",
        reason=("must be a json object",),
    ),
    Hostile(
        "json a number",
        "POST",
        IMPORT,
        json=42,
        field="non_field_errors",
        reason=("must be a json object",),
    ),
    Hostile(
        "json null",
        "POST",
        IMPORT,
        content=b"null",
        content_type="application/json",
        field="non_field_errors",
        reason=("must be a json object", "no data"),
    ),
    Hostile(
        "json list of lists",
        "POST",
        IMPORT,
        json=[[1, 2]],
        field="non_field_errors",
        reason=("must be a json object",),
    ),
    Hostile(
        "data a string",
        "POST",
        IMPORT,
        json=[{"data": "text"}],
        field="non_field_errors",
        reason=("field must be a json object",),
    ),
    Hostile(
        "annotations a string",
        "POST",
        IMPORT,
        json=[{"data": {"text": "a"}, "annotations": "x"}],
        field="non_field_errors",
        reason=("annotations",),
    ),
    Hostile(
        "prediction result a string",
        "POST",
        IMPORT,
        json=[{"data": {"text": "a"}, "predictions": [{"result": "x"}]}],
        field="non_field_errors",
        reason=("result",),
    ),
    Hostile(
        "annotation of an unknown control",
        "POST",
        IMPORT,
        json=[
            {
                "data": {"text": "a"},
                "annotations": [{"result": [{**_choice("Positive"), "from_name": "nope"}]}],
            }
        ],
        field="non_field_errors",
        reason=("nope",),
    ),
    Hostile(
        "task without the config's variable",
        "POST",
        IMPORT,
        json=[{"data": {"other": 1}}],
        field="non_field_errors",
        reason=("text",),
    ),
    Hostile(
        "json nested 100000 deep",
        "POST",
        IMPORT,
        content=_deep("[", "]", 100_000).encode(),
        content_type="application/json",
        field="non_field_errors",
        reason=("nested deeper",),
    ),
    Hostile(
        "imported task data nested 50000 deep",
        "POST",
        IMPORT,
        content=('[{"data": {"text": "a", "x": ' + _deep('{"a":', "}", 50_000) + "}}]").encode(),
        content_type="application/json",
        field="non_field_errors",
        reason=("nested deeper",),
    ),
    Hostile(
        "json NUL in text",
        "POST",
        IMPORT,
        json=[{"text": "a\u0000b"}],
        field="non_field_errors",
        reason=("nul",),
    ),
    Hostile(
        "jsonl broken line",
        "POST",
        IMPORT,
        content=b'{"text": "a"}\n{"text": \n',
        content_type="application/x-ndjson",
        field="non_field_errors",
        reason=("line 2",),
    ),
    Hostile(
        "jsonl line nested 5000 deep",
        "POST",
        IMPORT,
        content=('{"text": ' + _deep("[", "]", 5000) + "}\n").encode(),
        content_type="application/x-ndjson",
        field="non_field_errors",
        reason=("nested deeper",),
    ),
    Hostile(
        "csv more cells than columns",
        "POST",
        IMPORT,
        content=b"text\na,b,c\n",
        content_type="text/csv",
        field="non_field_errors",
        reason=("cells", "columns"),
    ),
    Hostile(
        "csv not UTF-8",
        "POST",
        IMPORT,
        content=b"text\n\xff\xfe\xfa\n",
        content_type="text/csv",
        field="non_field_errors",
        reason=("utf-8",),
    ),
    Hostile(
        "csv NUL cell",
        "POST",
        IMPORT,
        content=b"text\na\x00b\n",
        content_type="text/csv",
        field="non_field_errors",
        reason=("nul",),
    ),
    Hostile(
        "csv header only",
        "POST",
        IMPORT,
        content=b"text\n",
        content_type="text/csv",
        field="non_field_errors",
        reason=("no tasks",),
    ),
    Hostile(
        "tsv more cells than columns",
        "POST",
        IMPORT,
        content=b"text\na\tb\tc\n",
        content_type="text/tab-separated-values",
        field="non_field_errors",
        reason=("cells", "columns"),
    ),
    Hostile(
        "empty body",
        "POST",
        IMPORT,
        content=b"",
        content_type="application/json",
        field="non_field_errors",
        reason=("no data",),
    ),
    Hostile(
        "unsupported media type",
        "POST",
        IMPORT,
        content=b"<a/>",
        content_type="application/xml",
        status=415,
        reason=("unsupported media type",),
    ),
    Hostile(
        "upload with an executable's extension",
        "POST",
        IMPORT,
        files={"file": ("evil.exe", b"MZ")},
        field="file",
        reason=("extension",),
    ),
    Hostile(
        "upload named by traversal with bad content",
        "POST",
        IMPORT,
        files={"file": ("../../../../tmp/evil.json", b"{not json")},
        field="non_field_errors",
        reason=JSON_PARSE,
    ),
    Hostile(
        "import into a project id past int64",
        "POST",
        "/api/projects/99999999999999999999999/import",
        json=[{"text": "a"}],
        status=404,
        reason=("not found",),
    ),
]

PROJECTS = [
    Hostile(
        "title a number",
        "POST",
        "/api/projects",
        json={"title": 123},
        field="title",
        reason=("string",),
    ),
    Hostile(
        "title 1 MiB",
        "POST",
        "/api/projects",
        json={"title": "x" * MIB},
        field="title",
        reason=("at most",),
    ),
    Hostile(
        "title with NUL",
        "POST",
        "/api/projects",
        json={"title": "a\u0000b"},
        field="title",
        reason=("nul",),
    ),
    Hostile(
        "description with a lone surrogate",
        "POST",
        "/api/projects",
        content=b'{"title": "ok title", "description": "a\\ud800b"}',
        content_type="application/json",
        field="description",
        reason=("surrogate",),
    ),
    Hostile(
        "maximum_annotations a string",
        "POST",
        "/api/projects",
        json={"title": "abc", "maximum_annotations": "many"},
        field="maximum_annotations",
        reason=("integer",),
    ),
    Hostile(
        "maximum_annotations zero",
        "POST",
        "/api/projects",
        json={"title": "abc", "maximum_annotations": 0},
        field="maximum_annotations",
        reason=("greater than",),
    ),
    Hostile(
        "maximum_annotations past int64",
        "POST",
        "/api/projects",
        json={"title": "abc", "maximum_annotations": 10**30},
        reason=("range", "integer"),
    ),
    Hostile(
        "color not a color",
        "POST",
        "/api/projects",
        json={"title": "abc", "color": "red"},
        field="color",
        reason=("pattern",),
    ),
    Hostile(
        "sampling unknown",
        "POST",
        "/api/projects",
        json={"title": "abc", "sampling": "Random please"},
        field="sampling",
        reason=("input should be",),
    ),
    Hostile(
        "control_weights a string",
        "POST",
        "/api/projects",
        json={"title": "abc", "control_weights": "heavy"},
        field="control_weights",
        reason=("dictionary", "object"),
    ),
    Hostile(
        "body nested 50000 deep",
        "POST",
        "/api/projects",
        content=(
            '{"title": "abc", "control_weights": ' + _deep('{"a":', "}", 50_000) + "}"
        ).encode(),
        content_type="application/json",
        reason=("nested too deeply",),
    ),
    Hostile(
        "body not JSON",
        "POST",
        "/api/projects",
        content=b"{title: abc",
        content_type="application/json",
        reason=JSON_PARSE,
    ),
    Hostile(
        "body a list", "POST", "/api/projects", json=[1, 2], reason=("valid dictionary", "object")
    ),
    Hostile(
        "patch title a list",
        "PATCH",
        "/api/projects/{project}",
        json={"title": ["a"]},
        field="title",
        reason=("string",),
    ),
    Hostile(
        "patch project id past int64",
        "PATCH",
        "/api/projects/99999999999999999999999",
        json={"title": "abc"},
        status=404,
        reason=("not found",),
    ),
]

BOMB = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']><View><Text name="text" value="&lol9;"/></View>'
)
CONFIGS = {
    "billion laughs": BOMB,
    "external entity (file)": (
        '<!DOCTYPE v [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<View><Text name="text" value="&xxe;"/></View>'
    ),
    "external entity (metadata URL)": (
        '<!DOCTYPE v [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>'
        '<View><Text name="text" value="&xxe;"/></View>'
    ),
    "parameter entity": (
        '<!DOCTYPE v [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/">%p;]>'
        '<View><Text name="text" value="$text"/></View>'
    ),
    "external DTD": (
        '<!DOCTYPE View SYSTEM "http://127.0.0.1:{port}/x.dtd">'
        '<View><Text name="text" value="$text"/></View>'
    ),
    "unclosed tag": '<View><Text name="text" value="$text"/>',
    "not XML": "hello, I am not a config",
    "nested 10000 deep": "<View>" * 10_000 + '<Text name="t" value="$t"/>' + "</View>" * 10_000,
    "control pointing nowhere": (
        '<View><Text name="text" value="$text"/>'
        '<Choices name="c" toName="nowhere"><Choice value="a"/></Choices></View>'
    ),
    "NUL in config": '<View><Text name="text" value="$te\u0000xt"/></View>',
}
LABEL_CONFIGS = [
    Hostile(
        f"label config: {name} ({path})",
        "POST",
        path,
        json={"title": "abc", "label_config": config}
        if path == "/api/projects"
        else {"label_config": config},
        field="label_config",
    )
    for name, config in CONFIGS.items()
    for path in ("/api/projects", "/api/projects/validate")
]

TASKS = [
    Hostile(
        "task data a string",
        "POST",
        "/api/tasks",
        json={"project": "{project}", "data": "text"},
        field="data",
        reason=("dictionary", "object"),
    ),
    Hostile(
        "task project a string",
        "POST",
        "/api/tasks",
        json={"project": "mine", "data": {"text": "a"}},
        field="project",
        reason=("integer",),
    ),
    Hostile(
        "task without data",
        "POST",
        "/api/tasks",
        json={"project": 1},
        field="data",
        reason=("required",),
    ),
    Hostile(
        "task data with NUL",
        "POST",
        "/api/tasks",
        content=b'{"project": {project}, "data": {"text": "a\\u0000b"}}',
        content_type="application/json",
        field="data.text",
        reason=("nul",),
    ),
    Hostile(
        "task data key with NUL",
        "POST",
        "/api/tasks",
        content=b'{"project": {project}, "data": {"te\\u0000xt": "a"}}',
        content_type="application/json",
        field="data",
        reason=("nul",),
    ),
    Hostile(
        "task data with a lone surrogate",
        "POST",
        "/api/tasks",
        content=b'{"project": {project}, "data": {"text": "a\\udfffb"}}',
        content_type="application/json",
        field="data.text",
        reason=("surrogate",),
    ),
    Hostile(
        "task data NaN",
        "POST",
        "/api/tasks",
        content=b'{"project": {project}, "data": {"text": "a", "n": NaN}}',
        content_type="application/json",
        field="data.n",
        reason=("nan",),
    ),
    Hostile(
        "task data Infinity",
        "POST",
        "/api/tasks",
        content=b'{"project": {project}, "data": {"text": "a", "n": 1e999}}',
        content_type="application/json",
        field="data.n",
        reason=("infinity",),
    ),
    Hostile(
        "task data nested 50000 deep",
        "POST",
        "/api/tasks",
        content=(
            '{"project": {project}, "data": {"text": ' + _deep("[", "]", 50_000) + "}}"
        ).encode(),
        content_type="application/json",
        reason=("nested too deeply",),
    ),
    Hostile(
        "task meta a list",
        "POST",
        "/api/tasks",
        json={"project": "{project}", "data": {"text": "a"}, "meta": [1]},
        field="meta",
        reason=("dictionary", "object"),
    ),
    Hostile(
        "patch task data with NUL",
        "PATCH",
        "/api/tasks/{task}",
        content=b'{"data": {"text": "a\\u0000b"}}',
        content_type="application/json",
        field="data.text",
        reason=("nul",),
    ),
    Hostile(
        "task id past int64",
        "GET",
        "/api/tasks/99999999999999999999999",
        status=404,
        reason=("not found",),
    ),
]

ANNOTATIONS = [
    Hostile(
        "result a string",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": "x"},
        field="result",
        reason=("list",),
    ),
    Hostile(
        "result of numbers",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": [1]},
        field="result.0",
        reason=("dictionary", "object"),
    ),
    Hostile(
        "result of an unknown control",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": [{**_choice("Positive"), "from_name": "nope"}]},
        reason=("nope",),
    ),
    Hostile(
        "lead_time a word",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": [], "lead_time": "long"},
        field="lead_time",
        reason=("number",),
    ),
    Hostile(
        "was_cancelled maybe",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": [], "was_cancelled": "maybe"},
        field="was_cancelled",
        reason=("boolean",),
    ),
    Hostile(
        "unique_id 1 MiB",
        "POST",
        "/api/tasks/{task}/annotations",
        json={"result": [], "unique_id": "u" * MIB},
        field="unique_id",
        reason=("at most",),
    ),
    Hostile(
        "result with NUL",
        "POST",
        "/api/tasks/{task}/annotations",
        content=b'{"result": [{"from_name": "sentiment", "to_name": "text", "type": '
        b'"choices", "value": {"choices": ["Positive\\u0000"]}}]}',
        content_type="application/json",
        field="result.0.value.choices.0",
        reason=("nul",),
    ),
    Hostile(
        "result with a lone surrogate",
        "POST",
        "/api/tasks/{task}/annotations",
        content=b'{"result": [{"from_name": "sentiment", "to_name": "text", "type": '
        b'"choices", "value": {"choices": ["\\ud800"]}}]}',
        content_type="application/json",
        field="result.0.value.choices.0",
        reason=("surrogate",),
    ),
    Hostile(
        "annotation on a task id past int64",
        "POST",
        "/api/tasks/99999999999999999999999/annotations",
        json={"result": []},
        status=404,
        reason=("not found",),
    ),
]

STORAGE_PATHS = {
    "parent": "{root}/..",
    "outside by dot-dot": "{root}/images/../../outside",
    "absolute elsewhere": "/etc",
    "the root itself": "{root}",
    "symlink out of the root": "{root}/escape",
    "encoded dot-dot": "{root}/%2e%2e/outside",
    "relative": "../outside",
    "NUL in path": "{root}/images\u0000/x",
}
LOCAL_FILES = [
    Hostile(
        f"local-files {kind or 'import '}storage: {name}",
        "POST",
        f"/api/storages/{kind}localfiles",
        json={"project": "{project}", "path": path},
        field="path",
    )
    for name, path in STORAGE_PATHS.items()
    for kind in ("", "export/")
]

SSRF_TARGETS = {
    "own port": "http://127.0.0.1:{port}/api/projects",
    "localhost by name": "http://localhost:{port}/",
    "cloud metadata": "http://169.254.169.254/latest/meta-data/",
    "metadata as a decimal": "http://2852039166/latest/meta-data/",
    "private 10/8": "http://10.0.0.1/",
    "private 172.16/12": "http://172.16.0.1/",
    "private 192.168/16": "http://192.168.0.1/",
    "CGNAT 100.64/10": "http://100.64.0.1/",
    "IPv6 loopback": "http://[::1]:{port}/",
    "IPv4-mapped IPv6": "http://[::ffff:127.0.0.1]:{port}/",
    "IPv6 link-local": "http://[fe80::1]/",
    "IPv6 unique local": "http://[fd00::1]/",
    "decimal loopback": "http://2130706433:{port}/",
    "hex loopback": "http://0x7f000001:{port}/",
    "octal loopback": "http://0177.0.0.1:{port}/",
    "short loopback": "http://127.1:{port}/",
    "unspecified": "http://0.0.0.0:{port}/",
    "userinfo in front of loopback": "http://example.com@127.0.0.1:{port}/",
    "file scheme": "file:///etc/passwd",
    "gopher scheme": "gopher://127.0.0.1:6379/_INFO",
}
SSRF_REASON = ("refused", "not allowed", "valid url", "scheme", "not a destination")


def _ssrf_cases() -> list[Hostile]:
    cases = []
    for name, url in SSRF_TARGETS.items():
        cases += [
            Hostile(
                f"URL import: {name}",
                "POST",
                IMPORT,
                form={"url": url},
                field="url",
                reason=SSRF_REASON,
            ),
            Hostile(
                f"ML backend: {name}",
                "POST",
                "/api/ml",
                json={"project": "{project}", "url": url},
                field="url",
                reason=SSRF_REASON,
            ),
            Hostile(
                f"webhook: {name}",
                "POST",
                "/api/webhooks",
                json={"project": "{project}", "url": url},
                field="url",
                reason=SSRF_REASON,
            ),
            Hostile(
                f"S3 endpoint: {name}",
                "POST",
                "/api/storages/s3",
                json={"project": "{project}", "bucket": "bucket-a", "s3_endpoint": url},
                field="s3_endpoint",
                reason=SSRF_REASON,
            ),
            Hostile(
                f"S3 export endpoint (validate): {name}",
                "POST",
                "/api/storages/export/s3/validate",
                json={"project": "{project}", "bucket": "bucket-a", "s3_endpoint": url},
                field="s3_endpoint",
                reason=SSRF_REASON,
            ),
        ]
        host = urlsplit(url.replace("{port}", "1")).hostname
        if url.startswith("http") and host and "@" not in url:
            cases.append(
                Hostile(
                    f"Azure blob endpoint: {name}",
                    "POST",
                    "/api/storages/azure",
                    json={
                        "project": "{project}",
                        "container": "container-a",
                        "connection_string": (
                            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                            "AccountKey=a2V5;BlobEndpoint=" + url.rstrip("/") + "/devstoreaccount1;"
                        ),
                    },
                    field="connection_string",
                    reason=SSRF_REASON,
                )
            )
            cases.append(
                Hostile(
                    f"Redis host: {name}",
                    "POST",
                    "/api/storages/redis",
                    json={"project": "{project}", "host": host.strip("[]"), "port": 6379},
                    field="host",
                    reason=SSRF_REASON,
                )
            )
    return cases


CORPUS = {
    "imports": IMPORTS,
    "projects": PROJECTS,
    "label configs": LABEL_CONFIGS,
    "tasks": TASKS,
    "annotations": ANNOTATIONS,
    "local files": LOCAL_FILES,
    "server-side fetches (SSRF)": _ssrf_cases(),
}
ALL_CASES = [case for cases in CORPUS.values() for case in cases]


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_hostile_input_is_refused_and_changes_nothing(world: World, case: Hostile) -> None:
    before = world.counts()
    assert_refused(send(world, case), case)
    assert world.counts() == before, case.name


def test_corpus_covers_every_family() -> None:
    """The issue's closing note reports these sizes; a family emptied by mistake fails here."""
    sizes = {family: len(cases) for family, cases in CORPUS.items()}
    assert all(size >= 8 for size in sizes.values()), sizes
    assert len({case.name for case in ALL_CASES}) == len(ALL_CASES)


# ------------------------------------------------------------------ bodies over the limit


def _declare_body(base_url: str, path: str, length: int) -> tuple[int, bytes]:
    """Send headers declaring `length` bytes and only the first few of them; the server
    must answer from the declaration alone (nobody uploads a gigabyte to find out)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as connection:
        connection.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Token {ADMIN_TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
            + b'[{"text": "'
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    ("path", "limit_mib"),
    [
        ("/api/projects/{project}/import", 1024),
        ("/api/tasks", 100),
        ("/api/projects", 100),
        ("/api/tasks/{task}/annotations", 100),
        ("/api/storages/s3", 100),
        ("/api/ml", 100),
    ],
)
def test_a_body_over_the_routes_limit_is_refused_unread(
    world: World, path: str, limit_mib: int
) -> None:
    before = world.counts()
    status, body = _declare_body(world.suite.base_url, _fill(path, world), limit_mib * MIB + 1)
    assert status == 413, body
    answer = json.loads(body.split(b"\r\n")[-1] if b"{" not in body[:1] else body)
    assert answer["detail"] == f"The request body is larger than {limit_mib} MiB."
    assert world.counts() == before


# ---------------------------------------------------------------- local files, served


@pytest.mark.parametrize(
    "wanted",
    [
        "../outside/secret.json",
        "escape/secret.json",
        "images/../../outside/secret.json",
        "%2e%2e/outside/secret.json",
        "..%2Foutside%2Fsecret.json",
        "{outside}",
        "/etc/passwd",
        "images/task.json\u0000.png",
    ],
)
def test_local_files_serving_never_leaves_the_storages(world: World, wanted: str) -> None:
    """Only files under a local-files storage of a project the caller sees are served; the
    traversal forms reach neither the file beside the root nor one outside it."""
    wanted = wanted.replace("{outside}", str(world.suite.outside_file))
    response = world.client.get("/data/local-files/", params={"d": wanted})
    assert 400 <= response.status_code < 500, response.text
    assert SECRET_FILE_TEXT not in response.text
    assert "root:" not in response.text
    assert "Traceback" not in response.text


# --------------------------------------------------------- script and Unicode as data


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(document.cookie)>",
        "<script>fetch('/api/current-user/token')</script>",
        '"><svg onload=alert(1)>',
        "javascript:alert(1)",
        "right-to-left \u202egnp.exe override",
        "zero\u200bwidth and \ufeffBOM and emoji \U0001f600",
    ],
)
def test_script_and_unicode_in_task_data_are_kept_as_data(world: World, text: str) -> None:
    """Task data is data: stored and answered verbatim as JSON, never as a page."""
    before = world.counts()
    imported = world.client.post(f"/api/projects/{world.project}/import", json=[{"text": text}])
    assert imported.status_code == 201, imported.text
    assert world.counts() == {**before, "tasks": before["tasks"] + 1}
    tasks = world.client.get(
        "/api/tasks", params={"project": world.project, "page_size": 1000}
    ).json()["tasks"]
    (task,) = [task for task in tasks if task["data"].get("text") == text]
    answer = world.client.get(f"/api/tasks/{task['id']}")
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.json()["data"]["text"] == text
    deleted = world.client.delete(f"/api/tasks/{task['id']}")
    assert deleted.status_code == 204
    assert world.counts() == before
