"""The shared Jira pause: after a 429 (or 503 with Retry-After) every worker waits it out.

``PauseStore`` is the narrow interface; the database-backed store shares the pause across
replicas, ``MemoryPauseStore`` serves one process and tests. A pause only ever extends.
``RecentPause`` keeps a store's answer for a moment, so a drain does not read the database
before every Jira request to learn of other replicas' pauses.
"""

from __future__ import annotations

import asyncio
import time
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


class RecentPause:
    """A ``PauseStore`` that answers ``get_pause`` from its last read of ``store`` for up to
    ``max_age`` seconds; ``set_pause`` writes through and keeps what the store answered.

    Another replica's pause therefore reaches this process within ``max_age``; this process's
    own pause needs no read (``RequestGate`` holds it in memory from the 429 on).
    """

    def __init__(
        self,
        store: PauseStore,
        *,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self._clock = clock
        self._known: dict[str, tuple[float, datetime | None]] = {}

    async def get_pause(self, name: str) -> datetime | None:
        read_at, until = self._known.get(name, (float("-inf"), None))
        if self._clock() - read_at < self.max_age:
            return until
        until = await self.store.get_pause(name)
        self._known[name] = (self._clock(), until)
        return until

    async def set_pause(self, name: str, *, until: datetime, reason: str) -> datetime:
        effective = await self.store.set_pause(name, until=until, reason=reason)
        self._known[name] = (self._clock(), effective)
        return effective
