"""People in the Jira sandbox: PUT /assignee on both flavours, a person's assignment, comment and
transition (over ``/_sandbox`` and from Python), the webhooks each sends, and edits that change
nothing sending none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kt_jira.sandbox import serve_app
from kt_jira.sandbox.jira.state import HUMAN

from .conftest import JiraSite, adf, running_jira

EVENTS = ["jira:issue_updated", "comment_created"]


@dataclass
class Hooks:
    """A webhook endpoint registered on the site: every payload it received, in order."""

    jira: JiraSite
    received: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.received.append(await request.json())
        return Response(status_code=204)

    async def arrived(self) -> list[dict[str, Any]]:
        """What arrived since the last call, once every delivery started so far has landed."""
        await self.jira.sandbox.webhooks.drain()
        new, self.received = self.received, []
        return new


@pytest.fixture
async def hooks(jira: JiraSite) -> AsyncIterator[Hooks]:
    recorder = Hooks(jira)
    app = Starlette(routes=[Route("/hook", recorder.handle, methods=["POST"])])
    async with serve_app(app) as url:
        body = {"name": "test", "url": f"{url}/hook", "events": EVENTS}
        registered = await jira.http.post("/rest/webhooks/1.0/webhook", json=body)
        assert registered.status_code == 201, registered.text
        yield recorder


async def _fields(jira: JiraSite, key: str = "AIGOV-1", api: str = "3") -> dict[str, Any]:
    response = await jira.http.get(f"/rest/api/{api}/issue/{key}")
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


def _items(payload: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(i["field"], i["fromString"], i["toString"]) for i in payload["changelog"]["items"]]


async def test_put_assignee_on_cloud_takes_an_account_id(jira: JiraSite, hooks: Hooks) -> None:
    """{accountId} assigns (204) and sends issue_assigned with the assignee's names; null
    unassigns; the same assignee again changes nothing and sends nothing."""
    await jira.create()
    await hooks.arrived()
    url = "/rest/api/3/issue/AIGOV-1/assignee"
    assigned = await jira.http.put(url, json={"accountId": HUMAN.account_id})
    assert (assigned.status_code, assigned.content) == (204, b"")
    assert (await _fields(jira))["assignee"]["accountId"] == HUMAN.account_id
    [event] = await hooks.arrived()
    assert event["webhookEvent"] == "jira:issue_updated"
    assert event["issue_event_type_name"] == "issue_assigned"
    assert event["user"]["accountId"] == jira.sandbox.settings.account_id
    assert _items(event) == [("assignee", None, HUMAN.display_name)]
    again = await jira.http.put(url, json={"accountId": HUMAN.account_id})
    assert again.status_code == 204
    assert await hooks.arrived() == []
    assert (await jira.http.put(url, json={"accountId": None})).status_code == 204
    assert (await _fields(jira))["assignee"] is None
    [unassigned] = await hooks.arrived()
    assert _items(unassigned) == [("assignee", HUMAN.display_name, None)]


async def test_put_assignee_refuses_unknown_users_and_issues(jira: JiraSite) -> None:
    """An unknown accountId or a body without one is a 400, an unknown issue a 404."""
    await jira.create()
    url = "/rest/api/3/issue/AIGOV-1/assignee"
    ghost = await jira.http.put(url, json={"accountId": "5f0000000000000000000000"})
    assert ghost.status_code == 400
    assert ghost.json() == {
        "errorMessages": [],
        "errors": {"assignee": "User '5f0000000000000000000000' does not exist."},
    }
    by_name = await jira.http.put(url, json={"name": "ada"})
    assert by_name.status_code == 400
    assert "accountId" in by_name.json()["errors"]["assignee"]
    missing = await jira.http.put(
        "/rest/api/3/issue/AIGOV-9/assignee", json={"accountId": HUMAN.account_id}
    )
    assert missing.status_code == 404
    assert (await _fields(jira))["assignee"] is None


async def test_put_assignee_on_data_center_takes_a_user_name() -> None:
    """DC assigns by ``name`` (204, the v2 user back), refuses an accountId and unknown names."""
    async with running_jira(flavor="datacenter") as jira:
        fields = {"project": {"key": "AIGOV"}, "issuetype": {"name": "Task"}, "summary": "DC"}
        assert (await jira.http.post("/rest/api/2/issue", json={"fields": fields})).is_success
        url = "/rest/api/2/issue/AIGOV-1/assignee"
        cloud_style = await jira.http.put(url, json={"accountId": HUMAN.account_id})
        ghost = await jira.http.put(url, json={"name": "nobody"})
        assigned = await jira.http.put(url, json={"name": "ada"})
        assignee = (await _fields(jira, api="2"))["assignee"]
        assert (await jira.http.put(url, json={"name": None})).status_code == 204
        after = (await _fields(jira, api="2"))["assignee"]
    assert cloud_style.status_code == 400
    assert ghost.json()["errors"] == {"assignee": "User 'nobody' does not exist."}
    assert assigned.status_code == 204
    assert (assignee["name"], assignee["key"]) == ("ada", HUMAN.key)
    assert after is None


async def test_a_person_assigns_and_comments_over_the_sandbox_routes(
    jira: JiraSite, hooks: Hooks
) -> None:
    """/_sandbox/issues/{key}/assignee and /comment act as Ada, not the bridge: Jira shows her
    as the comment's author and each webhook's user."""
    await jira.create()
    await hooks.arrived()
    bot = jira.sandbox.settings.account_id
    step = await jira.http.post("/_sandbox/issues/AIGOV-1/assignee", json={"account": bot})
    assert step.status_code == 200
    assert (await _fields(jira))["assignee"]["accountId"] == bot
    said = await jira.http.post("/_sandbox/issues/AIGOV-1/comment", json={"body": "Looking"})
    assert said.status_code == 200
    [comment] = (await jira.http.get("/rest/api/3/issue/AIGOV-1/comment")).json()["comments"]
    assert comment["author"]["accountId"] == HUMAN.account_id
    assert comment["body"] == adf("Looking")
    assigned, commented = await hooks.arrived()
    assert (assigned["webhookEvent"], assigned["user"]["accountId"]) == (
        "jira:issue_updated",
        HUMAN.account_id,
    )
    assert _items(assigned) == [("assignee", None, jira.sandbox.settings.display_name)]
    assert (commented["webhookEvent"], commented["user"]["accountId"]) == (
        "comment_created",
        HUMAN.account_id,
    )
    assert commented["comment"]["body"] == adf("Looking")
    nobody = await jira.http.post("/_sandbox/issues/AIGOV-1/assignee", json={"account": "bob"})
    no_issue = await jira.http.post("/_sandbox/issues/AIGOV-7/comment", json={"body": "x"})
    assert (nobody.status_code, no_issue.status_code) == (409, 409)
    assert await hooks.arrived() == []


async def test_python_helpers_act_as_a_person(jira: JiraSite, hooks: Hooks) -> None:
    """assign_issue, comment_issue and transition_issue change what Jira serves and send the
    webhooks a person's changes send (Waiting for customer is reachable and back)."""
    await jira.create()
    await hooks.arrived()
    jira.sandbox.assign_issue("AIGOV-1", "ada")
    jira.sandbox.transition_issue("AIGOV-1", "In Progress")
    jira.sandbox.transition_issue("AIGOV-1", "Waiting for customer")
    jira.sandbox.comment_issue("AIGOV-1", adf("Any news?"), author=HUMAN.account_id)
    fields = await _fields(jira)
    assert fields["assignee"]["accountId"] == HUMAN.account_id
    assert (fields["status"]["name"], fields["status"]["statusCategory"]["key"]) == (
        "Waiting for customer",
        "indeterminate",
    )
    assert fields["comment"]["comments"][0]["body"] == adf("Any news?")
    events = await hooks.arrived()
    assert [e["webhookEvent"] for e in events] == [*["jira:issue_updated"] * 3, "comment_created"]
    assert {e["user"]["accountId"] for e in events} == {HUMAN.account_id}
    assert _items(events[2]) == [("status", "In Progress", "Waiting for customer")]
    with pytest.raises(ValueError, match="no user"):
        jira.sandbox.assign_issue("AIGOV-1", "nobody")
    with pytest.raises(ValueError, match="no user"):
        jira.sandbox.comment_issue("AIGOV-1", "hi", author="nobody")
    with pytest.raises(ValueError, match="no issue"):
        jira.sandbox.comment_issue("AIGOV-5", "hi")


async def test_an_edit_that_changes_nothing_sends_no_webhook(jira: JiraSite, hooks: Hooks) -> None:
    """Setting values an issue already has, or adding a label it has, is a 204 and no event;
    a real change sends one event with only the changed items."""
    await jira.create(summary="Same", labels=["keeptrusts"])
    await hooks.arrived()
    updated = (await _fields(jira))["updated"]
    url = "/rest/api/3/issue/AIGOV-1"
    same = {"fields": {"summary": "Same"}, "update": {"labels": [{"add": "keeptrusts"}]}}
    assert (await jira.http.put(url, json=same)).status_code == 204
    assert await hooks.arrived() == []
    assert (await _fields(jira))["updated"] == updated
    changed = {
        "fields": {"summary": "Same", "duedate": "2026-12-01"},
        "update": {"labels": [{"add": "sla-breached"}, {"remove": "keeptrusts"}]},
    }
    assert (await jira.http.put(url, json=changed)).status_code == 204
    [event] = await hooks.arrived()
    assert _items(event) == [
        ("labels", "keeptrusts", "sla-breached"),
        ("duedate", None, "2026-12-01"),
    ]
    assert (await _fields(jira))["labels"] == ["sla-breached"]
