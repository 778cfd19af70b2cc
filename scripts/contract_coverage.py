"""Asks a running LabelOps for every row of Label Studio's endpoint table.

    python scripts/contract_coverage.py --base-url http://127.0.0.1:8080 --token TOKEN \
        --fixtures fixtures.json

Reads the method and path columns of `../shared/contract/endpoints.md` (beside the
repository, as CI clones it), creates the objects the rows need (a project, tasks, an
annotation, a prediction, a view, a file upload, labels, users, an import and an export
storage of each type, an ML backend, a webhook...) through the API itself, then sends each
row with ids that exist. A row answering 404 or 405 is missing, unless
`contract_coverage_allowed.txt` lists it under the open issue that owns it.

Storages, the ML backend and the webhook need things outside LabelOps that the API cannot
make: buckets and their credentials, a backend's URL, a receiver's URL. `--fixtures` names
a JSON file giving them (see `Fixtures`); without it those objects are not made and their
id rows answer 404, so they count as missing.

Rows that destroy what others need run last (deletes, then the token reset), so the
server's state stays usable until the end. The token given is the caller's legacy token;
the script resets it (`/api/current-user/reset-token/`) and prints nothing secret: run it
against a server of its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
#: Beside the repository (`../shared/contract/`), where the workspace keeps it.
ENDPOINTS = next(
    (
        path
        for path in (
            REPO.parent / "shared" / "contract" / "endpoints.md",
            Path("/work/shared/contract/endpoints.md"),
        )
        if path.exists()
    ),
    REPO.parent / "shared" / "contract" / "endpoints.md",
)
ALLOWED = REPO / "scripts" / "contract_coverage_allowed.txt"

MISSING_STATUSES = (404, 405)
#: Storage types, as in `/api/storages/<type>/` and `/api/storages/export/<type>`.
STORAGE_TYPES = ("s3", "gcs", "azure", "redis", "localfiles")
IMPORT, EXPORT = "import", "export"
STORAGE_ROW = re.compile(
    r"^/api/storages/(?:(?P<export>export)/)?(?P<kind>"
    + "|".join(STORAGE_TYPES)
    + r")/?(?P<rest>.*)$"
)
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
</View>"""


@dataclass(frozen=True)
class Row:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Outcome:
    row: Row
    status: int
    allowed_by: str | None = None

    @property
    def served(self) -> bool:
        return self.status not in MISSING_STATUSES


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    #: The objects made for the rows.
    ids: Ids | None = None

    @property
    def served(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.served]

    @property
    def allowed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.served and o.allowed_by is not None]

    @property
    def failing(self) -> list[Outcome]:
        """Served, but answering 5xx: a bug behind a route that exists."""
        return [o for o in self.outcomes if o.status >= 500]

    @property
    def missing(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.served and o.allowed_by is None]

    def summary(self) -> str:
        return (
            f"{len(self.outcomes)} rows: {len(self.served)} served, "
            f"{len(self.allowed)} allowed, {len(self.missing)} missing"
        )


def read_rows(path: Path = ENDPOINTS) -> list[Row]:
    """The `path` and `method` columns of endpoints.md's table."""
    rows: list[Row] = []
    for line in path.read_text().splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|\s*([A-Z]+)\s*\|", line)
        if match:
            rows.append(Row(method=match.group(2), path=match.group(1)))
    return rows


def read_allowed(path: Path = ALLOWED) -> dict[Row, str]:
    """`METHOD /path` lines, each under a `# issue N: subject` heading naming the owner."""
    allowed: dict[Row, str] = {}
    owner = ""
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            heading = re.match(r"^#\s*(issue \d+: .+)$", line)
            if heading:
                owner = heading.group(1)
            continue
        method, _, row_path = line.partition(" ")
        if not owner:
            raise ValueError(f"{path}:{number}: a row before any '# issue N: subject' heading")
        allowed[Row(method=method, path=row_path.strip())] = owner
    return allowed


