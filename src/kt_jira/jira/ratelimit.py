"""Rate limiting: the client-side token bucket and reading Jira's ``Retry-After`` signals.

``RateLimiter`` keeps the bridge under the site's budget before Jira has to say 429, and grants
in priority order (creates before updates). It never sleeps while holding anything but its own
dispatcher task, which exits as soon as nobody is waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

PRIORITY_CREATE = 0
PRIORITY_DEFAULT = 10
# Atlassian's advice when a 429 names no delay: start at about 2 s (jira-notes §6.1).
DEFAULT_BACKOFF_SECONDS = 5.0


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    future: asyncio.Future[None] = field(compare=False)


class RateLimiter:
    """An async token bucket of ``rate_per_second`` that grants lowest ``priority`` first.

    Within one priority, grants are first come, first served. ``burst`` is the bucket size:
    small by default, so a cold start never fires far over the budget.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate = rate_per_second
        self.burst = max(1, int(rate_per_second)) if burst is None else burst
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.future.done())

    async def acquire(self, priority: int = PRIORITY_DEFAULT) -> bool:
        """Wait for one token; lower ``priority`` numbers are served first.

        Returns whether the caller had to queue (so it can re-check anything that may have
        changed meanwhile, such as a shared pause).
        """
        if not self._waiters and self._take():
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, _Waiter(priority, next(self._seq), future))
        self._ensure_dispatcher()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._tokens = min(self.burst, self._tokens + 1)  # granted, then cancelled
            future.cancel()  # the dispatcher skips cancelled waiters
            raise
        return True

    def _take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="jira-rate-limiter")

    async def _dispatch(self) -> None:
        while True:
            while self._waiters and self._waiters[0].future.done():
                heapq.heappop(self._waiters)
            if not self._waiters:
                return
            if self._take():
                heapq.heappop(self._waiters).future.set_result(None)
                continue
            await self._sleep((1 - self._tokens) / self.rate)


def retry_after_seconds(
    headers: Mapping[str, str],
    *,
    now: datetime,
    floor: float,
    default: float = DEFAULT_BACKOFF_SECONDS,
) -> float:
    """Seconds to wait from a 429/503 response's headers, never less than ``floor``.

    ``Retry-After`` may be seconds or an HTTP-date; Data Center often says 0, so the floor
    always applies. Without it, ``X-RateLimit-Reset`` (an ISO-8601 instant) is used, then
    ``default``.
    """
    seconds = _parse_retry_after(headers.get("retry-after"), now)
    if seconds is None:
        seconds = _parse_reset(headers.get("x-ratelimit-reset"), now)
    if seconds is None:
        seconds = default
    return max(floor, seconds)


def _parse_retry_after(value: str | None, now: datetime) -> float | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about local time
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _parse_reset(value: str | None, now: datetime) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
