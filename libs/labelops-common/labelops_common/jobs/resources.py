"""What job bodies get from their service: one registry of resources, keyed by service.

A service declares a `JobResources` subclass (its database, artifact storage, project
directory, ...) and its runtime registers the instance it built
(`ServiceRuntime.provide_job_resources`); a task declared with that type gets it as its
first argument. Several instances of one service can live in one process (tests build
more than one): the last registered serves, unless the caller names the database its
session used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from labelops_common.db import Database


@dataclass(frozen=True)
class JobResources:
    """The base of a service's job resources; every job needs at least the database."""

    #: The service these resources belong to (the registry's key).
    service: ClassVar[str]
    database: Database


R = TypeVar("R", bound=JobResources)

_lock = threading.Lock()
#: Service name → its registered instances, the latest last.
_registered: dict[str, list[JobResources]] = {}


def register_job_resources(resources: JobResources) -> None:
    """Make `resources` the ones its service's jobs run with in this process."""
    with _lock:
        instances = _registered.setdefault(resources.service, [])
        instances[:] = [other for other in instances if other is not resources]
        instances.append(resources)


def unregister_job_resources(resources: JobResources) -> None:
    with _lock:
        instances = _registered.get(resources.service, [])
        instances[:] = [other for other in instances if other is not resources]


def job_resources(service: str, *, bind: Any = None) -> JobResources:
    """The resources registered for `service`: those on the database `bind` (an engine or
    connection a session used) if one matches, else the last registered."""
    with _lock:
        instances = list(_registered.get(service, []))
    if not instances:
        raise RuntimeError(f"{service} was not built in this process; its jobs cannot run")
    engine = getattr(bind, "engine", bind)
    if engine is not None:
        for resources in reversed(instances):
            if resources.database.engine is engine:
                return resources
    return instances[-1]


def resources_of(kind: type[R], *, bind: Any = None) -> R:
    """`job_resources` for the service of `kind`, checked to be a `kind`."""
    resources = job_resources(kind.service, bind=bind)
    if not isinstance(resources, kind):
        raise TypeError(
            f"{kind.service} registered {type(resources).__name__}, not {kind.__name__}"
        )
    return resources
