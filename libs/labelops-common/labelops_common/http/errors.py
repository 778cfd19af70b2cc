"""One exception type per failure kind, mapped once to Label Studio's error body.

Label Studio answers every error as `{id, status_code, version, detail, exc_info,
validation_errors}`; clients and the SDK read `detail` and `validation_errors`. Nothing
here ever puts a stack trace or an exception's internals into a response.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
import psycopg2.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelops_common.db import database_unreachable
from labelops_common.grpcutil.errors import PeerError
from labelops_common.version import LABELOPS_VERSION

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every error a handler may raise on purpose."""

    status_code = 400
    default_detail = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        validation_errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.validation_errors = (
            {key: list(value) for key, value in validation_errors.items()}
            if validation_errors
            else None
        )
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class ValidationFailed(ApiError):
    """A request field is wrong; `validation_errors` names the field and the reason."""

    status_code = 400
    default_detail = "Validation error"

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str | None = None) -> None:
        super().__init__(detail or "Validation error", validation_errors=errors)


class NotAuthenticated(ApiError):
    status_code = 401
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(ApiError):
    status_code = 401
    default_detail = "Invalid token."


class PermissionDenied(ApiError):
    status_code = 403
    default_detail = "You do not have permission to perform this action."


class NotFound(ApiError):
    status_code = 404
    default_detail = "Not found."


class Conflict(ApiError):
    status_code = 409
    default_detail = "Conflict."


class PayloadTooLarge(ApiError):
    status_code = 413
    default_detail = "Request body is too large."


class Throttled(ApiError):
    """Too many attempts; `Retry-After` says when to try again (DRF's wording and header)."""

    status_code = 429
    default_detail = "Request was throttled."

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        super().__init__(
            detail
            or f"Request was throttled. Expected available in {retry_after_seconds} seconds.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailable(ApiError):
    """A peer service or the database cannot be reached; the client may retry."""

    status_code = 503
    default_detail = "A backing service is unavailable, try again shortly."


class ErrorAnswer(BaseModel):
    """Label Studio's error body, as `error_body` writes it, for every 4xx and 5xx."""

    id: str
    status_code: int
    version: str
    detail: str
    exc_info: None
    #: Only on a 400 that names fields: `{"field": ["reason"]}`.
    validation_errors: dict[str, list[str]] | None = None


#: The error answers in every service's OpenAPI document (they replace FastAPI's 422,
#: which no route serves: a request that fails validation gets a 400 with this body).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorAnswer, "description": "Label Studio's error body."},
    "5XX": {"model": ErrorAnswer, "description": "Label Studio's error body."},
}


def error_body(
    status_code: int, detail: str, validation_errors: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status_code": status_code,
        "version": LABELOPS_VERSION,
        "detail": detail,
        "exc_info": None,
    }
    if validation_errors:
        body["validation_errors"] = {key: list(value) for key, value in validation_errors.items()}
    return body


def error_response(
    status_code: int,
    detail: str,
    validation_errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status_code, detail, validation_errors),
        status_code=status_code,
        headers=dict(headers or {}),
    )


#: What PostgreSQL refuses to store in text and JSON: a NUL (`\u0000`) and an unpaired
#: UTF-16 surrogate (`\ud800`), both valid JSON escapes. JSON request bodies are checked
#: before a handler runs (labelops_common.http.storable, which names the field); this is the
#: net under every other way such text reaches a statement (imports' COPY, forms).
UNSTORABLE_TEXT_REASON = (
    "Text contains a NUL character (\\u0000) or an unpaired surrogate (\\ud800-\\udfff), "
    "which cannot be stored."
)


NUMBER_OUT_OF_RANGE_REASON = "A number is outside the range that can be stored."
DATABASE_UNAVAILABLE_DETAIL = "The database is unavailable, try again shortly."


