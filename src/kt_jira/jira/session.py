"""``JiraSession``: the one boundary between kt-jira and a Jira site's HTTP API.

Every request first passes the ``RequestGate`` (the shared pause and a rate-limiter token).
``_request`` is the only place where httpx exceptions and HTTP statuses become kt_jira errors;
nothing here writes a secret or the Authorization header into a message or a log. The endpoint
methods live on its subclasses: ``JiraAdmin`` (admin calls) and ``JiraClient`` (the rest).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from kt_jira.config.models import JiraSettings
from kt_jira.errors import KtJiraError
from kt_jira.http import HttpSession
from kt_jira.jira.auth import connect
from kt_jira.jira.failures import status_error, transport_error, undecodable
from kt_jira.jira.gate import RequestGate
from kt_jira.jira.oauth import use_gateway
from kt_jira.jira.pause import PauseStore, WallClock, utc_now
from kt_jira.jira.ratelimit import PRIORITY_DEFAULT, RateLimiter
from kt_jira.metrics import Metrics

log = structlog.get_logger("kt_jira.jira")

# The one place the REST version lives: Cloud speaks v3 (ADF), Data Center v2 (wiki markup).
API_PREFIX = {"cloud": "/rest/api/3", "datacenter": "/rest/api/2"}
PAUSE_NAME = "jira"
# createmeta refuses more than 200 per page ("must not exceed the limit '200'").
CREATEMETA_PAGE_SIZE = 200


class JiraSession(HttpSession):
    """Talks to one Jira site; open it with ``async with JiraClient(...) as jira:``.

    ``transport`` is the test seam (``httpx.MockTransport``, or none for the network). ``now``
    and ``sleep`` drive the pause; tests may inject fakes.
    """

    # Page size for startAt/maxResults endpoints; Jira refuses more than 200.
    page_size = CREATEMETA_PAGE_SIZE

    def __init__(
        self,
        settings: JiraSettings,
        *,
        pause: PauseStore,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        now: WallClock = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.api_prefix = API_PREFIX[settings.flavor]
        self.pause = pause
        # Evenly spaced requests (burst 1): Jira's burst capacity is unpublished, and a burst
        # that trips a 429 leaves requests in flight that would land inside its Retry-After.
        self.limiter = limiter or RateLimiter(settings.max_requests_per_second, burst=1)
        self.gate = RequestGate(pause, self.limiter, name=PAUSE_NAME, now=now, sleep=sleep)
        self._transport = transport
        self._now = now
        self._http: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        return connect(self.settings, transport=self._transport, now=self._now)

    async def _opened(self, http: httpx.AsyncClient) -> None:
        await use_gateway(http, self.settings)  # Cloud with OAuth: calls go to the API gateway

    async def _pages(
        self, path: str, *, keys: Sequence[str], query: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Follow startAt/maxResults pages until ``isLast``, ``total`` or a short page says
        done; ``query`` adds parameters to every page's request."""
        items: list[dict[str, Any]] = []
        while True:
            params = {**(query or {}), "startAt": len(items), "maxResults": self.page_size}
            data = await self._request("GET", path, params=params) or {}
            page = next((list(data[k]) for k in keys if isinstance(data.get(k), list)), [])
            items.extend(page)
            total = data.get("total")
            if not page or data.get("isLast") is True:
                return items
            if isinstance(total, int):
                if len(items) >= total:
                    return items
            elif len(page) < int(data.get("maxResults") or self.page_size):
                return items

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        priority: int = PRIORITY_DEFAULT,
        idempotent: bool | None = None,
        prefix: str | None = None,
    ) -> Any:
        """Send one request under the pause and the rate limit; map every failure.

        ``idempotent`` (default: GET/HEAD) decides whether a failure after sending is a plain
        ``RetryableError`` or an ``UncertainOutcome`` (the write may have happened). ``prefix``
        replaces the REST API prefix (admin webhooks live outside ``/rest/api``).
        """
        if self._http is None:
            raise RuntimeError("JiraClient is not open; use 'async with JiraClient(...)'")
        safe = method.upper() in ("GET", "HEAD") if idempotent is None else idempotent
        url = (self.api_prefix if prefix is None else prefix) + path
        what = f"{method} {url}"
        await self.gate.wait_turn(priority)
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, params=params, json=json)
        except httpx.HTTPError as exc:
            self._observe(method, url, "error", time.perf_counter() - started)
            error = transport_error(exc, what=what, idempotent=safe)
            log.warning("jira.request_failed", request=what, error=type(exc).__name__)
            raise error from exc
        elapsed = time.perf_counter() - started
        self._observe(method, url, response.status_code, elapsed)
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise undecodable(response, what=what, idempotent=safe) from exc
        raise await self._status_error(response, what=what, idempotent=safe, elapsed=elapsed)

    def _observe(self, method: str, url: str, status: int | str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.jira_request(method, url, status, seconds)

    async def _status_error(
        self, response: httpx.Response, *, what: str, idempotent: bool, elapsed: float
    ) -> KtJiraError:
        status = response.status_code
        log_fields = {"request": what, "status": status, "seconds": round(elapsed, 3)}
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            floor = self.settings.retry_after_floor_seconds
            seconds, until = await self.gate.rate_limited(
                response.headers, status=status, what=what, floor=floor
            )
            log.warning("jira.rate_limited", **log_fields, retry_after=seconds, until=until)
            return status_error(response, what=what, idempotent=idempotent, retry_after=seconds)
        log.warning("jira.request_rejected", **log_fields)
        return status_error(response, what=what, idempotent=idempotent)


def path_segment(value: str) -> str:
    """One URL path segment: a project key or issue key can never escape its place."""
    return quote(str(value), safe="")
