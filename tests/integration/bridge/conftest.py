"""Fixtures for the bridge's integration tests: the real app and worker, a real database (SQLite
and PostgreSQL), and the sandbox Jira on loopback with Atlassian's contracts checked on every
request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.service import Bridge
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign
from tests.support import databases
from tests.support.contracts import make_request_validator

WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture(params=databases.KIND_PARAMS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with databases.database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def jira() -> AsyncIterator[tuple[JiraSandbox, str]]:
    validator = make_request_validator()
    # Compile the 2.4 MB spec now: compiling it inside the first request would stall the loop.
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}
    validator("POST", "/rest/api/3/issue", {"fields": {"summary": "warm-up", "description": adf}})
    sandbox = JiraSandbox(JiraSandboxSettings(search_lag=0.3, request_validator=validator))
    async with serve_app(sandbox.app) as url:
        yield sandbox, url
    assert sandbox.contract_violations == [], "requests broke Atlassian's published contracts"


def bridge_settings(
    database_url: str,
    jira_url: str,
    sandbox: JiraSandbox,
    *,
    rules: list[dict[str, Any]] | None = None,
    webhook: dict[str, Any] | None = None,
    **jira: Any,
) -> Settings:
    return settings_from_dict(
        {
            "database_url": database_url,
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
        deadline = time.monotonic() + limit
        while not await done():
            if time.monotonic() > deadline:
                raise AssertionError("the bridge did not reach the expected state in time")
            if not await self.bridge.worker.run_once():
                await asyncio.sleep(0.05)


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(
    database_url: str, jira: tuple[JiraSandbox, str]
) -> AsyncIterator[HarnessFactory]:
    sandbox, jira_url = jira
    stack: list[Any] = []

    async def factory(
        *,
        rules: list[dict[str, Any]] | None = None,
        webhook: dict[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        **jira: Any,
    ) -> Harness:
        settings = bridge_settings(
            database_url, jira_url, sandbox, rules=rules, webhook=webhook, **jira
        )
        opened = Bridge.open(settings, migrate=True, **({"clock": clock} if clock else {}))
        bridge = await opened.__aenter__()
        stack.append(opened)
        served = serve_app(bridge.app)
        url = await served.__aenter__()
        stack.append(served)
        client = httpx.AsyncClient(timeout=10)
        stack.append(client)
        return Harness(bridge=bridge, url=url, client=client, sandbox=sandbox)

    yield factory
    for item in reversed(stack):
        await item.__aexit__(None, None, None)


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness()
