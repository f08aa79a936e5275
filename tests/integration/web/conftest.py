"""Fixtures for the dashboard and admin API over real HTTP: the bridge with an admin token on a
real database (SQLite and PostgreSQL), the sandbox Jira on loopback, and a Bearer client and
logged-in browser sessions to drive them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kt_jira.config.secrets import SecretRef
from tests.integration.bridge.conftest import jira, make_harness
from tests.support.intake import Harness, HarnessFactory

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
__all__ = ["admin", "harness", "jira", "make_harness"]
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A logged-in browser: its own cookie jar, the page origin it sends, and its CSRF token."""

    client: httpx.AsyncClient
    origin: str
    csrf: str

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """A same-origin POST carrying the session's CSRF token in the header."""
        headers = {"Origin": self.origin, "X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return await self.client.post(path, headers=headers, **kwargs)


@dataclass
class AdminHarness:
    """The bridge under test with ``server.admin_token`` set, and ways in."""

    harness: Harness
    stack: AsyncExitStack

    @property
    def url(self) -> str:
        return self.harness.url

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to ``/api/v1<path>`` with the Bearer token."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        return await self.harness.client.request(
            method, f"{self.url}/api/v1{path}", headers=headers, **kwargs
        )

    async def client(self) -> httpx.AsyncClient:
        """A fresh client with its own cookie jar, closed with the test."""
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        return await self.stack.enter_async_context(client)

    async def browser(self) -> Browser:
        """Log in through the form and read the CSRF token the dashboard page renders."""
        client = await self.client()
        login = await client.post(
            "/dashboard/login", data={"token": ADMIN_TOKEN}, headers={"Origin": self.url}
        )
        assert login.status_code == 303, login.text
        page = await client.get("/dashboard")
        assert page.status_code == 200
        match = CSRF_FIELD.search(page.text)
        assert match is not None, page.text
        return Browser(client=client, origin=self.url, csrf=match.group(1))


@pytest.fixture
async def admin(make_harness: HarnessFactory) -> AsyncIterator[AdminHarness]:
    """The bridge with an admin token (and no metadata cache, so a fixed screen shows at once)."""
    harness = await make_harness(
        server={"admin_token": SecretRef.literal(ADMIN_TOKEN)}, metadata_cache_seconds=0
    )
    async with AsyncExitStack() as stack:
        yield AdminHarness(harness=harness, stack=stack)


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    """The bridge without an admin token (the default)."""
    return await make_harness()
