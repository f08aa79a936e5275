"""walk_to_done against a scripted Jira (MockTransport): hops, and a refused resolution."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kt_jira.jira import JiraClient, MemoryPauseStore
from kt_jira.sync.outbound import IssueStatus, walk_to_done
from tests.unit.jira.conftest import jira_settings

CANNOT = "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."


def _transition(tid: str, name: str, to: str, category: str, resolution: bool) -> dict[str, Any]:
    fields = {"resolution": {"allowedValues": [{"name": "Done"}]}} if resolution else {}
    return {
        "id": tid,
        "name": name,
        "to": {"id": to, "name": name, "statusCategory": {"key": category}},
        "fields": fields,
    }


class ScriptedJira:
    """Statuses and transitions as a table; records every transition body it is sent."""

    def __init__(self, *, reject_resolution: bool) -> None:
        self.status = "1"
        self.sent: list[dict[str, Any]] = []
        self.reject_resolution = reject_resolution
        self.table = {
            "1": [_transition("11", "Start", "2", "indeterminate", False)],
            "2": [_transition("21", "Finish", "3", "done", True)],
            "3": [],
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"transitions": self.table[self.status]})
        body = json.loads(request.content)
        self.sent.append(body)
        if "fields" in body and self.reject_resolution:
            return httpx.Response(400, json={"errorMessages": [], "errors": {"resolution": CANNOT}})
        step = next(t for t in self.table[self.status] if t["id"] == body["transition"]["id"])
        self.status = step["to"]["id"]
        return httpx.Response(204)


async def _walk(jira: ScriptedJira) -> Any:
    transport = httpx.MockTransport(jira)
    async with JiraClient(jira_settings(), pause=MemoryPauseStore(), transport=transport) as client:
        start = IssueStatus(id="1", name="Open", category="new")
        return await walk_to_done(client, "10001", start=start, wanted="Done", max_hops=5)


async def test_walks_two_hops_and_sets_the_resolution() -> None:
    """Start (no screen, no resolution) then Finish (screen with resolution: Done)."""
    jira = ScriptedJira(reject_resolution=False)
    walk = await _walk(jira)
    assert (walk.reached_done, walk.hops, walk.resolution) == (True, 2, "Done")
    assert jira.sent == [
        {"transition": {"id": "11"}},
        {"transition": {"id": "21"}, "fields": {"resolution": {"name": "Done"}}},
    ]


async def test_cannot_be_set_is_retried_once_without_the_resolution() -> None:
    """The screen claimed Resolution but Jira refused it: the same transition goes again bare."""
    jira = ScriptedJira(reject_resolution=True)
    walk = await _walk(jira)
    assert (walk.reached_done, walk.resolution) == (True, None)
    assert jira.sent[-2:] == [
        {"transition": {"id": "21"}, "fields": {"resolution": {"name": "Done"}}},
        {"transition": {"id": "21"}},
    ]
    assert jira.status == "3"
