"""Overlap and agreement through the official SDK: two annotators label the same tasks of
an overlap-2 project; the task's agreement, the project's and the data manager's
agreement filter answer what the hand calculation says."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from labelops_testing.receivers import webhook_receiver

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/><Label value="Person"/></RectangleLabels>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}


def sentiment(label: str) -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }


def box(x: float, y: float, w: float, h: float, label: str) -> dict[str, Any]:
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def span(start: int, end: int, label: str) -> dict[str, Any]:
    return {
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "labels": [label]},
    }


def annotator_sdk(base_url: str, email: str) -> tuple[LabelStudio, int]:
    """A new annotator of the admin's organization, signed in for their own API token."""
    password = "annotator-password-123"
    created = httpx.post(
        f"{base_url}/api/users",
        json={"email": email, "password": password, "role": "annotator"},
        headers=HEADERS,
    )
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=base_url) as browser:
        signed_in = browser.post("/user/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        token = browser.get("/api/current-user/token").json()["token"]
    return LabelStudio(base_url=base_url, api_key=token), int(created.json()["id"])


def test_two_annotators_on_overlap_two_agree_as_calculated_by_hand(suite) -> None:
    admin = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    stamp = time.monotonic_ns()
    first, first_id = annotator_sdk(suite.base_url, f"agree-a-{stamp}@example.com")
    second, second_id = annotator_sdk(suite.base_url, f"agree-b-{stamp}@example.com")
    with webhook_receiver() as receiver:
        project = admin.projects.create(
            title="Agreement", label_config=CONFIG, maximum_annotations=2
        )
        for user in (first_id, second_id):
            admitted = httpx.post(
                f"{suite.base_url}/api/projects/{project.id}/members",
                json={"user": user},
                headers=HEADERS,
            )
            assert admitted.status_code == 201, admitted.text
        admin.webhooks.create(url=receiver.url, project=project.id, send_for_all_actions=True)
        image = "https://example.com/street.jpg"
        one, two, three = (
            admin.tasks.create(project=project.id, data={"text": text, "image": image}).id
            for text in ("Ada Lovelace met Babbage", "ACME hires", "untouched")
        )
        assert admin.tasks.get(id=one).overlap == 2

        # Task one. Choices: both Positive -> 1.
        # Boxes: A has Car (0,0,10,10) and Person (50,50,10,10); B has Car (2,0,10,10).
        #   The cars overlap 8 x 10 = 80 of 100 + 100 - 80 = 120: IoU 0.667 >= 0.5, a match.
        #   2 x 1 match / (2 + 1 boxes) = 0.667.
        # Spans: A PER [0, 12), B PER [4, 12): 8 shared characters of 12 -> 0.667.
        # Task agreement: (1 + 2/3 + 2/3) / 3 = 7/9.
        first.annotations.create(
            id=one,
            result=[
                sentiment("Positive"),
                box(0, 0, 10, 10, "Car"),
                box(50, 50, 10, 10, "Person"),
                span(0, 12, "PER"),
            ],
        )
        second.annotations.create(
            id=one, result=[sentiment("Positive"), box(2, 0, 10, 10, "Car"), span(4, 12, "PER")]
        )
        # Task two. Choices: Positive vs Negative -> 0. Boxes: the same Car -> 1.
        # Spans: A ORG [0, 4), B none -> 0 of 4 characters -> 0.
        # Task agreement: (0 + 1 + 0) / 3 = 1/3.
        first.annotations.create(
            id=two, result=[sentiment("Positive"), box(5, 5, 20, 20, "Car"), span(0, 4, "ORG")]
        )
        second.annotations.create(id=two, result=[sentiment("Negative"), box(5, 5, 20, 20, "Car")])

        def agreement_of(task: int) -> dict[str, Any]:
            answer = httpx.get(f"{suite.base_url}/api/tasks/{task}/agreement/", headers=HEADERS)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        a, b = sorted((first_id, second_id))
        scored = agreement_of(one)
        assert scored["agreement"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
        assert scored["controls"] == {
            "sentiment": 1.0,
            "box": pytest.approx(2 * 1 / (2 + 1)),
            "ner": pytest.approx(8 / 12),
        }
        assert [(p["annotator_a"], p["annotator_b"]) for p in scored["pairs"]] == [(a, b)]
        assert agreement_of(two)["agreement"] == pytest.approx((0 + 1 + 0) / 3)
        assert agreement_of(three)["agreement"] is None
        assert admin.tasks.get(id=one).is_labeled is True

        # The data manager's filter: below 0.5 is task two alone; unscored tasks are empty.
        def listed(operator: str, value: Any) -> list[int]:
            query = {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:agreement",
                            "operator": operator,
                            "type": "Number",
                            "value": value,
                        }
                    ],
                },
                "ordering": ["tasks:agreement"],
            }
            return [t.id for t in admin.tasks.list(project=project.id, query=json.dumps(query))]

        assert listed("less", 0.5) == [two]
        assert listed("greater", 0.5) == [one]
        assert listed("empty", True) == [three]

        # The project: mean (7/9 + 1/3) / 2 = 5/9. Krippendorff's alpha over the choices,
        # units (P, P) and (P, N): n = 4, n_P = 3, n_N = 1; D_o = 2 / 4;
        # D_e = (3 x 1 + 1 x 3) / (4 x 3) = 0.5; alpha = 1 - 0.5 / 0.5 = 0.
        summary = httpx.get(
            f"{suite.base_url}/api/projects/{project.id}/agreement/", headers=HEADERS
        )
        assert summary.status_code == 200, summary.text
        body = summary.json()
        assert body["agreement"] == pytest.approx((7 / 9 + 1 / 3) / 2)
        assert body["krippendorff_alpha"] == pytest.approx(1 - (2 / 4) / ((3 + 3) / (4 * 3)))
        assert body["pairs"] == [
            {"annotator_a": a, "annotator_b": b, "agreement": pytest.approx(5 / 9), "tasks": 2}
        ]

        # Webhooks get Label Studio's actions, never the internal TASK_AGREEMENT_UPDATED.
        requests = receiver.wait_for(7, timeout=60)  # 3 tasks created, 4 annotations
        time.sleep(1.0)
        actions = [request.json()["action"] for request in receiver.requests]
        assert actions.count("ANNOTATION_CREATED") == 4, actions
        assert "TASK_AGREEMENT_UPDATED" not in actions
        assert len(requests) >= 7
