"""gRPC RED metrics, server and client side, per method and status code; and, on the
server, a database that cannot be reached answered as UNAVAILABLE (callers answer 503)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

from labelops_common.db import database_unreachable

_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

SERVER_HANDLED = Counter(
    "labelops_grpc_server_handled_total",
    "RPCs completed on the server.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
SERVER_SECONDS = Histogram(
    "labelops_grpc_server_handling_seconds",
    "Server-side RPC latency.",
    ["grpc_service", "grpc_method"],
    buckets=_BUCKETS,
)
CLIENT_HANDLED = Counter(
    "labelops_grpc_client_handled_total",
    "RPCs completed by clients.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
CLIENT_SECONDS = Histogram(
    "labelops_grpc_client_handling_seconds",
    "Client-side RPC latency, retries included.",
    ["grpc_service", "grpc_method"],
    buckets=_BUCKETS,
)


def split_method(full_method: str) -> tuple[str, str]:
    """`/labelops.task.v1.TaskService/StreamTasks` → (`labelops.task.v1.TaskService`, `StreamTasks`)."""
    _, service, method = (
        full_method.split("/", 2) if full_method.count("/") >= 2 else ("", "", full_method)
    )
    return service, method


DATABASE_UNAVAILABLE_DETAIL = "database unavailable"


def abort_if_database_unreachable(exc: BaseException, context: grpc.ServicerContext) -> None:
    """A servicer that lost its database fails as UNAVAILABLE (transient: the caller's
    retry policy and its 503), not UNKNOWN (a 502 the client would not retry)."""
    if database_unreachable(exc):
        context.abort(grpc.StatusCode.UNAVAILABLE, DATABASE_UNAVAILABLE_DETAIL)


class ServerMetricsInterceptor(grpc.ServerInterceptor):
    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        service, method = split_method(handler_call_details.method)

        def record(
            context: grpc.ServicerContext, started: float, failed: BaseException | None
        ) -> None:
            code = context.code() if hasattr(context, "code") else None
            if code is None:
                code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
            SERVER_HANDLED.labels(service, method, name).inc()
            SERVER_SECONDS.labels(service, method).observe(time.perf_counter() - started)

        def unary_response(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
                started = time.perf_counter()
                failed: BaseException | None = None
                try:
                    return behaviour(request_or_iterator, context)
                except BaseException as exc:
                    failed = exc
                    abort_if_database_unreachable(exc, context)
                    raise
                finally:
                    record(context, started, failed)

            return wrapper

        def stream_response(
            behaviour: Callable[..., Iterator[Any]],
        ) -> Callable[..., Iterator[Any]]:
            def wrapper(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                started = time.perf_counter()
                failed: BaseException | None = None
                try:
                    yield from behaviour(request_or_iterator, context)
                except BaseException as exc:
                    failed = exc
                    abort_if_database_unreachable(exc, context)
                    raise
                finally:
                    record(context, started, failed)

            return wrapper

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                unary_response(handler.unary_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                unary_response(handler.stream_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                stream_response(handler.unary_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            stream_response(handler.stream_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )


class ClientMetricsInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
):
    """Counts unary responses when they complete and streamed ones when the stream ends."""

    @staticmethod
    def _observe(method: str, started: float, code: grpc.StatusCode) -> None:
        service, name = split_method(method)
        CLIENT_HANDLED.labels(service, name, code.name).inc()
        CLIENT_SECONDS.labels(service, name).observe(time.perf_counter() - started)

    def _unary(self, continuation: Any, details: Any, request: Any) -> Any:
        started = time.perf_counter()
        outcome = continuation(details, request)
        code = outcome.code() if hasattr(outcome, "code") else grpc.StatusCode.OK
        self._observe(details.method, started, code or grpc.StatusCode.OK)
        return outcome

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return self._unary(continuation, details, request)

    def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return self._unary(continuation, details, request_iterator)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        started = time.perf_counter()
        call = continuation(details, request)
        if hasattr(call, "add_done_callback"):
            call.add_done_callback(lambda done: self._observe(details.method, started, done.code()))
            return call
        # Another interceptor in the chain (OpenTelemetry's) already turned the call into a
        # plain iterator: count the stream when the caller has read it to its end.
        return self._observed_stream(call, details.method, started)

    def _observed_stream(self, responses: Iterator[Any], method: str, started: float) -> Any:
        code = grpc.StatusCode.OK
        try:
            yield from responses
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
            raise
        finally:
            self._observe(method, started, code)
