"""Request bodies the database cannot store, or the decoder cannot read, are 400s that say why.

Found by the hostile-input corpus (tests/security): a NUL or an unpaired surrogate in any
JSON string, NaN, a number past a column's range and a body nested past the decoder's
limit were each a 500, and a project id past int64 made protobuf raise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from labelops_common import db
from labelops_common.directory.projects import ProjectDirectory
from labelops_common.http.errors import install_error_handlers
from labelops_common.http.storable import refuse_unstorable_text, unstorable_fields
from labelops_common.settings import CommonSettings
from labelops_testing.databases import scratch_database_url
from sqlalchemy import Engine, text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"data": {"text": "a\x00b"}}, {"data.text": "NUL"}),
        (
            {"result": [{"value": {"text": ["ok", "\ud800"]}}]},
            {"result.0.value.text.1": "surrogate"},
        ),
        ({"data": {"n": float("nan")}}, {"data.n": "NaN"}),
        ({"data": {"n": float("-inf")}}, {"data.n": "Infinity"}),
        ({"data": {"te\x00xt": "a"}}, {"data": "key"}),
        ("\udfff", {"non_field_errors": "surrogate"}),
    ],
)
def test_unstorable_values_are_named_by_their_path(value: Any, expected: dict[str, str]) -> None:
    found = unstorable_fields(value)
    assert set(found) == set(expected)
    for path, word in expected.items():
        assert word.lower() in found[path][0].lower()


def test_storable_values_pass() -> None:
    value = {
        "text": "right-to-left \u202e, emoji \U0001f600, zero\u200bwidth",
        "n": [1, 2.5, 10**30],
    }
    assert unstorable_fields(value) == {}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with scratch_database_url("hostile") as url:
        engine = db.create_db_engine(url, pool_size=1)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE rows (data jsonb, small integer)"))
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def client(engine: Engine) -> TestClient:
    app = FastAPI(dependencies=[Depends(refuse_unstorable_text)])
    install_error_handlers(app)

    @app.post("/checked")
    def checked(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, Any]:
        """Reads its own body, as imports do: only the database sees what is in it."""
        row = json.loads(await request.body())
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO rows VALUES (CAST(:data AS jsonb), :small)"),
                {"data": json.dumps(row["data"]), "small": row.get("small", 0)},
            )
        return {}

    return TestClient(app, raise_server_exceptions=False)


def _rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM rows")).scalar_one())


def test_a_parsed_body_with_a_nul_is_refused_before_the_handler_runs(client: TestClient) -> None:
    answer = client.post("/checked", content=b'{"data": {"text": "a\\u0000b"}}', headers=_json())
    assert answer.status_code == 400
    assert answer.json()["validation_errors"] == {
        "data.text": ["Contains a NUL character (\\u0000), which cannot be stored."]
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"data": {"text": "a\\u0000b"}}', "NUL"),
        (b'{"data": {"text": "\\ud800"}}', "surrogate"),
        (b'{"data": {}, "small": 99999999999}', "outside the range"),
    ],
)
def test_what_the_database_refuses_is_a_400_and_nothing_is_stored(
    client: TestClient, engine: Engine, body: bytes, reason: str
) -> None:
    before = _rows(engine)
    answer = client.post("/raw", content=body, headers=_json())
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["detail"]
    assert "Traceback" not in answer.text
    assert _rows(engine) == before


def test_a_body_too_deep_to_decode_says_so(client: TestClient) -> None:
    deep = '{"data": ' + "[" * 50_000 + "]" * 50_000 + "}"
    answer = client.post("/checked", content=deep.encode(), headers=_json())
    assert answer.status_code == 400
    assert answer.json()["validation_errors"] == {
        "non_field_errors": ["JSON parse error: arrays and objects are nested too deeply."]
    }


def test_a_project_id_past_int64_is_no_project_without_asking_the_peer() -> None:
    directory = ProjectDirectory(
        CommonSettings(grpc_peers={"project-svc": "127.0.0.1:1"}, grpc_deadline_seconds=0.5)
    )
    assert directory.get(2**63) is None
    assert directory.get(0) is None


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}
