"""project-svc's handler dependencies, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from labelops_common.http.deps import DbSession

from project_svc.audit.service import PeerLister
from project_svc.projects.counts import CountsFetcher
from project_svc.projects.rpc import LabelUseCounter, OverlapSetter, UsesFetcher
from project_svc.settings import Settings

__all__ = ["CountsClient", "DbSession", "ServiceSettings"]


def get_counts_fetcher(request: Request) -> CountsFetcher:
    fetcher: CountsFetcher = request.app.state.counts_fetcher
    return fetcher


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


CountsClient = Annotated[CountsFetcher, Depends(get_counts_fetcher)]
ServiceSettings = Annotated[Settings, Depends(get_settings)]


def get_secret_key(request: Request) -> str:
    secret: str = request.app.state.common_settings.resolved_secret_key()
    return secret


SecretKey = Annotated[str, Depends(get_secret_key)]
__all__ += ["SecretKey"]


def get_tasks_deleter(request: Request) -> Callable[[int], int]:
    deleter: Callable[[int], int] = request.app.state.tasks_deleter
    return deleter


#: Deletes a project's tasks in task-svc (before the project row goes).
TasksDeleter = Annotated[Callable[[int], int], Depends(get_tasks_deleter)]
__all__ += ["TasksDeleter"]


def get_overlap_setter(request: Request) -> OverlapSetter:
    setter: OverlapSetter = request.app.state.overlap_setter
    return setter


OverlapSetterDep = Annotated[OverlapSetter, Depends(get_overlap_setter)]
__all__ += ["OverlapSetterDep"]


def get_uses_fetcher(request: Request) -> UsesFetcher:
    fetcher: UsesFetcher = request.app.state.uses_fetcher
    return fetcher


UsesInProjectDep = Annotated[UsesFetcher, Depends(get_uses_fetcher)]


def get_label_use_counter(request: Request) -> LabelUseCounter:
    counter: LabelUseCounter = request.app.state.label_use_counter
    return counter


LabelUses = Annotated[LabelUseCounter, Depends(get_label_use_counter)]
__all__ += ["LabelUses", "UsesInProjectDep"]


def get_audit_peers(request: Request) -> dict[str, PeerLister]:
    peers: dict[str, PeerLister] = request.app.state.audit_peers
    return peers


#: The other services' audit logs (`project_svc.audit.rpc`).
AuditPeers = Annotated[dict[str, PeerLister], Depends(get_audit_peers)]
__all__ += ["AuditPeers"]