def _database_error(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def number_out_of_range(exc: BaseException) -> bool:
    """Whether the database refused a number the caller sent (an id or count past int64)."""
    return isinstance(_database_error(exc), psycopg2.errors.NumericValueOutOfRange)


def unstorable_text(exc: BaseException) -> bool:
    """Whether the database refused a value for the text in it (the caller's input, not a
    fault), raised directly or wrapped by SQLAlchemy."""
    original = _database_error(exc)
    if isinstance(original, psycopg2.errors.UntranslatableCharacter):
        return True
    return isinstance(original, psycopg2.errors.InvalidTextRepresentation) and (
        "surrogate" in str(original) or "Unicode" in str(original)
    )


def _field_name(location: Sequence[Any]) -> str:
    """`("body", "maximum_annotations")` → `maximum_annotations`; query/path params keep theirs."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "non_field_errors"


def validation_errors_from_pydantic(errors: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    collected: dict[str, list[str]] = {}
    for error in errors:
        location = error.get("loc", ())
        if error.get("type") == "json_invalid":
            collected.setdefault("non_field_errors", []).append(
                f"JSON parse error: {error.get('ctx', {}).get('error', 'invalid JSON')}"
            )
            continue
        if error.get("type") == "extra_forbidden":
            collected.setdefault(_field_name(location), []).append("Unknown field.")
            continue
        message = str(error.get("msg", "Invalid value."))
        collected.setdefault(_field_name(location), []).append(message)
    return collected


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to Label Studio's error body, once, for the whole app."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.detail, exc.validation_errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors_from_pydantic(exc.errors())
        if set(errors) == {"non_field_errors"} and any(
            message.startswith("JSON parse error") for message in errors["non_field_errors"]
        ):
            return error_response(400, "JSON parse error", errors)
        return error_response(400, "Validation error", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):
            # FastAPI's answer for a JSON body too deep for the decoder names no reason.
            reason = "JSON parse error: arrays and objects are nested too deeply."
            return error_response(400, "JSON parse error", {"non_field_errors": [reason]})
        detail = exc.detail if isinstance(exc.detail, str) else "Error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Not found."
        return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(PeerError)
    async def _peer_error(request: Request, exc: PeerError) -> JSONResponse:
        # The peer's details stay in the log: they can name hosts, tables or rows.
        logger.warning(
            "peer call failed",
            extra={"peer": exc.service, "grpc_code": exc.code.name, "path": request.url.path},
        )
        transient = exc.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        return error_response(
            503 if transient else 502,
            f"{exc.service} is unavailable, try again later."
            if transient
            else f"{exc.service} could not complete the request.",
            headers={"Retry-After": "1"} if transient else None,
        )

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        # The caller's values, refused by the database: nothing was stored (the transaction
        # failed with the statement and is rolled back), and the answer says why.
        for refused, reason in (
            (unstorable_text, UNSTORABLE_TEXT_REASON),
            (number_out_of_range, NUMBER_OUT_OF_RANGE_REASON),
        ):
            if refused(exc):
                return error_response(400, reason, {"non_field_errors": [reason]})
        if database_unreachable(exc):
            # Restarting or failing over: the transaction did not commit; the client retries.
            logger.warning(
                "database unreachable",
                extra={"path": request.url.path, "error": type(getattr(exc, "orig", exc)).__name__},
            )
            return error_response(503, DATABASE_UNAVAILABLE_DETAIL, headers={"Retry-After": "1"})
        return _unhandled(request, exc)

    # Registered for the database's exception types (SQLAlchemy's, and psycopg2's own from
    # COPY), so a refusal is an ordinary answer, not a server error logged and re-raised.
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(psycopg2.DataError, _database_error)

    app.add_middleware(UnhandledErrorMiddleware)


def _unhandled(request: Request, exc: BaseException) -> JSONResponse:
    logger.error(
        "unhandled error",
        exc_info=exc,
        extra={"path": request.url.path, "method": request.method},
    )
    trace.get_current_span().record_exception(exc)
    return error_response(500, "Internal server error")


class UnhandledErrorMiddleware:
    """Answers an exception no handler took with Label Studio's 500 body, and keeps the
    connection open.

    Starlette's outermost handler re-raises once it has answered, and uvicorn then closes
    the connection: a client sending its next request on it at that moment met a
    connection reset, on a request the server never saw. Only an error after the answer
    has started still goes up (the connection must close then).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as exc:
            if started:
                raise
            await _unhandled(Request(scope), exc)(scope, receive, send)
