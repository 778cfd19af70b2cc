"""Alembic environment of project-svc: its own history, its own version table."""

from labelops_common.migrations import run_migrations_in_env
from project_svc.db import Base
from project_svc.models import import_all_models

import_all_models()
run_migrations_in_env(Base.metadata)
