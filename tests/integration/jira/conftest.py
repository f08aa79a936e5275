"""Fixtures for the Jira client against the real JiraSandbox (Cloud or Data Center) over
loopback HTTP. Cloud sites check every request against Jira's published contract."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, MemoryPauseStore, RateLimiter
from kt_jira.sandbox.jira.app import JiraSandbox
from kt_jira.sandbox.jira.state import JiraSandboxSettings
from kt_jira.sandbox.server import serve_app
from tests.support.contracts import RequestValidator, make_request_validator, validate_adf


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


_ADF_PASSED: set[str] = set()  # ADF document shapes that met the schema (words stood in)
_EMPTY_DOC = {"type": "doc", "version": 1, "content": []}


def _shape(value: Any) -> Any:
    """``value`` with every ADF text (and link href) replaced by a stand-in of the same
    emptiness: the ADF schema constrains structure, not words."""
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if not isinstance(value, dict):
        return value
    shaped = {key: _shape(item) for key, item in value.items()}
    if value.get("type") == "text" and isinstance(value.get("text"), str):
        shaped["text"] = "x" if value["text"] else ""
    if value.get("type") == "link" and isinstance(value.get("attrs"), dict):
        shaped["attrs"] = {**value["attrs"], "href": "x"}  # any string (link_mark)
    return shaped


def _without_docs(value: Any, found: list[Any]) -> Any:
    """``value`` with each ADF document moved into ``found`` and an empty one in its place."""
    if isinstance(value, list):
        return [_without_docs(item, found) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") == "doc" and "version" in value:
        found.append(value)
        return _EMPTY_DOC
    return {key: _without_docs(item, found) for key, item in value.items()}


def warm_validator() -> RequestValidator:
    """The contract validator with the 2.4 MB spec compiled before the sandbox runs (compiling
    inside a request would stall its loop). Every body is checked against the OpenAPI spec;
    each ADF document against the ADF schema once per shape (a check costs about a second)."""
    full = make_request_validator()
    full("POST", "/rest/api/3/issue", {"fields": {"summary": "warm-up", "description": _EMPTY_DOC}})

    def validate(method: str, path: str, body: object) -> None:
        docs: list[Any] = []
        full(method, path, _without_docs(body, docs))
        for doc in docs:
            key = json.dumps(_shape(doc), sort_keys=True)
            if key not in _ADF_PASSED:
                validate_adf(doc, where=f"an ADF document in {method} {urlsplit(path).path}")
                _ADF_PASSED.add(key)

    return validate


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with open_site() as opened:
        yield opened
