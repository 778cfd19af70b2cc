"""Turning gRPC failures into typed errors, both ways."""

from __future__ import annotations

from typing import NoReturn

import grpc


class PeerError(Exception):
    """A call to another service failed; `code` says how, `details` never reach a client."""

    def __init__(self, *, service: str, code: grpc.StatusCode, details: str) -> None:
        self.service = service
        self.code = code
        self.details = details
        super().__init__(f"{service}: {code.name}: {details}")


def peer_error(service: str, error: grpc.RpcError) -> PeerError:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    return PeerError(service=service, code=code, details=details or "")


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    """`context.abort` that type checkers know never returns."""
    context.abort(code, details)
    raise AssertionError("context.abort returned")
