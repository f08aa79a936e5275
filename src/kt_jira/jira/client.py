"""``JiraClient``: async httpx, one method per Jira REST endpoint, errors mapped at one boundary.

The boundary is ``JiraSession`` (``session.py``): the pause, the rate limit, and the one place
where httpx exceptions and HTTP statuses become kt_jira errors. The calls that need *Administer
Jira* come from ``JiraAdmin`` (``admin.py``); the issue, search and metadata calls are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kt_jira.errors import UncertainOutcome
from kt_jira.jira.admin import WEBHOOKS_PATH, JiraAdmin
from kt_jira.jira.models import (
    CreateField,
    FieldInfo,
    IssueLinkType,
    IssueTypeInfo,
    JiraUser,
    SearchPage,
    Transition,
)
from kt_jira.jira.ratelimit import PRIORITY_CREATE
from kt_jira.jira.session import API_PREFIX, CREATEMETA_PAGE_SIZE, PAUSE_NAME
from kt_jira.jira.session import path_segment as _seg
from kt_jira.render.sanitise import label_safe
from kt_jira.tickets.draft import CreatedIssue

__all__ = [
    "API_PREFIX",
    "CREATEMETA_PAGE_SIZE",
    "PAUSE_NAME",
    "SERVICEDESK_PREFIX",
    "WEBHOOKS_PATH",
    "JiraClient",
]

SERVICEDESK_PREFIX = "/rest/servicedeskapi"  # the same on Cloud and Data Center


class JiraClient(JiraAdmin):
    """Talks to one Jira site; open it with ``async with JiraClient(...) as jira:``.

    ``transport`` is the test seam (``httpx.MockTransport``, or none for the network). ``now``
    and ``sleep`` drive the pause (and an OAuth token's expiry); tests may inject fakes.
    """

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


def _issue_ref(id_or_key: str) -> dict[str, str]:
    """An issue in a request body: numeric ids as ``id``, anything else as ``key``."""
    return {"id": id_or_key} if id_or_key.isdigit() else {"key": id_or_key}
