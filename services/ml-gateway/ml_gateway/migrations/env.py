"""Alembic environment of ml-gateway: its own history, its own version table."""

from labelops_common.migrations import run_migrations_in_env
from ml_gateway.db import Base
from ml_gateway.models import import_all_models

import_all_models()
run_migrations_in_env(Base.metadata)
