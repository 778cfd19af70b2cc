"""A router that serves every path with and without its trailing slash, without redirects.

Label Studio answers `/api/x` and `/api/x/` alike (clients use both, for every method),
and a redirect would turn a POST into a GET in some clients. So each route is registered
twice: the canonical form (no slash) in the OpenAPI schema, and its twin hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class ApiRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        full = path.rstrip("/") or "/"
        super().add_api_route(full, endpoint, **kwargs)
        if full != "/":
            twin_kwargs = dict(kwargs)
            twin_kwargs["include_in_schema"] = False
            twin_kwargs.pop("operation_id", None)
            super().add_api_route(full + "/", endpoint, **twin_kwargs)
