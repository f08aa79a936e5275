"""``JiraAdmin``: the calls that need the *Administer Jira* global permission.

Admin webhooks (their path differs on Data Center), creating custom fields, and walking a
project's issue type screen scheme to its create screens and their tabs, to put fields there.
Data Center has ``POST /field`` and the screen tab calls but none of the scheme calls (they
answer 404). ``JiraClient`` inherits these; errors are mapped by ``JiraSession._request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from kt_jira.jira.models import FieldInfo, Ref, ScreenScheme
from kt_jira.jira.session import JiraSession, path_segment

WEBHOOKS_PATH = {
    "cloud": "/rest/webhooks/1.0/webhook",
    "datacenter": "/rest/jira-webhook/1.0/webhooks",
}


class JiraAdmin(JiraSession):
    """Admin endpoints of one Jira site; use them through ``JiraClient``."""

    # -- admin webhooks ----------------------------------------------------------------------

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

    # -- custom fields and screens -----------------------------------------------------------

    async def create_custom_field(
        self, *, name: str, type_key: str, searcher_key: str, description: str
    ) -> FieldInfo:
        """``POST /field``. Jira allows duplicate names, so callers look the name up first; a
        failure after sending is ``UncertainOutcome`` (look the name up again before retrying)."""
        body = {
            "name": name,
            "type": type_key,
            "searcherKey": searcher_key,
            "description": description,
        }
        created = await self._request("POST", "/field", json=body, idempotent=False)
        return FieldInfo.from_json(created if isinstance(created, dict) else {"id": ""})

    async def project_id(self, key: str) -> str:
        """The numeric id of a project (``GET /project/{key}``); the scheme calls take ids."""
        data = await self._request("GET", f"/project/{path_segment(key)}") or {}
        return str(data.get("id", ""))

    async def issue_type_screen_scheme(self, project_id: str) -> Ref | None:
        """The issue type screen scheme a project uses, or None for a team-managed project
        (Jira lists only the schemes of company-managed ones)."""
        path = "/issuetypescreenscheme/project"
        items = await self._pages(path, keys=("values",), query={"projectId": project_id})
        for item in items:
            if project_id in [str(p) for p in item.get("projectIds") or ()]:
                return Ref.from_json(item.get("issueTypeScreenScheme") or {})
        return None

    async def screen_scheme_by_issue_type(self, scheme_id: str) -> dict[str, str]:
        """Issue type id (or ``default``, for every other type) -> screen scheme id."""
        path = "/issuetypescreenscheme/mapping"
        query = {"issueTypeScreenSchemeId": scheme_id}
        items = await self._pages(path, keys=("values",), query=query)
        return {
            str(item.get("issueTypeId")): str(item.get("screenSchemeId"))
            for item in items
            if str(item.get("issueTypeScreenSchemeId")) == scheme_id
        }

    async def screen_schemes(self, ids: Sequence[str]) -> list[ScreenScheme]:
        """The screen schemes with these ids (``GET /screenscheme?id=…``)."""
        items = await self._pages("/screenscheme", keys=("values",), query={"id": list(ids)})
        return [ScreenScheme.from_json(item) for item in items]

    async def screens(self, ids: Sequence[str]) -> list[Ref]:
        """The screens with these ids (``GET /screens?id=…``), for their names."""
        items = await self._pages("/screens", keys=("values",), query={"id": list(ids)})
        return [Ref.from_json(item) for item in items]

    async def screen_tabs(self, screen_id: str) -> list[Ref]:
        """A screen's tabs, in order (``GET /screens/{id}/tabs``)."""
        data = await self._request("GET", f"/screens/{path_segment(screen_id)}/tabs")
        return [Ref.from_json(tab) for tab in data or () if isinstance(tab, dict)]

    async def screen_tab_fields(self, screen_id: str, tab_id: str) -> list[Ref]:
        """The fields on one tab of a screen."""
        path = f"/screens/{path_segment(screen_id)}/tabs/{path_segment(tab_id)}/fields"
        data = await self._request("GET", path)
        return [Ref.from_json(field) for field in data or () if isinstance(field, dict)]

    async def add_screen_tab_field(self, screen_id: str, tab_id: str, field_id: str) -> None:
        """Put a field on a screen tab; Jira refuses (400) one that is already there."""
        path = f"/screens/{path_segment(screen_id)}/tabs/{path_segment(tab_id)}/fields"
        await self._request("POST", path, json={"fieldId": field_id}, idempotent=False)
