"""`labelops analytics-backfill --project ID` counts annotations no event reported."""

from __future__ import annotations

from labelops_runtime import cli, suite

from .conftest import Writer
from .test_rollups import direct_count, rolled_up


def test_the_backfill_command_counts_what_no_event_reported(
    stack, client, cast, make_project, monkeypatch, capsys
) -> None:
    writer = Writer(client)
    project_id = make_project()
    for actor, lead_time in ((cast.annotator, 3.0), (cast.annotator2, 9.0)):
        writer.annotate(actor, writer.task(cast.owner, project_id), lead_time=lead_time)
    # No worker ran here: nothing is counted yet.
    assert rolled_up(stack, project_id) == {}

    url = stack.task_runtime.database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LABELOPS_TASK_SVC_DATABASE_URL", url)
    # Logging and tracing are process-wide: leave them as the test session set them.
    monkeypatch.setattr(suite, "configure_process", lambda common, *, service: None)
    assert cli.main(["analytics-backfill", "--project", str(project_id)]) == 0
    assert f"project {project_id}: 2 annotations counted" in capsys.readouterr().out
    expected = direct_count(stack, project_id)
    assert rolled_up(stack, project_id) == expected
    assert sum(values["tasks_completed"] for values in expected.values()) == 2
