"""The create body carries a rule's components and assignee, checked against the create screen:
components by name from the screen's allowed values, the assignee by accountId on Cloud and by
user name on Data Center."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import DraftError
from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore, RateLimiter
from kt_jira.tickets.draft import IssueDraft
from kt_jira.tickets.rules import decide
from tests.unit.tickets.test_decide import esc

SCREEN = ["summary", "issuetype", "project", "description", "labels", "priority", "components",
          "assignee", "duedate"]  # fmt: skip
FIELDS = [
    {"id": fid, "name": name, "custom": False, "schema": {"type": kind, "system": fid}}
    for fid, name, kind in [
        ("summary", "Summary", "string"),
        ("description", "Description", "string"),
        ("issuetype", "Issue Type", "issuetype"),
        ("project", "Project", "project"),
        ("labels", "Labels", "array"),
        ("priority", "Priority", "priority"),
        ("components", "Components", "array"),
        ("assignee", "Assignee", "user"),
        ("duedate", "Due date", "date"),
    ]
]


class Site:
    """A tiny Jira answering field and create metadata for project AIGOV, on either REST version."""

    def __init__(self, prefix: str, screen: list[str]) -> None:
        self.prefix = prefix
        self.screen = screen

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        assert path.startswith(self.prefix), path
        path = path.removeprefix(self.prefix)
        if path == "/field":
            return httpx.Response(200, json=FIELDS)
        if path == "/issue/createmeta/AIGOV/issuetypes":
            types = [{"id": "10002", "name": "Task", "subtask": False}]
            return httpx.Response(200, json={"issueTypes": types, "total": 1})
        if path == "/issue/createmeta/AIGOV/issuetypes/10002":
            meta = [self._meta(f) for f in FIELDS if f["id"] in self.screen]
            return httpx.Response(200, json={"fields": meta, "total": len(meta)})
        return httpx.Response(404, json={"errorMessages": [path], "errors": {}})

    def _meta(self, field: dict[str, Any]) -> dict[str, Any]:
        entry = {"fieldId": field["id"], "key": field["id"], "name": field["name"],
                 "required": field["id"] in ("summary", "issuetype", "project"),
                 "schema": field["schema"]}  # fmt: skip
        if field["id"] == "components":
            entry["allowedValues"] = [{"id": "1", "name": "Gateway"}, {"id": "2", "name": "Policy"}]
        return entry


async def body_for(draft: IssueDraft, *, flavor: str, screen: list[str] = SCREEN) -> Any:
    """The create body JiraMetadata builds for ``draft`` against the tiny site."""
    prefix = "/rest/api/3" if flavor == "cloud" else "/rest/api/2"
    settings = JiraSettings(
        url="https://jira.test",
        flavor=flavor,  # type: ignore[arg-type]
        email="bot@example.com",
        api_token=SecretRef.literal("t"),
        pat=SecretRef.literal("p"),
    )
    site = Site(prefix, screen)
    async with JiraClient(
        settings,
        pause=MemoryPauseStore(),
        transport=httpx.MockTransport(site.handler),
        limiter=RateLimiter(1000),
    ) as client:
        return await JiraMetadata(client, settings).build_create_body(draft)


def draft(**rule_set: Any) -> IssueDraft:
    """The draft the rule ``owners`` with ``rule_set`` makes for a redaction (no custom fields)."""
    no_fields = dict.fromkeys(
        ("escalation_id", "policy_name", "model", "gateway_id", "console_url")
    )
    config = settings_from_dict(
        {"jira": {"fields": no_fields}, "rules": [{"name": "owners", "set": rule_set}]}
    )
    return decide(esc(), config.content, received_at=datetime(2026, 1, 1, tzinfo=UTC)).draft


@pytest.mark.parametrize(
    ("flavor", "assignee"),
    [("cloud", {"accountId": "5d53f3"}), ("datacenter", {"name": "5d53f3"})],
)
async def test_components_and_assignee_are_sent(flavor: str, assignee: dict[str, str]) -> None:
    """Components go by their screen name ([{name}]) and the assignee as the flavour wants."""
    body = await body_for(draft(components=["policy", "Gateway"], assignee="5d53f3"), flavor=flavor)
    assert body["fields"]["components"] == [{"name": "Policy"}, {"name": "Gateway"}]
    assert body["fields"]["assignee"] == assignee
    json.dumps(body)  # serialisable as sent


async def test_unknown_component_names_the_rule() -> None:
    """A component the project lacks is a DraftError naming the rule and the allowed ones."""
    with pytest.raises(DraftError) as caught:
        await body_for(draft(components=["Billing"]), flavor="cloud")
    message = str(caught.value)
    assert "component 'Billing'" in message
    assert "(it has: Gateway, Policy)" in message
    assert "set.components of rule 'owners'" in message


async def test_assignee_off_the_screen_says_so() -> None:
    """An assignee when the create screen lacks the field is a DraftError saying to add it."""
    screen = [f for f in SCREEN if f != "assignee"]
    with pytest.raises(DraftError, match=r"'Assignee' .* is not on the AIGOV Task create screen"):
        await body_for(draft(assignee="x"), flavor="cloud", screen=screen)


async def test_nothing_extra_without_components_or_assignee() -> None:
    """A rule without components or assignee sends neither."""
    body = await body_for(draft(), flavor="cloud")
    assert "components" not in body["fields"]
    assert "assignee" not in body["fields"]
