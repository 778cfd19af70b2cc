"""Annotation reviews through the official SDK's `annotation_reviews` client (Label Studio
Enterprise's endpoints), against the single process: the route table sends
`/api/annotation-reviews/` and `/api/projects/{id}/next-review/` to task-svc. The review
stream has no SDK method, so it is called through the SDK's own HTTP client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def _result(choice: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [choice]},
        }
    ]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def _annotator(sdk: LabelStudio, suite: Any, project_id: int) -> LabelStudio:
    """An annotator of the admin's organization, member of the project, as an SDK client
    with their own token (read once through their session, as the account page does)."""
    http = sdk._client_wrapper.httpx_client
    email, password = f"ann-{project_id}@example.com", "annotator-password-1"
    made = http.request(
        "api/users/",
        method="POST",
        json={"email": email, "password": password, "role": "annotator"},
    )
    assert made.status_code == 201, made.text
    admitted = http.request(
        f"api/projects/{project_id}/members/", method="POST", json={"user": made.json()["id"]}
    )
    assert admitted.status_code == 201, admitted.text
    with httpx.Client(base_url=suite.base_url, timeout=30) as session:
        signed_in = session.post("/user/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        token = session.get("/api/current-user/token")
        assert token.status_code == 200, token.text
    return LabelStudio(base_url=suite.base_url, api_key=token.json()["token"])


def test_reviews_through_the_sdk(sdk: LabelStudio, suite: Any) -> None:
    project = sdk.projects.create(title="SDK reviews", label_config=CONFIG)
    assert project.id is not None
    annotator = _annotator(sdk, suite, project.id)
    first = sdk.tasks.create(project=project.id, data={"text": "great"})
    second = sdk.tasks.create(project=project.id, data={"text": "awful"})
    ann1 = annotator.annotations.create(id=first.id, result=_result("Positive"))
    ann2 = annotator.annotations.create(id=second.id, result=_result("Positive"))

    http = sdk._client_wrapper.httpx_client
    offered = http.request(f"api/projects/{project.id}/next-review/", method="GET")
    assert offered.status_code == 200, offered.text
    assert offered.json()["annotation"]["id"] == ann1.id

    accepted = sdk.annotation_reviews.create(annotation=ann1.id, accepted=True)
    assert accepted.accepted is True and accepted.created_by is not None
    with pytest.raises(ApiError) as refused:
        sdk.annotation_reviews.create(annotation=ann2.id, accepted=False)
    assert refused.value.status_code == 400
    assert "comment" in refused.value.body["validation_errors"]
    with pytest.raises(ApiError) as not_a_reviewer:
        annotator.annotation_reviews.create(annotation=ann2.id, accepted=True)
    assert not_a_reviewer.value.status_code == 403

    rejected = sdk.annotation_reviews.create(
        annotation=ann2.id, accepted=False, comment="It is negative."
    )
    # The annotator gets the task back, with the reason.
    back = annotator._client_wrapper.httpx_client.request(
        f"api/projects/{project.id}/next/", method="GET"
    )
    assert back.status_code == 200, back.text
    assert back.json()["id"] == second.id
    assert back.json()["annotations"][0]["review_comment"] == "It is negative."
    assert sdk.tasks.get(second.id).is_labeled is False

    fixed = sdk.annotation_reviews.update(rejected.id, accepted=True, result=_result("Negative"))
    assert fixed.result == _result("Negative") and fixed.fixed_annotation_history == rejected.id
    assert sdk.annotations.get(ann2.id).result == _result("Negative")
    assert sdk.tasks.get(second.id).is_labeled is True

    history = sdk.annotation_reviews.list(annotation=ann2.id)
    assert [r.id for r in history] == [rejected.id]
    everything = sdk.annotation_reviews.list(annotation_task_project=project.id, ordering="-id")
    assert [r.id for r in everything] == [rejected.id, accepted.id]
    assert sdk.annotation_reviews.get(accepted.id).annotation == ann1.id

    sdk.annotation_reviews.delete(rejected.id)
    assert sdk.annotations.get(ann2.id).result == _result("Positive")
    with pytest.raises(ApiError) as gone:
        sdk.annotation_reviews.get(rejected.id)
    assert gone.value.status_code == 404
