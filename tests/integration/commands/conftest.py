"""The reconcile harness (bridge, database, both sandboxes) serves the end-to-end setup tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.reconcile import WorldFactory, worlds


@pytest.fixture
async def make_world(database_url: str) -> AsyncIterator[WorldFactory]:
    async with worlds(database_url) as factory:
        yield factory
