"""Fixtures for reconcile: the bridge on a real database (SQLite and PostgreSQL), the sandbox Jira
(contracts checked) and the sandbox Keeptrusts on loopback (``tests.support.reconcile`` holds
the harness)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.reconcile import World, WorldFactory, worlds


@pytest.fixture
async def make_world(database_url: str) -> AsyncIterator[WorldFactory]:
    async with worlds(database_url) as factory:
        yield factory


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await make_world()
