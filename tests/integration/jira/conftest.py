"""Fixtures for the Jira client against the real JiraSandbox (Cloud or Data Center) over
loopback HTTP. Cloud sites check every request against Jira's published contract."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, MemoryPauseStore, RateLimiter
from kt_jira.sandbox.jira.app import JiraSandbox
from kt_jira.sandbox.jira.state import JiraSandboxSettings
from kt_jira.sandbox.server import serve_app
from tests.support.running import warm_validator


@dataclass(frozen=True, kw_only=True)
class Site:
    """A running sandbox, the bridge's client to it, and the shared pause they use."""

    sandbox: JiraSandbox
    jira: JiraClient
    pause: MemoryPauseStore
    url: str


def client_settings(sandbox: JiraSandbox, url: str, **overrides: Any) -> JiraSettings:
    """The bridge's settings for ``sandbox``: Basic email:token on Cloud, a Bearer PAT on DC."""
    values: dict[str, Any] = {"url": url, "retry_after_floor_seconds": 0.0}
    if sandbox.settings.flavor == "datacenter":
        values |= {"flavor": "datacenter", "pat": SecretRef.literal(sandbox.settings.pat)}
    else:
        values |= {
            "email": sandbox.settings.email,
            "api_token": SecretRef.literal(sandbox.settings.api_token),
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
    """Serve a fresh sandbox and connect to it; on Cloud every request is checked against
    Jira's contract (the OpenAPI spec has no Data Center operations)."""
    sandbox_settings.setdefault("search_lag", 0.3)
    if sandbox_settings.get("flavor", "cloud") == "cloud":
        sandbox_settings.setdefault("request_validator", warm_validator())
    sandbox = JiraSandbox(JiraSandboxSettings(**sandbox_settings))
    pause = MemoryPauseStore()
    async with serve_app(sandbox.app) as url:
        settings = client_settings(sandbox, url, **(client or {}))
        async with JiraClient(settings, pause=pause, limiter=limiter) as jira:
            yield Site(sandbox=sandbox, jira=jira, pause=pause, url=url)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with open_site() as opened:
        yield opened
