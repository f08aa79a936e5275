"""JiraClient endpoints: auth, version prefix, pagination, parsing, request priority."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

import httpx
import pytest

from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from kt_jira.jira import JiraClient, RateLimiter
from kt_jira.tickets.draft import CreatedIssue

from .conftest import EMAIL, TOKEN, FakeClock, jira_settings

MakeClient = Callable[..., JiraClient]


async def test_cloud_uses_basic_auth_and_rest_v3(make_client: MakeClient) -> None:
    """Cloud requests carry Basic email:token and go to /rest/api/3."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"accountId": "5b10", "displayName": "KT bot"})

    async with make_client(handler) as jira:
        me = await jira.myself()
    assert (me.account_id, me.display_name) == ("5b10", "KT bot")
    expected = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    assert seen[0].headers["authorization"] == f"Basic {expected}"
    assert seen[0].url.path == "/rest/api/3/myself"


async def test_datacenter_uses_bearer_pat_and_rest_v2(make_client: MakeClient) -> None:
    """Data Center requests carry the PAT as Bearer and go to /rest/api/2."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"key": "JIRAUSER1", "displayName": "bot"})

    settings = jira_settings(flavor="datacenter", pat=SecretRef.literal("pat-123"))
    async with make_client(handler, settings=settings) as jira:
        me = await jira.myself()
    assert me.account_id == "JIRAUSER1"
    assert seen[0].headers["authorization"] == "Bearer pat-123"
    assert seen[0].url.path == "/rest/api/2/myself"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"email": None}, "jira.email"),
        ({"api_token": None}, "jira.api_token"),
        ({"flavor": "datacenter", "pat": None}, "jira.pat"),
    ],
)
async def test_missing_credentials_name_the_key_to_set(
    make_client: MakeClient, overrides: dict[str, object], key: str
) -> None:
    """Opening a client without credentials is a ConfigError naming the config key."""
    client = make_client(lambda r: httpx.Response(200), settings=jira_settings(**overrides))
    with pytest.raises(ConfigError, match=key):
        async with client:
            pass


async def test_createmeta_issue_types_follow_pages(make_client: MakeClient) -> None:
    """create_issue_types walks startAt pages (maxResults at most 200) until total is reached."""
    all_types = [{"id": str(i), "name": f"Type {i}", "subtask": i == 3} for i in range(5)]
    asked: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startAt"])
        size = int(request.url.params["maxResults"])
        asked.append((start, size))
        page = all_types[start : start + 2]  # the server may return fewer than asked
        return httpx.Response(200, json={"issueTypes": page, "startAt": start, "total": 5})

    async with make_client(handler) as jira:
        types = await jira.create_issue_types("AIGOV")
    assert [t.name for t in types] == [f"Type {i}" for i in range(5)]
    assert types[3].subtask
    assert [s for s, _ in asked] == [0, 2, 4]
    assert all(size <= 200 for _, size in asked)


async def test_create_fields_parse_schema_and_allowed_values(make_client: MakeClient) -> None:
    """create_fields returns typed entries with schema and allowed values."""
    body = {
        "fields": [
            {
                "fieldId": "priority",
                "key": "priority",
                "name": "Priority",
                "required": False,
                "schema": {"type": "priority", "system": "priority"},
                "allowedValues": [{"id": "2", "name": "High"}, {"id": "3", "name": "Medium"}],
                "operations": ["set"],
            },
            {
                "fieldId": "customfield_10432",
                "key": "customfield_10432",
                "name": "Policy Name",
                "required": True,
                "hasDefaultValue": False,
                "schema": {"type": "string", "custom": "x:textfield", "customId": 10432},
                "operations": ["set"],
            },
        ],
        "startAt": 0,
        "maxResults": 200,
        "total": 2,
    }
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=body)

    async with make_client(handler) as jira:
        fields = await jira.create_fields("AIGOV", "10002")
    assert seen == ["/rest/api/3/issue/createmeta/AIGOV/issuetypes/10002"]
    priority, policy = fields
    assert [v.name for v in priority.allowed_values] == ["High", "Medium"]
    assert (policy.field_id, policy.required, policy.schema_custom) == (
        "customfield_10432",
        True,
        "x:textfield",
    )


async def test_search_posts_to_enhanced_search(make_client: MakeClient) -> None:
    """search() uses POST /search/jql with fields and the page token, never the removed /search."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"issues": [{"id": "1"}], "nextPageToken": "t2"})

    async with make_client(handler) as jira:
        page = await jira.search("project = X", fields=["labels"], next_page_token="t1")
    assert (seen[0].method, seen[0].url.path) == ("POST", "/rest/api/3/search/jql")
    assert json.loads(seen[0].content) == {
        "jql": "project = X",
        "fields": ["labels"],
        "maxResults": 50,
        "nextPageToken": "t1",
    }
    assert (page.issues, page.next_page_token, page.is_last) == ([{"id": "1"}], "t2", False)


async def test_path_segments_are_escaped(make_client: MakeClient) -> None:
    """An issue key cannot escape its path segment."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"transitions": [{"id": "31"}]})

    async with make_client(handler) as jira:
        assert [t.id for t in await jira.transitions("../../myself")] == ["31"]
    assert seen == ["/rest/api/3/issue/..%2F..%2Fmyself/transitions?expand=transitions.fields"]


async def test_creates_jump_the_queue_when_the_budget_is_tight(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """With one token per second, a queued create is sent before reads queued earlier."""
    order: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        order.append(f"{request.method} {request.url.path.removeprefix('/rest/api/3')}")
        if request.method == "POST":
            return httpx.Response(201, json={"id": "10001", "key": "AIGOV-1", "self": "x"})
        return httpx.Response(200, json=[])

    limiter = RateLimiter(1, burst=1, clock=clock.monotonic, sleep=clock.sleep)
    async with make_client(handler, limiter=limiter) as jira:
        created, *_ = await asyncio.gather(
            _create_after_reads(jira), jira.fields(), jira.fields(), jira.fields()
        )
    assert created.key == "AIGOV-1"
    assert order == ["GET /field", "POST /issue", "GET /field", "GET /field"]


async def _create_after_reads(jira: JiraClient) -> CreatedIssue:
    await asyncio.sleep(0)  # arrive after the reads have queued
    return await jira.create_issue({"fields": {}})
