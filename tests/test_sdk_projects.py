"""The official label-studio-sdk against single-process LabelOps."""

from __future__ import annotations

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_EMAIL, ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Text name="text" value="$text"/>
</View>"""


def test_sdk_project_lifecycle_with_legacy_token(suite) -> None:
    client = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    me = client.users.whoami()
    assert me.email == ADMIN_EMAIL and me.username

    project = client.projects.create(
        title="SDK project", label_config=CONFIG, maximum_annotations=2
    )
    assert project.id and project.maximum_annotations == 2
    fetched = client.projects.get(id=project.id)
    assert fetched.title == "SDK project"
    assert fetched.parsed_label_config["sentiment"]["labels"] == ["Positive", "Negative"]
    assert fetched.task_number == 0  # served by task-svc over gRPC

    listed = [p.id for p in client.projects.list()]
    assert project.id in listed

    client.projects.update(id=project.id, title="Renamed by SDK", description="from the sdk")
    assert client.projects.get(id=project.id).title == "Renamed by SDK"

    client.projects.delete(id=project.id)
    with pytest.raises(ApiError) as missing:
        client.projects.get(id=project.id)
    assert missing.value.status_code == 404


def test_sdk_pages_through_many_projects(suite) -> None:
    client = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    created = {client.projects.create(title=f"Paged {i:02d}").id for i in range(35)}
    seen = {p.id for p in client.projects.list(page_size=10)}
    assert created <= seen  # iteration stops at the 404 past the last page
    for project_id in created:
        client.projects.delete(id=project_id)


def test_sdk_with_a_personal_access_token(suite) -> None:
    legacy = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    refresh = httpx.post(
        f"{suite.base_url}/api/token/", headers={"Authorization": f"Token {ADMIN_TOKEN}"}
    ).json()["token"]
    assert refresh.count(".") == 2
    client = LabelStudio(base_url=suite.base_url, api_key=refresh)  # refreshes, sends Bearer
    assert client.users.whoami().email == ADMIN_EMAIL
    project = client.projects.create(title="Via PAT")
    assert legacy.projects.get(id=project.id).title == "Via PAT"
    client.projects.delete(id=project.id)


def test_sdk_sees_label_studio_errors(suite) -> None:
    client = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    with pytest.raises(ApiError) as invalid:
        client.projects.create(
            title="Bad", label_config="<View><Choices name='c' toName='nowhere'/></View>"
        )
    assert invalid.value.status_code == 400
    assert "label_config" in invalid.value.body["validation_errors"]
    with pytest.raises(ApiError) as unauthorized:
        LabelStudio(base_url=suite.base_url, api_key="not-a-valid-token").users.whoami()
    assert unauthorized.value.status_code == 401


def test_legacy_client(suite) -> None:
    """The legacy `Client` (still shipped in the SDK) that many ML backends use."""
    from label_studio_sdk import Client

    client = Client(url=suite.base_url, api_key=ADMIN_TOKEN)
    assert client.check_connection()["status"] == "UP"
    project = client.start_project(title="Legacy client", label_config=CONFIG)
    assert project.get_params()["title"] == "Legacy client"
    client.delete_project(project.id)


def test_process_endpoints(suite) -> None:
    assert httpx.get(f"{suite.base_url}/readyz").json()["status"] == "ok"
    httpx.get(f"{suite.base_url}/api/projects", headers={"Authorization": f"Token {ADMIN_TOKEN}"})
    metrics = httpx.get(f"{suite.base_url}/metrics").text
    assert (
        'labelops_http_requests_total{method="GET",route="/api/projects",service="project-svc",status="200"}'
        in metrics
    )
    assert (
        'labelops_grpc_server_handled_total{grpc_code="OK",grpc_method="GetProjectCounts"'
        in metrics
    )
    assert httpx.get(f"{suite.base_url}/api/nothing-here").status_code == 404
