"""Data-manager filters, ordering and selection compiled to SQLAlchemy expressions.

The data manager sends Label Studio's JSON shapes (CONTRACT.md §6.1); this package turns
them into WHERE / ORDER BY clauses on `tasks` in PostgreSQL's SQL, so the task list,
actions and the label stream all select the same tasks. Bad input raises
`FilterError` naming the offending field, which handlers turn into a 400.

Choices worth knowing: an item with a null value is skipped (Label Studio does the same);
negated operators keep rows where the value is NULL; `annotators`/`predictions_model_versions`
are lists, so `contains`/`equal` mean "has this element"; `regex` is PostgreSQL's `~`.

The package follows the seams: `parsing` (the vocabulary, a filter item, its values),
`conditions` (filters and ticked tasks as WHERE), `ordering` (ORDER BY) and `shapes`
(selections a data-field index or the counters answer).
"""

from task_svc.datamanager.filters.conditions import compile_filters, compile_selected_items
from task_svc.datamanager.filters.ordering import compile_ordering
from task_svc.datamanager.filters.parsing import FilterError
from task_svc.datamanager.filters.shapes import annotated_filter, data_field_shape

__all__ = [
    "FilterError",
    "annotated_filter",
    "compile_filters",
    "compile_ordering",
    "compile_selected_items",
    "data_field_shape",
]
