"""Assembling and running the bridge: store, clients, worker and web app, with clean lifecycles.

``Bridge`` is what ``serve``, ``worker`` and ``demo`` run. It refuses to start insecurely unless
told to, migrates SQLite on start, and stops gracefully on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
import uvicorn
from starlette.applications import Starlette

from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError
from kt_jira.feedback.loop import FeedbackLoop
from kt_jira.jira import JiraClient, JiraMetadata
from kt_jira.jira.pause import RecentPause
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.metrics import Metrics
from kt_jira.reconcile.reconciler import run_periodically
from kt_jira.signing import standard_webhook
from kt_jira.sla import scan as sla_scan
from kt_jira.sla.actions import SlaActions
from kt_jira.sla.notifier import Notifier
from kt_jira.sla.scan import SlaScan
from kt_jira.store import Store, open_store
from kt_jira.sync.inbound import SyncHandlers
from kt_jira.tickets.create import Handlers
from kt_jira.tickets.group_jobs import GroupJobs
from kt_jira.tickets.grouping import Grouping
from kt_jira.web import create_app
from kt_jira.web.keeptrusts import keeptrusts_verifier
from kt_jira.worker import Worker

log = structlog.get_logger("kt_jira.service")
MIN_ADMIN_TOKEN_CHARS = 16
PAUSE_REFRESH_SECONDS = 0.25


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_startup(settings: Settings) -> list[str]:
    """Problems that must stop ``serve``; warnings are logged. Resolves the secrets it needs."""
    webhook = settings.keeptrusts.webhook
    if not webhook.secrets and not webhook.insecure_allow_unsigned:
        raise ConfigError(
            "keeptrusts.webhook.secrets is empty: the bridge would accept forged escalations. "
            "Set at least one secret (env:NAME), or set "
            "keeptrusts.webhook.insecure_allow_unsigned: true for a local experiment"
        )
    keeptrusts_verifier(webhook)  # resolves the secrets and checks they fit the scheme
    _check_notify_secret(settings)
    warnings = []
    if webhook.insecure_allow_unsigned:
        warnings.append(
            "INSECURE: keeptrusts.webhook.insecure_allow_unsigned is true; "
            "unsigned deliveries are accepted"
        )
    warnings += _admin_token_warnings(settings)
    configured = [s for s in (settings.jira.webhook_secret, *settings.jira.webhook_secrets) if s]
    for jira_secret in configured:
        try:
            jira_secret.reveal()
        except ConfigError as exc:
            # Not fatal: the Jira intake stays closed (404) until the secret can be read, and
            # creating tickets does not need it.
            warnings.append(f"{exc}; POST /webhooks/jira answers 404 until it is available")
    if not configured:
        warnings.append(
            "jira.webhook_secret is not set: POST /webhooks/jira answers 404, so changes made "
            "in Jira reach Keeptrusts only through reconcile"
        )
    return warnings


def _admin_token_warnings(settings: Settings) -> list[str]:
    """The dashboard and admin API answer 404 without a readable admin token; say how to
    enable them, and warn about a token short enough to guess."""
    token = settings.server.admin_token
    if token is None:
        return [
            "server.admin_token is not set: /dashboard and /api/v1 answer 404. To enable them, "
            "set server.admin_token: env:KT_JIRA_ADMIN_TOKEN with a long random value "
            "(openssl rand -hex 32)"
        ]
    try:
        value = token.reveal()
    except ConfigError as exc:
        return [f"{exc}; /dashboard and /api/v1 answer 404 until it is available"]
    if len(value) < MIN_ADMIN_TOKEN_CHARS:
        return [
            f"server.admin_token is shorter than {MIN_ADMIN_TOKEN_CHARS} characters: use a long "
            "random value (openssl rand -hex 32)"
        ]
    return []


def _check_notify_secret(settings: Settings) -> None:
    """A notification secret that cannot sign would only fail when the first breach is sent."""
    hook = settings.sla.notify.webhook
    if hook is None or hook.secret is None:
        return
    try:
        standard_webhook(hook.secret.reveal())
    except ValueError as exc:
        raise ConfigError(f"{hook.secret.where or 'sla.notify.webhook.secret'}: {exc}") from exc


@dataclass(kw_only=True)
class Bridge:
    """The running parts of one process, built by ``Bridge.open``."""

    settings: Settings
    store: Store
    metrics: Metrics
    jira: JiraClient
    worker: Worker
    sla: SlaScan
    app: Starlette
    feedback: FeedbackLoop  #: the false-positive loop; its ``scan(now)`` runs with the SLA scan

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        migrate: bool | None = None,
    ) -> AsyncIterator[Bridge]:
        for warning in check_startup(settings):
            log.warning("config.warning", message=warning)
        async with open_store(settings.database_url, password=settings.database_password) as store:
            await _prepare_schema(store, settings, migrate)
            metrics = Metrics()
            async with (
                JiraClient(settings.jira, pause=_shared_pause(store), metrics=metrics) as jira,
                KeeptrustsClient(settings.keeptrusts) as keeptrusts,
                Notifier(settings=settings.sla.notify, clock=clock, metrics=metrics) as notifier,
            ):
                sync = SyncHandlers(
                    settings=settings, store=store, jira=jira, keeptrusts=keeptrusts, clock=clock
                )
                handlers = Handlers(
                    settings=settings,
                    store=store,
                    jira=jira,
                    metadata=JiraMetadata(jira, settings.jira),
                    metrics=metrics,
                    clock=clock,
                    grouping=Grouping(settings=settings, store=store, metrics=metrics, clock=clock),
                )
                groups = GroupJobs(settings=settings, store=store, jira=jira, clock=clock)
                actions = SlaActions(settings=settings, store=store, jira=jira, clock=clock)
                feedback = FeedbackLoop(
                    settings=settings, store=store, jira=jira, metrics=metrics, clock=clock
                )
                worker = Worker(
                    store=store,
                    handlers={
                        **handlers.table(),
                        **groups.table(),
                        **sync.table(),
                        **actions.table(),
                        **notifier.table(),
                        **feedback.table(),
                    },
                    settings=settings.worker,
                    metrics=metrics,
                    clock=clock,
                )
                app = create_app(
                    settings, store, metrics=metrics, on_enqueue=worker.wake, clock=clock
                )
                scan = SlaScan(
                    settings=settings,
                    store=store,
                    metrics=metrics,
                    jira=jira,
                    clock=clock,
                    on_enqueue=worker.wake,
                    extra=[feedback.scan],  # the false-positive loop, under the same lock
                )
                yield cls(
                    settings=settings,
                    store=store,
                    metrics=metrics,
                    jira=jira,
                    worker=worker,
                    sla=scan,
                    app=app,
                    feedback=feedback,
                )

    async def run(self, stop: asyncio.Event, *, web: bool = True, work: bool = True) -> None:
        """Serve HTTP and/or run the worker until ``stop`` is set; then drain gracefully."""
        tasks = []
        server: _Server | None = None
        if web:
            config = uvicorn.Config(
                self.app,
                host=self.settings.server.host,
                port=self.settings.server.port,
                log_level="warning",
                log_config=None,  # its loggers propagate to ours: one JSON stream (kt_jira.logs)
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
            server = _Server(config)
            tasks.append(asyncio.create_task(server.serve()))
            log.info(
                "server.listening", host=self.settings.server.host, port=self.settings.server.port
            )
        if work:
            tasks.append(asyncio.create_task(self.worker.run(stop)))
            # Periodic reconcile (reconcile.interval), one replica at a time; waits for stop
            # when it is turned off, so it never ends the run by itself.
            tasks.append(
                asyncio.create_task(
                    run_periodically(
                        settings=self.settings,
                        store=self.store,
                        jira=self.jira,
                        stop=stop,
                        on_enqueue=self.worker.wake,
                    )
                )
            )
            # The SLA breach scan (sla.scan_interval), one replica at a time, likewise.
            tasks.append(asyncio.create_task(sla_scan.run_periodically(self.sla, stop=stop)))
        try:
            waiter = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            for task in done:
                if task is not waiter and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            stop.set()
            if server is not None:
                server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)


def _shared_pause(store: Store) -> RecentPause:
    """The fleet's Jira pause, read from the database at most every ``PAUSE_REFRESH_SECONDS``
    (another replica's 429 reaches this one that fast; this process's own is in memory)."""
    return RecentPause(store.pauses, max_age=PAUSE_REFRESH_SECONDS)


async def _prepare_schema(store: Store, settings: Settings, migrate: bool | None) -> None:
    sqlite = settings.database_url.startswith("sqlite")
    if migrate if migrate is not None else sqlite:
        await store.db.migrate()
        return
    schema = await store.db.schema_status()
    if schema.state == "behind":
        raise ConfigError(
            f"database schema is at {schema.current}, needs {schema.head}: "
            "run `kt-jira migrate --config FILE`"
        )
    if schema.state == "ahead":
        log.warning("schema.ahead", current=schema.current, expects=schema.head)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the bridge stops web and worker together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
