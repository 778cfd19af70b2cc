"""Label Studio's page-number pagination: `{count, next, previous, results}` and 404 past the end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import URL

from labelops_common.http.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_request(
    page: str | None, page_size: str | None, *, default_size: int, max_size: int
) -> PageRequest:
    """Read `page`/`page_size` as Label Studio does: sizes above the maximum are capped."""
    try:
        page_number = int(page) if page not in (None, "") else 1
    except ValueError:
        raise NotFound("Invalid page.") from None
    try:
        size = int(page_size) if page_size not in (None, "") else default_size
    except ValueError:
        raise ValidationFailed({"page_size": ["A valid integer is required."]}) from None
    if page_number < 1:
        raise NotFound("Invalid page.")
    size = max(1, min(size, max_size))
    return PageRequest(page=page_number, page_size=size)


def check_page_exists(request: PageRequest, total: int) -> None:
    """Page 1 always exists; any later page must hold at least one item."""
    if request.page > 1 and request.offset >= total:
        raise NotFound("Invalid page.")


def page_envelope(
    *, url: URL, request: PageRequest, total: int, results: Sequence[Any]
) -> dict[str, Any]:
    next_url = None
    previous_url = None
    if request.offset + len(results) < total:
        next_url = str(url.include_query_params(page=request.page + 1))
    if request.page > 1:
        previous_url = (
            str(url.remove_query_params("page"))
            if request.page == 2
            else str(url.include_query_params(page=request.page - 1))
        )
    return {"count": total, "next": next_url, "previous": previous_url, "results": list(results)}
