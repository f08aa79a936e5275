"""find_by_label: exact label lookups over enhanced search pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from kt_jira.jira import JiraClient, find_by_label


def _issue(issue_id: str, *labels: str) -> dict[str, Any]:
    return {"id": issue_id, "key": f"AIGOV-{issue_id}", "fields": {"labels": list(labels)}}


async def test_follows_pages_and_keeps_only_exact_label_matches(
    make_client: Callable[..., JiraClient],
) -> None:
    """Pages are followed by token; issues whose labels lack the exact label are dropped."""
    pages = {
        None: {"issues": [_issue("1", "kt-esc-a"), _issue("2", "KT-ESC-A")], "nextPageToken": "p2"},
        "p2": {"issues": [_issue("3", "x", "kt-esc-a")], "isLast": True},
    }
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(200, json=pages[body.get("nextPageToken")])

    async with make_client(handler) as jira:
        found = await find_by_label(jira, project="AIGOV", label="kt-esc-a")
    assert [issue["id"] for issue in found] == ["1", "3"]
    assert bodies[0]["jql"] == ('project = "AIGOV" AND labels = "kt-esc-a" ORDER BY created ASC')
    assert bodies[0]["fields"] == ["labels", "created", "summary", "status"]


async def test_a_repeated_page_token_ends_the_walk(make_client: Callable[..., JiraClient]) -> None:
    """A server that hands back the same token forever cannot trap the lookup."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"issues": [_issue("1", "m")], "nextPageToken": "same"})

    async with make_client(handler) as jira:
        found = await find_by_label(jira, project="AIGOV", label="m")
    assert [issue["id"] for issue in found] == ["1"]
    assert calls == 2


async def test_label_is_escaped_in_jql(make_client: Callable[..., JiraClient]) -> None:
    """A hostile label cannot break out of its JQL string literal."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["jql"])
        return httpx.Response(200, json={"issues": [], "isLast": True})

    async with make_client(handler) as jira:
        assert await find_by_label(jira, project="AIGOV", label='x" OR project = "SECRET') == []
    assert seen == [
        'project = "AIGOV" AND labels = "x\\" OR project = \\"SECRET" ORDER BY created ASC'
    ]
