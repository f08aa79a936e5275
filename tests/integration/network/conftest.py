"""Fixtures for reaching services the corporate way: a private CA with a loopback certificate,
and a tunnelling proxy on loopback that records what it was asked to reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.proxy import ConnectProxy
from tests.support.tls import PrivateCa, private_ca


@pytest.fixture
def ca(tmp_path: Path) -> PrivateCa:
    return private_ca(tmp_path)


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[ConnectProxy, str]]:
    """A running proxy and its URL."""
    tunnels = ConnectProxy()
    async with tunnels.serve() as url:
        yield tunnels, url
