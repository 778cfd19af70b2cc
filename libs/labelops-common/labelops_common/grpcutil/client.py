"""gRPC channels with retries on UNAVAILABLE, and stubs whose every call has a deadline."""

from __future__ import annotations

import json
import threading
from typing import Any

import grpc

from labelops_common.grpcutil.interceptors import ClientMetricsInterceptor

#: Retried: UNAVAILABLE only (the peer restarting or not yet up). gRPC does not retry a
#: client-streaming call once its first message went out, so bulk writers carry an
#: idempotency key and retry whole streams themselves.
RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)

_channels: dict[tuple[str, bool], grpc.Channel] = {}
_lock = threading.Lock()


def grpc_channel(target: str, *, retries: bool = True) -> grpc.Channel:
    """One shared channel per target (channels multiplex; creating one per call is slow).

    `retries=False` gives the target a second channel without the retry policy, for long
    server streams: one that failed half-way cannot be replayed transparently (its caller
    retries the whole job), and its flow control stays off the short calls' channel.
    """
    with _lock:
        channel = _channels.get((target, retries))
        if channel is None:
            options: list[tuple[str, Any]] = [
                ("grpc.keepalive_time_ms", 30_000),
                # gRPC's default reconnect backoff grows to 120 s, so a peer that was
                # down for a minute would stay unreachable long after it came back.
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.min_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 2_000),
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ]
            if retries:
                options += [
                    ("grpc.enable_retries", 1),
                    ("grpc.service_config", RETRY_SERVICE_CONFIG),
                ]
            raw = grpc.insecure_channel(target, options=options)
            channel = grpc.intercept_channel(raw, ClientMetricsInterceptor())
            _channels[(target, retries)] = channel
        return channel


def close_channels() -> None:
    with _lock:
        for channel in _channels.values():
            channel.close()
        _channels.clear()


class DeadlineStub:
    """Wraps a generated stub so that a call without `timeout=` gets the default deadline."""

    def __init__(self, stub: Any, *, deadline_seconds: float) -> None:
        self._stub = stub
        self._deadline = deadline_seconds

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)

        def call(request: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", self._deadline)
            return method(request, **kwargs)

        return call


def peer_stub(stub_class: Any, *, target: str, deadline_seconds: float) -> DeadlineStub:
    return DeadlineStub(stub_class(grpc_channel(target)), deadline_seconds=deadline_seconds)
