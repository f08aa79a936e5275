"""Jira Service Management's SLA endpoint, simulated:
``GET /rest/servicedeskapi/request/{key}/sla``.

A site configured with ``jsm_slas`` (SLA name -> goal seconds) is a service desk: each issue has
those SLAs, every one started when the issue was created and stopped, as JSM's defaults do, by
the first response (``Time to first response``: a person's comment, or the issue leaving to-do)
or by the resolution (any other name). Each answers in JSM's shape: ``completedCycles`` once
stopped, else an ``ongoingCycle`` with ``breached``, ``breachTime``, ``goalDuration``,
``elapsedTime`` and ``remainingTime``; pages of ``start``/``limit``/``isLastPage``/``values``.
Without ``jsm_slas`` the project is no service desk and the endpoint answers 404, as JSM does.
No calendars and no pauses: the site keeps 24x7 goals.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import NO_ISSUE, RestCall, errors
from kt_jira.sandbox.jira.state import JiraState, SandboxIssue, jira_time

JsonDict = dict[str, Any]
FIRST_RESPONSE = "time to first response"
PATH = "/rest/servicedeskapi/request/{issueIdOrKey}/sla"


async def request_slas(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    goals = call.state.settings.jsm_slas
    if not goals:
        return JSONResponse(
            {"errorMessage": f"The issue {issue.key} is not a request of a service desk."},
            status_code=404,
        )
    now = call.state.clock()
    values = [
        _sla(index, name, goal, _stop(call.state, issue, name), issue.created, now, call.base)
        for index, (name, goal) in enumerate(goals, start=1)
    ]
    return JSONResponse({"size": len(values), "start": 0, "limit": 50, "isLastPage": True,
                         "values": values})  # fmt: skip


def _stop(state: JiraState, issue: SandboxIssue, name: str) -> float | None:
    """When the SLA named ``name`` stopped for ``issue`` (None: still running)."""
    resolved = issue.resolved
    if name.casefold() != FIRST_RESPONSE:
        return resolved
    people = [c["created"] for c in issue.comments if c["author"] != state.bot.account_id]
    moves = [
        entry["at"]
        for entry in issue.changelog
        if entry["field"] == "status" and _category(state, issue, entry["from"]) == "new"
        and _category(state, issue, entry["to"]) != "new"
    ]  # fmt: skip
    stops = [t for t in (*people, *moves, resolved) if t is not None]
    return min(stops) if stops else None


def _category(state: JiraState, issue: SandboxIssue, status_id: object) -> str:
    status = state.workflow(issue).find_status(str(status_id))
    return status.category if status else ""


def _sla(
    index: int, name: str, goal: float, stop: float | None, start: float, now: float, base: str
) -> JsonDict:
    elapsed = (stop if stop is not None else now) - start
    cycle: JsonDict = {
        "startTime": _time(start),
        "breachTime": _time(start + goal),
        "breached": elapsed > goal,
        "goalDuration": _duration(goal),
        "elapsedTime": _duration(elapsed),
        "remainingTime": _duration(goal - elapsed),
    }
    sla: JsonDict = {"id": str(index), "name": name, "_links": {"self": f"{base}/sla/{index}"}}
    if stop is not None:
        return {**sla, "completedCycles": [{**cycle, "stopTime": _time(stop)}]}
    ongoing = {**cycle, "paused": False, "withinCalendarHours": True}
    return {**sla, "completedCycles": [], "ongoingCycle": ongoing}


def _time(ts: float) -> JsonDict:
    return {"epochMillis": int(ts * 1000), "iso8601": jira_time(ts), "friendly": jira_time(ts)}


def _duration(seconds: float) -> JsonDict:
    millis = int(seconds * 1000)
    return {"millis": millis, "friendly": f"{millis // 60000}m"}
