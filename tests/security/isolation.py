"""The isolation matrix's data: every route, the permission table, and the requests.

Routes come from the services' OpenAPI documents (`docs/openapi/*.json`), never a hand list:
a new route that matches no rule of `RULES` fails `test_every_route_has_a_family`, so
whoever adds it decides who may call it. The table (`FAMILIES`) is written from the named
policies (`labelops_common.auth.policies` and each service's `policies.py`), not from what
the server answers.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from labelops_common.auth.permissions import PERMISSIONS, Action
from labelops_common.auth.policies import ADMIN_ROLES, MANAGER_ROLES
from labelops_common.auth.principal import Role

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "openapi"

#: Written into every object of organization A; never in an answer to anyone else.
MARKER = "zebra"
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
</View>"""
REGION = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}

ALL_ROLES = frozenset(Role)
NOBODY: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def read_routes(directory: Path = OPENAPI) -> list[Route]:
    """Every operation of every service's OpenAPI document."""
    routes: list[Route] = []
    for document in sorted(directory.glob("*.json")):
        paths = json.loads(document.read_text())["paths"]
        for path, operations in paths.items():
            for method in operations:
                if method in {"get", "post", "put", "patch", "delete"}:
                    routes.append(Route(document.stem, method.upper(), path))
    return routes


@dataclass(frozen=True)
class Family:
    """Who of organization A may call the routes of one family.

    `targets_a`: the request names an object of organization A (a path id, or the
    `project`/`task` of its query or body), so anyone of another organization is refused
    (403 or 404). Otherwise the route acts on the caller's own organization or self, and
    another organization's member is answered about their own things, never A's.
    `public`: answered without credentials. `project`: the route is about one project
    (its id, or one of its objects'), so an annotator or reviewer who is not a member of
    it does not find it (`can_see_project`).
    """

    allowed: frozenset[Role]
    targets_a: bool = True
    public: bool = False
    project: bool = False


#: The permission table, role x route family, from the policies. Annotators and reviewers
#: of A are members of A's project (`can_see_project`), so they see it.
FAMILIES: dict[str, Family] = {
    # Anyone, signed in or not: health, version, the login and sign-up forms.
    "public": Family(ALL_ROLES, targets_a=False, public=True),
    # The caller's own account and tokens (users/router.py, tokens/router.py).
    "self": Family(ALL_ROLES, targets_a=False),
    # Organization-wide reads every member may make (`can_view_labels`, the project list,
    # storage types, data manager's columns...).
    "organization read": Family(ALL_ROLES, targets_a=False),
    "organization read, managers": Family(MANAGER_ROLES, targets_a=False),
    "organization write, managers": Family(MANAGER_ROLES, targets_a=False),
    "organization write, administrators": Family(ADMIN_ROLES, targets_a=False),
    # The audit log names every member and what they did (`can_read_audit_log`).
    "organization read, administrators": Family(ADMIN_ROLES, targets_a=False),
    # organizations/policies.py on A's organization id.
    "organization": Family(ALL_ROLES),
    "organization change": Family(ADMIN_ROLES),
    "membership read": Family(MANAGER_ROLES),
    "membership change": Family(ADMIN_ROLES),
    # users/policies.py on another (annotator) member of A.
    "user read": Family(MANAGER_ROLES),
    "user change": Family(ADMIN_ROLES),
    # The label library (labels/policies.py).
    "labels read": Family(ALL_ROLES, targets_a=False),
    "label read": Family(ALL_ROLES),
    "label change": Family(MANAGER_ROLES),
    # projects/policies.py: members see, managers change; the task-svc, export-svc and
    # ml-gateway policies read and annotate as `can_view_tasks`/`can_annotate`, and
    # manage as `can_manage_tasks`.
    "project read": Family(ALL_ROLES, project=True),
    "project change": Family(MANAGER_ROLES, project=True),
    # An annotation or view another member of A wrote: `can_change_annotation`,
    # `can_change_view` (authors and managers).
    "others' work change": Family(MANAGER_ROLES, project=True),
    # Another member's draft: drafts are their author's alone (`get_own_draft`).
    "others' draft": Family(NOBODY, project=True),
    # Another member's annotation (and the comments on it), which annotators do not see
    # unless the project shows them (`access.annotations_visible_to`): 404 to them.
    "others' annotation read": Family(PERMISSIONS[Action.VIEW_OTHERS_ANNOTATIONS], project=True),
    # A comment's words are its author's alone (`access.can_edit_comment`).
    "others' comment text": Family(NOBODY, project=True),
    # task-svc reviews/: reviewers, managers and up review (`access.can_review`).
    "review": Family(PERMISSIONS[Action.REVIEW], project=True),
    # webhooks/policies.py, for a project webhook.
    "webhooks": Family(MANAGER_ROLES, project=True),
    # storages/policies.py and exports/policies.py and backends/policies.py.
    "storages": Family(MANAGER_ROLES, project=True),
    "exports": Family(MANAGER_ROLES, project=True),
    "ml read": Family(ALL_ROLES, project=True),
    "ml change": Family(MANAGER_ROLES, project=True),
    # A storage of a type A has none of (the cloud ones: no emulator here): the id is A's
    # local-files storage's, so nobody finds it under another type.
    "absent": Family(NOBODY),
}

