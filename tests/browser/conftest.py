"""Browser tests: the dashboard in Debian's headless chromium (``tests.support.browser``), on the
two-way sync arrangement (the bridge on SQLite, the sandbox Jira and Keeptrusts on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.sync.conftest import jira, keeptrusts, make_harness
from tests.support import databases

__all__ = ["database_url", "jira", "keeptrusts", "make_harness"]


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    async with databases.database_url("sqlite", tmp_path) as url:
        yield url
