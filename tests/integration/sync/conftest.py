"""Fixtures for two-way sync tests: the bridge on a real database (SQLite and PostgreSQL), the
sandbox Jira (contract-checked, sending signed webhooks back to the bridge) and the sandbox
Keeptrusts, all on loopback HTTP (``tests.support.sync`` holds the harness)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kt_jira.sandbox import JiraSandbox, KeeptrustsSandbox, serve_app
from tests.support.running import checked_jira
from tests.support.sync import HarnessFactory, SyncHarness, harnesses


@pytest.fixture
async def jira() -> AsyncIterator[tuple[JiraSandbox, str]]:
    async with checked_jira(search_lag=0.2) as site:
        yield site


@pytest.fixture
async def keeptrusts() -> AsyncIterator[tuple[KeeptrustsSandbox, str]]:
    sandbox = KeeptrustsSandbox()
    async with serve_app(sandbox.app) as url:
        yield sandbox, url


@pytest.fixture
async def make_harness(
    database_url: str,
    jira: tuple[JiraSandbox, str],
    keeptrusts: tuple[KeeptrustsSandbox, str],
) -> AsyncIterator[HarnessFactory]:
    async with harnesses(database_url, jira, keeptrusts) as factory:
        yield factory


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> SyncHarness:
    return await make_harness()
