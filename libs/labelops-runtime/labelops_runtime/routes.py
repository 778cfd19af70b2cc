"""The route table: which service answers which HTTP path. The only copy.

The single-process dispatcher matches requests against it directly; the nginx edge and
the Helm ingress are rendered from it (`labelops routes --format ...`) and checked to be
current in CI, so the three cannot drift.

Rules are tried in order; the first match wins. A `prefix` matches the path itself and
anything below it on a segment boundary (so `/api/projects` never matches
`/api/projectsfoo`); a `regex` is anchored at the start of the path.

Each rule also says how large a request body it takes (`max_body_mib`): JSON API calls are
small, imports and file uploads are not. The app refuses larger bodies itself
(labelops_runtime.body_limits), and the edges are rendered with the same figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

#: Largest body of an API call (an annotation with brush masks is a few MiB).
API_MAX_BODY_MIB = 100
#: Largest body of an import or file upload (a 1 GiB JSON file fits).
UPLOAD_MAX_BODY_MIB = 1024


@dataclass(frozen=True)
class Route:
    service: str
    prefix: str = ""
    regex: str = ""
    #: Why the rule exists, carried into the rendered configs as a comment.
    note: str = ""
    #: Largest request body the paths of this rule take, in MiB.
    max_body_mib: int = API_MAX_BODY_MIB

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        if self.regex:
            return re.compile("^" + self.regex.lstrip("^"))
        return re.compile("^" + re.escape(self.prefix.rstrip("/")) + "(/|$)")

    @property
    def nginx_regex(self) -> str:
        """The same rule as an anchored PCRE for nginx `location ~` and ingress paths."""
        return self.pattern.pattern


ROUTES: tuple[Route, ...] = (
    # Project sub-resources owned by other services come before the project catch-all.
    Route(
        "task-svc",
        regex=r"/api/projects/[0-9]+/import(/|$)",
        note="task import (files and bodies up to the upload limit)",
        max_body_mib=UPLOAD_MAX_BODY_MIB,
    ),
    Route(
        "task-svc",
        regex=r"/api/projects/[0-9]+/(imports|reimport|reimports|tasks|next|file-uploads|"
        r"model-versions|summary|sample-task|annotators|assignments|next-review|analytics|agreement)(/|$)",
        note="label stream and per-project task views",
    ),
    Route("export-svc", regex=r"/api/projects/[0-9]+/(export|exports)(/|$)", note="exports"),
    Route("project-svc", prefix="/api/projects"),
    Route("project-svc", prefix="/api/users"),
    Route("project-svc", prefix="/api/current-user"),
    Route("project-svc", prefix="/api/organizations"),
    Route("project-svc", prefix="/api/token"),
    Route("project-svc", prefix="/api/jwt"),
    Route("project-svc", prefix="/api/webhooks"),
    Route("project-svc", prefix="/api/invite"),
    Route("project-svc", prefix="/api/session-policy"),
    Route("project-svc", prefix="/api/audit-logs"),
    Route("task-svc", prefix="/api/labels/bulk", note="relabels saved annotations"),
    Route("project-svc", prefix="/api/labels"),
    Route("project-svc", prefix="/api/label_links"),
    Route("project-svc", prefix="/api/templates"),
    Route("project-svc", prefix="/api/version"),
    Route("project-svc", prefix="/health"),
    Route("project-svc", prefix="/user"),
    Route("task-svc", prefix="/api/tasks"),
    Route("task-svc", prefix="/api/annotations"),
    Route("task-svc", prefix="/api/predictions"),
    Route("task-svc", prefix="/api/drafts"),
    Route("task-svc", prefix="/api/dm"),
    Route("task-svc", prefix="/api/fsm"),
    Route("task-svc", prefix="/api/comments"),
    Route("task-svc", prefix="/api/annotation-reviews"),
    Route("task-svc", prefix="/api/import", max_body_mib=UPLOAD_MAX_BODY_MIB),
    Route("task-svc", prefix="/data/upload"),
    Route("task-svc", prefix="/storage-data/uploaded"),
    Route("storage-sync", prefix="/api/storages"),
    Route("storage-sync", prefix="/data/local-files"),
    Route("storage-sync", regex=r"/tasks/[0-9]+/(resolve|presign)(/|$)", note="media URIs"),
    Route("ml-gateway", prefix="/api/ml"),
)


def route_for_path(path: str) -> Route | None:
    """The rule that answers `path`, or None when no rule matches."""
    for route in ROUTES:
        if route.pattern.match(path):
            return route
    return None


def service_for_path(path: str) -> str | None:
    """The service that answers `path`, or None when no rule matches."""
    route = route_for_path(path)
    return route.service if route else None


def max_body_bytes_for_path(path: str) -> int:
    """How large a request body `path` takes (the API limit for paths of no rule)."""
    route = route_for_path(path)
    return (route.max_body_mib if route else API_MAX_BODY_MIB) * 1024 * 1024