#: (methods, path pattern, family); the first rule that matches a route decides.
RULES: list[tuple[str, str, str]] = [
    ("GET", r"/health|/api/version|/user/(login|signup)", "public"),
    ("POST", r"/user/(login|signup|logout)", "public"),
    # The refresh token in the body is the credential (simplejwt's views).
    ("POST", r"/api/token/(refresh|blacklist)", "public"),
    # Only parses the posted XML; Label Studio's `LabelConfigValidateAPI` is `AllowAny`.
    ("POST", r"/api/projects/validate", "public"),
    ("GET", r"/data/local-files", "project read"),
    ("*", r"/api/current-user/.*|/api/token(/.*)?", "self"),
    ("GET", r"/api/invite", "organization read, managers"),
    ("POST", r"/api/invite/reset-token", "organization write, administrators"),
    ("GET", r"/api/jwt/settings", "organization read"),
    ("POST", r"/api/jwt/settings", "organization write, administrators"),
    ("GET", r"/api/session-policy", "organization read, managers"),
    ("PATCH", r"/api/session-policy", "organization write, administrators"),
    ("GET", r"/api/organizations", "organization read"),
    ("GET", r"/api/organizations/\{organization_id\}", "organization"),
    ("PATCH", r"/api/organizations/\{organization_id\}", "organization change"),
    ("GET", r"/api/organizations/\{organization_id\}/memberships", "organization"),
    ("GET", r"/api/organizations/.*/memberships/\{user_id\}", "membership read"),
    ("*", r"/api/organizations/.*/memberships/\{user_id\}", "membership change"),
    ("GET", r"/api/users", "organization read, managers"),
    ("POST", r"/api/users", "organization write, administrators"),
    ("GET", r"/api/users/\{user_id\}", "user read"),
    ("*", r"/api/users/\{user_id\}", "user change"),
    ("GET", r"/api/labels|/api/label_links", "labels read"),
    ("GET", r"/api/labels/\{label_id\}|/api/label_links/\{link_id\}", "label read"),
    ("*", r"/api/labels/bulk", "project change"),
    ("*", r"/api/labels.*|/api/label_links.*", "label change"),
    ("GET", r"/api/projects|/api/projects/counts", "organization read"),
    ("POST", r"/api/projects", "organization write, managers"),
    ("*", r"/api/webhooks/info", "organization read"),
    ("*", r"/api/webhooks.*", "webhooks"),
    ("GET", r"/api/storages/(export/)?types", "organization read"),
    ("*", r"/api/storages/(export/)?(s3|gcs|azure)/\{storage_id\}.*", "absent"),
    ("*", r"/api/storages.*", "storages"),
    ("GET", r"/tasks/\{task_id\}/(presign|resolve)", "project read"),
    ("GET", r"/api/projects/\{project_id\}/export/formats", "project read"),
    ("*", r"/api/projects/\{project_id\}/exports?(/.*)?", "exports"),
    ("GET", r"/api/ml(/\{backend_id\}(/versions|/jobs|/train-jobs)?)?", "ml read"),
    ("POST", r"/api/ml/\{backend_id\}/interactive-annotating", "ml read"),
    ("*", r"/api/ml.*", "ml change"),
    ("GET", r"/api/projects/\{project_id\}(/annotators|/next|/tasks)?", "project read"),
    ("GET", r"/api/projects/\{project_id\}/next-review", "review"),
    # task-svc analytics/: members read their own figures, managers everyone's.
    ("GET", r"/api/projects/\{project_id\}/analytics(/people)?", "project read"),
    ("POST", r"/api/projects/\{project_id\}/(next|validate)", "project read"),
    ("*", r"/api/projects/\{project_id\}.*", "project change"),
    ("GET", r"/api/annotations/\{annotation_id\}", "others' annotation read"),
    ("*", r"/api/annotations/\{annotation_id\}(/convert-to-draft)?", "others' work change"),
    ("GET", r"/api/dm/actions/\{action_id\}/form", "project change"),
    ("POST", r"/api/dm/actions", "project change"),
    ("DELETE", r"/api/dm/views/reset", "project change"),
    ("GET", r"/api/dm/.*", "project read"),
    ("POST", r"/api/dm/views", "project read"),
    ("POST", r"/api/dm/views/order", "others' work change"),
    ("*", r"/api/dm/views/\{view_id\}", "others' work change"),
    ("*", r"/api/drafts/\{draft_id\}", "others' draft"),
    ("*", r"/api/import/file-upload/\{upload_id\}", "project change"),
    ("GET", r"/api/predictions(/\{prediction_id\})?", "project read"),
    ("*", r"/api/predictions.*", "project change"),
    ("GET", r"/api/tasks(/\{task_id\}(/agreement|/annotations|/drafts)?)?", "project read"),
    ("POST", r"/api/tasks/\{task_id\}/(annotations|drafts)", "project read"),
    (
        "POST",
        r"/api/tasks/\{task_id\}/annotations/\{annotation_id\}/drafts",
        "others' annotation read",
    ),
    ("*", r"/api/tasks.*", "project change"),
    ("GET", r"/data/upload/.*|/storage-data/uploaded", "project read"),
    # task-svc comments/: A's comment is on the founder's annotation.
    ("GET", r"/api/comments", "project read"),
    ("POST", r"/api/comments", "project read"),
    ("GET", r"/api/comments/\{comment_id\}", "others' annotation read"),
    ("PATCH", r"/api/comments/\{comment_id\}", "others' comment text"),
    ("DELETE", r"/api/comments/\{comment_id\}", "others' work change"),
    # project-svc audit/: owners and administrators read and export the log.
    ("GET", r"/api/audit-logs(/export)?", "organization read, administrators"),
    # task-svc reviews/: A's review is the founder's, of a member's annotation.
    ("GET", r"/api/annotation-reviews", "project read"),
    ("POST", r"/api/annotation-reviews", "review"),
    ("GET", r"/api/annotation-reviews/\{review_id\}", "others' annotation read"),
    ("*", r"/api/annotation-reviews/\{review_id\}", "others' work change"),
    # task-svc fsm/: a task's history is read like the task; moving it is managing it.
    ("GET", r"/api/fsm/entities/.*/history", "project read"),
    ("POST", r"/api/fsm/entities/.*/transition", "project change"),
]


