"""``RequestGate``: what every Jira request waits for before it is sent (the shared pause after a
429 and a rate-limiter token), and the pause a rate-limited answer starts.

Used only by ``JiraClient``. A pause is held in memory first, then in the shared ``PauseStore``,
so this process's workers stop at once, before the store's write has committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import structlog

from kt_jira.jira.pause import PauseStore, WallClock, wait_out_pause
from kt_jira.jira.ratelimit import RateLimiter, retry_after_seconds

log = structlog.get_logger("kt_jira.jira")

Sleep = Callable[[float], Awaitable[None]]


class RequestGate:
    """The pause named ``name`` in ``pause`` and the token bucket ``limiter``, on ``now`` and
    ``sleep`` (tests may inject fakes)."""

    def __init__(
        self,
        pause: PauseStore,
        limiter: RateLimiter,
        *,
        name: str,
        now: WallClock,
        sleep: Sleep,
    ) -> None:
        self.pause = pause
        self.limiter = limiter
        self.name = name
        self._now = now
        self._sleep = sleep
        self._local_until: datetime | None = None

    async def wait_turn(self, priority: int) -> None:
        """Return when a request of ``priority`` may be sent."""
        await wait_out_pause(self.pause, self.name, now=self._now, sleep=self._sleep)
        while True:
            queued = await self.limiter.acquire(priority)
            # A pause that started while we waited makes the token stale: every worker holding
            # one would fire at the pause's end in one burst (and trip the limit again), so wait
            # it out and queue for a fresh token. This process's own pause is checked last, in
            # memory, right before sending: the database copy may not be committed yet.
            if queued and await wait_out_pause(
                self.pause, self.name, now=self._now, sleep=self._sleep
            ):
                continue
            if await self._wait_local_pause():
                continue
            return

    async def rate_limited(
        self, headers: Mapping[str, str], *, status: int, what: str, floor: float
    ) -> tuple[float, datetime]:
        """Pause every request for as long as a 429 (or a 503 with Retry-After) asks, at least
        ``floor`` seconds; returns the seconds and the pause's effective end."""
        now = self._now()
        seconds = retry_after_seconds(headers, now=now, floor=floor)
        why = headers.get("ratelimit-reason")
        reason = f"Jira answered {status} to {what}" + (f" ({why})" if why else "")
        until = await self.pause_until(now + timedelta(seconds=seconds), reason=reason)
        return seconds, until

    async def pause_until(self, until: datetime, *, reason: str) -> datetime:
        """Pause every request until at least ``until``; returns the pause's effective end."""
        # In memory first, synchronously: workers of this process must not send before
        # the database write (which may queue behind other transactions) has committed.
        if self._local_until is None or until > self._local_until:
            self._local_until = until
        try:
            return await self.pause.set_pause(self.name, until=until, reason=reason)
        except Exception as exc:  # the caller still learns of the limit and backs off
            log.error("jira.pause_not_recorded", error=repr(exc))
            return until

    async def _wait_local_pause(self) -> bool:
        """Sleep out a pause this process learned of (before it reached the database)."""
        waited = False
        while self._local_until is not None:
            left = (self._local_until - self._now()).total_seconds()
            if left <= 0:
                break
            waited = True
            await self._sleep(left)
        return waited
