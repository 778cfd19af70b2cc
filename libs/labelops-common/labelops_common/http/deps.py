"""Dependencies every service's handlers share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from labelops_common.db import Database


def get_db_session(request: Request) -> Iterator[Session]:
    """A session from the service's own database; handlers commit explicitly."""
    database: Database = request.app.state.database
    with database.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session)]