def family_of(route: Route) -> str | None:
    for methods, pattern, family in RULES:
        if methods in {"*", route.method} and re.fullmatch(pattern, route.path):
            return family
    return None


def allowed(role: Role, route: Route) -> bool:
    family = family_of(route)
    assert family is not None, route
    return role in FAMILIES[family].allowed


@dataclass
class Ids:
    """Organization A's objects, made through the API by A's owner."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


class Caller:
    """httpx with one user's legacy token (None: anonymous), reusing one connection."""

    def __init__(self, http: httpx.Client, token: str | None, label: str) -> None:
        self.http = http
        self.token = token
        self.label = label

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        return self.http.request(method, url, headers=headers, **kwargs)

    def created(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None


def _import(owner: Caller, project: int, verb: str = "import", **kwargs: Any) -> dict[str, Any]:
    """The import's answer, waited for when it was queued (then it carries the import id)."""
    answer: dict[str, Any] = owner.created("POST", f"/api/projects/{project}/{verb}", **kwargs)
    if "import" not in answer:
        return answer
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = owner.created(
            "GET", f"/api/projects/{project}/{verb}s/{answer['import']}"
        )
        if job["status"] == "completed":
            return job
        if job["status"] == "failed":
            raise RuntimeError(f"import failed: {job}")
        time.sleep(0.2)
    raise RuntimeError("import did not finish in 60 s")


def create_objects(
    owner: Caller,
    *,
    members: list[int],
    ml_url: str,
    webhook_url: str,
    local_root: Path,
    redis: dict[str, Any],
    marker: str = MARKER,
) -> Ids:
    """A's project with everything the routes name: tasks, an annotation, a prediction, a
    draft, a view, an export, local-files storages and a file in them, a webhook with a
    delivery, labels, an ML backend, an import, a reimport and a file upload, and two
    annotators for the user routes to act on. `owner` is none of the callers checked, so
    the annotation, draft and view are someone else's work to each of them."""
    ids = Ids()
    v = ids.values
    v["ml_url"], v["webhook_url"], v["redis"] = ml_url, webhook_url, redis
    directory = local_root / marker
    directory.mkdir(exist_ok=True)
    (directory / f"{marker}.txt").write_text(marker)
    v["local_dir"] = str(directory)
    v["local_file"] = f"{marker}/{marker}.txt"
    me = owner.created("GET", "/api/current-user/whoami")
    v["organization"] = me["active_organization"]
    # Anyone who may work in the project can be assigned its tasks; the owner always may.
    v["assignee"] = me["id"]
    project = owner.created(
        "POST",
        "/api/projects",
        json={"title": f"{marker} project", "label_config": CONFIG, "description": marker},
    )
    v["project"] = project["id"]
    spare = owner.created(
        "POST", "/api/projects", json={"title": f"{marker} spare", "label_config": CONFIG}
    )
    v["spare_project"] = spare["id"]
    for user in members:
        owner.created("POST", f"/api/projects/{v['project']}/members", json={"user": user})
    imported = _import(
        owner,
        v["project"],
        params={"return_task_ids": "true"},
        json=[{"text": f"{marker} one"}, {"text": f"{marker} two"}],
    )
    v["task"] = imported["task_ids"][0]
    v["import"] = imported.get("id") or 0
    uploaded = _import(
        owner,
        v["project"],
        params={"commit_to_project": "false"},
        files={"file": (f"{marker}.json", json.dumps([{"text": marker}]), "application/json")},
    )
    v["upload"] = uploaded["file_upload_ids"][0]
    upload = owner.created("GET", f"/api/import/file-upload/{v['upload']}")
    v["filename"] = str(upload["file"]).rsplit("/", 1)[-1]
    again = _import(
        owner,
        v["project"],
        params={"commit_to_project": "false"},
        files={"file": ("again.json", json.dumps([{"text": marker}]), "application/json")},
    )
    reimported = _import(
        owner, v["project"], "reimport", json={"file_upload_ids": again["file_upload_ids"]}
    )
    v["reimport"] = reimported.get("id") or 0
    annotation = owner.created(
        "POST", f"/api/tasks/{v['task']}/annotations", json={"result": [REGION]}
    )
    v["annotation"] = annotation["id"]
    convertible = owner.created(
        "POST", f"/api/tasks/{v['task']}/annotations", json={"result": [REGION]}
    )
    v["convertible"] = convertible["id"]
    prediction = owner.created(
        "POST",
        "/api/predictions",
        json={"task": v["task"], "result": [REGION], "score": 0.5, "model_version": marker},
    )
    v["prediction"] = prediction["id"]
    comment = owner.created(
        "POST", "/api/comments", json={"text": f"{marker} comment", "annotation": v["annotation"]}
    )
    v["comment"] = comment["id"]
    draft = owner.created(
        "POST", f"/api/tasks/{v['task']}/drafts", json={"result": [REGION], "lead_time": 1}
    )
    v["draft"] = draft["id"]
    view = owner.created(
        "POST", "/api/dm/views", json={"project": v["project"], "data": {"title": marker}}
    )
    v["view"] = view["id"]
    export = owner.created("POST", f"/api/projects/{v['project']}/exports", json={})
    v["export"] = export["id"]
    deadline = time.monotonic() + 60
    while export["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.2)
        export = owner.created("GET", f"/api/projects/{v['project']}/exports/{v['export']}")
    storage = owner.created(
        "POST",
        "/api/storages/localfiles",
        json={"project": v["project"], "path": v["local_dir"], "title": marker},
    )
    v["storage"] = storage["id"]
    export_storage = owner.created(
        "POST",
        "/api/storages/export/localfiles",
        json={"project": v["project"], "path": v["local_dir"], "title": marker},
    )
    v["export_storage"] = export_storage["id"]
    for direction in ("", "export/"):
        redis_storage = owner.created(
            "POST",
            f"/api/storages/{direction}redis",
            json={"project": v["project"], "title": marker, **redis},
        )
        v[f"{direction}redis_storage"] = redis_storage["id"]
    webhook = owner.created(
        "POST", "/api/webhooks", json={"project": v["project"], "url": webhook_url}
    )
    v["webhook"] = webhook["id"]
    delivery = owner.created("POST", f"/api/webhooks/{v['webhook']}/test")
    v["delivery"] = delivery["id"]
    label = owner.created(
        "POST",
        "/api/labels",
        json=[
            {
                "from_name": "label",
                "title": marker.upper(),
                "value": {"labels": [marker]},
                "project": v["project"],
            }
        ],
    )
    v["label"] = (label[0] if isinstance(label, list) else label)["id"]
    links = owner.created("GET", "/api/label_links", params={"project": v["project"]})
    results = links.get("results", links) if isinstance(links, dict) else links
    v["label_link"] = results[0]["id"]
    backend = owner.created(
        "POST",
        "/api/ml",
        json={"project": v["project"], "url": ml_url, "title": marker, "is_interactive": True},
    )
    v["backend"] = backend["id"]
    for name in ("user_target", "member_target"):
        user = owner.created(
            "POST",
            "/api/users",
            json={"email": f"{marker}-{name}-{uuid.uuid4().hex[:8]}@example.com"},
        )
        v[name] = user["id"]
    # A review needs someone else's annotation: an imported one keeps its `completed_by`
    # (as in Label Studio), here a member who is none of the callers.
    reviewed = _import(
        owner,
        v["project"],
        params={"return_task_ids": "true"},
        json=[
            {
                "data": {"text": f"{marker} reviewed"},
                "annotations": [{"result": [REGION], "completed_by": v["user_target"]}],
            }
        ],
    )
    others = owner.created("GET", f"/api/tasks/{reviewed['task_ids'][0]}/annotations")
    v["reviewed_annotation"] = others[0]["id"]
    review = owner.created(
        "POST",
        "/api/annotation-reviews",
        json={"annotation": v["reviewed_annotation"], "accepted": False, "comment": marker},
    )
    v["review"] = review["id"]
    return ids


def fill_path(route: Route, ids: Ids) -> str:
    """The route's path with A's ids (the storage of the route's kind, export or import)."""
    storage = "export_storage" if route.path.startswith("/api/storages/export/") else "storage"
    if "/redis/" in route.path:
        storage = "export/redis_storage" if "/export/" in route.path else "redis_storage"
    user = "member_target" if "/memberships/" in route.path else "user_target"
    # Converting an annotation to a draft removes it: it gets one of its own.
    annotation = "convertible" if route.path.endswith("/convert-to-draft") else "annotation"
    names = {
        "project_id": "project",
        "task_id": "task",
        "annotation_id": annotation,
        "prediction_id": "prediction",
        "draft_id": "draft",
        "comment_id": "comment",
        "view_id": "view",
        "export_id": "export",
        "backend_id": "backend",
        "storage_id": storage,
        "webhook_id": "webhook",
        "delivery_id": "delivery",
        "label_id": "label",
        "link_id": "label_link",
        "organization_id": "organization",
        "user_id": user,
        "upload_id": "upload",
        "import_id": "import",
        "reimport_id": "reimport",
        "filename": "filename",
        "entity_id": "task",
        "review_id": "review",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "action_id":
            return "remove_duplicates"
        if name == "entity_name":
            return "task"
        return str(ids[names[name]])

    return re.sub(r"\{(\w+)\}", value, route.path)


Build = Callable[[Ids], dict[str, Any]]


def _project(ids: Ids) -> dict[str, Any]:
    return {"params": {"project": ids["project"]}}


#: The query and body a route needs to be a meaningful request about A's objects: a
#: refused caller must be refused for who they are, not for a malformed body. Routes not
#: listed get `?project=<A's project>`.
REQUESTS: dict[tuple[str, str], Build] = {
    ("GET", "/api/predictions"): lambda ids: {"params": {"task": ids["task"]}},
    ("POST", "/api/predictions"): lambda ids: {
        "json": {"task": ids["task"], "result": [], "score": 0.1, "model_version": "v2"}
    },
    ("PATCH", "/api/predictions/{prediction_id}"): lambda ids: {"json": {"score": 0.7}},
    ("PUT", "/api/predictions/{prediction_id}"): lambda ids: {
        "json": {"task": ids["task"], "result": [], "score": 0.9, "model_version": "v3"}
    },
    ("POST", "/api/tasks"): lambda ids: {
        "json": {"project": ids["project"], "data": {"text": "new"}}
    },
    ("PATCH", "/api/tasks/{task_id}"): lambda ids: {"json": {"meta": {"changed": True}}},
    ("POST", "/api/tasks/{task_id}/annotations"): lambda ids: {"json": {"result": [REGION]}},
    ("POST", "/api/tasks/{task_id}/drafts"): lambda ids: {"json": {"result": [REGION]}},
    ("POST", "/api/tasks/{task_id}/annotations/{annotation_id}/drafts"): lambda ids: {
        "json": {"result": [REGION]}
    },
    ("PATCH", "/api/annotations/{annotation_id}"): lambda ids: {"json": {"result": [REGION]}},
    ("PATCH", "/api/drafts/{draft_id}"): lambda ids: {"json": {"result": [REGION]}},
    ("POST", "/api/comments"): lambda ids: {"json": {"text": "new", "task": ids["task"]}},
    ("POST", "/api/annotation-reviews"): lambda ids: {
        "json": {"annotation": ids["reviewed_annotation"], "accepted": True}
    },
    ("PATCH", "/api/annotation-reviews/{review_id}"): lambda ids: {
        "json": {"accepted": False, "comment": "again"}
    },
    ("GET", "/api/annotation-reviews"): lambda ids: {
        "params": {"annotation": ids["reviewed_annotation"]}
    },
    ("PATCH", "/api/comments/{comment_id}"): lambda ids: {"json": {"text": "changed"}},
    ("POST", "/api/dm/actions"): lambda ids: {
        "params": {"project": ids["project"], "id": "remove_duplicates"},
        "json": {"selectedItems": {"all": True, "excluded": []}},
    },
    ("POST", "/api/projects/{project_id}/tasks/assignees"): lambda ids: {
        "json": {
            "type": "AN",
            "users": [ids["assignee"]],
            "selectedItems": {"all": False, "included": [ids["task"]]},
        }
    },
    ("POST", "/api/projects/{project_id}/tasks/{task_id}/assignees"): lambda ids: {
        "json": {"type": "AN", "users": [ids["assignee"]]}
    },
    ("PATCH", "/api/projects/{project_id}/tasks/{task_id}/assignees"): lambda ids: {
        "json": {"type": "AN", "users": [ids["assignee"]]}
    },
    ("POST", "/api/dm/views"): lambda ids: {
        "json": {"project": ids["project"], "data": {"title": "new"}}
    },
    ("POST", "/api/dm/views/order"): lambda ids: {
        "json": {"project": ids["project"], "ids": [ids["view"]]}
    },
    ("PATCH", "/api/dm/views/{view_id}"): lambda ids: {"json": {"data": {"title": "renamed"}}},
    ("PUT", "/api/dm/views/{view_id}"): lambda ids: {
        "json": {"project": ids["project"], "data": {"title": "put"}}
    },
    ("PATCH", "/api/import/file-upload/{upload_id}"): lambda ids: {
        "files": {"file": ("new.json", json.dumps([{"text": "new"}]), "application/json")}
    },
    ("PATCH", "/api/current-user/hotkeys"): lambda ids: {
        "json": {"custom_hotkeys": {"editor:save": {"key": "ctrl+s"}}}
    },
    ("POST", "/api/token/rotate"): lambda ids: {
        "json": {"refresh": ids.values.get("refresh", "not-a-token")}
    },
    ("POST", "/api/jwt/settings"): lambda ids: {
        "json": {"api_tokens_enabled": True, "legacy_api_tokens_enabled": True}
    },
    ("POST", "/api/label_links"): lambda ids: {
        "json": {"project": ids["spare_project"], "label": ids["label"], "from_name": "label"}
    },
    ("PATCH", "/api/label_links/{link_id}"): lambda ids: {"json": {"from_name": "label"}},
    ("POST", "/api/labels"): lambda ids: {
        "json": [
            {
                "from_name": "label",
                "title": "MISC",
                "value": {"labels": ["MISC"]},
                "project": ids["project"],
            }
        ]
    },
    ("POST", "/api/labels/bulk"): lambda ids: {
        "json": {
            "project": ids["project"],
            "old_label": {"labels": ["NOPE"]},
            "new_label": {"labels": ["NOPE2"]},
        }
    },
    ("PATCH", "/api/labels/{label_id}"): lambda ids: {"json": {"description": "changed"}},
    ("PATCH", "/api/organizations/{organization_id}"): lambda ids: {
        "json": {"title": "Changed organization"}
    },
    ("PATCH", "/api/organizations/{organization_id}/memberships/{user_id}"): lambda ids: {
        "json": {"role": "reviewer"}
    },
    ("POST", "/api/projects"): lambda ids: {"json": {"title": "another project"}},
    ("POST", "/api/projects/validate"): lambda ids: {"json": {"label_config": CONFIG}},
    ("PATCH", "/api/projects/{project_id}"): lambda ids: {"json": {"description": "changed"}},
    ("POST", "/api/projects/{project_id}/members"): lambda ids: {
        "json": {"user": ids["member_target"]}
    },
    ("DELETE", "/api/projects/{project_id}/members"): lambda ids: {
        "params": {"user": ids["member_target"]}
    },
    ("POST", "/api/projects/{project_id}/exports"): lambda ids: {"json": {}},
    # The task is annotated (completed): a manager may move it back.
    ("POST", "/api/fsm/entities/{entity_name}/{entity_id}/transition"): lambda ids: {
        "json": {"transition_name": "task_in_progress"}
    },
    ("GET", "/api/projects/{project_id}/export"): lambda ids: {"params": {"exportType": "JSON"}},
    ("POST", "/api/projects/{project_id}/exports/{export_id}/convert"): lambda ids: {
        "json": {"export_type": "CSV"}
    },
    ("POST", "/api/projects/{project_id}/import"): lambda ids: {"json": [{"text": "new"}]},
    ("POST", "/api/projects/{project_id}/import/predictions"): lambda ids: {
        "json": [{"task": ids["task"], "result": [], "score": 0.2}]
    },
    ("POST", "/api/projects/{project_id}/reimport"): lambda ids: {
        "json": {"file_upload_ids": [ids["upload"]]}
    },
    ("POST", "/api/projects/{project_id}/validate"): lambda ids: {"json": {"label_config": CONFIG}},
    ("POST", "/api/projects/{project_id}/tasks/bulk"): lambda ids: {
        "json": [{"data": {"text": "new"}}]
    },
    ("PATCH", "/api/session-policy"): lambda ids: {"json": {"max_session_age": 20160}},
    ("POST", "/api/users"): lambda ids: {
        "json": {"email": f"new-{uuid.uuid4().hex[:8]}@example.com"}
    },
    ("PATCH", "/api/users/{user_id}"): lambda ids: {"json": {"first_name": "Changed"}},
    ("POST", "/api/webhooks"): lambda ids: {
        "json": {"project": ids["project"], "url": ids["webhook_url"]}
    },
    ("PATCH", "/api/webhooks/{webhook_id}"): lambda ids: {"json": {"is_active": True}},
    ("PUT", "/api/webhooks/{webhook_id}"): lambda ids: {
        "json": {"project": ids["project"], "url": ids["webhook_url"]}
    },
    ("POST", "/api/ml"): lambda ids: {"json": {"project": ids["project"], "url": ids["ml_url"]}},
    ("POST", "/api/ml/{backend_id}/predict/test"): lambda ids: {"params": {"random": "true"}},
    ("PATCH", "/api/ml/{backend_id}"): lambda ids: {"json": {"title": "renamed"}},
    ("POST", "/api/ml/{backend_id}/interactive-annotating"): lambda ids: {
        "json": {"task": ids["task"], "context": {}}
    },
    ("POST", "/api/ml/{backend_id}/train"): lambda ids: {"json": {}},
    ("GET", "/data/local-files"): lambda ids: {"params": {"d": ids["local_file"]}},
    ("GET", "/tasks/{task_id}/presign"): lambda ids: {
        "params": {"fileuri": f"/data/local-files/?d={ids['local_file']}"}
    },
    ("GET", "/tasks/{task_id}/resolve"): lambda ids: {
        "params": {"fileuri": f"/data/local-files/?d={ids['local_file']}"}
    },
    ("GET", "/storage-data/uploaded"): lambda ids: {
        "params": {"filepath": f"upload/{ids['project']}/{ids['filename']}"}
    },
}

_STORAGE_BODY = re.compile(r"/api/storages/(export/)?(localfiles|s3|gcs|azure|redis)(/validate)?")
#: The one required setting of each storage type (a valid body, so only the caller is wrong).
_STORAGE_SETTING: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "localfiles": lambda ids: {"path": ids["local_dir"]},
    "s3": lambda ids: {"bucket": "nowhere"},
    "gcs": lambda ids: {"bucket": "nowhere"},
    "azure": lambda ids: {"container": "nowhere"},
    "redis": lambda ids: ids["redis"],
}

#: Allowed routes a valid request to which needs what the matrix does not set up: these
#: may answer a 400 naming a field (any other 4xx is still a failure).
NOT_SET_UP: dict[str, str] = {
    r"/api/storages/(export/)?(s3|gcs|azure)(/validate)?": "a cloud emulator",
    r"/api/projects/\{project_id\}/exports/\{export_id\}/cancel": "an export still running",
}


def not_set_up(route: Route) -> bool:
    return any(re.fullmatch(pattern, route.path) for pattern in NOT_SET_UP)


def build_request(route: Route, ids: Ids) -> dict[str, Any]:
    build = REQUESTS.get((route.method, route.path))
    if build is not None:
        return build(ids)
    storage = _STORAGE_BODY.fullmatch(route.path)
    if route.method in {"POST", "PATCH", "PUT"} and storage:
        setting = _STORAGE_SETTING[storage.group(2)](ids)
        return {"json": {"project": ids["project"], "title": "new", **setting}}
    if route.method in {"POST", "PATCH", "PUT"}:
        return {**_project(ids), "json": {"project": ids["project"]}}
    return _project(ids)


#: Requests that end the caller's own credentials go last, after everything else.
_ENDS_SESSION = {
    ("POST", "/api/current-user/reset-token"),
    ("POST", "/api/current-user/logout-everywhere"),
    ("POST", "/api/token/blacklist"),
    ("POST", "/user/logout"),
}
#: Writes that remove what they name, run with the deletes.
_REMOVES = {("POST", "/api/annotations/{annotation_id}/convert-to-draft")}
#: Deletes of parents after their children's, so a child's delete still finds its object.
_DELETE_LAST = {
    "/api/projects/{project_id}/tasks": 1,
    "/api/dm/views/reset": 1,
    "/api/projects/{project_id}": 2,
}


def order(routes: list[Route]) -> list[Route]:
    """Reads, then writes, then deletes (children first), then the caller's own logout."""

    def rank(route: Route) -> tuple[int, int]:
        if (route.method, route.path) in _ENDS_SESSION:
            return (3, 0)
        if route.method == "DELETE" or (route.method, route.path) in _REMOVES:
            return (2, _DELETE_LAST.get(route.path, 0))
        return (0 if route.method == "GET" else 1, 0)

    return sorted(routes, key=rank)


def references_to(ids: Ids, users: set[int]) -> dict[str, set[int]]:
    """Answer keys and the ids of organization A each may not hold in another's answer."""
    return {
        "project": {ids["project"], ids["spare_project"]},
        "task": {ids["task"]},
        "annotation": {ids["annotation"], ids["convertible"]},
        "parent_annotation": {ids["annotation"], ids["convertible"]},
        "draft_id": {ids["draft"]},
        "label": {ids["label"]},
        "completed_by": users,
        "user": users,
        "created_by": users,
        "updated_by": users,
        "file_upload_ids": {ids["upload"]},
    }


def body_references(ids: Ids, users: set[int]) -> dict[str, Any]:
    """Every body field that names another object, each naming one of A's."""
    user = min(users)
    return {
        "project": ids["project"],
        "task": ids["task"],
        "tasks": [ids["task"]],
        "annotation": ids["annotation"],
        "parent_annotation": ids["annotation"],
        "draft_id": ids["draft"],
        "label": ids["label"],
        "user": user,
        "completed_by": user,
        "file_upload_ids": [ids["upload"]],
        "ids": [ids["view"]],
        "selectedItems": {"all": False, "included": [ids["task"]]},
    }


def mixed_request(
    route: Route, own: Ids, theirs: Ids, users: set[int]
) -> tuple[str, dict[str, Any]]:
    """The caller's own objects in the path, organization A's in the query and body."""
    kwargs = build_request(route, theirs)
    body = kwargs.get("json")
    if isinstance(body, dict):
        kwargs["json"] = {**body, **body_references(theirs, users)}
    elif isinstance(body, list):
        kwargs["json"] = [
            {**item, **body_references(theirs, users)} if isinstance(item, dict) else item
            for item in body
        ]
    return fill_path(route, own), kwargs


def held_references(value: Any, forbidden: dict[str, set[int]]) -> list[str]:
    """`key=id` pairs of `value` (an answer) that name one of A's objects."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            ids = forbidden.get(key, set())
            named = [item] if isinstance(item, int) else item if isinstance(item, list) else []
            if any(isinstance(i, int) and i in ids for i in named):
                found.append(f"{key}={item}")
            else:
                found.extend(held_references(item, forbidden))
    elif isinstance(value, list):
        for item in value:
            found.extend(held_references(item, forbidden))
    return found
