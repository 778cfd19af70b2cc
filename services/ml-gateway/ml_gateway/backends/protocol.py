"""Label Studio's ML-backend protocol, client side: the HTTP calls to one model server.

Every call goes through the outbound address policy's client (scheme and address checked
on every connection, redirects included), carries the backend's basic-auth credentials
when it has them, and has Label Studio's timeout for its kind. Calls that do work (predict,
train, webhook) also pass the backend's guard: a call slot, and the circuit breaker.

Every failure becomes a `BackendCallFailed` whose `kind` says what went wrong and whose
text is fit for an API answer and a log line: it never holds the credentials or the body
the backend sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from labelops_common.outbound import OutboundPolicy, OutboundRefused
from labelops_common.version import LABELOPS_VERSION

from ml_gateway.backends import metrics
from ml_gateway.backends.guard import BackendBusy, CircuitOpen, Guards
from ml_gateway.settings import Settings

logger = logging.getLogger(__name__)

#: How much of a non-JSON answer a failure message quotes.
_QUOTE = 120


class FailureKind:
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    STATUS = "status"
    MALFORMED = "malformed"
    CIRCUIT_OPEN = "circuit_open"
    BUSY = "busy"


class BackendCallFailed(Exception):
    def __init__(self, kind: str, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status_code = status_code


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call one backend (`backend_id` 0: not saved yet)."""

    backend_id: int
    url: str
    basic_auth: tuple[str, str] | None = None
    #: The backend's own `timeout` field: the upper bound of its predict calls.
    timeout: float | None = None

    @property
    def label(self) -> str:
        return str(self.backend_id) if self.backend_id else "new"

    def address(self, path: str) -> str:
        return self.url.rstrip("/") + "/" + path


