"""``create_app``: the Starlette application, built from its dependencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kt_jira.config.models import Settings
from kt_jira.jira import PAUSE_NAME
from kt_jira.metrics import Metrics
from kt_jira.store import Store
from kt_jira.web import dashboard
from kt_jira.web.admin_api import AdminApi
from kt_jira.web.auth import AdminGate
from kt_jira.web.jira import JiraIntake
from kt_jira.web.keeptrusts import KeeptrustsIntake, problem
from kt_jira.web.replay import Replayer

log = structlog.get_logger("kt_jira.web")


def create_app(
    settings: Settings,
    store: Store,
    *,
    metrics: Metrics,
    on_enqueue: Callable[[], None] = lambda: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    intake = KeeptrustsIntake(
        settings=settings, store=store, metrics=metrics, on_enqueue=on_enqueue, clock=clock
    )
    jira_intake = JiraIntake(
        settings=settings, store=store, metrics=metrics, on_enqueue=on_enqueue, clock=clock
    )
    gate = AdminGate(settings=settings, clock=clock)
    admin_api = AdminApi(
        settings=settings,
        store=store,
        replayer=Replayer(store=store, keeptrusts=intake, jira=jira_intake, clock=clock),
        clock=clock,
        on_enqueue=on_enqueue,
    )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            await store.db.ping()
            schema = await store.db.schema_status()
        except Exception as exc:
            return problem(503, f"database unreachable: {type(exc).__name__}")
        if schema.state == "behind":
            return problem(
                503,
                f"database schema at {schema.current}, needs {schema.head}: run `kt-jira migrate`",
            )
        ready = {"status": "ready", "schema": schema.current}
        if schema.state == "ahead":  # a rolling upgrade: this older process keeps serving
            ready["upgrade"] = f"this kt-jira expects schema {schema.head}: upgrade it"
        return JSONResponse(ready)

    async def metrics_endpoint(request: Request) -> Response:
        now = clock()
        try:  # the database gauges; a database that is down still leaves the counters readable
            metrics.queue_state(
                await store.queue.counts(),
                oldest_queued=await store.reports.oldest_queued(),
                paused_until=await store.pauses.get_pause(PAUSE_NAME),
                now=now,
                storms=len(await store.storms.running(now=now)),
            )
        except Exception as exc:
            log.warning("metrics.database_unreadable", error=type(exc).__name__)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("http.unhandled", path=request.url.path, error=repr(exc), exc_info=exc)
        return problem(500, "internal error; the delivery was not accepted, retry it")

    routes = [
        Route("/webhooks/keeptrusts", intake.handle, methods=["POST"]),
        Route("/webhooks/jira", jira_intake.handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        # Admin: every route below is behind the gate, except the login form itself.
        *gate.routes(),
        *dashboard.routes(settings, store, gate=gate, clock=clock, on_enqueue=on_enqueue),
        *admin_api.routes(gate),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, 500: server_error}
    )
    app.state.admin_gate = gate  # for one-time login links (``kt-jira demo``)
    return app
