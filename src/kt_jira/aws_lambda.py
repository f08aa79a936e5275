"""AWS Lambda entry points: the web app behind API Gateway and a scheduled worker.

``handler`` serves the web app (the webhook intake) through Mangum; ``worker_handler`` drains
the job queue when an EventBridge schedule invokes it.

The config file is named by ``KT_JIRA_CONFIG`` (packaged with the function, overridable from the
environment as usual); the database must be PostgreSQL, migrated beforehand with ``kt-jira
migrate``, since a function's disk is neither durable nor shared. A container opens the bridge
(``service.Bridge.open``: the start-up checks, store, clients, worker and app) on its first
invocation, on an event loop of its own, and every later invocation reuses it. Nothing happens
at import.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import structlog

from kt_jira import logs
from kt_jira.config.loader import load_settings
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError
from kt_jira.service import Bridge
from kt_jira.store.engine import normalise_url

CONFIG_ENV = "KT_JIRA_CONFIG"
LOG_LEVEL_ENV = "KT_JIRA_LOG_LEVEL"
MAX_SECONDS = 50.0  #: a worker invocation's default budget, for a schedule of one a minute
MARGIN_SECONDS = 10.0  #: left before the function's timeout, for the jobs in hand to finish

log = structlog.get_logger("kt_jira.aws_lambda")


def lambda_settings(environ: Mapping[str, str]) -> Settings:
    """The config named by ``KT_JIRA_CONFIG``; ``ConfigError`` without one, or on SQLite."""
    path = environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(
            f"{CONFIG_ENV} is not set: name the config file packaged with the function "
            "(e.g. /var/task/kt-jira.yaml)"
        )
    settings = load_settings(path, environ=environ)
    if normalise_url(settings.database_url).get_backend_name() != "postgresql":
        raise ConfigError(
            "database_url is SQLite, but a Lambda's disk is neither durable nor shared between "
            "its instances: use PostgreSQL reachable from the function's VPC "
            "(postgresql+psycopg://USER@HOST/DB), migrated with `kt-jira migrate`"
        )
    return settings


@dataclass
class Runtime:
    """One container's bridge, the event loop it lives on, and the Mangum adapter of its app."""

    loop: asyncio.AbstractEventLoop
    stack: AsyncExitStack
    bridge: Bridge
    adapter: Any  #: ``mangum.Mangum`` (the aws extra)

    @classmethod
    def start(cls, environ: Mapping[str, str]) -> Runtime:
        settings = lambda_settings(environ)
        try:
            from mangum import Mangum
        except ImportError as exc:
            raise ConfigError(
                "the Lambda handlers need mangum: pip install 'kt-jira[aws]'"
            ) from exc
        logs.configure(level=environ.get(LOG_LEVEL_ENV, "info"))
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # Mangum runs the app on the thread's current loop
        stack = AsyncExitStack()
        try:
            opened = Bridge.open(settings, migrate=False)
            bridge = loop.run_until_complete(stack.enter_async_context(opened))
        except BaseException:
            _close(loop, stack)
            raise
        log.info("lambda.started")
        adapter = Mangum(bridge.app, lifespan="off")
        return cls(loop=loop, stack=stack, bridge=bridge, adapter=adapter)

    def http(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One API Gateway (REST or HTTP API) or ALB request through the app."""
        asyncio.set_event_loop(self.loop)
        response: dict[str, Any] = self.adapter(event, context)
        return response

    def work(self, event: Any, context: Any) -> dict[str, Any]:
        """One scheduled run: an SLA scan, then jobs until the queue has none due or the budget
        (``max_seconds`` in the event, at most the time left less a margin) is spent."""
        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(drain(self.bridge, seconds=budget(event, context)))

    def close(self) -> None:
        _close(self.loop, self.stack)


def budget(event: Any, context: Any) -> float:
    """Seconds a worker invocation may start jobs for: the event's ``max_seconds`` (default
    ``MAX_SECONDS``), cut to leave ``MARGIN_SECONDS`` of the function's remaining time."""
    limit = MAX_SECONDS
    if isinstance(event, Mapping) and event.get("max_seconds") is not None:
        limit = float(event["max_seconds"])
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        limit = min(limit, remaining() / 1000 - MARGIN_SECONDS)
    return max(0.0, limit)


async def drain(bridge: Bridge, *, seconds: float) -> dict[str, Any]:
    """Scan the SLA clocks once, then run due jobs on ``worker.concurrency`` loops until none is
    claimable or ``seconds`` have passed. A job once started runs to its end; should the
    function time out under it, its lease expires and a later run claims it again."""
    started = time.monotonic()
    deadline = started + seconds
    scanned = None
    if bridge.settings.sla.scan_every is not None and seconds > 0:
        try:
            report = await bridge.sla.run_locked()
            scanned = None if report is None else report.scanned
        except Exception as exc:  # the queue still drains; the next invocation scans again
            log.exception("sla.scan_failed", error=str(exc))
    done = 0
    out_of_time = seconds <= 0

    async def one_loop() -> None:
        nonlocal done, out_of_time
        while True:
            if time.monotonic() >= deadline:
                out_of_time = True
                return
            if not await bridge.worker.run_once():
                return
            done += 1

    # A loop that fails (the database gone) cancels the others: their jobs are released.
    async with asyncio.TaskGroup() as loops:
        for _ in range(bridge.settings.worker.concurrency):
            loops.create_task(one_loop())
    result = {
        "jobs": done,
        "queue_empty": not out_of_time,
        "sla_scanned": scanned,
        "seconds": round(time.monotonic() - started, 3),
    }
    log.info("lambda.worker_finished", **result)
    return result


def _close(loop: asyncio.AbstractEventLoop, stack: AsyncExitStack) -> None:
    try:
        loop.run_until_complete(stack.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


class _Container:
    """The runtime of this container, started by the first invocation (module state, as a
    Lambda container is one process serving one invocation at a time)."""

    runtime: Runtime | None = None


def runtime() -> Runtime:
    """This container's runtime, started on first use and kept; a failed start is retried by
    the next invocation."""
    if _Container.runtime is None:
        _Container.runtime = Runtime.start(os.environ)
    return _Container.runtime


def current() -> Runtime | None:
    """This container's runtime if an invocation has started it."""
    return _Container.runtime


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``kt_jira.aws_lambda.handler``: API Gateway -> the web app (the webhook intake)."""
    return runtime().http(event, context)


def worker_handler(event: Any, context: Any) -> dict[str, Any]:
    """``kt_jira.aws_lambda.worker_handler``: a scheduled (EventBridge) run of the worker."""
    return runtime().work(event, context)


def shutdown() -> None:
    """Close this container's runtime, if started (tests; Lambda discards containers itself)."""
    started, _Container.runtime = _Container.runtime, None
    if started is not None:
        started.close()
