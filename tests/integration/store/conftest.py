"""Fixtures for the store's integration tests: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from kt_jira.store import Store, open_store
from tests.support import databases

OpenStore = Callable[[], Awaitable[Store]]


@pytest.fixture(params=databases.KIND_PARAMS)
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def database_url(database_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database (not migrated)."""
    async with databases.database_url(database_kind, tmp_path) as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on the test's own database."""
    async with open_store(database_url) as opened:
        await opened.db.migrate()
        yield opened


@pytest.fixture
async def open_another(store: Store, database_url: str) -> AsyncIterator[OpenStore]:
    """Open further stores (own engine, own pool) on the same database, as other replicas."""
    async with AsyncExitStack() as stack:

        async def another() -> Store:
            return await stack.enter_async_context(open_store(database_url))

        yield another
