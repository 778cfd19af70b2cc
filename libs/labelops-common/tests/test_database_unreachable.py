"""A database that cannot be reached (restarting, failing over) is a transient failure:
HTTP answers 503 with Retry-After and gRPC servicers UNAVAILABLE, while a statement the
database refuses stays what it was. The errors are real ones, from a closed port and from
the test server."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.db import create_db_engine, database_unreachable
from labelops_common.grpcutil import build_grpc_server
from labelops_common.http.errors import DATABASE_UNAVAILABLE_DETAIL, install_error_handlers
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import postgres_server_url
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

TASK_SERVICE = "labelops.task.v1.TaskService"


@pytest.fixture()
def unreachable() -> Iterator[Engine]:
    """An engine of a PostgreSQL that is not there (nothing listens on the port)."""
    engine = create_db_engine(f"postgresql+psycopg2://nobody@127.0.0.1:{free_loopback_port()}/x")
    yield engine
    engine.dispose()


@pytest.fixture()
def reachable() -> Iterator[Engine]:
    engine = create_db_engine(postgres_server_url())
    yield engine
    engine.dispose()


def raised(engine: Engine, statement: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as error, engine.connect() as connection:
        connection.execute(text(statement))
    return error.value


def test_a_lost_connection_is_unreachable_a_refused_statement_is_not(
    unreachable: Engine, reachable: Engine
) -> None:
    assert database_unreachable(raised(unreachable, "SELECT 1"))
    assert not database_unreachable(raised(reachable, "SELECT 1 / 0"))
    assert not database_unreachable(raised(reachable, "SELECT * FROM no_such_table"))
    assert not database_unreachable(ValueError("not a database error"))


def test_http_answers_503_with_retry_after(unreachable: Engine, reachable: Engine) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    def down() -> None:
        with unreachable.connect() as connection:
            connection.execute(text("SELECT 1"))

    @app.get("/refused")
    def refused() -> None:
        with reachable.connect() as connection:
            connection.execute(text("SELECT 1 / 0"))

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/down")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["detail"] == DATABASE_UNAVAILABLE_DETAIL
        assert "127.0.0.1" not in answer.text  # the connection error stays in the log
        assert client.get("/refused").status_code == 500


class DatabaseBackedServicer(task_pb2_grpc.TaskServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def GetProjectCounts(self, request, context):  # type: ignore[no-untyped-def]
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return task_pb2.GetProjectCountsResponse()


def test_a_servicer_without_its_database_answers_unavailable(unreachable: Engine) -> None:
    servicer = DatabaseBackedServicer(unreachable)
    handle = build_grpc_server(
        service_name="test-svc",
        bind="127.0.0.1:0",
        register=[lambda server: task_pb2_grpc.add_TaskServiceServicer_to_server(servicer, server)],
        service_full_names=[TASK_SERVICE],
        reflection_enabled=False,
    )
    handle.start()
    try:
        with grpc.insecure_channel(handle.address) as channel:
            stub = task_pb2_grpc.TaskServiceStub(channel)
            with pytest.raises(grpc.RpcError) as failed:
                stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[1]), timeout=10)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "127.0.0.1" not in (failed.value.details() or "")
    finally:
        handle.stop(0)
