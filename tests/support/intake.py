"""The bridge end to end, Keeptrusts side: the real app and worker on a real database, the
sandbox Jira on loopback, and signed deliveries (used by tests/integration/bridge)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox import JiraSandbox
from kt_jira.service import Bridge
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign
from tests.support.running import open_bridge, run_until

WEBHOOK_SECRET = "test-webhook-secret"


def bridge_settings(
    database_url: str,
    jira_url: str,
    sandbox: JiraSandbox,
    *,
    rules: list[dict[str, Any]] | None = None,
    webhook: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    storm: dict[str, Any] | None = None,
    **jira: Any,
) -> Settings:
    return settings_from_dict(
        {
            "database_url": database_url,
            "server": server or {},
            "keeptrusts": {"webhook": webhook or {"secrets": [SecretRef.literal(WEBHOOK_SECRET)]}},
            "jira": {
                "url": jira_url,
                "email": sandbox.settings.email,
                "api_token": SecretRef.literal(sandbox.settings.api_token),
                "timeout_seconds": 1.0,
                "max_requests_per_second": 200,
                "search_consistency_delay_seconds": 2.0,
                **jira,
            },
            "rules": rules or [],
            "storm": storm or {},
            "worker": {
                "lease_seconds": 5,
                "backoff_base_seconds": 0.05,
                "backoff_max_seconds": 0.5,
            },
        }
    )


@dataclass
class Harness:
    """The bridge under test, its URL, the sandbox Jira, and helpers to drive them."""

    bridge: Bridge
    url: str
    client: httpx.AsyncClient
    sandbox: JiraSandbox

    async def deliver(
        self, payload: bytes, *, headers: dict[str, str] | None = None, signed: bool = True
    ) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signed:
            sent.update(sign(WEBHOOK_SECRET, payload, KEEPTRUSTS_DEFAULT))
        return await self.client.post(
            f"{self.url}/webhooks/keeptrusts", content=payload, headers=sent
        )

    async def work_until(self, done: Callable[[], Awaitable[bool]], *, limit: float = 15.0) -> None:
        """Run the worker (jobs due now) until ``done()`` holds; fail after ``limit`` seconds."""
        await run_until(self.bridge, done, limit=limit)


HarnessFactory = Callable[..., Awaitable[Harness]]


@contextlib.asynccontextmanager
async def harnesses(
    database_url: str, jira: tuple[JiraSandbox, str]
) -> AsyncIterator[HarnessFactory]:
    """A factory of bridges on ``database_url`` talking to ``jira``; all close on leaving."""
    sandbox, jira_url = jira
    async with contextlib.AsyncExitStack() as stack:

        async def factory(
            *,
            rules: list[dict[str, Any]] | None = None,
            webhook: dict[str, Any] | None = None,
            server: dict[str, Any] | None = None,
            clock: Callable[[], datetime] | None = None,
            storm: dict[str, Any] | None = None,
            **jira: Any,
        ) -> Harness:
            settings = bridge_settings(
                database_url,
                jira_url,
                sandbox,
                rules=rules,
                webhook=webhook,
                server=server,
                storm=storm,
                **jira,
            )
            bridge, url = await open_bridge(stack, settings, clock=clock)
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
            return Harness(bridge=bridge, url=url, client=client, sandbox=sandbox)

        yield factory
