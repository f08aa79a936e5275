"""The client on Data Center: REST v2 paths, a Bearer PAT, DC's createmeta and search shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, SearchPage
from kt_jira.jira.models import FieldInfo

from .conftest import EMAIL, TOKEN, jira_settings

PAT = "dc-pat-SECRET-4242"


def _dc(**overrides: Any) -> Any:
    return jira_settings(flavor="datacenter", pat=SecretRef.literal(PAT), **overrides)


async def test_requests_go_to_v2_with_a_bearer_pat_never_basic(
    make_client: Callable[..., JiraClient],
) -> None:
    """Every DC request uses /rest/api/2 and `Bearer <PAT>`, even when Cloud credentials are
    also configured."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"name": "bot", "key": "JIRAUSER1", "displayName": "B"})

    async with make_client(handler, settings=_dc()) as jira:
        me = await jira.myself()
    [request] = seen
    assert request.url.path == "/rest/api/2/myself"
    assert request.headers["authorization"] == f"Bearer {PAT}"
    assert EMAIL not in str(request.headers)
    assert TOKEN not in str(request.headers)
    assert me.account_id == "JIRAUSER1"


async def test_createmeta_values_pages_are_followed_until_is_last(
    make_client: Callable[..., JiraClient],
) -> None:
    """DC answers createmeta with `values` and `isLast`; every page is read."""
    pages = {
        0: {"values": [{"id": "1", "name": "Bug"}], "startAt": 0, "total": 2, "isLast": False},
        1: {"values": [{"id": "2", "name": "Task"}], "startAt": 1, "total": 2, "isLast": True},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[int(request.url.params["startAt"])])

    async with make_client(handler, settings=_dc()) as jira:
        types = await jira.create_issue_types("AIGOV")
    assert [t.name for t in types] == ["Bug", "Task"]


async def test_search_pages_by_offset_behind_the_same_token_interface(
    make_client: Callable[..., JiraClient],
) -> None:
    """POST /rest/api/2/search gets startAt from the token; the next token is the next offset."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        issues = [{"id": str(body["startAt"] + 1), "key": "AIGOV-1", "fields": {}}]
        return httpx.Response(200, json={"startAt": body["startAt"], "total": 2, "issues": issues})

    async with make_client(handler, settings=_dc()) as jira:
        first = await jira.search("project = AIGOV", fields=["labels"], max_results=1)
        second = await jira.search(
            "project = AIGOV", fields=["labels"], max_results=1, next_page_token="1"
        )
    assert (first.next_page_token, first.is_last) == ("1", False)
    assert (second.next_page_token, second.is_last) == (None, True)
    assert [b["startAt"] for b in bodies] == [0, 1]
    assert bodies[0] == {
        "jql": "project = AIGOV",
        "fields": ["labels"],
        "maxResults": 1,
        "startAt": 0,
    }


def test_offset_pages_end_on_total_or_an_empty_page() -> None:
    """An offset page is the last when it reaches `total`, is empty, or has no total."""
    one = [{"id": "1"}]
    assert SearchPage.from_offset_json({"startAt": 0, "total": 1, "issues": one}).is_last
    assert SearchPage.from_offset_json({"startAt": 5, "total": 9, "issues": []}).is_last
    assert SearchPage.from_offset_json({"startAt": 0, "issues": one}).is_last
    page = SearchPage.from_offset_json({"startAt": 3, "total": 9, "issues": one})
    assert (page.next_page_token, page.is_last) == ("4", False)


def test_field_clause_prefers_the_unambiguous_cf_name() -> None:
    """JQL names a custom field by `cf[id]` (names repeat); system fields by their clause."""
    custom = FieldInfo.from_json(
        {"id": "customfield_7", "name": "X", "clauseNames": ["X", "cf[7]"], "searchable": False}
    )
    assert (custom.clause, custom.searchable) == ("cf[7]", False)
    assert FieldInfo.from_json({"id": "labels", "clauseNames": ["labels"]}).clause == "labels"
