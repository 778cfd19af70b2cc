"""Set-based analytics work: annotations that came without events of their own, and a
project's rollups recomputed from scratch.

`count_new_tasks` adds the annotations an import wrote with its tasks (TASKS_CREATED is
their only event); `backfill_project` rebuilds a project's annotation facts from its
annotations and its rollups from all its facts, for data that predates the handlers.
Both take the project's analytics lock (`rollups.lock_project`) like the handlers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from task_svc.analytics.models import AnnotationFact, CompletionFact
from task_svc.analytics.rollups import lock_project

_ADD_NEW_TASKS = text(
    """
    WITH annotation_facts AS (
        INSERT INTO analytics_annotation_facts
            (annotation_id, project_id, task_id, user_id, hour, was_cancelled, lead_time)
        SELECT id, project_id, task_id, coalesce(completed_by_id, 0),
               date_trunc('hour', created_at, 'UTC'), was_cancelled, lead_time
        FROM annotations
        WHERE project_id = :project_id AND task_id BETWEEN :first AND :last
          AND (CAST(:ids AS bigint[]) IS NULL OR task_id = ANY(CAST(:ids AS bigint[])))
        ON CONFLICT DO NOTHING
        RETURNING user_id, hour, was_cancelled, lead_time
    ), completion_facts AS (
        INSERT INTO analytics_completion_facts
            (task_id, project_id, annotation_id, user_id, hour, seconds)
        SELECT DISTINCT ON (a.task_id) a.task_id, a.project_id, a.id,
               coalesce(a.completed_by_id, 0), date_trunc('hour', a.created_at, 'UTC'),
               greatest(0, extract(epoch FROM a.created_at - t.created_at))
        FROM annotations a JOIN tasks t ON t.id = a.task_id
        WHERE a.project_id = :project_id AND a.task_id BETWEEN :first AND :last
          AND (CAST(:ids AS bigint[]) IS NULL OR a.task_id = ANY(CAST(:ids AS bigint[])))
          AND NOT a.was_cancelled
        ORDER BY a.task_id, a.created_at, a.id
        ON CONFLICT DO NOTHING
        RETURNING user_id, hour, seconds
    )
    INSERT INTO analytics_user_hours (project_id, user_id, hour, annotations, skipped,
        lead_time_sum, lead_time_count, tasks_completed, completion_seconds_sum,
        reviews_accepted, reviews_rejected, accepted_received, rejected_received,
        agreement_sum, agreement_count)
    SELECT :project_id, user_id, hour, sum(a), sum(s), sum(lts), sum(ltc), sum(tc), sum(cs),
           0, 0, 0, 0, 0, 0
    FROM (
        SELECT user_id, hour, (NOT was_cancelled)::int a, was_cancelled::int s,
               coalesce(lead_time, 0) lts, (lead_time IS NOT NULL)::int ltc, 0 tc, 0.0 cs
        FROM annotation_facts
        UNION ALL
        SELECT user_id, hour, 0, 0, 0.0, 0, 1, seconds FROM completion_facts
    ) added
    GROUP BY user_id, hour
    ON CONFLICT (project_id, user_id, hour) DO UPDATE SET
        annotations = analytics_user_hours.annotations + excluded.annotations,
        skipped = analytics_user_hours.skipped + excluded.skipped,
        lead_time_sum = analytics_user_hours.lead_time_sum + excluded.lead_time_sum,
        lead_time_count = analytics_user_hours.lead_time_count + excluded.lead_time_count,
        tasks_completed = analytics_user_hours.tasks_completed + excluded.tasks_completed,
        completion_seconds_sum =
            analytics_user_hours.completion_seconds_sum + excluded.completion_seconds_sum
    """
)


def count_new_tasks(
    session: Session, *, project_id: int, task_ids: Sequence[int] | None, first: int, last: int
) -> None:
    """TASKS_CREATED: annotations that came with the tasks (an import), which publish no
    annotation events, are counted set-based; tasks without annotations cost an index probe.
    Rows with facts already (a redelivery, or a handler that ran first) are left alone."""
    lock_project(session, project_id)
    session.execute(
        _ADD_NEW_TASKS,
        {
            "project_id": project_id,
            "first": first,
            "last": last,
            "ids": list(task_ids) if task_ids else None,
        },
    )


_ANNOTATION_FACTS = text(
    """
    INSERT INTO analytics_annotation_facts
        (annotation_id, project_id, task_id, user_id, hour, was_cancelled, lead_time)
    SELECT id, project_id, task_id, coalesce(completed_by_id, 0),
           date_trunc('hour', created_at, 'UTC'), was_cancelled, lead_time
    FROM annotations WHERE project_id = :project_id
    """
)
_COMPLETION_FACTS = text(
    """
    INSERT INTO analytics_completion_facts
        (task_id, project_id, annotation_id, user_id, hour, seconds)
    SELECT DISTINCT ON (a.task_id) a.task_id, a.project_id, a.id, coalesce(a.completed_by_id, 0),
           date_trunc('hour', a.created_at, 'UTC'),
           greatest(0, extract(epoch FROM a.created_at - t.created_at))
    FROM annotations a JOIN tasks t ON t.id = a.task_id
    WHERE a.project_id = :project_id AND NOT a.was_cancelled
    ORDER BY a.task_id, a.created_at, a.id
    """
)
_USER_HOURS = text(
    """
    INSERT INTO analytics_user_hours (project_id, user_id, hour, annotations, skipped,
        lead_time_sum, lead_time_count, tasks_completed, completion_seconds_sum,
        reviews_accepted, reviews_rejected, accepted_received, rejected_received,
        agreement_sum, agreement_count)
    SELECT :project_id, user_id, hour, sum(a), sum(s), sum(lts), sum(ltc), sum(tc), sum(cs),
           sum(ra), sum(rr), sum(ar), sum(rj), sum(ags), sum(agc)
    FROM (
        SELECT user_id, hour, (NOT was_cancelled)::int a, was_cancelled::int s,
               coalesce(lead_time, 0) lts, (lead_time IS NOT NULL)::int ltc,
               0 tc, 0.0 cs, 0 ra, 0 rr, 0 ar, 0 rj, 0.0 ags, 0 agc
        FROM analytics_annotation_facts WHERE project_id = :project_id
        UNION ALL
        SELECT user_id, hour, 0, 0, 0.0, 0, 1, seconds, 0, 0, 0, 0, 0.0, 0
        FROM analytics_completion_facts WHERE project_id = :project_id
        UNION ALL
        SELECT reviewer_id, hour, 0, 0, 0.0, 0, 0, 0.0, accepted::int, (NOT accepted)::int,
               0, 0, 0.0, 0
        FROM analytics_review_facts WHERE project_id = :project_id
        UNION ALL
        SELECT annotator_id, hour, 0, 0, 0.0, 0, 0, 0.0, 0, 0, accepted::int,
               (NOT accepted)::int, 0.0, 0
        FROM analytics_review_facts WHERE project_id = :project_id
        UNION ALL
        SELECT unnest(annotator_ids), hour, 0, 0, 0.0, 0, 0, 0.0, 0, 0, 0, 0, agreement, 1
        FROM analytics_agreement_facts WHERE project_id = :project_id
    ) contributions
    GROUP BY user_id, hour
    """
)
_PROJECT_HOURS = text(
    """
    INSERT INTO analytics_project_hours (project_id, hour, agreement_sum, agreement_count)
    SELECT :project_id, hour, sum(agreement), count(*)
    FROM analytics_agreement_facts WHERE project_id = :project_id
    GROUP BY hour
    """
)


def rebuild_rollups(session: Session, *, project_id: int) -> None:
    """The project's rollups recomputed from its facts (what the handlers keep by
    differences, summed again from scratch)."""
    lock_project(session, project_id)
    session.execute(
        text("DELETE FROM analytics_user_hours WHERE project_id = :p"), {"p": project_id}
    )
    session.execute(
        text("DELETE FROM analytics_project_hours WHERE project_id = :p"), {"p": project_id}
    )
    session.execute(_USER_HOURS, {"project_id": project_id})
    session.execute(_PROJECT_HOURS, {"project_id": project_id})


#: The tables a backfill grows: `analyze_if_grown` them after its commit, so the handlers'
#: lookups by id are planned against their new sizes.
ANALYZED = (
    "analytics_annotation_facts",
    "analytics_completion_facts",
    "analytics_user_hours",
)


def backfill_project(session: Session, *, project_id: int) -> int:
    """Recompute a project's annotation and completion facts from its annotations, then
    its rollups; reviews and agreement keep the facts their events left. Returns the
    number of annotations counted. Callers commit."""
    lock_project(session, project_id)
    session.execute(delete(AnnotationFact).where(AnnotationFact.project_id == project_id))
    session.execute(delete(CompletionFact).where(CompletionFact.project_id == project_id))
    counted = session.execute(_ANNOTATION_FACTS, {"project_id": project_id})
    session.execute(_COMPLETION_FACTS, {"project_id": project_id})
    rebuild_rollups(session, project_id=project_id)
    return int(getattr(counted, "rowcount", 0) or 0)
