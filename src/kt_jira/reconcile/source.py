"""What reconcile reads: Keeptrusts' open escalations (and one by id), and Jira issues.

``KeeptrustsReader`` pages through the listing with the ``KeeptrustsClient`` (the only
Keeptrusts HTTP client): the path and the status and cursor parameter names come from
``reconcile:`` because Keeptrusts documents none of them. Items become ``RemoteEscalation``
values through the webhook parser, so field aliases are read one way only.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import structlog

from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, KtJiraError, PayloadError
from kt_jira.events.keeptrusts import Escalation, parse_event
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.reconcile.plan import JiraIssue, RemoteEscalation

log = structlog.get_logger("kt_jira.reconcile")


class KeeptrustsReader:
    """``async with KeeptrustsReader.open(settings) as reader``; ``transport`` is the test seam."""

    def __init__(self, client: KeeptrustsClient, settings: Settings) -> None:
        self._client = client
        self._settings = settings.reconcile
        self.unreadable = 0  #: items skipped because they carry no usable escalation id

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AsyncIterator[KeeptrustsReader]:
        if settings.keeptrusts.api_token is None:
            raise ConfigError("keeptrusts.api_token is not set: reconcile reads the Keeptrusts API")
        async with KeeptrustsClient(settings.keeptrusts, transport=transport) as client:
            yield cls(client, settings)

    async def list_open(self) -> list[RemoteEscalation]:
        """Every open escalation, following the cursor until the API says there is no more."""
        cfg = self._settings
        found: dict[str, RemoteEscalation] = {}
        cursor: str | None = None
        for _ in range(cfg.max_pages):
            params = {cfg.status_param: cfg.open_status, cfg.limit_param: cfg.page_size}
            if cursor:
                params[cfg.cursor_param] = cursor
            page = await self._client.escalation_page(cfg.escalations_path, params)
            items = page.get(cfg.data_key) if isinstance(page, dict) else page
            for item in items if isinstance(items, list) else []:
                remote = self._remote(item, default_status="open")
                if remote is not None:
                    found.setdefault(remote.escalation_id, remote)
            cursor = page.get(cfg.next_cursor_key) if isinstance(page, dict) else None
            if not cursor:
                return list(found.values())
        raise KtJiraError(
            f"Keeptrusts listed more than {cfg.max_pages} pages of open escalations; "
            "raise reconcile.max_pages if that is expected"
        )

    async def get(self, escalation_id: str) -> RemoteEscalation:
        """One escalation now; ``status == "missing"`` when Keeptrusts answers 404."""
        item = await self._client.get_escalation(
            escalation_id, path=self._settings.escalations_path
        )
        remote = None if item is None else self._remote(item, default_status="open")
        return remote or RemoteEscalation(escalation_id=escalation_id, status="missing")

    def _remote(self, item: Any, *, default_status: str) -> RemoteEscalation | None:
        if not isinstance(item, dict):
            self.unreadable += 1
            return None
        status = str(item.get("status") or default_status).lower()
        kind = "escalation.created" if status == "open" else "escalation.resolved"
        try:
            event = parse_event(json.dumps({"type": kind, "data": item}).encode())
        except PayloadError as exc:
            self.unreadable += 1
            log.warning("reconcile.unreadable_escalation", reason=str(exc))
            return None
        assert event.escalation is not None  # escalation event types always carry one
        resolution = event.resolution
        return RemoteEscalation(
            escalation_id=event.escalation.escalation_id,
            status=status,
            resolution=resolution.outcome if resolution else "",
            notes=resolution.notes if resolution else "",
            resolved_by=resolution.resolved_by if resolution else "",
            resolved_at=resolution.resolved_at if resolution else None,
            payload=item,
        )


def escalation_from(remote: RemoteEscalation) -> Escalation:
    """The escalation facts of an API item (for storing one the bridge never received)."""
    body = json.dumps({"type": "escalation.created", "data": dict(remote.payload)}).encode()
    try:
        event = parse_event(body)
    except PayloadError:
        return Escalation(escalation_id=remote.escalation_id)
    return event.escalation or Escalation(escalation_id=remote.escalation_id)


def jira_issue(raw: Any, marker_fields: Sequence[str] = ()) -> JiraIssue | None:
    """A search or get-issue result as the planner's value; ``None`` without an id.
    ``marker_fields`` are the ids of the Escalation ID field(s), read for the field marker."""
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    fields = raw.get("fields") or {}
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key", "")
    created = str(fields.get("created") or "")
    return JiraIssue(
        issue_id=str(raw["id"]),
        key=str(raw.get("key") or raw["id"]),
        labels=tuple(str(label) for label in fields.get("labels") or []),
        created=_jira_time(created),
        created_text=created,
        done=category == "done",
        status=str(status.get("name") or ""),
        resolution=str((fields.get("resolution") or {}).get("name") or ""),
        marker_ids=tuple(
            v.strip() for f in marker_fields if isinstance(v := fields.get(f), str) and v.strip()
        ),
        category=str(category),
        resolved_at=_jira_time(str(fields.get("resolutiondate") or "")),
        category_changed_at=_jira_time(str(fields.get("statuscategorychangedate") or "")),
    )


def _jira_time(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None
