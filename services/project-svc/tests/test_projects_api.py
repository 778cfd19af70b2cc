"""`/api/projects`: the permission matrix, Label Studio's shapes, bad input, DB state after."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from project_svc.projects.models import Project
from sqlalchemy import func, select
from sqlalchemy.orm import Session

NER_CONFIG = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
</View>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<View><Text name="t" value="&lol3;"/></View>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Header value="&xxe;"/></View>"""


def project_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project)) or 0


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/projects", json={"title": "Demo", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["status_code"] == status
    assert body["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert field in body["validation_errors"], body
        assert body["validation_errors"][field]
    return body


class TestCreate:
    def test_owner_creates_with_label_studio_defaults(self, client, cast, session) -> None:
        body = create(client, cast.owner.headers, label_config=NER_CONFIG)
        assert body["organization"] == cast.owner.principal.organization_id
        assert body["created_by"]["id"] == cast.owner.principal.user_id
        assert body["maximum_annotations"] == 1
        assert body["sampling"] == "Sequential sampling"
        assert body["show_skip_button"] is True
        assert body["color"] == "#FFFFFF"
        assert body["parsed_label_config"]["label"]["type"] == "Labels"
        assert body["parsed_label_config"]["label"]["labels"] == ["PER", "ORG"]
        assert body["task_number"] == 0
        assert body["task_data_password"] is None
        row = session.get(Project, body["id"])
        assert row is not None and row.title == "Demo" and row.label_config == NER_CONFIG

    def test_annotator_is_forbidden_and_nothing_is_created(self, client, cast, session) -> None:
        before = project_count(session)
        response = client.post(
            "/api/projects", json={"title": "Nope"}, headers=cast.annotator.headers
        )
        assert_error(response, 403)
        assert project_count(session) == before

    def test_anonymous_is_refused(self, client, session) -> None:
        before = project_count(session)
        assert_error(client.post("/api/projects", json={"title": "Nope"}), 401)
        assert project_count(session) == before

    def test_wrong_token_is_refused(self, client, session) -> None:
        response = client.post(
            "/api/projects", json={"title": "Nope"}, headers={"Authorization": "Token wrong-token"}
        )
        assert_error(response, 401)

    def test_outsider_creates_in_their_own_organization(self, client, cast) -> None:
        body = create(client, cast.outsider.headers)
        assert body["organization"] == cast.outsider.principal.organization_id

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"title": "ab"}, "title"),
            ({"maximum_annotations": "many"}, "maximum_annotations"),
            ({"maximum_annotations": 0}, "maximum_annotations"),
            ({"color": "red"}, "color"),
            ({"sampling": "Random"}, "sampling"),
            ({"show_instruction": {"a": 1}}, "show_instruction"),
            ({"label_config": "<View><Labels name='x' toName='missing'/></View>"}, "label_config"),
            ({"label_config": "<View><Text name='t'"}, "label_config"),
            ({"label_config": BILLION_LAUGHS}, "label_config"),
            ({"label_config": EXTERNAL_ENTITY}, "label_config"),
        ],
    )
    def test_bad_input_names_the_field_and_changes_nothing(
        self, client, cast, session, payload, field
    ) -> None:
        before = project_count(session)
        response = client.post("/api/projects", json=payload, headers=cast.owner.headers)
        assert_error(response, 400, field)
        assert project_count(session) == before

    def test_malformed_json_is_a_400(self, client, cast, session) -> None:
        before = project_count(session)
        response = client.post(
            "/api/projects",
            content=b'{"title": "x",',
            headers={**cast.owner.headers, "Content-Type": "application/json"},
        )
        body = assert_error(response, 400)
        assert "JSON" in body["detail"]
        assert project_count(session) == before

    def test_unknown_fields_are_ignored(self, client, cast) -> None:
        body = create(client, cast.owner.headers, workspace=5, some_lse_field="x")
        assert "workspace" not in body

    def test_instructions_are_sanitised(self, client, cast) -> None:
        body = create(
            client, cast.owner.headers, expert_instruction="<b>Hi</b><script>alert(1)</script>"
        )
        assert "<script>" not in body["expert_instruction"]
        assert "<b>Hi</b>" in body["expert_instruction"]


