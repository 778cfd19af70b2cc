"""The `labelops` command: one entry point for every process LabelOps runs.

labelops serve --target all            # every service in one process (laptop, tests)
labelops serve --target task-svc       # one service (one Kubernetes Deployment)
labelops serve --target all --processes 2   # as many processes as cores
labelops worker --queues imports,storage --metrics-port 9100
labelops migrate --target all          # run once, before serving (a Helm hook Job)
labelops routes --format nginx         # render the route table for the edge
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn
from labelops_common.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from labelops_common.queue import consume_queues
from labelops_common.queue.embedded import create_tables as create_embedded_queue_tables
from labelops_common.settings import CommonSettings

# The suite (every service's code) is imported where it is used: `serve --processes` starts
# its children before importing it, so that they import at the same time.
from labelops_runtime.processes import (
    ProcessSupervisor,
    ServeOptions,
    freeze_startup_objects,
    run_server,
    uvicorn_config,
)
from labelops_runtime.render import render_routes

logger = logging.getLogger("labelops")


def _serve(args: argparse.Namespace) -> int:
    common = CommonSettings()
    single_process = args.target == "all"
    host = args.host or ("127.0.0.1" if single_process else "0.0.0.0")  # noqa: S104
    port = args.port or _http_port(args.target)
    if args.processes > 1:
        return _serve_processes(args, common, host=host, port=port)
    if args.processes < 1:
        raise SystemExit("--processes must be at least 1")
    from labelops_runtime import suite as suite_module

    suite_module.configure_process(common, service=args.target)
    running = suite_module.start_suite(
        common,
        targets=suite_module.resolve_targets(args.target),
        run_migrations=single_process or args.migrate,
        embedded_worker=single_process and not args.no_worker,
    )
    logger.info("serving", extra={"target": args.target, "host": host, "port": port})
    options = ServeOptions(target=args.target, embedded_worker=False, host=host, port=port)
    freeze_startup_objects()
    try:
        run_server(uvicorn.Server(uvicorn_config(running.http_app, options)))
    finally:
        running.stop()
    return 0


def _serve_processes(
    args: argparse.Namespace, common: CommonSettings, *, host: str, port: int
) -> int:
    """Serve from `--processes` children; start the embedded database and migrate once,
    here, while they import (this process imports little before they start)."""
    single_process = args.target == "all"
    options = ServeOptions(
        target=args.target,
        embedded_worker=single_process and not args.no_worker,
        host=host,
        port=port,
    )
    embedded: list[EmbeddedPostgres] = []

    def prepare() -> None:
        from labelops_runtime import suite as suite_module

        suite_module.configure_process(common, service=args.target)
        # Generated here (when unset) before the children read it: one key for them all.
        common.resolved_secret_key()
        databases = suite_module.service_databases(
            common, suite_module.resolve_targets(args.target)
        )
        # The children find the embedded PostgreSQL started here, and leave it to us.
        server = suite_module.start_embedded_postgres(common, databases)
        if server is not None:
            embedded.append(server)
        if single_process or args.migrate:
            suite_module.migrate(databases)
        if common.uses_embedded_queue():
            create_embedded_queue_tables(common.resolved_broker_url())
        logger.info(
            "serving",
            extra={"target": args.target, "host": host, "port": port, "processes": args.processes},
        )

    try:
        ProcessSupervisor(options, count=args.processes).run(prepare)
    finally:
        for server in embedded:
            server.stop()
    return 0


def _http_port(target: str) -> int:
    """The port to serve on, from the settings alone (nothing is built yet)."""
    import importlib
    import os

    if target == "all":
        return int(os.environ.get("LABELOPS_PORT", "8080"))
    from labelops_runtime.suite import SERVICE_PACKAGES, resolve_targets

    resolve_targets(target)
    settings = importlib.import_module(f"{SERVICE_PACKAGES[target]}.settings").Settings()
    port: int = settings.http_port
    return port


def _worker(args: argparse.Namespace) -> int:
    if args.metrics_port and args.pool == "prefork":
        # Prefork children count in their own memory, invisible to this process's /metrics.
        raise SystemExit("--metrics-port needs --pool threads or solo, not prefork")
    from labelops_runtime import suite as suite_module

    common = CommonSettings()
    suite_module.configure_process(common, service="worker")
    queues = [queue.strip() for queue in args.queues.split(",") if queue.strip()]
    # Only the services owning these queues are built (their jobs need them), known from
    # their declarations before anything is built.
    owners = suite_module.services_owning(queues)
    embedded = suite_module.start_embedded_postgres(
        common, suite_module.service_databases(common, owners)
    )
    runtimes = [suite_module.build_runtime(name, common) for name in owners]
    app = suite_module.make_celery_app(common, runtimes)
    if args.metrics_port:
        _serve_worker_metrics(common, queues, host=args.metrics_host, port=args.metrics_port)
    argv = [
        "worker",
        f"--queues={','.join(queues)}",
        f"--concurrency={args.concurrency}",
        f"--pool={args.pool}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    consume_queues(queues)
    sweeper = suite_module.start_job_sweeper(common, runtimes)
    freeze_startup_objects()  # before the pool forks: its children inherit the frozen heap
    try:
        app.worker_main(argv)
    finally:
        sweeper.stop()
        if embedded is not None:
            embedded.stop()
    return 0


def _serve_worker_metrics(
    common: CommonSettings, queues: list[str], *, host: str, port: int
) -> None:
    """`/metrics` of the worker (task outcomes, runtimes, queue wait) plus its queues' depth."""
    from labelops_common.queue import QueueDepthCollector
    from prometheus_client import REGISTRY, start_http_server

    REGISTRY.register(QueueDepthCollector(broker_url=common.resolved_broker_url(), queues=queues))
    start_http_server(port, addr=host)
    logger.info("serving worker metrics", extra={"host": host, "port": port})


