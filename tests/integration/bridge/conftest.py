"""Fixtures for the bridge's integration tests: the real app and worker, a real database (SQLite
and PostgreSQL), and the sandbox Jira on loopback with Atlassian's contracts checked on every
request (``tests.support.intake`` holds the harness)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kt_jira.sandbox import JiraSandbox
from tests.support.intake import Harness, HarnessFactory, harnesses
from tests.support.running import checked_jira


@pytest.fixture
async def jira() -> AsyncIterator[tuple[JiraSandbox, str]]:
    async with checked_jira(search_lag=0.3) as site:
        yield site


@pytest.fixture
async def make_harness(
    database_url: str, jira: tuple[JiraSandbox, str]
) -> AsyncIterator[HarnessFactory]:
    async with harnesses(database_url, jira) as factory:
        yield factory


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness()
