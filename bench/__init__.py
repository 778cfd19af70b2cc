"""The task-svc benchmark: LabelOps (and optionally Label Studio) under the same workloads.

`make bench` (or `uv run python -m bench --help`); see bench/README.md.
"""
