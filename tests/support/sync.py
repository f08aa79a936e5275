"""The bridge end to end, both ways: the bridge on a real database, the sandbox Jira sending
signed webhooks back to it, and the sandbox Keeptrusts whose outbox the test delivers with
``KeeptrustsSender``, all on loopback HTTP (used by tests/integration/sync)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.jobs import Kind
from kt_jira.reconcile.reconciler import Reconciler
from kt_jira.reconcile.report import Report
from kt_jira.reconcile.source import KeeptrustsReader
from kt_jira.sandbox import JiraSandbox, KeeptrustsSandbox, KeeptrustsSender, SandboxIssue
from kt_jira.sandbox.jira.state import HUMAN
from kt_jira.service import Bridge
from kt_jira.store import JobStatus
from tests.support.running import open_bridge

KEEPTRUSTS_SECRET = "test-keeptrusts-secret"
JIRA_SECRET = "It's a Secret to Everybody"
ADA_KEEPTRUSTS_ID = "usr_ada"
SYNC = {
    "resolution_to_keeptrusts": {"Done": "approved", "False Positive": "denied"},
    "resolution_to_jira": {"approved": "Done", "denied": "Won't Do"},
    "actor_map": {HUMAN.account_id: ADA_KEEPTRUSTS_ID},
    "pending_create_retry_seconds": 0.1,
}


def sync_settings(
    database_url: str,
    sites: tuple[tuple[JiraSandbox, str], tuple[KeeptrustsSandbox, str]],
    **extra: Any,
) -> Settings:
    """Settings for the bridge between the two sandboxes; ``extra`` merges into sections."""
    (jira_sandbox, jira_url), (kt_sandbox, kt_url) = sites
    data: dict[str, Any] = {
        "database_url": database_url,
        "keeptrusts": {
            "api_url": kt_url,
            "api_token": SecretRef.literal(kt_sandbox.settings.api_token),
            "timeout_seconds": 2.0,
            "webhook": {"secrets": [SecretRef.literal(KEEPTRUSTS_SECRET)]},
        },
        "jira": {
            "url": jira_url,
            "email": jira_sandbox.settings.email,
            "api_token": SecretRef.literal(jira_sandbox.settings.api_token),
            "webhook_secret": SecretRef.literal(JIRA_SECRET),
            "timeout_seconds": 2.0,
            "max_requests_per_second": 500,
            "search_consistency_delay_seconds": 0.4,
        },
        "worker": {"lease_seconds": 5, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2},
        "sync": SYNC,
    }
    for section, values in extra.items():
        merged = isinstance(values, dict) and isinstance(data.get(section), dict)
        data[section] = {**data[section], **values} if merged else values
    return settings_from_dict(data)


@dataclass
class SyncHarness:
    """The bridge, both sandboxes, and helpers that run everything until it is quiet."""

    bridge: Bridge
    url: str
    client: httpx.AsyncClient
    jira: JiraSandbox
    keeptrusts: KeeptrustsSandbox
    sender: KeeptrustsSender

    async def deliver_outbox(self) -> int:
        """Send Keeptrusts' queued events to the bridge, signed, oldest first."""
        events = self.keeptrusts.take_outbox()
        for event in events:
            result = await self.sender.send(event)
            assert result.ok, result.attempts
        return len(events)

    async def settle(self, *, limit: float = 30.0) -> None:
        """Deliver webhooks both ways and run due jobs until nothing moves any more."""
        deadline = time.monotonic() + limit
        quiet = 0
        while quiet < 3:
            assert time.monotonic() < deadline, "the bridge did not settle in time"
            await self.jira.webhooks.drain()
            moved = await self.deliver_outbox() > 0
            while await self.bridge.worker.run_once():
                moved = True
            pending = await self.pending_jobs()
            quiet = 0 if moved or pending else quiet + 1
            await asyncio.sleep(0.05)

    async def reconcile(self) -> Report:
        """One reconcile run, once Jira search shows the latest changes."""
        await asyncio.sleep(self.jira.search_lag + 0.05)
        async with KeeptrustsReader.open(self.bridge.settings) as reader:
            reconciler = Reconciler(
                settings=self.bridge.settings,
                store=self.bridge.store,
                jira=self.bridge.jira,
                keeptrusts=reader,
                clock=self.bridge.worker.clock,
            )
            return await reconciler.run()

    async def pending_jobs(self) -> int:
        jobs = await self.bridge.store.queue.list(limit=1000)
        return sum(1 for job in jobs if job.status in (JobStatus.QUEUED, JobStatus.RUNNING))

    async def ticket(self, escalation_id: str, **fields: Any) -> SandboxIssue:
        """A new escalation in Keeptrusts, delivered, and the one issue the bridge made for it."""
        self.keeptrusts.add_escalation(escalation_id, **fields)
        await self.settle()
        link = await self.bridge.store.links.get(escalation_id)
        assert link is not None
        assert link.issue_id is not None
        issue = self.jira.issue(link.issue_id)
        assert issue is not None
        return issue

    def bot_comments(self, issue: SandboxIssue) -> list[dict[str, Any]]:
        bot = self.jira.state.bot.account_id
        return [c for c in issue.comments if c["author"] == bot]

    def status(self, issue: SandboxIssue) -> dict[str, Any]:
        return self.jira.view(issue)

    async def dead_jobs(self) -> list[str]:
        return [
            f"{job.kind}: {job.last_error}"
            for job in await self.bridge.store.queue.list(status="dead", limit=100)
        ]

    async def resolve_jobs(self) -> int:
        return len(await self.bridge.store.queue.list(kind=Kind.RESOLVE_KEEPTRUSTS, limit=100))

    async def post_jira(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        return await self.client.post(f"{self.url}/webhooks/jira", content=body, headers=sent)


HarnessFactory = Callable[..., Awaitable[SyncHarness]]


@contextlib.asynccontextmanager
async def harnesses(
    database_url: str,
    jira: tuple[JiraSandbox, str],
    keeptrusts: tuple[KeeptrustsSandbox, str],
) -> AsyncIterator[HarnessFactory]:
    """A factory of bridges between ``keeptrusts`` and a Jira site; all close on leaving, after
    every site's webhooks are drained."""
    sites = [jira[0]]
    async with contextlib.AsyncExitStack() as stack:

        async def factory(
            *,
            site: tuple[JiraSandbox, str] | None = None,
            clock: Callable[[], datetime] | None = None,
            **extra: Any,
        ) -> SyncHarness:
            """A bridge between Keeptrusts and ``site`` (default: the Cloud sandbox) on
            ``clock``; ``extra`` merges into config sections, e.g. ``jira={"webhook_secrets":
            [...]}``."""
            jira_site = site or jira
            sites.append(jira_site[0])
            settings = sync_settings(database_url, (jira_site, keeptrusts), **extra)
            bridge, url = await open_bridge(stack, settings, clock=clock)
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
            sender = await stack.enter_async_context(
                KeeptrustsSender(
                    f"{url}/webhooks/keeptrusts", secret=KEEPTRUSTS_SECRET, base_delay=0.05
                )
            )
            jira_site[0].register_webhook(f"{url}/webhooks/jira", JIRA_SECRET)
            return SyncHarness(
                bridge=bridge,
                url=url,
                client=client,
                jira=jira_site[0],
                keeptrusts=keeptrusts[0],
                sender=sender,
            )

        yield factory
        for sandbox in sites:
            await sandbox.webhooks.drain()
