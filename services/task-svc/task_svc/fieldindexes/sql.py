"""The PostgreSQL statements of data-field indexes, written out so their plans are plain.

Entries are computed by `data_field_entry(data, filter_key, order_key)` (migration
0006), the same function the triggers on `tasks` call, so a build, a bulk import and a
single write store the same values.
"""

from __future__ import annotations

#: First key of the project locks (two-int advisory locks; see migration 0006).
LOCK_CLASS = 1684628073
_PROJECT_KEY = "(CAST(:project_id AS bigint) % 2147483647)::integer"

LOCK = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {_PROJECT_KEY})"
TRY_LOCK = f"SELECT pg_try_advisory_xact_lock({LOCK_CLASS}, {_PROJECT_KEY})"
LOCK_SHARED = f"SELECT pg_advisory_xact_lock_shared({LOCK_CLASS}, {_PROJECT_KEY})"

#: The entries of the tasks joined below, computed for their definitions `d`.
_INSERT_ENTRIES = """
INSERT INTO data_field_entries (index_id, task_id, filter_text, order_value, is_exact)
SELECT d.id, t.id, v.filter_text, v.order_value, v.is_exact
FROM data_field_indexes AS d
JOIN tasks AS t ON t.project_id = d.project_id
CROSS JOIN LATERAL data_field_entry(t.data, d.filter_key, d.order_key) AS v
"""

#: Every task of the definition's project (rows a trigger already wrote are kept). Sorted
#: in the covering index's order, its entries go in at the index's right edge: at 1M tasks
#: that was 18 s instead of 21 s, and the index comes out denser.
BUILD = (
    _INSERT_ENTRIES
    + """WHERE d.id = :index_id
ORDER BY v.filter_text, v.order_value, t.id
ON CONFLICT (index_id, task_id) DO NOTHING
"""
)

#: Entries of tasks deleted while a build copied them (their delete found no entry yet).
DROP_ENTRIES_OF_DELETED_TASKS = """
DELETE FROM data_field_entries AS e
WHERE e.index_id = :index_id
    AND NOT EXISTS (
        SELECT 1 FROM tasks AS t WHERE t.id = e.task_id AND t.project_id = :project_id
    )
"""

#: The tasks one bulk write added (ids from `first_id` to `last_id`), for every definition.
BULK = (
    _INSERT_ENTRIES
    + """WHERE d.project_id = :project_id
    AND d.state IN ('building', 'ready')
    AND t.id BETWEEN :first_id AND :last_id
ORDER BY d.id, v.filter_text, v.order_value, t.id
ON CONFLICT (index_id, task_id) DO NOTHING
"""
)

#: Every statement that reads entries also checks, in its own snapshot, that none is
#: inexact (run once per statement on the partial index of inexact entries): one committed
#: after `index_for_list` looked must not slip in.
_ALL_EXACT = (
    "NOT EXISTS (SELECT 1 FROM data_field_entries WHERE index_id = :index_id AND NOT is_exact)"
)


def _where(*, filtered: bool) -> str:
    return "index_id = :index_id" + (" AND filter_text = :filter_text" if filtered else "")


def count_statement(*, filtered: bool) -> str:
    """How many entries the shape selects, and whether all are exact."""
    return (
        f"SELECT count(*), {_ALL_EXACT} FROM data_field_entries WHERE {_where(filtered=filtered)}"  # noqa: S608
    )


def page_statement(*, filtered: bool, desc: bool) -> str:
    """One page of task ids, each row with the exactness flag (a single row without an id
    when the page is empty or the entries are no longer exact).

    `filter_text` leads the inner ORDER BY although it is constant (equal to the filter's
    text, or NULL in every entry of a definition without a filter key): it makes that
    ORDER BY the covering index's own order, which the planner walks (backwards when
    descending), stopping after OFFSET + LIMIT entries. The outer ORDER BY only re-sorts
    the page's rows.
    """
    direction = " DESC" if desc else ""
    order = f"filter_text{direction}, order_value{direction}, task_id{direction}"
    outer = f"p.filter_text{direction}, p.order_value{direction}, p.task_id{direction}"
    # Every piece is one of the constants above; the values are bound parameters.
    return f"""
SELECT p.task_id, g.exact
FROM (SELECT {_ALL_EXACT} AS exact) AS g
LEFT JOIN LATERAL (
    SELECT filter_text, order_value, task_id FROM data_field_entries
    WHERE {_where(filtered=filtered)}
    ORDER BY {order} OFFSET :offset LIMIT :limit
) AS p ON g.exact
ORDER BY {outer}
"""  # noqa: S608
