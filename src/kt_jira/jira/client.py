"""``JiraClient``: async httpx, one method per Jira REST endpoint, errors mapped at one boundary.

Every request first passes the ``RequestGate`` (the shared pause and a rate-limiter token).
``_request`` is the only place where httpx exceptions and HTTP statuses become kt_jira errors;
nothing here writes a secret or the Authorization header into a message or a log.
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
from kt_jira.errors import KtJiraError, UncertainOutcome
from kt_jira.http import HttpSession, outbound_client
from kt_jira.jira.auth import auth_for
from kt_jira.jira.failures import status_error, transport_error, undecodable
from kt_jira.jira.gate import RequestGate
from kt_jira.jira.models import (
    CreateField,
    FieldInfo,
    IssueLinkType,
    IssueTypeInfo,
    JiraUser,
    SearchPage,
    Transition,
)
from kt_jira.jira.pause import PauseStore, WallClock, utc_now
from kt_jira.jira.ratelimit import PRIORITY_CREATE, PRIORITY_DEFAULT, RateLimiter
from kt_jira.metrics import Metrics
from kt_jira.render.sanitise import label_safe
from kt_jira.tickets.draft import CreatedIssue

log = structlog.get_logger("kt_jira.jira")

# The one place the REST version lives: Cloud speaks v3 (ADF), Data Center v2 (wiki markup).
API_PREFIX = {"cloud": "/rest/api/3", "datacenter": "/rest/api/2"}
PAUSE_NAME = "jira"
WEBHOOKS_PATH = {
    "cloud": "/rest/webhooks/1.0/webhook",
    "datacenter": "/rest/jira-webhook/1.0/webhooks",
}
# createmeta refuses more than 200 per page ("must not exceed the limit '200'").
CREATEMETA_PAGE_SIZE = 200


SERVICEDESK_PREFIX = "/rest/servicedeskapi"  # the same on Cloud and Data Center


class JiraClient(HttpSession):
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
        self._http: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        return outbound_client(
            base_url=self.settings.url,
            timeout_seconds=self.settings.timeout_seconds,
            transport=self._transport,
            auth=auth_for(self.settings),
        )

    # -- endpoints -------------------------------------------------------------------------

    async def myself(self) -> JiraUser:
        """The bot account (``GET /myself``): its accountId lets sync ignore its own changes."""
        return JiraUser.from_json(await self._request("GET", "/myself"))

    async def fields(self) -> list[FieldInfo]:
        """Every field the bot can see (``GET /field``); names are not unique."""
        data = await self._request("GET", "/field")
        return [FieldInfo.from_json(item) for item in data or ()]

    async def create_issue_types(self, project: str) -> list[IssueTypeInfo]:
        """Issue types the bot may create in ``project`` (createmeta, all pages)."""
        path = f"/issue/createmeta/{_seg(project)}/issuetypes"
        items = await self._pages(path, keys=("issueTypes", "values", "createMetaIssueType"))
        return [IssueTypeInfo.from_json(item) for item in items]

    async def create_fields(self, project: str, issue_type_id: str) -> list[CreateField]:
        """Fields on the create screen of ``project`` for one issue type (createmeta, all pages)."""
        path = f"/issue/createmeta/{_seg(project)}/issuetypes/{_seg(issue_type_id)}"
        items = await self._pages(path, keys=("fields", "values", "results"))
        return [CreateField.from_json(item) for item in items]

    async def create_issue(self, body: dict[str, Any]) -> CreatedIssue:
        """``POST /issue``; not idempotent, so failures after sending are ``UncertainOutcome``."""
        data = await self._request(
            "POST", "/issue", json=body, priority=PRIORITY_CREATE, idempotent=False
        )
        if not isinstance(data, dict) or not data.get("id") or not data.get("key"):
            raise UncertainOutcome(
                "Jira accepted POST /issue but its answer has no issue id and key; "
                "search for the correlation marker before creating again"
            )
        return CreatedIssue(issue_id=str(data["id"]), key=str(data["key"]))

    async def search(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        max_results: int = 50,
        next_page_token: str | None = None,
    ) -> SearchPage:
        """One page of search, walked with ``next_page_token`` on both flavours.

        Cloud: enhanced search ``POST /search/jql`` (the old ``/search`` answers 410 there).
        Data Center has no ``/search/jql``: ``POST /search`` pages by ``startAt``, and the
        token handed back is that offset.
        """
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": max_results}
        if self.settings.flavor == "datacenter":
            body["startAt"] = int(next_page_token) if next_page_token else 0
            data = await self._request("POST", "/search", json=body, idempotent=True)
            return SearchPage.from_offset_json(data or {})
        if next_page_token:
            body["nextPageToken"] = next_page_token
        data = await self._request("POST", "/search/jql", json=body, idempotent=True)
        return SearchPage.from_json(data or {})

    async def get_issue(self, id_or_key: str, *, fields: Sequence[str] | None = None) -> Any:
        """``GET /issue/{id}`` as raw JSON; ``fields`` limits what comes back."""
        params = {"fields": ",".join(fields)} if fields is not None else None
        return await self._request("GET", f"/issue/{_seg(id_or_key)}", params=params)

    async def transitions(self, id_or_key: str) -> list[Transition]:
        """Transitions available now, with their screens' fields (they differ per workflow)."""
        data = await self._request(
            "GET",
            f"/issue/{_seg(id_or_key)}/transitions",
            params={"expand": "transitions.fields"},
        )
        items = (data or {}).get("transitions") or []
        return [Transition.from_json(item) for item in items if isinstance(item, dict)]

    async def transition(self, id_or_key: str, body: dict[str, Any]) -> None:
        """``POST /issue/{id}/transitions`` with ``{"transition": {"id": …}, …}``."""
        await self._request(
            "POST", f"/issue/{_seg(id_or_key)}/transitions", json=body, idempotent=False
        )

    async def add_comment(self, id_or_key: str, body_adf: dict[str, Any] | str) -> str:
        """``POST /issue/{id}/comment`` (ADF on Cloud v3, wiki markup on DC v2): the new id."""
        data = await self._request(
            "POST", f"/issue/{_seg(id_or_key)}/comment", json={"body": body_adf}, idempotent=False
        )
        return str(data.get("id") or "") if isinstance(data, dict) else ""

    async def comments(self, id_or_key: str) -> list[dict[str, Any]]:
        """``GET /issue/{id}/comment``, every page: bodies are ADF on Cloud, wiki on DC."""
        return await self._pages(f"/issue/{_seg(id_or_key)}/comment", keys=("comments",))

    async def request_slas(self, id_or_key: str) -> list[dict[str, Any]]:
        """Service Management's SLAs of an issue (``GET /rest/servicedeskapi/request/{key}/sla``),
        every page; a 404 means the issue is not a service-desk request."""
        items: list[dict[str, Any]] = []
        path = f"/request/{_seg(id_or_key)}/sla"
        while True:
            params = {"start": len(items), "limit": 50}
            data = await self._request("GET", path, params=params, prefix=SERVICEDESK_PREFIX) or {}
            page = [item for item in data.get("values") or [] if isinstance(item, dict)]
            items.extend(page)
            if not page or data.get("isLastPage", True) is not False:
                return items

    async def add_watcher(self, id_or_key: str, user: str) -> None:
        """``POST /issue/{id}/watchers``: an accountId on Cloud, a user name on Data Center."""
        await self._request(
            "POST", f"/issue/{_seg(id_or_key)}/watchers", json=user, idempotent=True
        )

    async def edit_issue(self, id_or_key: str, body: dict[str, Any]) -> None:
        """``PUT /issue/{id}`` with ``fields``/``update`` (e.g. ``{"update": {"labels":
        [{"add": "x"}]}}``); repeating an add or a set changes nothing, so it is idempotent."""
        await self._request("PUT", f"/issue/{_seg(id_or_key)}", json=body, idempotent=True)

    async def add_labels(self, id_or_key: str, labels: Sequence[str]) -> None:
        """Add ``labels`` (made label-safe, empty ones dropped) to an issue, keeping its others."""
        wanted = dict.fromkeys(label_safe(label) for label in labels if label.strip())
        if wanted:
            ops = [{"add": label} for label in wanted]
            await self.edit_issue(id_or_key, {"update": {"labels": ops}})

    async def assign(self, id_or_key: str, account: str) -> None:
        """``PUT /issue/{id}/assignee``: an accountId on Cloud, a user name on Data Center."""
        key = "accountId" if self.settings.flavor == "cloud" else "name"
        path = f"/issue/{_seg(id_or_key)}/assignee"
        await self._request("PUT", path, json={key: account}, idempotent=True)

    async def issue_link_types(self) -> list[IssueLinkType]:
        """The site's link types (``GET /issueLinkType``); names and ids differ per site."""
        data = await self._request("GET", "/issueLinkType")
        items = (data or {}).get("issueLinkTypes") or []
        return [IssueLinkType.from_json(item) for item in items if isinstance(item, dict)]

    async def link_issues(self, link_type: str, *, inward: str, outward: str) -> None:
        """``POST /issueLink`` of the type named ``link_type``: ``inward`` <outward description>
        ``outward`` (Blocks: inward blocks outward). Jira keeps one link per pair and type, so
        a repeat is safe."""
        body = {
            "type": {"name": link_type},
            "inwardIssue": _issue_ref(inward),
            "outwardIssue": _issue_ref(outward),
        }
        await self._request("POST", "/issueLink", json=body, idempotent=True)

    # -- the boundary ----------------------------------------------------------------------

    # -- admin webhooks (need *Administer Jira*; the path differs on Data Center) ----------

    async def webhooks(self) -> list[dict[str, Any]]:
        """The site's admin webhooks, as Jira lists them."""
        listed = await self._request("GET", "", prefix=self.webhooks_path)
        return [h for h in listed or [] if isinstance(h, dict)]

    async def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        created = await self._request("POST", "", json=body, prefix=self.webhooks_path)
        return created if isinstance(created, dict) else {}

    async def update_webhook(self, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/{quote(webhook_id, safe='')}"
        updated = await self._request("PUT", path, json=body, prefix=self.webhooks_path)
        return updated if isinstance(updated, dict) else {}

    @property
    def webhooks_path(self) -> str:
        return WEBHOOKS_PATH[self.settings.flavor]

    async def _pages(self, path: str, *, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Follow startAt/maxResults pages until ``total`` (or a short page) says done."""
        items: list[dict[str, Any]] = []
        while True:
            params = {"startAt": len(items), "maxResults": self.page_size}
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


def _issue_ref(id_or_key: str) -> dict[str, str]:
    """An issue in a request body: numeric ids as ``id``, anything else as ``key``."""
    return {"id": id_or_key} if id_or_key.isdigit() else {"key": id_or_key}


def _seg(value: str) -> str:
    """One URL path segment: a project key or issue key can never escape its place."""
    return quote(str(value), safe="")