@dataclass(frozen=True)
class Fixtures:
    """What the storage, ML-backend and webhook rows need from outside the server.

    The JSON file's shape (every key optional)::

        {"storages": {"s3": {"import": {"bucket": "b", "prefix": "in", "s3_endpoint": "...",
                                         "aws_access_key_id": "...", ...},
                              "export": {...}},
                      "gcs": {...}, "azure": {...}, "redis": {...}, "localfiles": {...}},
         "ml_backend_url": "http://127.0.0.1:9090",
         "webhook_url": "http://127.0.0.1:8000/hook"}

    A storage's fields are the type's own (Label Studio's names), without `project`: the
    script adds the project it made. The server must reach every address given (loopback
    ones need `LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS=true`).
    """

    storages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ml_backend_url: str | None = None
    webhook_url: str | None = None

    @classmethod
    def read(cls, path: Path) -> Fixtures:
        raw = json.loads(path.read_text())
        storages = raw.get("storages") or {}
        unknown = sorted(set(storages) - set(STORAGE_TYPES))
        if unknown:
            raise ValueError(f"{path}: storages: unknown types {unknown}, not {STORAGE_TYPES}")
        for kind, directions in storages.items():
            if set(directions) != {IMPORT, EXPORT}:
                raise ValueError(f"{path}: storages.{kind}: needs 'import' and 'export'")
        return cls(
            storages=storages,
            ml_backend_url=raw.get("ml_backend_url"),
            webhook_url=raw.get("webhook_url"),
        )


