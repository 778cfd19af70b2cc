"""`labelops serve --processes N`: N server processes sharing one listening socket.

One Python process is held to one core by the GIL; a machine with more cores serves more
requests with more processes. Kubernetes gets that from replicas, each a single process;
this is the same on one host. In single-process mode (`--target all`) one more child serves
no HTTP: its worker takes the `events` and `webhooks` queues, which the HTTP children's
workers leave alone. Events are many small messages, one for each burst of writes; handled
beside the requests, they waited for the interpreter lock the requests held (the mean event
lag was 1.5 s under 8 annotating clients), and each webhook request cost four times its
CPU. The parent binds the HTTP socket and starts the children with `spawn` (nothing of the parent's threads, gRPC or database connections is inherited); while
they import the code, the parent starts the embedded PostgreSQL if needed and migrates once,
then lets them start. Each runs the whole `serve` of its target on the shared socket; a
child that dies is restarted. SIGTERM or SIGINT stops them all.

Prometheus counters live in each child's memory, so `/metrics` would answer for whichever
child took the scrape; `prometheus_client`'s multiprocess mode instead keeps every child's
samples in files under one directory, which every child's `/metrics` merges.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from enum import StrEnum
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from labelops_common.lifetime import die_with_parent

logger = logging.getLogger("labelops")

#: A child that dies sooner than this after its start is not restarted in a loop.
MIN_CHILD_LIFETIME_SECONDS = 10.0


class WorkerShare(StrEnum):
    """Which queues a process's embedded worker takes."""

    #: Every queue.
    ALL = "all"
    #: All but the event queues, which an `EVENTS` process takes.
    JOBS = "jobs"
    #: Only the event queues; the process serves no HTTP.
    EVENTS = "events"


@dataclass(frozen=True)
class ServeOptions:
    """What each child needs to serve; plain values, so it pickles for `spawn`."""

    target: str
    embedded_worker: bool
    host: str
    port: int
    worker_share: WorkerShare = WorkerShare.ALL


def _worker_queues(share: WorkerShare) -> Callable[[str], bool] | None:
    from labelops_runtime.suite import EVENT_QUEUES

    if share is WorkerShare.JOBS:
        return lambda queue: queue not in EVENT_QUEUES
    if share is WorkerShare.EVENTS:
        return lambda queue: queue in EVENT_QUEUES
    return None


def serve_in_this_process(
    options: ServeOptions, sockets: list[socket.socket] | None, prepared: Any = None
) -> None:
    """Start the target's suite and serve HTTP until SIGTERM/SIGINT (a child's whole life).

    With `prepared` (an Event), the code is imported first and the suite started once the
    parent has set it (its database is migrated).
    """
    import importlib

    from labelops_common.settings import CommonSettings

    from labelops_runtime import suite as suite_module

    for name in suite_module.resolve_targets(options.target):
        importlib.import_module(f"{suite_module.SERVICE_PACKAGES[name]}.app")
    while prepared is not None and not prepared.wait(timeout=1.0):
        parent = multiprocessing.parent_process()
        if parent is not None and not parent.is_alive():
            return
    common = CommonSettings()
    suite_module.configure_process(common, service=options.target)
    running = suite_module.start_suite(
        common,
        targets=suite_module.resolve_targets(options.target),
        run_migrations=False,
        embedded_worker=options.embedded_worker,
        worker_queues=_worker_queues(options.worker_share),
    )
    freeze_startup_objects()
    try:
        if options.worker_share is WorkerShare.EVENTS:
            _work_until_stopped()
        else:
            run_server(uvicorn.Server(uvicorn_config(running.http_app, options)), sockets)
    finally:
        running.stop()


def _work_until_stopped() -> None:
    """An events process: its worker threads do the work; wait here for SIGTERM/SIGINT."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _signum, _frame: stop.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_server(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then return, so the caller stops what it started.

    uvicorn re-raises the signal that stopped it once it is done, with the handler that was
    in place before it; left at the default, that kills the process before the suite (the
    worker, the event outbox, the embedded PostgreSQL) is stopped in order.
    """
    previous = {sig: signal.signal(sig, _absorb) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=sockets)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _absorb(_signum: int, _frame: FrameType | None) -> None:
    """The signal has done its work already (uvicorn shut down on it)."""


