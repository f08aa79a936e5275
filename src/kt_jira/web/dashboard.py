"""The dashboard (``GET /dashboard``) behind the admin gate: the page, its live fragment, each
chart's CSV, its own CSS and script, and replaying a dead letter from the page.

``routes`` is what ``create_app`` mounts: every route it returns is wrapped in ``gate.guard``
(a test checks that each one refuses a request without credentials). Nothing is loaded from
another origin (it must work air-gapped), and the page's Content-Security-Policy says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from kt_jira.config.models import Settings
from kt_jira.store import Store
from kt_jira.web import dashboard_view as view
from kt_jira.web.auth import Admin, AdminGate, csrf_token
from kt_jira.web.keeptrusts import problem

log = structlog.get_logger("kt_jira.web")
STATIC = Path(__file__).parent / "static"
ASSETS = {"dashboard.css": "text/css; charset=utf-8",
          "dashboard.js": "text/javascript; charset=utf-8"}  # fmt: skip
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def routes(
    settings: Settings,
    store: Store,
    *,
    gate: AdminGate,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_enqueue: Callable[[], None] = lambda: None,
) -> list[Route]:
    """The dashboard's routes, each behind ``gate``."""

    async def data(request: Request) -> view.DashboardData:
        chosen = view.range_of(request.query_params.get("range"))
        return await view.load(store, settings, range_name=chosen, now=clock())

    async def dashboard(request: Request, admin: Admin) -> Response:
        html = view.page(await data(request), csrf=csrf_token(request))
        return HTMLResponse(html, headers=HEADERS)

    async def fragment(request: Request, admin: Admin) -> Response:
        html = view.render(await data(request), csrf=csrf_token(request))
        return HTMLResponse(str(html), headers=HEADERS)

    async def chart_csv(request: Request, admin: Admin) -> Response:
        chart = str(request.path_params["chart"])
        if chart not in view.CHARTS:
            return problem(404, f"no chart {chart!r}; charts: {', '.join(view.CHARTS)}")
        found = await data(request)
        body = view.chart_csv(found.report, chart)
        name = f"kt-jira-{chart}-{found.range}.csv"
        download = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type="text/csv; charset=utf-8", headers=download)

    async def asset(request: Request, admin: Admin) -> Response:
        name = str(request.path_params["name"])
        if name not in ASSETS:
            return problem(404, f"no asset {name!r}")
        served = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return Response((STATIC / name).read_bytes(), media_type=ASSETS[name], headers=served)

    async def replay(request: Request, admin: Admin) -> Response:
        try:
            job_id = int(request.path_params["job_id"])
        except ValueError:
            return problem(422, "a job id is a number")
        if not await store.queue.replay([job_id], by=admin.who, now=clock()):
            return problem(409, f"job {job_id} is not a dead letter")
        on_enqueue()
        log.info("dashboard.replayed", job_id=job_id, who=admin.who)
        return RedirectResponse(f"/dashboard?{request.url.query}#dead", status_code=303)

    return [
        Route("/dashboard", gate.guard(dashboard), methods=["GET"]),
        Route("/dashboard/fragment", gate.guard(fragment), methods=["GET"]),
        Route("/dashboard/data/{chart}.csv", gate.guard(chart_csv), methods=["GET"]),
        Route("/dashboard/static/{name}", gate.guard(asset), methods=["GET"]),
        Route("/dashboard/dead-letters/{job_id}/replay", gate.guard(replay), methods=["POST"]),
    ]
