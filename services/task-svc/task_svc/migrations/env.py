"""Alembic environment of task-svc: its own history, its own version table."""

from labelops_common.migrations import run_migrations_in_env
from task_svc.db import Base
from task_svc.models import import_all_models

import_all_models()
run_migrations_in_env(Base.metadata)
