"""Fixtures for the false-positive loop end to end: the bridge on a real database (SQLite and
PostgreSQL) between the contract-checked sandbox Jira and the sandbox Keeptrusts, as in the sync
suite, with the loop configured and a clock the test moves (``tests.support.feedback``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kt_jira.sandbox import JiraSandbox, KeeptrustsSandbox, serve_app
from tests.support.feedback import FeedbackFactory, FeedbackHarness, feedback_factory
from tests.support.running import checked_jira
from tests.support.sync import harnesses


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
async def make_feedback(
    database_url: str,
    jira: tuple[JiraSandbox, str],
    keeptrusts: tuple[KeeptrustsSandbox, str],
) -> AsyncIterator[FeedbackFactory]:
    async with harnesses(database_url, jira, keeptrusts) as make_harness:
        yield feedback_factory(make_harness)


@pytest.fixture
async def feedback(make_feedback: FeedbackFactory) -> FeedbackHarness:
    return await make_feedback()
