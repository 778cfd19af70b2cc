"""Every JSON route of every service declares its answer in the service's OpenAPI document.

The web app's types are generated from these documents (`make openapi`), so a route whose
2xx answer has no schema would leave the app guessing. Files, streams, redirects and 204s
declare `responses=` instead and pass as they are.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from labelops_common.settings import SERVICE_NAMES, CommonSettings
from labelops_runtime.suite import build_runtime

#: Routes allowed to answer JSON without a schema, by service: none. Keep it so; a route
#: that builds its answer itself declares the model for the document (`documented`).
KNOWN_UNTYPED: dict[str, frozenset[str]] = {}

#: A file is bytes, not an answer to type; the JSON export's file, a JSON list of objects,
#: is described as one (export_svc.exports.schemas.file_responses).
FILE_SCHEMAS = (
    {"type": "string", "format": "binary"},
    {"type": "array", "items": {"type": "object", "additionalProperties": True}},
)


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    common = CommonSettings(environment="development")
    built = {}
    for service in SERVICE_NAMES:
        runtime = build_runtime(service, common)
        built[service] = runtime.http_app.openapi()
        runtime.close()
    return built


def untyped_routes(document: dict[str, Any]) -> set[str]:
    """`METHOD /path` of each operation whose 2xx JSON answer names no schema."""
    found = set()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media_type, content in (response.get("content") or {}).items():
                    if "json" not in media_type:
                        continue
                    schema = content.get("schema") or {}
                    if schema not in FILE_SCHEMAS and '"$ref"' not in json.dumps(schema):
                        found.add(f"{method.upper()} {path}")
    return found


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_json_route_declares_its_answer(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    untyped = untyped_routes(documents[service])
    known = KNOWN_UNTYPED.get(service, frozenset())
    assert sorted(untyped - known) == [], "routes answering JSON without a response model"
    assert sorted(known - untyped) == [], "typed now: remove them from the exception list"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_route_declares_a_success(documents: dict[str, dict[str, Any]], service: str) -> None:
    """A route with no 2xx or 3xx in its document says nothing of how it answers."""
    silent = [
        f"{method.upper()} {path}"
        for path, operations in documents[service].get("paths", {}).items()
        for method, operation in operations.items()
        if not any(status[0] in "23" for status in operation.get("responses", {}))
    ]
    assert silent == []
