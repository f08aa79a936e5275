"""Reconcile end to end: the bridge on a real database beside the sandbox Jira and the sandbox
Keeptrusts on loopback, with webhooks delivered or dropped (used by tests/integration/reconcile
and the setup commands' tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.reconcile.reconciler import Reconciler
from kt_jira.reconcile.report import Report
from kt_jira.reconcile.source import KeeptrustsReader
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    KeeptrustsSandbox,
    KeeptrustsSender,
    SandboxIssue,
    serve_app,
)
from kt_jira.service import Bridge
from tests.support.running import open_bridge, run_until, sandbox_validator

WEBHOOK_SECRET = "reconcile-webhook-secret"


def reconcile_settings(
    database_url: str,
    jira: JiraSandbox,
    jira_url: str,
    kt_url: str,
    *,
    jira_extra: dict[str, Any] | None = None,
    **reconcile: Any,
) -> Settings:
    return settings_from_dict(
        {
            "database_url": database_url,
            "keeptrusts": {
                "api_url": kt_url,
                "api_token": SecretRef.literal("sandbox-keeptrusts-token"),
                "webhook": {"secrets": [SecretRef.literal(WEBHOOK_SECRET)]},
            },
            "jira": {
                "url": jira_url,
                "email": jira.settings.email,
                "api_token": SecretRef.literal(jira.settings.api_token),
                "timeout_seconds": 1.0,
                "max_requests_per_second": 200,
                "search_consistency_delay_seconds": 0.3,
                **(jira_extra or {}),
            },
            "worker": {"lease_seconds": 5, "backoff_base_seconds": 0.05},
            "reconcile": {"page_size": 2, **reconcile},
        }
    )


@dataclass
class World:
    """The bridge under test beside both sandboxes, with helpers to drive and inspect them."""

    bridge: Bridge
    url: str
    jira: JiraSandbox
    jira_url: str
    keeptrusts: KeeptrustsSandbox
    settings: Settings
    sender: KeeptrustsSender
    clock_offset: timedelta = field(default=timedelta(0))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    async def deliver_outbox(self) -> None:
        """Deliver every event Keeptrusts queued (the webhooks that do arrive)."""
        for event in self.keeptrusts.take_outbox():
            result = await self.sender.send(event)
            assert result.ok, result.statuses

    def drop_outbox(self) -> None:
        """Lose every queued event: the bridge was down, or the network ate them."""
        self.keeptrusts.take_outbox()

    async def work_until(self, done: Callable[[], Awaitable[bool]], *, limit: float = 15.0) -> None:
        """Run due jobs until ``done()`` holds; fail after ``limit`` seconds."""
        await run_until(self.bridge, done, limit=limit)

    async def drain(self) -> None:
        """Run every job that is due now (creates adopt or create; unknown kinds stay queued)."""
        while await self.bridge.worker.run_once():
            pass

    async def reconcile(self, *, dry_run: bool = False) -> Report:
        async with KeeptrustsReader.open(self.settings) as reader:
            reconciler = Reconciler(
                settings=self.settings,
                store=self.bridge.store,
                jira=self.bridge.jira,
                keeptrusts=reader,
                clock=self.now,
            )
            return await reconciler.run(dry_run=dry_run)

    def tickets(self, escalation_id: str) -> list[SandboxIssue]:
        return self.jira.issues_with_label(correlation_label(escalation_id))

    async def linked(self, *escalation_ids: str) -> bool:
        """Every escalation has a created link (its ticket is recorded)."""
        for eid in escalation_ids:
            link = await self.bridge.store.links.get(eid)
            if link is None or link.state != "created":
                return False
        return True

    async def settle(self) -> None:
        """Wait until Jira search shows the latest changes (the sandbox indexes with a lag)."""
        await asyncio.sleep(self.jira.search_lag + 0.05)

    async def ticketed(self, *escalation_ids: str) -> None:
        """Deliver, then work until each escalation has its ticket and search can see it."""
        await self.deliver_outbox()
        await self.work_until(lambda: self.linked(*escalation_ids))
        await self.settle()

    async def create_behind_the_bridge(self, escalation_id: str) -> dict[str, Any]:
        """A person (or another tool) files a second ticket carrying the same marker."""
        text = {"type": "text", "text": "filed by hand"}
        adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [text]}]}
        fields = {
            "project": {"key": "AIGOV"},
            "issuetype": {"name": "Task"},
            "summary": f"Copy of the ticket for {escalation_id}",
            "description": adf,
            "labels": ["ai-governance", "keeptrusts", correlation_label(escalation_id)],
        }
        auth = (self.jira.settings.email, self.jira.settings.api_token)
        async with httpx.AsyncClient(base_url=self.jira_url, auth=auth) as http:
            response = await http.post("/rest/api/3/issue", json={"fields": fields})
        assert response.status_code == 201, response.text
        await self.settle()
        created: dict[str, Any] = response.json()
        return created


WorldFactory = Callable[..., Awaitable[World]]


@contextlib.asynccontextmanager
async def worlds(database_url: str) -> AsyncIterator[WorldFactory]:
    """A factory of worlds sharing one Jira and one Keeptrusts sandbox; all close on leaving,
    and no request may have broken Atlassian's contracts."""
    jira = JiraSandbox(JiraSandboxSettings(search_lag=0.2, request_validator=sandbox_validator()))
    keeptrusts = KeeptrustsSandbox()
    async with contextlib.AsyncExitStack() as stack:

        async def factory(*, jira_extra: dict[str, Any] | None = None, **reconcile: Any) -> World:
            jira_url = await stack.enter_async_context(serve_app(jira.app))
            kt_url = await stack.enter_async_context(serve_app(keeptrusts.app))
            settings = reconcile_settings(
                database_url, jira, jira_url, kt_url, jira_extra=jira_extra, **reconcile
            )
            bridge, url = await open_bridge(stack, settings)
            sender = await stack.enter_async_context(
                KeeptrustsSender(f"{url}/webhooks/keeptrusts", secret=WEBHOOK_SECRET)
            )
            return World(bridge, url, jira, jira_url, keeptrusts, settings, sender)

        yield factory
    assert jira.contract_violations == [], "requests broke Atlassian's published contracts"
