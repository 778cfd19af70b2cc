"""Data-manager figures for Prometheus (the default registry `/metrics` serves)."""

from __future__ import annotations

from prometheus_client import Counter

LIST_QUERIES = Counter(
    "labelops_dm_list_queries_total",
    "Data-manager task-list pages served, by how their ids were found: a data-field "
    "index (field_index) or the tasks table (plain).",
    ["path"],
)
