"""The shared Jira pause: after a 429 (or 503 with Retry-After) every worker waits it out.

``PauseStore`` is the narrow interface; the database-backed store shares the pause across
replicas, ``MemoryPauseStore`` serves one process and tests. A pause only ever extends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]
WallClock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class PauseStore(Protocol):
    async def get_pause(self, name: str) -> datetime | None:
        """The end of the current pause named ``name`` (may be in the past), or ``None``."""
        ...

    async def set_pause(self, name: str, *, until: datetime, reason: str) -> datetime:
        """Pause ``name`` until at least ``until``; returns the effective end (never shortened)."""
        ...


class MemoryPauseStore:
    """A ``PauseStore`` for a single process (the demo, offline runs, tests)."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self.reasons: dict[str, str] = {}

    async def get_pause(self, name: str) -> datetime | None:
        return self._until.get(name)

    async def set_pause(self, name: str, *, until: datetime, reason: str) -> datetime:
        current = self._until.get(name)
        if current is None or until > current:
            self._until[name] = until
            self.reasons[name] = reason
        return self._until[name]


async def wait_out_pause(
    store: PauseStore,
    name: str,
    *,
    now: WallClock = utc_now,
    sleep: Sleep = asyncio.sleep,
) -> float:
    """Sleep until the pause ``name`` is over, re-reading it (another worker may extend it).

    Returns the seconds slept, so callers can tell whether they waited at all.
    """
    waited = 0.0
    while True:
        until = await store.get_pause(name)
        if until is None:
            return waited
        remaining = (until - now()).total_seconds()
        if remaining <= 0:
            return waited
        await sleep(remaining)
        waited += remaining
