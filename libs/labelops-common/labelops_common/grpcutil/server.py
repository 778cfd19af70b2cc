"""A gRPC server with what every LabelOps server has: health, metrics, reflection on request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from labelops_common.grpcutil.interceptors import ServerMetricsInterceptor

_HEALTH_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


@dataclass
class GrpcServerHandle:
    server: grpc.Server
    port: int
    service_names: Sequence[str]
    health_servicer: health.HealthServicer

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server.start()
        self.set_serving(True)

    def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self.service_names):
            self.health_servicer.set(name, status)

    def stop(self, grace: float | None = None) -> None:
        self.set_serving(False)
        self.server.stop(grace).wait()


def build_grpc_server(
    *,
    service_name: str,
    bind: str,
    register: Sequence[Callable[[grpc.Server], None]],
    service_full_names: Sequence[str],
    max_workers: int = 16,
    reflection_enabled: bool = False,
) -> GrpcServerHandle:
    """Binds `bind` (port 0 picks a free port); call `.start()` on the handle to serve.

    Reflection (what `grpcurl` lists) is off unless asked for: it tells anyone who reaches
    the port every method and message, which is a map for nobody but a developer.
    """
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"grpc-{service_name}"),
        interceptors=[ServerMetricsInterceptor()],
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    for add_servicer in register:
        add_servicer(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection_enabled:
        reflection.enable_server_reflection(
            (*service_full_names, _HEALTH_NAME, reflection.SERVICE_NAME), server
        )
    port = server.add_insecure_port(bind)
    if port == 0:
        raise RuntimeError(f"{service_name}: could not bind gRPC to {bind}")
    handle = GrpcServerHandle(
        server=server, port=port, service_names=service_full_names, health_servicer=health_servicer
    )
    handle.set_serving(False)
    return handle
