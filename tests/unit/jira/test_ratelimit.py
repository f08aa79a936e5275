"""The client-side token bucket and Retry-After parsing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import format_datetime

import pytest

from kt_jira.jira import RateLimiter, retry_after_seconds

from .conftest import FakeClock


async def test_bucket_allows_burst_then_the_steady_rate(clock: FakeClock) -> None:
    """After the burst is spent, tokens are granted exactly 1/rate seconds apart."""
    limiter = RateLimiter(2, burst=2, clock=clock.monotonic, sleep=clock.sleep)
    start = clock.monotonic()
    granted = []
    for _ in range(6):
        await limiter.acquire()
        granted.append(round(clock.monotonic() - start, 6))
    assert granted == [0, 0, 0.5, 1.0, 1.5, 2.0]


async def test_default_burst_is_small(clock: FakeClock) -> None:
    """Without an explicit burst, a cold limiter lets through about one second's budget."""
    assert RateLimiter(10).burst == 10
    assert RateLimiter(0.5).burst == 1


async def test_waiters_are_served_by_priority_then_arrival(clock: FakeClock) -> None:
    """Lower priority numbers (creates) go first; equal priorities keep their arrival order."""
    limiter = RateLimiter(1, burst=1, clock=clock.monotonic, sleep=clock.sleep)
    await limiter.acquire()
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await limiter.acquire(priority)
        order.append(name)

    await asyncio.gather(
        take("update-1", 10), take("update-2", 10), take("create-1", 0), take("create-2", 0)
    )
    assert order == ["create-1", "create-2", "update-1", "update-2"]


async def test_idle_limiter_has_no_queue(clock: FakeClock) -> None:
    """acquire() reports whether the caller had to queue, so callers can re-check the pause."""
    limiter = RateLimiter(1, burst=1, clock=clock.monotonic, sleep=clock.sleep)
    assert await limiter.acquire() is False
    assert await limiter.acquire() is True
    assert limiter.waiting == 0


async def test_cancelled_waiter_does_not_consume_a_token(clock: FakeClock) -> None:
    """A waiter cancelled while queued gives way to the next one without losing budget."""
    gate = asyncio.Event()

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        clock.advance(seconds)

    limiter = RateLimiter(1, burst=1, clock=clock.monotonic, sleep=gated_sleep)
    await limiter.acquire()
    doomed = asyncio.create_task(limiter.acquire(0))
    survivor = asyncio.create_task(limiter.acquire(10))
    await asyncio.sleep(0)
    doomed.cancel()
    gate.set()
    assert await survivor is True
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert clock.monotonic() == pytest.approx(1001.0)


def test_retry_after_in_seconds(clock: FakeClock) -> None:
    """A numeric Retry-After is taken as seconds."""
    assert retry_after_seconds({"retry-after": "30"}, now=clock.now(), floor=1) == 30


def test_retry_after_http_date(clock: FakeClock) -> None:
    """An HTTP-date Retry-After is the time left until that instant."""
    when = format_datetime(clock.now() + timedelta(seconds=45), usegmt=True)
    assert retry_after_seconds({"retry-after": when}, now=clock.now(), floor=1) == 45


def test_retry_after_zero_gets_the_floor(clock: FakeClock) -> None:
    """Data Center's 'Retry-After: 0' (and a date in the past) still waits the floor."""
    assert retry_after_seconds({"retry-after": "0"}, now=clock.now(), floor=2.5) == 2.5
    past = format_datetime(clock.now() - timedelta(seconds=10), usegmt=True)
    assert retry_after_seconds({"retry-after": past}, now=clock.now(), floor=2.5) == 2.5


def test_missing_retry_after_uses_reset_then_default(clock: FakeClock) -> None:
    """Without Retry-After, X-RateLimit-Reset is used; without both, a default backoff."""
    reset = (clock.now() + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    headers = {"x-ratelimit-reset": reset}
    assert retry_after_seconds(headers, now=clock.now(), floor=1) == 120
    assert retry_after_seconds({}, now=clock.now(), floor=1, default=5) == 5
    assert retry_after_seconds({"retry-after": "soon"}, now=clock.now(), floor=1, default=4) == 4
    assert retry_after_seconds({}, now=clock.now(), floor=8, default=5) == 8
