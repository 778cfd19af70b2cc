"""Project membership: annotators and reviewers see only the projects they are members of."""

from __future__ import annotations

from labelops_common.auth.principal import Role
from project_svc.members.models import ProjectMember


def _create(client, headers, title: str = "Project") -> int:
    answer = client.post("/api/projects", json={"title": title}, headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _members_path(project_id: int) -> str:
    return f"/api/projects/{project_id}/members/"


def test_annotators_and_reviewers_see_only_their_projects(client, cast, factory) -> None:
    reviewer = factory.actor(cast.owner.principal.organization_id, Role.REVIEWER)
    manager = factory.actor(cast.owner.principal.organization_id, Role.MANAGER)
    first, second, third = (_create(client, cast.owner.headers, f"Project {i}") for i in range(3))
    for who, project_id in ((cast.annotator, first), (reviewer, first), (reviewer, third)):
        answer = client.post(
            _members_path(project_id),
            json={"user": who.principal.user_id},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["user"] == who.principal.user_id

    def visible(actor) -> set[int]:
        body = client.get("/api/projects?page_size=100", headers=actor.headers).json()
        assert body["count"] == len(body["results"])
        return {project["id"] for project in body["results"]}

    assert visible(cast.annotator) == {first}
    assert visible(reviewer) == {first, third}
    assert visible(manager) == {first, second, third}  # managers need no membership
    assert client.get(f"/api/projects/{second}", headers=cast.annotator.headers).status_code == 404
    counts = client.get("/api/projects/counts", headers=cast.annotator.headers).json()
    assert [row["id"] for row in counts["results"]] == [first]


def test_managers_add_list_and_remove_members(client, cast, session) -> None:
    project_id = _create(client, cast.owner.headers)
    user_id = cast.annotator.principal.user_id
    path = _members_path(project_id)
    added = client.post(path, json={"user": user_id}, headers=cast.owner.headers)
    again = client.post(path, json={"user": user_id}, headers=cast.owner.headers)
    assert added.status_code == again.status_code == 201
    assert added.json()["id"] == again.json()["id"]  # adding twice changes nothing
    listed = client.get(path, headers=cast.owner.headers).json()
    assert [(row["user"], row["user_info"]["id"]) for row in listed] == [(user_id, user_id)]

    # A member annotator may see the project, not manage its members.
    assert client.get(path, headers=cast.annotator.headers).status_code == 403
    refused = client.delete(f"{path}?user={user_id}", headers=cast.annotator.headers)
    assert refused.status_code == 403

    removed = client.delete(f"{path}?user={user_id}", headers=cast.owner.headers)
    assert removed.status_code == 204
    assert (
        client.get(f"/api/projects/{project_id}", headers=cast.annotator.headers).status_code == 404
    )
    assert client.delete(f"{path}?user={user_id}", headers=cast.owner.headers).status_code == 404
    assert session.query(ProjectMember).filter_by(project_id=project_id).count() == 0


def test_members_come_from_the_project_s_organization_only(client, cast, session) -> None:
    project_id = _create(client, cast.owner.headers)
    path = _members_path(project_id)
    foreign = client.post(
        path, json={"user": cast.outsider.principal.user_id}, headers=cast.owner.headers
    )
    assert foreign.status_code == 400
    assert "not a member of this organization" in foreign.json()["validation_errors"]["user"][0]
    missing = client.post(path, json={"user": 10**9}, headers=cast.owner.headers)
    assert missing.status_code == 400
    no_user = client.post(path, json={}, headers=cast.owner.headers)
    assert no_user.status_code == 400 and "user" in no_user.json()["validation_errors"]
    # Another organization's owner cannot see the project, let alone admit anyone to it.
    outsider = client.post(
        path, json={"user": cast.outsider.principal.user_id}, headers=cast.outsider.headers
    )
    assert outsider.status_code == 404
    assert session.query(ProjectMember).filter_by(project_id=project_id).count() == 0
