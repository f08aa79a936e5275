"""Running the bridge under test beside the sandboxes: what every end-to-end harness shares.

``checked_jira`` serves a Jira sandbox that holds every request against Atlassian's published
contracts when they are available (see ``tests.support.contracts``); on a clone without them the
end-to-end tests still run against the strict sandbox, and the contract tests themselves skip
with the command that fetches the files (``KT_JIRA_REQUIRE_CONTRACTS=1`` fails instead).
``open_bridge`` starts a ``Bridge`` and serves its app on loopback; ``run_until`` drives its
worker until a condition holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kt_jira.config.models import Settings
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.service import Bridge
from tests.support.contracts import (
    CONTRACTS,
    ContractMissing,
    RequestValidator,
    contracts_required,
    find_contract,
    make_request_validator,
    validate_adf,
)

_ADF_PASSED: set[str] = set()  # ADF document shapes that met the schema (words stood in)
_EMPTY_DOC = {"type": "doc", "version": 1, "content": []}


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


def sandbox_validator() -> RequestValidator | None:
    """``warm_validator()`` where the contracts are available (or required); else ``None``."""
    if not contracts_required():
        for contract in CONTRACTS:
            try:
                find_contract(contract)
            except ContractMissing:
                return None
    return warm_validator()


@contextlib.asynccontextmanager
async def checked_jira(
    *, search_lag: float = 0.3, **settings: Any
) -> AsyncIterator[tuple[JiraSandbox, str]]:
    """A served Cloud sandbox (other ``JiraSandboxSettings`` as keywords); on leaving, its
    webhooks are drained and no request may have broken the contracts."""
    sandbox = JiraSandbox(
        JiraSandboxSettings(
            search_lag=search_lag, request_validator=sandbox_validator(), **settings
        )
    )
    async with serve_app(sandbox.app) as url:
        yield sandbox, url
        await sandbox.webhooks.drain()
    assert sandbox.contract_violations == [], "requests broke Atlassian's published contracts"


async def open_bridge(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
) -> tuple[Bridge, str]:
    """A migrated ``Bridge`` for ``settings`` and the loopback URL its app is served on; both
    close with ``stack``."""
    opened = Bridge.open(settings, migrate=True, **({"clock": clock} if clock else {}))
    bridge = await stack.enter_async_context(opened)
    url = await stack.enter_async_context(serve_app(bridge.app))
    return bridge, url


async def run_until(
    bridge: Bridge, done: Callable[[], Awaitable[bool]], *, limit: float = 15.0
) -> None:
    """Run the worker (jobs due now) until ``done()`` holds; fail after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not await done():
        if time.monotonic() > deadline:
            raise AssertionError("the bridge did not reach the expected state in time")
        if not await bridge.worker.run_once():
            await asyncio.sleep(0.05)


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


__all__ = ["checked_jira", "open_bridge", "run_until", "sandbox_validator", "warm_validator"]
