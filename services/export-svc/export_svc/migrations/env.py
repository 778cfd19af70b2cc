"""Alembic environment of export-svc: its own history, its own version table."""

from export_svc.db import Base
from export_svc.models import import_all_models
from labelops_common.migrations import run_migrations_in_env

import_all_models()
run_migrations_in_env(Base.metadata)
