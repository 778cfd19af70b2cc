"""gRPC server and client helpers (named so as not to shadow the `grpc` package)."""

from labelops_common.grpcutil.client import (
    DeadlineStub,
    close_channels,
    grpc_channel,
    peer_stub,
)
from labelops_common.grpcutil.errors import PeerError, abort, peer_error
from labelops_common.grpcutil.server import GrpcServerHandle, build_grpc_server

__all__ = [
    "DeadlineStub",
    "GrpcServerHandle",
    "PeerError",
    "abort",
    "build_grpc_server",
    "close_channels",
    "grpc_channel",
    "peer_error",
    "peer_stub",
]
