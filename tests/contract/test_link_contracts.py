"""The requests JiraClient sends for issue links, labels and assignment, captured as sent and
held against Jira Cloud's OpenAPI spec; and bodies that break the spec failing it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, MemoryPauseStore, RateLimiter
from tests.support.contracts import validate_jira_request

LINK_TYPES = {"issueLinkTypes": [{"id": "10003", "name": "Relates", "inward": "relates to"}]}

Sent = tuple[str, str, object]


async def _sent(call: Callable[[JiraClient], Awaitable[object]]) -> list[Sent]:
    """Every request ``call`` makes through a Cloud client: (method, path, JSON body or None)."""
    seen: list[Sent] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        if request.url.path.endswith("/issueLinkType"):
            return httpx.Response(200, json=LINK_TYPES)
        return httpx.Response(201 if request.method == "POST" else 204)

    settings = JiraSettings(
        url="https://example.atlassian.net",
        email="bot@example.com",
        api_token=SecretRef.literal("token"),
    )
    client = JiraClient(
        settings,
        pause=MemoryPauseStore(),
        transport=httpx.MockTransport(handler),
        limiter=RateLimiter(1000, burst=100),
    )
    async with client:
        await call(client)
    return seen


async def test_issue_link_type_list_is_a_get_without_a_body() -> None:
    """issue_link_types() is GET /rest/api/3/issueLinkType with no body."""
    sent = await _sent(lambda jira: jira.issue_link_types())
    assert [(method, path) for method, path, _ in sent] == [("GET", "/rest/api/3/issueLinkType")]
    for method, path, body in sent:
        validate_jira_request(method, path, body)


async def test_link_issues_body_meets_the_contract() -> None:
    """link_issues() sends a LinkIssueRequestJsonBean: type by name, issues by key or id."""
    sent = await _sent(lambda jira: jira.link_issues("Relates", inward="AIGOV-2", outward="10001"))
    [(method, path, body)] = sent
    assert (method, path) == ("POST", "/rest/api/3/issueLink")
    assert body == {
        "type": {"name": "Relates"},
        "inwardIssue": {"key": "AIGOV-2"},
        "outwardIssue": {"id": "10001"},
    }
    validate_jira_request(method, path, body)


async def test_add_labels_body_meets_the_contract() -> None:
    """add_labels() sends PUT /issue/{key} with ``update.labels`` add operations only."""
    sent = await _sent(lambda jira: jira.add_labels("AIGOV-1", ["sla-breached", "FP Policy"]))
    [(method, path, body)] = sent
    assert (method, path) == ("PUT", "/rest/api/3/issue/AIGOV-1")
    assert body == {"update": {"labels": [{"add": "sla-breached"}, {"add": "fp-policy"}]}}
    validate_jira_request(method, path, body)


async def test_assign_body_meets_the_contract() -> None:
    """assign() sends PUT /issue/{key}/assignee with a User holding only the accountId."""
    sent = await _sent(lambda jira: jira.assign("AIGOV-1", "5d53f3cbc6b9320d9ea5bdc2"))
    [(method, path, body)] = sent
    assert (method, path, body) == (
        "PUT",
        "/rest/api/3/issue/AIGOV-1/assignee",
        {"accountId": "5d53f3cbc6b9320d9ea5bdc2"},
    )
    validate_jira_request(method, path, body)


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("POST", "/rest/api/3/issueLink", {"type": {"name": "Relates"}}, "inwardIssue"),
        (
            "POST",
            "/rest/api/3/issueLink",
            {"type": "Relates", "inwardIssue": {"key": "A-1"}, "outwardIssue": {"key": "A-2"}},
            r"\$\.type",
        ),
        ("PUT", "/rest/api/3/issue/AIGOV-1/assignee", {"account": "5d53"}, "account"),
        ("PUT", "/rest/api/3/issue/AIGOV-1", {"update": {"labels": [{"append": "x"}]}}, "append"),
        ("GET", "/rest/api/3/issueLinkType", {"names": ["Relates"]}, "no JSON request body"),
    ],
)
def test_bodies_that_break_the_contract_fail(
    method: str, path: str, body: object, where: str
) -> None:
    """Missing parts, wrong types and unknown properties are caught by the spec."""
    with pytest.raises(AssertionError, match=where):
        validate_jira_request(method, path, body)
