"""Faults against the suite as Kubernetes runs it: one process per service, a Celery worker,
Redis as the broker and PostgreSQL, each test breaking one of them for real.

Every module starts its own stack (`labelops_testing.stack`'s launcher), because each leaves the
one it used damaged or restarted; the faults that stop the broker or the database give the
stack a Redis or PostgreSQL of the test's own, so the shared test servers are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from labelops_testing import stack as stacks

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""

AUTH: dict[str, str] = stacks.AUTH


@contextmanager
def running_stack(tmp: Path, **options: Any) -> Iterator[Any]:
    """`stacks.start_stack(tmp, **options)` until the block ends."""
    stack = stacks.start_stack(tmp, **options)
    try:
        yield stack
    finally:
        stacks.stop_stack(stack)


@dataclass
class Api:
    """HTTP clients of each service of a running stack (no retries: a fault must show)."""

    stack: Any
    timeout: float = 30.0

    def client(self, service: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.service_url(service), headers=AUTH, timeout=self.timeout
        )

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self.client(service) as client:
            return client.request(method, path, **kwargs)

    def project(self, title: str = "Faults") -> int:
        created = self.call(
            "project-svc", "POST", "/api/projects", json={"title": title, "label_config": CONFIG}
        )
        assert created.status_code == 201, created.text
        project_id: int = created.json()["id"]
        return project_id

    def tasks(self, project_id: int, texts: list[str]) -> list[int]:
        """Imported without the queue (small bodies stay synchronous unless the stack says)."""
        answer = self.call(
            "task-svc",
            "POST",
            f"/api/projects/{project_id}/import?return_task_ids=true",
            json=[{"text": text} for text in texts],
        )
        assert answer.status_code == 201, answer.text
        task_ids: list[int] = answer.json()["task_ids"]
        return task_ids

    def annotate(self, task_id: int, choice: str = "Positive") -> httpx.Response:
        return self.call(
            "task-svc",
            "POST",
            f"/api/tasks/{task_id}/annotations",
            json={"result": [choice_result(choice)]},
        )


def choice_result(choice: str) -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


def wait_for(check: Callable[[], bool], seconds: float, what: str, *logs: Any) -> None:
    """Polls `check` until it holds; fails naming `what` with the tails of the given
    processes' logs."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in logs)
            raise AssertionError(f"{what} within {seconds} s\n{tails}")
        time.sleep(0.2)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started