def _migrate(args: argparse.Namespace) -> int:
    from labelops_runtime import suite as suite_module

    common = CommonSettings()
    suite_module.configure_process(common, service="migrate")
    databases = suite_module.service_databases(common, suite_module.resolve_targets(args.target))
    embedded = suite_module.start_embedded_postgres(common, databases)
    try:
        suite_module.migrate(databases)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _analytics_backfill(args: argparse.Namespace) -> int:
    """Recompute projects' analytics rollups from their annotations (data that predates
    the event handlers, or imported without events), one transaction per project."""
    from labelops_common.db import Database
    from task_svc.analytics.backfill import ANALYZED, backfill_project
    from task_svc.db import analyze_if_grown

    from labelops_runtime import suite as suite_module

    common = CommonSettings()
    suite_module.configure_process(common, service="analytics-backfill")
    [database] = suite_module.service_databases(common, ["task-svc"])
    # `make run`'s embedded PostgreSQL only when task-svc's database is in it.
    embedded = (
        suite_module.start_embedded_postgres(common, [database]) if database.embedded else None
    )
    try:
        task_database = Database.from_url(database.url, pool_size=1)
        for project_id in args.project:
            with task_database.session() as session:
                counted = backfill_project(session, project_id=project_id)
                session.commit()
            for table in ANALYZED:
                analyze_if_grown(task_database.engine, table, added=counted)
            sys.stdout.write(f"project {project_id}: {counted} annotations counted\n")
        task_database.engine.dispose()
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _routes(args: argparse.Namespace) -> int:
    sys.stdout.write(render_routes(args.format))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelops", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve HTTP and gRPC")
    serve.add_argument("--target", default="all", help="all, or one service name")
    serve.add_argument("--host", default="")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--migrate", action="store_true", help="migrate first (one-service mode)")
    serve.add_argument("--no-worker", action="store_true", help="single-process mode without jobs")
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes on one socket, to use more cores (`make run`: one per core)",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--queues", required=True)
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument(
        "--pool",
        choices=["threads", "prefork", "solo"],
        default="threads",
        help="jobs wait on the database, gRPC and storage, so threads by default",
    )
    worker.add_argument("--metrics-port", type=int, default=0, help="serve /metrics on this port")
    worker.add_argument("--metrics-host", default="0.0.0.0")  # noqa: S104
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="apply every pending migration")
    migrate.add_argument("--target", default="all")
    migrate.set_defaults(handler=_migrate)

    backfill = commands.add_parser(
        "analytics-backfill", help="recompute projects' analytics rollups from their annotations"
    )
    backfill.add_argument("--project", type=int, action="append", required=True)
    backfill.set_defaults(handler=_analytics_backfill)

    routes = commands.add_parser("routes", help="render the route table")
    routes.add_argument("--format", choices=["table", "nginx", "json"], default="table")
    routes.set_defaults(handler=_routes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        result: int = handler(args)
    except EmbeddedPostgresError as error:
        raise SystemExit(f"labelops: {error}") from None
    return result


if __name__ == "__main__":
    raise SystemExit(main())
