"""Fixtures every integration suite shares: one fresh database per test, on SQLite and on
PostgreSQL (a suite that needs another arrangement defines its own ``database_url``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import databases


@pytest.fixture(params=databases.KIND_PARAMS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with databases.database_url(request.param, tmp_path) as url:
        yield url
