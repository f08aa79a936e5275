"""Fixtures for the Jira client against the real JiraSandbox over loopback HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from kt_jira.config import JiraSettings
from kt_jira.jira import JiraClient, MemoryPauseStore, RateLimiter
from kt_jira.sandbox.jira_app import JiraSandbox
from kt_jira.sandbox.jira_state import JiraSandboxSettings
from kt_jira.sandbox.server import serve_app
from kt_jira.secretref import SecretRef
from tests.support.contracts import make_request_validator


@dataclass(frozen=True, kw_only=True)
class Site:
    """A running sandbox, the bridge's client to it, and the shared pause they use."""

    sandbox: JiraSandbox
    jira: JiraClient
    pause: MemoryPauseStore
    url: str


def client_settings(sandbox: JiraSandbox, url: str, **overrides: Any) -> JiraSettings:
    values: dict[str, Any] = {
        "url": url,
        "email": sandbox.settings.email,
        "api_token": SecretRef.literal(sandbox.settings.api_token),
        "retry_after_floor_seconds": 0.0,
    }
    values.update(overrides)
    return JiraSettings(**values)


@contextlib.asynccontextmanager
async def open_site(
    *,
    limiter: RateLimiter | None = None,
    client: dict[str, Any] | None = None,
    **sandbox_settings: Any,
) -> AsyncIterator[Site]:
    """Serve a fresh sandbox (every request checked against Jira's contract) and connect to it."""
    sandbox_settings.setdefault("search_lag", 0.3)
    sandbox = JiraSandbox(
        JiraSandboxSettings(request_validator=make_request_validator(), **sandbox_settings)
    )
    pause = MemoryPauseStore()
    async with serve_app(sandbox.app) as url:
        settings = client_settings(sandbox, url, **(client or {}))
        async with JiraClient(settings, pause=pause, limiter=limiter) as jira:
            yield Site(sandbox=sandbox, jira=jira, pause=pause, url=url)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with open_site() as opened:
        yield opened
