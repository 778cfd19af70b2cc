"""The official label-studio-sdk against single-process LabelOps, for rows issue 19 added
that the SDK calls: invites, members, the session policy, replacing an upload and a
project's annotators."""

from __future__ import annotations

import io
import uuid

import httpx
from label_studio_sdk import LabelStudio

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def test_sdk_invites_members_and_session_policy(suite) -> None:
    client = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    invite = client.organizations.invites.get_invite_link()
    assert invite.token and invite.invite_url and invite.token in invite.invite_url
    reset = client.organizations.reset_token()
    assert reset.token and reset.token != invite.token

    me = client.users.whoami()
    organization = me.active_organization
    assert organization is not None
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    member = client.users.create(email=f"{name}@example.com", username=name)
    assert member.id is not None
    found = client.organizations.members.get(id=organization, user_pk=member.id)
    assert found.user == member.id and found.organization == organization

    policy = client.session_policy.update(max_session_age=600)
    assert policy.max_session_age == 600
    assert client.session_policy.get().max_session_age == 600
    client.session_policy.update(max_session_age=14 * 1440)


def test_sdk_annotators_and_replacing_an_upload(suite) -> None:
    client = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    project = client.projects.create(title="SDK rows", label_config=CONFIG)
    assert project.id is not None
    raw = httpx.Client(base_url=suite.base_url, headers={"Authorization": f"Token {ADMIN_TOKEN}"})
    imported = raw.post(
        f"/api/projects/{project.id}/import?commit_to_project=false",
        files={"file": ("first.csv", b"text\na\n", "text/csv")},
    )
    assert imported.status_code == 201, imported.text
    [upload_id] = imported.json()["file_upload_ids"]
    replaced = client.files.update(id=upload_id, file=("second.csv", io.BytesIO(b"text\nb\nc\n")))
    assert replaced.file is not None and replaced.file.endswith("second.csv")

    task = client.tasks.create(project=project.id, data={"text": "hello"})
    assert task.id is not None
    client.annotations.create(
        id=task.id,
        result=[
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive"]},
            }
        ],
    )
    annotators = client.projects.list_unique_annotators(id=project.id)
    assert [person.id for person in annotators] == [client.users.whoami().id]
    client.projects.delete(id=project.id)