def masked_url(url: str) -> str:
    """`url` with any password in its user-info replaced, for answers and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class ProtocolClient:
    """Calls ML backends; one per process, shared by requests, gRPC calls and jobs."""

    def __init__(
        self, settings: Settings, policy: OutboundPolicy, guards: Guards, *, public_url: str = ""
    ) -> None:
        self.settings = settings
        #: Where backends call back (`hostname` in `/setup`), unless settings name another.
        self.public_url = public_url
        self.policy = policy
        self.guards = guards
        self._http = policy.client(
            follow_redirects=True,
            headers={"User-Agent": f"labelops/{LABELOPS_VERSION}"},
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    def close(self) -> None:
        self._http.close()

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(self.settings.ml_connection_timeout, seconds))

    # -- the protocol's calls -----------------------------------------------------------

    def health(self, endpoint: Endpoint) -> dict[str, Any]:
        answer = self._call(
            endpoint, "health", "GET", None, timeout=self.settings.ml_timeout_health
        )
        return _object(answer, "health")

    def setup(self, endpoint: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(endpoint, "setup", "POST", body, timeout=self.settings.ml_timeout_setup)
        return _object(answer, "setup")

    def predict(
        self, endpoint: Endpoint, body: dict[str, Any], *, interactive: bool = False
    ) -> Any:
        if interactive:
            timeout = self.settings.interactive_timeout_seconds
        else:
            # The backend's own `timeout` field (default ML_TIMEOUT_PREDICT) bounds its calls.
            timeout = endpoint.timeout or self.settings.ml_timeout_predict
        started = time.perf_counter()
        try:
            return self._guarded(
                endpoint, "predict", body, timeout=timeout, interactive=interactive
            )
        except BackendCallFailed:
            metrics.PREDICT_ERRORS.labels(endpoint.label).inc()
            raise
        finally:
            metrics.PREDICT_SECONDS.labels(endpoint.label).observe(time.perf_counter() - started)

    def webhook(self, endpoint: Endpoint, body: dict[str, Any], *, training: bool) -> Any:
        """`/webhook`: an annotation event (WEBHOOK_TIMEOUT) or START_TRAINING (train time)."""
        timeout = self.settings.ml_timeout_default if training else self.settings.webhook_timeout
        return self._guarded(endpoint, "webhook", body, timeout=timeout, interactive=False)

    def train(self, endpoint: Endpoint, body: dict[str, Any]) -> Any:
        """The legacy `/train` call."""
        return self._guarded(
            endpoint, "train", body, timeout=self.settings.ml_timeout_train, interactive=False
        )

    def versions(self, endpoint: Endpoint, project: str) -> dict[str, Any]:
        answer = self._call(
            endpoint,
            "versions",
            "GET",
            None,
            timeout=self.settings.ml_timeout_setup,
            params={"project": project},
        )
        return _object(answer, "versions")

    # -- mechanics ----------------------------------------------------------------------

    def _guarded(
        self,
        endpoint: Endpoint,
        path: str,
        body: dict[str, Any],
        *,
        timeout: float,
        interactive: bool,
    ) -> Any:
        guard = self.guards.for_backend(endpoint.backend_id)
        try:
            guard.breaker.before_call()
        except CircuitOpen as error:
            metrics.REQUESTS.labels(endpoint.label, path, FailureKind.CIRCUIT_OPEN).inc()
            raise BackendCallFailed(FailureKind.CIRCUIT_OPEN, str(error)) from None
        # A person waits at most the call's own timeout for a slot; a job waits its turn.
        wait = timeout if interactive else None
        try:
            with guard.slot(interactive=interactive, wait_seconds=wait):
                answer = self._call(endpoint, path, "POST", body, timeout=timeout)
        except BackendBusy as error:
            guard.breaker.release_trial()
            metrics.REQUESTS.labels(endpoint.label, path, FailureKind.BUSY).inc()
            raise BackendCallFailed(FailureKind.BUSY, str(error)) from None
        except BackendCallFailed as error:
            if error.kind == FailureKind.REFUSED:
                guard.breaker.release_trial()
            else:
                guard.breaker.record_failure()
            raise
        guard.breaker.record_success()
        return answer

    def _call(
        self,
        endpoint: Endpoint,
        path: str,
        method: str,
        body: dict[str, Any] | None,
        *,
        timeout: float,
        params: dict[str, str] | None = None,
    ) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return self._exchange(endpoint, path, method, body, timeout=timeout, params=params)
        except BackendCallFailed as error:
            outcome = error.kind
            logger.info(
                "ML backend call failed",
                extra={
                    "ml_backend_id": endpoint.backend_id,
                    "ml_call": path,
                    "failure": error.kind,
                    "reason": error.reason,
                },
            )
            raise
        finally:
            metrics.REQUESTS.labels(endpoint.label, path, outcome).inc()
            metrics.REQUEST_SECONDS.labels(endpoint.label, path).observe(
                time.perf_counter() - started
            )

    def _exchange(
        self,
        endpoint: Endpoint,
        path: str,
        method: str,
        body: dict[str, Any] | None,
        *,
        timeout: float,
        params: dict[str, str] | None,
    ) -> Any:
        address = endpoint.address(path)
        try:
            self.policy.check_scheme(address)
            with self._response(
                method,
                address,
                body=body,
                auth=endpoint.basic_auth,
                timeout=self._timeout(timeout),
                params=params,
            ) as response:
                content = response.read()
        except OutboundRefused as error:
            raise BackendCallFailed(FailureKind.REFUSED, error.reason) from None
        except httpx.TimeoutException:
            raise BackendCallFailed(
                FailureKind.TIMEOUT, f"/{path} did not answer within {timeout:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise BackendCallFailed(
                FailureKind.UNREACHABLE, f"/{path} cannot be reached ({type(error).__name__})"
            ) from None
        if response.status_code >= 400:
            raise BackendCallFailed(
                FailureKind.STATUS,
                f"/{path} answered {response.status_code}{_detail(content)}",
                status_code=response.status_code,
            )
        try:
            return json.loads(content) if content.strip() else None
        except (ValueError, UnicodeDecodeError):
            raise BackendCallFailed(
                FailureKind.MALFORMED,
                f"/{path} answered {response.status_code} with a body that is not JSON "
                "(is this an ML backend speaking Label Studio's protocol?)",
                status_code=response.status_code,
            ) from None

    @contextmanager
    def _response(
        self,
        method: str,
        address: str,
        *,
        body: dict[str, Any] | None,
        auth: tuple[str, str] | None,
        timeout: httpx.Timeout,
        params: dict[str, str] | None,
    ) -> Iterator[httpx.Response]:
        request = self._http.build_request(
            method,
            address,
            json=body,
            params=params,
            timeout=timeout,
        )
        response = self._http.send(request, auth=auth, stream=True)
        try:
            yield response
        finally:
            response.close()


def _object(answer: Any, path: str) -> dict[str, Any]:
    if answer is None:
        return {}
    if not isinstance(answer, dict):
        raise BackendCallFailed(
            FailureKind.MALFORMED, f"/{path} answered {type(answer).__name__}, not a JSON object"
        )
    return answer


def _detail(content: bytes) -> str:
    """A short, single-line quote of an error answer (a backend's own error text)."""
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        text = content[:_QUOTE].decode("utf-8", "replace")
    else:
        if isinstance(parsed, dict):
            text = str(parsed.get("detail") or parsed.get("error") or parsed.get("message") or "")
        else:
            text = ""
    text = " ".join(text.split())[:_QUOTE]
    return f": {text}" if text else ""
