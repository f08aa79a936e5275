"""Fixtures for the sandbox tests: simulators served on real loopback HTTP, and body helpers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    KeeptrustsSandbox,
    KeeptrustsSandboxSettings,
    serve_app,
)


@dataclass(frozen=True)
class JiraSite:
    """A served Jira sandbox and an authenticated client to it."""

    sandbox: JiraSandbox
    url: str
    http: httpx.AsyncClient

    async def create(self, **fields: Any) -> httpx.Response:
        return await self.http.post("/rest/api/3/issue", json=create_body(**fields))

    async def search(self, jql: str, **params: Any) -> httpx.Response:
        """POST a search; asks for `key` unless ``fields`` is given (Jira's default is id only)."""
        params.setdefault("fields", ["key"])
        return await self.http.post("/rest/api/3/search/jql", json={"jql": jql, **params})


@dataclass(frozen=True)
class KeeptrustsSite:
    sandbox: KeeptrustsSandbox
    url: str
    http: httpx.AsyncClient


def adf(text: str) -> dict[str, Any]:
    """A minimal valid ADF document holding ``text``."""
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def create_body(**fields: Any) -> dict[str, Any]:
    """A valid create body for AIGOV/Task; keyword arguments override or add fields (None drops)."""
    body: dict[str, Any] = {
        "project": {"key": "AIGOV"},
        "issuetype": {"name": "Task"},
        "summary": "AI Escalation: pii-detector - escalate (gpt-4o)",
        "description": adf("A request was escalated."),
        "priority": {"name": "High"},
        "labels": ["ai-governance", "keeptrusts"],
        "customfield_10431": "esc_abc123",
    }
    body.update(fields)
    return {"fields": {k: v for k, v in body.items() if v is not None}}


@contextlib.asynccontextmanager
async def running_jira(**settings: Any) -> AsyncIterator[JiraSite]:
    """Serve a fresh Jira sandbox with ``settings`` and yield it with a client: Basic auth on
    Cloud, the Bearer PAT on Data Center."""
    settings.setdefault("search_lag", 0.0)
    sandbox = JiraSandbox(JiraSandboxSettings(**settings))
    auth = (sandbox.settings.email, sandbox.settings.api_token)
    headers: dict[str, str] = {}
    if sandbox.settings.flavor == "datacenter":
        headers = {"Authorization": f"Bearer {sandbox.settings.pat}"}
    async with (
        serve_app(sandbox.app) as url,
        httpx.AsyncClient(
            base_url=url, auth=None if headers else auth, headers=headers, timeout=10
        ) as http,
    ):
        yield JiraSite(sandbox, url, http)


@pytest.fixture
async def jira() -> AsyncIterator[JiraSite]:
    async with running_jira() as site:
        yield site


@pytest.fixture
async def keeptrusts() -> AsyncIterator[KeeptrustsSite]:
    sandbox = KeeptrustsSandbox(KeeptrustsSandboxSettings())
    headers = {"Authorization": f"Bearer {sandbox.settings.api_token}"}
    async with (
        serve_app(sandbox.app) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http,
    ):
        yield KeeptrustsSite(sandbox, url, http)
