"""Fixtures for the Jira client's unit tests: a fake clock and clients over MockTransport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, MemoryPauseStore, RateLimiter

TOKEN = "tok-SUPER-SECRET-9f8e7d"
EMAIL = "bot@example.com"


class FakeClock:
    """Wall and monotonic time that only move when something sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.wall = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


Handler = Callable[[httpx.Request], httpx.Response]


def jira_settings(**overrides: Any) -> JiraSettings:
    values: dict[str, Any] = {
        "url": "https://jira.test",
        "email": EMAIL,
        "api_token": SecretRef.literal(TOKEN),
        "retry_after_floor_seconds": 1.0,
    }
    values.update(overrides)
    return JiraSettings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pause() -> MemoryPauseStore:
    return MemoryPauseStore()


@pytest.fixture
def make_client(clock: FakeClock, pause: MemoryPauseStore) -> Callable[..., JiraClient]:
    """Build a JiraClient over a MockTransport, on the fake clock, with a generous limiter."""

    def build(
        handler: Handler,
        *,
        settings: JiraSettings | None = None,
        limiter: RateLimiter | None = None,
    ) -> JiraClient:
        return JiraClient(
            settings or jira_settings(),
            pause=pause,
            transport=httpx.MockTransport(handler),
            limiter=limiter or RateLimiter(1000, clock=clock.monotonic, sleep=clock.sleep),
            now=clock.now,
            sleep=clock.sleep,
        )

    return build