def admit(client, cast, project_id: int) -> None:
    answer = client.post(
        f"/api/projects/{project_id}/members/",
        json={"user": cast.annotator.principal.user_id},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text


class TestReadUpdateDelete:
    def test_get_matrix(self, client, cast) -> None:
        project = create(client, cast.owner.headers)
        path = f"/api/projects/{project['id']}"
        assert client.get(path, headers=cast.owner.headers).status_code == 200
        # An annotator sees a project once a manager has made them a member.
        assert_error(client.get(path, headers=cast.annotator.headers), 404)
        admit(client, cast, project["id"])
        assert client.get(path, headers=cast.annotator.headers).status_code == 200
        assert_error(client.get(path, headers=cast.outsider.headers), 404)
        assert_error(client.get(path), 401)

    def test_patch_matrix_and_state(self, client, cast, session) -> None:
        project = create(client, cast.owner.headers)
        admit(client, cast, project["id"])
        path = f"/api/projects/{project['id']}"
        assert_error(
            client.patch(path, json={"title": "Hack"}, headers=cast.annotator.headers), 403
        )
        assert_error(client.patch(path, json={"title": "Hack"}, headers=cast.outsider.headers), 404)
        assert_error(client.patch(path, json={"title": "Hack"}), 401)
        session.expire_all()
        assert session.get(Project, project["id"]).title == "Demo"

        response = client.patch(
            path,
            json={"title": "Renamed", "maximum_annotations": 3, "label_config": NER_CONFIG},
            headers=cast.owner.headers,
        )
        assert response.status_code == 200, response.text
        session.expire_all()
        row = session.get(Project, project["id"])
        assert (row.title, row.maximum_annotations) == ("Renamed", 3)
        assert row.parsed_label_config["label"]["to_name"] == ["text"]

    def test_patch_with_a_bad_config_changes_nothing(self, client, cast, session) -> None:
        project = create(client, cast.owner.headers, label_config=NER_CONFIG)
        response = client.patch(
            f"/api/projects/{project['id']}",
            json={"title": "Changed", "label_config": "<View><Bogus name='x'/></View>"},
            headers=cast.owner.headers,
        )
        assert_error(response, 400, "label_config")
        session.expire_all()
        row = session.get(Project, project["id"])
        assert (row.title, row.label_config) == ("Demo", NER_CONFIG)

    def test_hiding_predictions_clears_model_version(self, client, cast) -> None:
        project = create(client, cast.owner.headers, model_version="v1")
        body = client.patch(
            f"/api/projects/{project['id']}",
            json={"show_collab_predictions": False},
            headers=cast.owner.headers,
        ).json()
        assert body["model_version"] == ""

    def test_delete_matrix_and_state(self, client, cast, session) -> None:
        project = create(client, cast.owner.headers)
        admit(client, cast, project["id"])
        path = f"/api/projects/{project['id']}"
        assert_error(client.delete(path, headers=cast.annotator.headers), 403)
        assert_error(client.delete(path, headers=cast.outsider.headers), 404)
        assert_error(client.delete(path), 401)
        session.expire_all()
        assert session.get(Project, project["id"]) is not None
        response = client.delete(path, headers=cast.owner.headers)
        assert response.status_code == 204 and response.content == b""
        session.expire_all()
        assert session.get(Project, project["id"]) is None


class TestList:
    def test_envelope_scope_and_pages(self, client, cast) -> None:
        ids = [create(client, cast.owner.headers, title=f"Project {i}")["id"] for i in range(5)]
        create(client, cast.outsider.headers, title="Other org")
        first = client.get("/api/projects?page_size=2", headers=cast.owner.headers).json()
        assert set(first) == {"count", "next", "previous", "results"}
        assert first["count"] == 5
        assert [p["id"] for p in first["results"]] == ids[::-1][:2]  # newest first
        assert first["previous"] is None and "page=2" in first["next"]
        last = client.get("/api/projects?page=3&page_size=2", headers=cast.owner.headers).json()
        assert [p["id"] for p in last["results"]] == [ids[0]] and last["next"] is None
        beyond = client.get("/api/projects?page=4&page_size=2", headers=cast.owner.headers)
        assert_error(beyond, 404)
        assert beyond.json()["detail"] == "Invalid page."

    def test_page_size_is_capped_at_100(self, client, cast) -> None:
        create(client, cast.owner.headers)
        body = client.get("/api/projects?page_size=100000", headers=cast.owner.headers).json()
        assert body["count"] == 1

    def test_filters(self, client, cast) -> None:
        a = create(client, cast.owner.headers, title="Cats and dogs")
        b = create(client, cast.owner.headers, title="Birds", description="about cats too")
        create(client, cast.owner.headers, title="Fish")
        client.patch(
            f"/api/projects/{b['id']}",
            json={"pinned_at": "2026-01-01T00:00:00Z"},
            headers=cast.owner.headers,
        )

        def ids(query: str) -> list[int]:
            response = client.get(f"/api/projects?{query}", headers=cast.owner.headers)
            assert response.status_code == 200, response.text
            return [p["id"] for p in response.json()["results"]]

        assert ids("title=cats") == [a["id"]]
        assert sorted(ids("search=cats")) == sorted([a["id"], b["id"]])
        assert ids("filter=pinned_only") == [b["id"]]
        assert b["id"] not in ids("filter=exclude_pinned")
        assert sorted(ids(f"ids={a['id']},{b['id']}")) == sorted([a["id"], b["id"]])
        assert ids("ordering=title")[0] == b["id"]
        assert_error(
            client.get("/api/projects?ordering=secret", headers=cast.owner.headers), 400, "ordering"
        )

    def test_include_limits_count_fields(self, client, cast) -> None:
        create(client, cast.owner.headers)
        project = client.get(
            "/api/projects?include=task_number", headers=cast.owner.headers
        ).json()["results"][0]
        assert project["task_number"] == 0
        assert "total_annotations_number" not in project

    def test_counts_endpoint(self, client, cast) -> None:
        project = create(client, cast.owner.headers)
        body = client.get("/api/projects/counts", headers=cast.owner.headers).json()
        assert body["results"] == [
            {
                "id": project["id"],
                "task_number": 0,
                "finished_task_number": 0,
                "total_predictions_number": 0,
                "total_annotations_number": 0,
                "num_tasks_with_annotations": 0,
                "useful_annotation_number": 0,
                "ground_truth_number": 0,
                "skipped_annotations_number": 0,
            }
        ]


class TestConventions:
    @pytest.mark.parametrize("suffix", ["", "/"])
    def test_both_slash_forms_answer_every_method_without_redirect(
        self, client, cast, session, suffix
    ) -> None:
        created = client.post(
            f"/api/projects{suffix}",
            json={"title": "Slash"},
            headers=cast.owner.headers,
            follow_redirects=False,
        )
        assert created.status_code == 201
        path = f"/api/projects/{created.json()['id']}{suffix}"
        assert (
            client.get(path, headers=cast.owner.headers, follow_redirects=False).status_code == 200
        )
        patched = client.patch(path, json={"title": "Slashed"}, headers=cast.owner.headers)
        assert patched.status_code == 200
        assert client.delete(path, headers=cast.owner.headers).status_code == 204

    def test_validate_endpoint_needs_no_auth(self, client) -> None:
        assert (
            client.post("/api/projects/validate/", json={"label_config": NER_CONFIG}).status_code
            == 204
        )
        response = client.post("/api/projects/validate", json={"label_config": BILLION_LAUGHS})
        assert_error(response, 400, "label_config")

    def test_validate_against_a_project(self, client, cast) -> None:
        project = create(client, cast.owner.headers, label_config=NER_CONFIG)
        path = f"/api/projects/{project['id']}/validate/"
        same_keys = NER_CONFIG.replace('value="ORG"', 'value="LOC"')
        body = client.post(
            path, json={"label_config": same_keys}, headers=cast.owner.headers
        ).json()
        assert body == {"config_essential_data_has_changed": False}
        other = '<View><Choices name="c" toName="img"><Choice value="a"/></Choices><Image name="img" value="$image"/></View>'
        body = client.post(path, json={"label_config": other}, headers=cast.owner.headers).json()
        assert body == {"config_essential_data_has_changed": True}
        assert_error(
            client.post(path, json={"label_config": other}, headers=cast.outsider.headers), 404
        )

    def test_unknown_path_is_label_studio_404(self, client, cast) -> None:
        assert_error(client.get("/api/projects/abc", headers=cast.owner.headers), 404)

    def test_health_and_version_need_no_auth(self, client) -> None:
        assert client.get("/health").json() == {"status": "UP"}
        version = client.get("/api/version/").json()
        assert version["edition"] == "Community"
        assert version["release"].startswith("1.23")
