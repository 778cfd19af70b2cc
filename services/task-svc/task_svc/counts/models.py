from __future__ import annotations

from datetime import datetime

from labelops_common.db import utcnow
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base


class ProjectCounters(Base):
    """A project's counters, kept on every write so no read ever counts tasks.

    project-svc serves them inside the project object (`task_number`, ...).
    """

    __tablename__ = "project_counters"

    project_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    task_number: Mapped[int] = mapped_column(default=0)
    finished_task_number: Mapped[int] = mapped_column(default=0)
    total_annotations_number: Mapped[int] = mapped_column(default=0)
    skipped_annotations_number: Mapped[int] = mapped_column(default=0)
    ground_truth_number: Mapped[int] = mapped_column(default=0)
    useful_annotation_number: Mapped[int] = mapped_column(default=0)
    num_tasks_with_annotations: Mapped[int] = mapped_column(default=0)
    total_predictions_number: Mapped[int] = mapped_column(default=0)
    #: The highest `inner_id` handed out; writers reserve ranges with UPDATE ... RETURNING.
    last_inner_id: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Raised by every committed write to the project's tasks, annotations or predictions,
    #: so anything computed from them (a filtered total) can be cached under this number.
    tasks_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: The project's state last recorded in its FSM history (`fsm.records`), derived from
    #: these counters; None: never recorded.
    fsm_state: Mapped[str | None] = mapped_column(String(50), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