class Client:
    """httpx with the caller's token, which the reset-token row replaces."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Token {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kwargs)

    def created(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON answer of a request that must succeed (the fixtures' own set-up)."""
        response = self.request(method, url, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def optional(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON answer, or None where the server does not serve the set-up row yet."""
        response = self.request(method, url, **kwargs)
        if response.status_code >= 300:
            return None
        return response.json() if response.content else None


@dataclass
class Ids:
    """Objects that exist on the server, made through the API before the rows are asked."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name, 0) or 0


def import_tasks(
    client: Client, project: int, verb: str = "import", **kwargs: Any
) -> dict[str, Any]:
    """An import's answer; a queued one (`{"import": id}`) is waited for and read back, so
    the answer then also carries the import's id (a server answers that way above its
    `LABELOPS_TASK_SVC_IMPORT_SYNC_MAX_BYTES`)."""
    answer: dict[str, Any] = client.created("POST", f"/api/projects/{project}/{verb}", **kwargs)
    if "import" not in answer:
        return answer
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.created(
            "GET", f"/api/projects/{project}/imports/{answer['import']}"
        )
        if job["status"] == "completed":
            return job
        if job["status"] == "failed":
            raise RuntimeError(f"import {answer['import']} failed: {job['error']}")
        time.sleep(0.2)
    raise RuntimeError(f"import {answer['import']} did not finish in 60 s")


def storage_base(direction: str, kind: str) -> str:
    return f"/api/storages/{kind}/" if direction == IMPORT else f"/api/storages/export/{kind}"


def create_connections(client: Client, ids: Ids, fixtures: Fixtures) -> None:
    """An import and an export storage of each type given, an ML backend and a webhook on
    the project, and a doomed twin of each for the deleting rows."""
    v = ids.values
    for kind, directions in fixtures.storages.items():
        for direction in (IMPORT, EXPORT):
            body = {**directions[direction], "project": v["project"]}
            v[f"storage_body:{direction}:{kind}"] = body
            for name in ("storage", "doomed_storage"):
                made = client.created(
                    "POST",
                    storage_base(direction, kind),
                    json={**body, "title": f"coverage {name} {kind} {direction}"},
                )
                v[f"{name}:{direction}:{kind}"] = made["id"]
    if fixtures.ml_backend_url:
        v["ml_backend_url"] = fixtures.ml_backend_url
        for name in ("ml_backend", "doomed_ml_backend"):
            backend = client.created(
                "POST",
                "/api/ml/",
                json={
                    "url": fixtures.ml_backend_url,
                    "project": v["project"],
                    "title": name,
                    "is_interactive": True,
                },
            )
            v[name] = backend["id"]
    if fixtures.webhook_url:
        v["webhook_url"] = fixtures.webhook_url
        for name in ("webhook", "doomed_webhook"):
            webhook = client.created(
                "POST",
                "/api/webhooks/",
                json={"project": v["project"], "url": fixtures.webhook_url},
            )
            v[name] = webhook["id"]


def create_objects(client: Client, fixtures: Fixtures | None = None) -> Ids:
    ids = Ids()
    v = ids.values
    me = client.created("GET", "/api/current-user/whoami")
    v["organization"] = me.get("active_organization")
    project = client.created(
        "POST", "/api/projects/", json={"title": "contract coverage", "label_config": CONFIG}
    )
    v["project"] = project["id"]
    doomed = client.created(
        "POST", "/api/projects/", json={"title": "coverage, deleted", "label_config": CONFIG}
    )
    v["doomed_project"] = doomed["id"]
    imported = import_tasks(
        client,
        v["project"],
        params={"return_task_ids": "true"},
        json=[{"text": "first"}, {"text": "second"}, {"text": "first"}],
    )
    v["task"], v["doomed_task"] = imported["task_ids"][0], imported["task_ids"][1]
    v["import"] = imported.get("id")
    uploaded = import_tasks(
        client,
        v["project"],
        params={"commit_to_project": "false"},
        files={"file": ("coverage.json", json.dumps([{"text": "uploaded"}]), "application/json")},
    )
    v["file_upload"] = uploaded["file_upload_ids"][0]
    upload = client.created("GET", f"/api/import/file-upload/{v['file_upload']}")
    v["upload_filename"] = str(upload["file"]).removeprefix("upload/")
    second = import_tasks(
        client,
        v["project"],
        params={"commit_to_project": "false"},
        files={"file": ("again.json", json.dumps([{"text": "again"}]), "application/json")},
    )
    reimported = import_tasks(
        client,
        v["project"],
        "reimport",
        json={"file_upload_ids": second["file_upload_ids"]},
    )
    v["reimport"] = reimported.get("id")
    v["replaced_upload"] = second["file_upload_ids"][0]
    region = {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
    annotation = client.created(
        "POST", f"/api/tasks/{v['task']}/annotations/", json={"result": [region]}
    )
    v["annotation"] = annotation["id"]
    doomed_annotation = client.created(
        "POST", f"/api/tasks/{v['task']}/annotations/", json={"result": [region]}
    )
    v["doomed_annotation"] = doomed_annotation["id"]
    prediction = client.created(
        "POST",
        "/api/predictions/",
        json={"task": v["task"], "result": [region], "score": 0.5, "model_version": "v1"},
    )
    v["prediction"] = prediction["id"]
    view = client.created(
        "POST", "/api/dm/views/", json={"project": v["project"], "data": {"title": "coverage"}}
    )
    v["view"] = view["id"]
    for name in ("member", "deleted_user"):
        user = client.created(
            "POST",
            "/api/users/",
            json={"email": f"{name}-{uuid.uuid4().hex[:8]}@example.com", "role": "annotator"},
        )
        v[name] = user["id"]
    token = client.created("POST", "/api/token/")
    v["refresh"] = token["token"]
    blacklisted = client.created("POST", "/api/token/")
    v["blacklisted_refresh"] = blacklisted["token"]
    export = client.optional("POST", f"/api/projects/{v['project']}/exports/", json={})
    v["export"] = export["id"] if export else None
    label = client.optional(
        "POST",
        "/api/labels/",
        json=[
            {
                "from_name": "label",
                "title": "LOC",
                "value": {"labels": ["LOC"]},
                "project": v["project"],
            }
        ],
    )
    if label:
        created = label[0] if isinstance(label, list) else label
        v["label"] = created["id"]
        links = client.optional("GET", "/api/label_links/", params={"project": v["project"]})
        if links:
            results = links.get("results", links) if isinstance(links, dict) else links
            v["label_link"] = results[0]["id"] if results else None
    create_connections(client, ids, fixtures or Fixtures())
    return ids


Request = Callable[[Ids], dict[str, Any]]


def _none(ids: Ids) -> dict[str, Any]:
    return {}


#: Query strings and bodies that make a row's request meaningful; ids come from `Ids`.
REQUESTS: dict[Row, Request] = {
    Row("POST", "/api/annotations/{id}/convert-to-draft"): _none,
    Row("PATCH", "/api/current-user/hotkeys/"): lambda ids: {
        "json": {"custom_hotkeys": {"editor:save": {"key": "ctrl+s"}}}
    },
    Row("GET", "/api/dm/actions/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/dm/actions/"): lambda ids: {
        "params": {"project": ids["project"], "id": "remove_duplicates"},
        "json": {"selectedItems": {"all": True, "excluded": []}},
    },
    Row("GET", "/api/dm/actions/{action_id}/form/"): lambda ids: {
        "params": {"project": ids["project"]}
    },
    Row("GET", "/api/dm/columns/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("GET", "/api/dm/project/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("GET", "/api/dm/views/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/dm/views/"): lambda ids: {"json": {"project": ids["project"]}},
    Row("POST", "/api/dm/views/order/"): lambda ids: {
        "json": {"project": ids["project"], "ids": [ids["view"]]}
    },
    Row("DELETE", "/api/dm/views/reset/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("PATCH", "/api/dm/views/{id}/"): lambda ids: {"json": {"data": {"title": "renamed"}}},
    Row("PUT", "/api/dm/views/{id}/"): lambda ids: {
        "json": {"project": ids["project"], "data": {"title": "put"}}
    },
    Row("PATCH", "/api/import/file-upload/{id}"): lambda ids: {
        "files": {"file": ("replaced.json", json.dumps([{"text": "replaced"}]), "application/json")}
    },
    Row("POST", "/api/jwt/settings"): lambda ids: {
        "json": {"api_tokens_enabled": True, "legacy_api_tokens_enabled": True}
    },
    # A fresh task is CREATED: its manual `task_completed` succeeds (a 409 once it is done).
    Row("POST", "/api/fsm/entities/{entity_name}/{entity_id}/transition/"): lambda ids: {
        "json": {"transition_name": "task_completed", "transition_data": {"by": "coverage"}}
    },
    Row("GET", "/api/label_links/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/label_links/"): lambda ids: {
        "json": {"project": ids["doomed_project"], "label": ids["label"], "from_name": "label"}
    },
    Row("PATCH", "/api/label_links/{id}/"): lambda ids: {"json": {"from_name": "label"}},
    Row("POST", "/api/labels/"): lambda ids: {
        "json": [
            {
                "from_name": "label",
                "title": "MISC",
                "value": {"labels": ["MISC"]},
                "project": ids["project"],
            }
        ]
    },
    Row("POST", "/api/labels/bulk"): lambda ids: {
        "json": {
            "project": ids["project"],
            "old_label": {"labels": ["NOPE"]},
            "new_label": {"labels": ["NOPE2"]},
        }
    },
    Row("PATCH", "/api/labels/{id}/"): lambda ids: {"json": {"description": "Location"}},
    Row("PATCH", "/api/organizations/{id}"): lambda ids: {"json": {"title": "Coverage org"}},
    Row("GET", "/api/predictions/"): lambda ids: {"params": {"task": ids["task"]}},
    Row("POST", "/api/predictions/"): lambda ids: {
        "json": {"task": ids["task"], "result": [], "score": 0.1, "model_version": "v2"}
    },
    Row("PATCH", "/api/predictions/{id}/"): lambda ids: {"json": {"score": 0.7}},
    Row("PUT", "/api/predictions/{id}/"): lambda ids: {
        "json": {"task": ids["task"], "result": [], "score": 0.9, "model_version": "v3"}
    },
    Row("POST", "/api/projects/"): lambda ids: {"json": {"title": "coverage two"}},
    Row("POST", "/api/projects/validate/"): lambda ids: {"json": {"label_config": CONFIG}},
    Row("PATCH", "/api/projects/{id}/"): lambda ids: {"json": {"description": "covered"}},
    Row("POST", "/api/projects/{id}/exports/"): lambda ids: {"json": {}},
    Row("GET", "/api/projects/{id}/export"): lambda ids: {"params": {"exportType": "JSON"}},
    Row("POST", "/api/projects/{id}/exports/{export_pk}/convert"): lambda ids: {
        "json": {"export_type": "CSV"}
    },
    Row("POST", "/api/projects/{id}/import"): lambda ids: {"json": [{"text": "third"}]},
    Row("POST", "/api/projects/{id}/import/predictions"): lambda ids: {
        "json": [{"task": ids["task"], "result": [], "score": 0.2}]
    },
    Row("POST", "/api/projects/{id}/validate/"): lambda ids: {"json": {"label_config": CONFIG}},
    Row("PATCH", "/api/session-policy/"): lambda ids: {"json": {"max_session_age": 20160}},
    Row("GET", "/api/tasks/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/tasks/"): lambda ids: {
        "json": {"project": ids["project"], "data": {"text": "fourth"}}
    },
    Row("PATCH", "/api/tasks/{id}/"): lambda ids: {"json": {"meta": {"covered": True}}},
    Row("POST", "/api/tasks/{id}/annotations/"): lambda ids: {"json": {"result": []}},
    Row("POST", "/api/token/blacklist/"): lambda ids: {
        "json": {"refresh": ids["blacklisted_refresh"]}
    },
    Row("POST", "/api/token/refresh/"): lambda ids: {"json": {"refresh": ids["refresh"]}},
    Row("POST", "/api/token/rotate/"): lambda ids: {"json": {"refresh": ids["refresh"]}},
    Row("POST", "/api/users/"): lambda ids: {
        "json": {"email": f"row-{uuid.uuid4().hex[:8]}@example.com"}
    },
    Row("PATCH", "/api/users/{id}/"): lambda ids: {"json": {"first_name": "Covered"}},
    Row("GET", "/api/ml/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/ml/"): lambda ids: {
        "json": {"url": ids["ml_backend_url"] or "", "project": ids["project"], "title": "row"}
    },
    Row("PATCH", "/api/ml/{id}"): lambda ids: {"json": {"title": "renamed"}},
    Row("POST", "/api/ml/{id}/interactive-annotating"): lambda ids: {
        "json": {"task": ids["task"], "context": {}}
    },
    Row("POST", "/api/ml/{id}/predict/test"): lambda ids: {"params": {"random": "true"}},
    Row("GET", "/api/storages/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("GET", "/api/storages/export"): lambda ids: {"params": {"project": ids["project"]}},
    Row("GET", "/api/webhooks/"): lambda ids: {"params": {"project": ids["project"]}},
    Row("POST", "/api/webhooks/"): lambda ids: {
        "json": {"project": ids["project"], "url": ids["webhook_url"] or ""}
    },
    Row("PATCH", "/api/webhooks/{id}/"): lambda ids: {"json": {"send_payload": False}},
    Row("PUT", "/api/webhooks/{id}/"): lambda ids: {
        "json": {"url": ids["webhook_url"] or "", "send_for_all_actions": True}
    },
}


def storage_of(row: Row) -> tuple[str, str, str] | None:
    """(direction, type, the rest of the path) of a row on one storage type."""
    match = STORAGE_ROW.match(row.path)
    if match is None:
        return None
    return (EXPORT if match["export"] else IMPORT, match["kind"], match["rest"])


def storage_request(row: Row, ids: Ids) -> dict[str, Any]:
    """A storage type's rows: its list asks about the project, create and validate send the
    fixture's fields (a valid connection), PATCH renames."""
    storage = storage_of(row)
    if storage is None:
        return {}
    direction, kind, rest = storage
    body = ids.values.get(f"storage_body:{direction}:{kind}") or {"project": ids["project"]}
    if rest == "" and row.method == "GET":
        return {"params": {"project": ids["project"]}}
    if rest in ("", "validate") and row.method == "POST":
        return {"json": {**body, "title": f"coverage row {kind} {direction}"}}
    if rest == "{id}" and row.method == "PATCH":
        return {"json": {"title": f"renamed {kind} {direction}"}}
    return {}


def build_request(row: Row, ids: Ids) -> dict[str, Any]:
    build = REQUESTS.get(row)
    return build(ids) if build is not None else storage_request(row, ids)


def resolve_path(row: Row, ids: Ids) -> str:
    """The row's path with the ids of objects made for it (a deleting row gets its own)."""
    path = row.path
    deleting = row.method == "DELETE"
    prefixes: list[tuple[str, str]] = [
        ("/api/annotations/", "doomed_annotation" if deleting else "annotation"),
        ("/api/tasks/", "doomed_task" if deleting else "task"),
        ("/api/predictions/", "prediction"),
        ("/api/dm/views/", "view"),
        ("/api/import/file-upload/", "replaced_upload" if row.method == "PATCH" else "file_upload"),
        ("/api/label_links/", "label_link"),
        ("/api/labels/", "label"),
        ("/api/organizations/", "organization"),
        ("/api/users/", "deleted_user" if deleting else "member"),
        ("/api/webhooks/", "doomed_webhook" if deleting else "webhook"),
        ("/api/ml/", "doomed_ml_backend" if deleting else "ml_backend"),
    ]
    project_key = "project"
    if deleting and re.fullmatch(r"/api/projects/\{id\}/", path):
        project_key = "doomed_project"
    storage = storage_of(row)
    if storage is not None:
        direction, kind, _ = storage
        key = f"{'doomed_storage' if deleting else 'storage'}:{direction}:{kind}"
        path = path.replace("{id}", str(ids[key]), 1)
    elif path.startswith("/api/projects/"):
        path = path.replace("{id}", str(ids[project_key]), 1)
    else:
        for prefix, key in prefixes:
            if path.startswith(prefix):
                path = path.replace("{id}", str(ids[key]), 1)
                break
    return (
        path.replace("{export_pk}", str(ids["export"]))
        .replace("{import_pk}", str(ids["import"]))
        .replace("{reimport_pk}", str(ids["reimport"]))
        .replace("{user_pk}", str(ids["member"]))
        .replace("{action_id}", "remove_duplicates")
        .replace("{entity_name}", "task")
        .replace("{entity_id}", str(ids["task"]))
        .replace("{filename}", str(ids["upload_filename"]))
        .replace("{id}", "0")
    )


def order(rows: list[Row]) -> list[Row]:
    """Readers and writers first; then deletes, children before parents; the token reset last."""
    last = Row("POST", "/api/current-user/reset-token/")

    def rank(row: Row) -> tuple[int, int]:
        if row == last:
            return (3, 0)
        if row.method != "DELETE":
            return (0, 0)
        depth = {
            "/api/projects/{id}/": 9,
            "/api/projects/{id}/tasks/": 8,
            "/api/organizations/{id}/memberships/{user_pk}/": 7,
            "/api/dm/views/reset/": 6,
        }
        return (1, depth.get(row.path, 0))

    return sorted(rows, key=rank)


def check(
    client: Client, rows: list[Row], allowed: dict[Row, str], fixtures: Fixtures | None = None
) -> Report:
    ids = create_objects(client, fixtures)
    report = Report(ids=ids)
    for row in order(rows):
        response = client.request(row.method, resolve_path(row, ids), **build_request(row, ids))
        if row == Row("POST", "/api/current-user/reset-token/") and response.is_success:
            client.token = response.json().get("token", client.token)
        report.outcomes.append(
            Outcome(row=row, status=response.status_code, allowed_by=allowed.get(row))
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True, help="an owner's legacy token (reset at the end)")
    parser.add_argument("--endpoints", type=Path, default=ENDPOINTS)
    parser.add_argument("--allowed", type=Path, default=ALLOWED)
    parser.add_argument(
        "--fixtures",
        type=Path,
        help="JSON: storages' buckets and credentials, an ML backend's URL, a webhook "
        "receiver's URL (see Fixtures); without it their rows answer 404",
    )
    parser.add_argument("--verbose", action="store_true", help="print every row's status")
    args = parser.parse_args(argv)
    fixtures = Fixtures.read(args.fixtures) if args.fixtures else None
    if fixtures is None:
        print("no --fixtures: no storage, ML backend or webhook is made; their rows 404")
    report = check(
        Client(args.base_url, args.token),
        read_rows(args.endpoints),
        read_allowed(args.allowed),
        fixtures,
    )
    if args.verbose:
        for outcome in report.outcomes:
            print(f"{outcome.status}  {outcome.row}")
    for outcome in report.allowed:
        print(f"allowed  {outcome.status}  {outcome.row}  ({outcome.allowed_by})")
    for outcome in report.missing:
        print(f"MISSING  {outcome.status}  {outcome.row}")
    for outcome in report.failing:
        print(f"ERROR    {outcome.status}  {outcome.row}")
    print(report.summary())
    return 1 if report.missing or report.failing else 0


if __name__ == "__main__":
    sys.exit(main())
