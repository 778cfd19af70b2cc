"""Alembic environment of storage-sync: its own history, its own version table."""

from labelops_common.migrations import run_migrations_in_env
from storage_sync.db import Base
from storage_sync.models import import_all_models

import_all_models()
run_migrations_in_env(Base.metadata)
