"""The admin API (``/api/v1/*``): deliveries, jobs, dead letters and the report, as JSON.

Every route is behind the admin gate (``web/auth.py``): Bearer token, or session cookie plus
CSRF token. Each action is one store call that audits itself with who asked; errors are problem
documents (``{"detail": ...}``) like the rest of the app. ``openapi.json`` describes exactly
these routes (``web/openapi.py``; a test calls every path it lists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kt_jira.config.models import Settings
from kt_jira.jobs import Kind
from kt_jira.reports.load import load_report
from kt_jira.store import DeliveryStatus, JobStatus, Store
from kt_jira.tickets.sla import parse_duration
from kt_jira.web import api_values as values
from kt_jira.web.api_values import Invalid
from kt_jira.web.auth import Admin, AdminEndpoint, AdminGate
from kt_jira.web.keeptrusts import problem
from kt_jira.web.openapi import document
from kt_jira.web.replay import Replayer

PREFIX = "/api/v1"
SOURCES = ("keeptrusts", "jira")
DELIVERY_STATUSES = tuple(status.value for status in DeliveryStatus)
JOB_STATUSES = tuple(status.value for status in JobStatus)
JOB_KINDS = tuple(kind.value for kind in Kind)
DEFAULT_SINCE = "30d"


@dataclass(kw_only=True)
class AdminApi:
    settings: Settings
    store: Store
    replayer: Replayer
    clock: Callable[[], datetime]
    on_enqueue: Callable[[], None]

    def routes(self, gate: AdminGate) -> list[Route]:
        """Every route of the API, each behind ``gate`` and turning ``Invalid`` into 422."""
        table: list[tuple[str, AdminEndpoint, str]] = [
            ("/deliveries", self.deliveries, "GET"),
            ("/deliveries/{id}", self.delivery, "GET"),
            ("/deliveries/{id}/replay", self.replay_delivery, "POST"),
            ("/jobs", self.jobs, "GET"),
            ("/jobs/{id}", self.job, "GET"),
            ("/jobs/{id}/retry", self.retry_job, "POST"),
            ("/jobs/{id}/cancel", self.cancel_job, "POST"),
            ("/dead-letters", self.dead_letters, "GET"),
            ("/dead-letters/replay", self.replay_dead_letters, "POST"),
            ("/report", self.report, "GET"),
            ("/openapi.json", self.openapi, "GET"),
        ]
        return [
            Route(PREFIX + path, gate.guard(_validated(handler)), methods=[method])
            for path, handler, method in table
        ]

    # -- deliveries --------------------------------------------------------------------------

    async def deliveries(self, request: Request, admin: Admin) -> Response:
        """Newest first; ``status``, ``source``, ``limit``, ``before_id``."""
        params = values.query(
            request.query_params.multi_items(), ("status", "source", "limit", "before_id")
        )
        limit, before_id = values.page_of(params)
        found = await self.store.deliveries.list(
            status=values.choice(params, "status", DELIVERY_STATUSES),
            source=values.choice(params, "source", SOURCES),
            limit=limit + 1,
            before_id=before_id,
        )
        return JSONResponse(values.page_json([values.delivery_json(d) for d in found], limit=limit))

    async def delivery(self, request: Request, admin: Admin) -> Response:
        """One delivery with its kept headers and its raw body."""
        values.query(request.query_params.multi_items(), ())
        row = values.row_id(request.path_params["id"])
        found = await self.store.deliveries.get(row)
        if found is None:
            return problem(404, f"no delivery {row}")
        return JSONResponse(values.delivery_detail(found))

    async def replay_delivery(self, request: Request, admin: Admin) -> Response:
        """Re-run a quarantined delivery through its intake (409 for any other status)."""
        values.query(request.query_params.multi_items(), ())
        row = values.row_id(request.path_params["id"])
        found = await self.store.quarantine.begin_replay(row, by=admin.who, now=self.clock())
        if found is None:
            return problem(404, f"no delivery {row}")
        if found.status is not DeliveryStatus.QUARANTINED:
            return problem(
                409, f"delivery {row} is {found.status.value}: only quarantined ones replay"
            )
        replayed = await self.replayer.replay(found, by=admin.who)
        after = await self.store.deliveries.get(row)
        assert after is not None  # nothing deletes a delivery
        if replayed.outcome == "quarantined":
            detail = f"still unusable, kept in quarantine: {replayed.detail}"
            return problem(422, detail, outcome="quarantined", delivery=values.delivery_json(after))
        return JSONResponse({"outcome": replayed.outcome, "delivery": values.delivery_json(after)})

    # -- jobs ----------------------------------------------------------------------------------

    async def jobs(self, request: Request, admin: Admin) -> Response:
        """Newest first; ``status``, ``kind``, ``limit``, ``before_id``."""
        params = values.query(
            request.query_params.multi_items(), ("status", "kind", "limit", "before_id")
        )
        status = values.choice(params, "status", JOB_STATUSES)
        return await self._job_page(params, status=status)

    async def dead_letters(self, request: Request, admin: Admin) -> Response:
        """Dead jobs, newest first; ``kind``, ``limit``, ``before_id``."""
        params = values.query(request.query_params.multi_items(), ("kind", "limit", "before_id"))
        return await self._job_page(params, status=JobStatus.DEAD.value)

    async def _job_page(self, params: dict[str, str], *, status: str | None) -> Response:
        limit, before_id = values.page_of(params)
        found = await self.store.queue.list(
            status=status,
            kind=values.choice(params, "kind", JOB_KINDS),
            limit=limit + 1,
            before_id=before_id,
        )
        return JSONResponse(values.page_json([values.job_json(j) for j in found], limit=limit))

    async def job(self, request: Request, admin: Admin) -> Response:
        """One job with its payload and last error."""
        values.query(request.query_params.multi_items(), ())
        job_id = values.row_id(request.path_params["id"])
        found = await self.store.queue.get(job_id)
        if found is None:
            return problem(404, f"no job {job_id}")
        return JSONResponse(values.job_json(found))

    async def retry_job(self, request: Request, admin: Admin) -> Response:
        """A dead job back to the queue, due now, attempts reset (409 unless dead)."""
        values.query(request.query_params.multi_items(), ())
        job_id = values.row_id(request.path_params["id"])
        replayed = await self.store.queue.replay([job_id], now=self.clock(), by=admin.who)
        return await self._changed(job_id, bool(replayed), "only dead jobs can be retried")

    async def cancel_job(self, request: Request, admin: Admin) -> Response:
        """A queued job to dead, ``cancelled by <who>`` (409 unless queued)."""
        values.query(request.query_params.multi_items(), ())
        job_id = values.row_id(request.path_params["id"])
        cancelled = await self.store.queue.cancel(job_id, now=self.clock(), by=admin.who)
        return await self._changed(job_id, cancelled, "only queued jobs can be cancelled")

    async def _changed(self, job_id: int, changed: bool, refusal: str) -> Response:
        found = await self.store.queue.get(job_id)
        if found is None:
            return problem(404, f"no job {job_id}")
        if not changed:
            return problem(409, f"job {job_id} is {found.status.value}: {refusal}")
        self.on_enqueue()
        return JSONResponse({"job": values.job_json(found)})

    async def replay_dead_letters(self, request: Request, admin: Admin) -> Response:
        """Every dead letter, or those of ``{"ids": [...]}``, back to the queue."""
        values.query(request.query_params.multi_items(), ())
        ids = values.replay_ids(admin.body, request.headers.get("content-type", ""))
        replayed = await self.store.queue.replay(ids, now=self.clock(), by=admin.who)
        if replayed:
            self.on_enqueue()
        return JSONResponse({"replayed": replayed})

    # -- report and schema -----------------------------------------------------------------

    async def report(self, request: Request, admin: Admin) -> Response:
        """The report over ``since`` (default 30d), optionally for one ``project``."""
        params = values.query(request.query_params.multi_items(), ("since", "project"))
        try:
            since = parse_duration(params.get("since", DEFAULT_SINCE))
        except ValueError as exc:
            raise Invalid(f"since: {exc}") from None
        project = values.text_param(params, "project")
        report = await load_report(
            self.store, self.settings, since=since, project=project, now=self.clock()
        )
        return JSONResponse(report.as_json())

    async def openapi(self, request: Request, admin: Admin) -> Response:
        """This API's OpenAPI 3.1 document."""
        return JSONResponse(document())


def _validated(handler: AdminEndpoint) -> AdminEndpoint:
    """``handler`` with ``Invalid`` answered as a 422 problem document."""

    async def run(request: Request, admin: Admin) -> Response:
        try:
            return await handler(request, admin)
        except Invalid as exc:
            return problem(422, str(exc))

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run