def freeze_startup_objects() -> None:
    """Move what start-up built (modules, apps, metadata: most of the heap, and all of it
    long-lived) out of the garbage collector's reach. Every full collection would walk it
    otherwise; a 100k-task import spent ~20% of its time there."""
    gc.collect()
    gc.freeze()


def uvicorn_config(app: Any, options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


def _child_main(options: ServeOptions, sock: socket.socket, prepared: Any) -> None:
    # A parent killed outright takes its children along (they would hold the port).
    die_with_parent(signal.SIGTERM)
    name_this_process(CHILD_NAMES[options.worker_share])
    serve_in_this_process(options, [sock], prepared)


#: The children's process names (`ps -o comm`, `top`), by their worker's share.
CHILD_NAMES = {
    WorkerShare.ALL: "labelops-http",
    WorkerShare.JOBS: "labelops-http",
    WorkerShare.EVENTS: "labelops-events",
}


def name_this_process(name: str) -> None:
    """Set the name `ps` and `top` show for this process (Linux; at most 15 bytes)."""
    with suppress(OSError):
        Path("/proc/self/comm").write_text(name[:15])


def _bind(options: ServeOptions) -> socket.socket:
    sock = uvicorn_config(None, options).bind_socket()
    sock.set_inheritable(True)
    return sock


class ProcessSupervisor:
    """Runs `count` children on one socket until told to stop."""

    def __init__(self, options: ServeOptions, *, count: int) -> None:
        if count < 2:
            raise ValueError("a supervisor is for two or more processes")
        self.options = options
        self.count = count
        self._context = multiprocessing.get_context("spawn")
        self._children: list[tuple[BaseProcess, float, ServeOptions]] = []
        self._stopping = False
        self._prepared = self._context.Event()

    def run(self, prepare: Callable[[], None] | None = None) -> None:
        """Start the children, run `prepare` (the embedded database, migrations) while they
        import, let them serve, and supervise them until SIGTERM or SIGINT."""
        metrics_dir = Path(tempfile.mkdtemp(prefix="labelops-metrics-"))
        previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        sock = _bind(self.options)
        handlers = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            shares = [WorkerShare.ALL] * self.count
            if self.options.embedded_worker and self.options.target == "all":
                shares = [WorkerShare.JOBS] * self.count + [WorkerShare.EVENTS]
            self._children = [
                self._start(sock, replace(self.options, worker_share=share)) for share in shares
            ]
            if prepare is not None:
                prepare()
            self._prepared.set()
            logger.info(
                "serving with processes",
                extra={"processes": self.count, "pids": [c.pid for c, _, _ in self._children]},
            )
            while not self._stopping:
                self._replace_dead(sock)
                time.sleep(0.5)
        finally:
            self._stop_all()
            sock.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            if previous is None:
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            else:
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _start(
        self, sock: socket.socket, options: ServeOptions
    ) -> tuple[BaseProcess, float, ServeOptions]:
        child = self._context.Process(
            target=_child_main,
            args=(options, sock, self._prepared),
            name=f"labelops-serve-{options.worker_share}",
            daemon=False,
        )
        child.start()
        return child, time.monotonic(), options

    def _replace_dead(self, sock: socket.socket) -> None:
        from prometheus_client import multiprocess

        for index, (child, started, options) in enumerate(self._children):
            if child.is_alive() or self._stopping:
                continue
            if child.pid is not None:
                multiprocess.mark_process_dead(child.pid)
            lived = time.monotonic() - started
            if lived < MIN_CHILD_LIFETIME_SECONDS:
                # Failing at start-up (bad settings, a database that is down): restarting
                # in a loop would only hide it; stop the whole server with the error.
                logger.error(
                    "a server process exited during start-up; stopping",
                    extra={"pid": child.pid, "exitcode": child.exitcode},
                )
                self._stopping = True
                raise SystemExit(1)
            logger.warning(
                "a server process exited; starting another",
                extra={"pid": child.pid, "exitcode": child.exitcode},
            )
            self._children[index] = self._start(sock, options)

    def _stop_all(self) -> None:
        for child, _, _ in self._children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child, _, _ in self._children:
            child.join(timeout=max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join(timeout=5)
