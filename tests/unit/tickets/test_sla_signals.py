"""Jira webhook events -> SLA signals, and what the clock makes of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from kt_jira.events.jira import Change, JiraEvent, JiraEventType, parse_jira_event
from kt_jira.tickets.sla_clock import SignalKind, SlaPolicy, SlaState, evaluate
from kt_jira.tickets.sla_signals import signals_from_jira

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BRIDGE = "bridge-account"
HUMAN = "557058:analyst"


def _status(name: str, category: str, *, was: str = "To Do", by: str = HUMAN) -> JiraEvent:
    return JiraEvent(
        type=JiraEventType.ISSUE_UPDATED,
        raw_type="jira:issue_updated",
        timestamp=T0 + timedelta(minutes=10),
        issue_id="10001",
        actor_id=by,
        status_name=name,
        status_category=category,
        status_change=Change(from_name=was, to_name=name),
    )


def _kinds(event: JiraEvent, **kwargs: object) -> list[SignalKind]:
    found = signals_from_jira(event, bridge_account=BRIDGE, **kwargs)  # type: ignore[arg-type]
    return [s.kind for s in found]


def test_moving_to_in_progress_is_a_response() -> None:
    assert _kinds(_status("In Progress", "indeterminate")) == [
        SignalKind.REOPENED,
        SignalKind.LEFT_TODO,
    ]


def test_done_is_a_resolution_and_reopening_is_not() -> None:
    assert _kinds(_status("Done", "done", was="In Progress")) == [SignalKind.DONE]
    assert _kinds(_status("To Do", "new", was="Done")) == [SignalKind.REOPENED]


def test_waiting_statuses_pause_and_resume_case_insensitively() -> None:
    into = _status("Waiting for customer", "indeterminate", was="In Progress")
    out = _status("In Progress", "indeterminate", was="Waiting for Customer")
    assert SignalKind.PAUSED in _kinds(into, pause_statuses=["waiting for customer"])
    assert SignalKind.RESUMED in _kinds(out, pause_statuses=["Waiting for customer"])
    assert SignalKind.PAUSED not in _kinds(into)


def test_the_bridge_account_never_responds_but_can_resolve() -> None:
    """The bridge walking a ticket to done (upstream resolution) resolves; it never responds."""
    assert _kinds(_status("In Progress", "indeterminate", by=BRIDGE)) == [SignalKind.REOPENED]
    assert _kinds(_status("Done", "done", by=BRIDGE)) == [SignalKind.DONE]


def test_assignment_and_human_comments_from_real_webhook_bodies() -> None:
    """Parsed from webhook bodies as Jira sends them: an assignee set, a comment by a person."""
    assigned = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": int((T0 + timedelta(minutes=3)).timestamp() * 1000),
        "user": {"accountId": HUMAN},
        "issue": {"id": "10001", "key": "AIGOV-1", "fields": {"status": {"name": "To Do"}}},
        "changelog": {
            "id": "1",
            "items": [{"field": "assignee", "fieldId": "assignee", "from": None, "to": HUMAN}],
        },
    }
    comment = {
        "webhookEvent": "comment_created",
        "timestamp": int((T0 + timedelta(minutes=9)).timestamp() * 1000),
        "issue": {"id": "10001", "key": "AIGOV-1", "fields": {}},
        "comment": {
            "id": "5",
            "author": {"accountId": HUMAN},
            "created": "2026-12-01T09:07:00.000+0000",
        },
    }
    bridge_comment = {**comment, "comment": {**comment["comment"], "author": {"accountId": BRIDGE}}}  # type: ignore[dict-item]
    got = [
        signals_from_jira(parse_jira_event(json.dumps(body).encode()), bridge_account=BRIDGE)
        for body in (assigned, comment, bridge_comment)
    ]
    assert [[(s.kind, s.at) for s in signals] for signals in got] == [
        [(SignalKind.ASSIGNED, T0 + timedelta(minutes=3))],
        [(SignalKind.HUMAN_COMMENT, T0 + timedelta(minutes=7))],  # when written, not delivered
        [],
    ]


def test_signals_drive_the_clock_end_to_end() -> None:
    """A pause, a resume, then done: resolution met within 1h of running time, not wall time."""
    policy = SlaPolicy(first_response=timedelta(minutes=15), resolution=timedelta(hours=1))
    waiting = ["Waiting for customer"]
    events = [
        (_status("Waiting for customer", "indeterminate"), timedelta(minutes=10)),
        (_status("In Progress", "indeterminate", was="Waiting for customer"), timedelta(hours=3)),
        (_status("Done", "done", was="In Progress"), timedelta(hours=3, minutes=40)),
    ]
    signals = []
    for event, after in events:
        moved = JiraEvent(**{**event.__dict__, "timestamp": T0 + after})
        signals += signals_from_jira(moved, bridge_account=BRIDGE, pause_statuses=waiting)
    status = evaluate(policy, started_at=T0, signals=signals, now=T0 + timedelta(hours=5))
    assert status.first_response is not None
    assert status.resolution is not None
    assert status.first_response.state is SlaState.MET
    assert status.resolution.state is SlaState.MET  # 10 min + 40 min running, 2h50 paused
    assert status.resolution.elapsed == timedelta(minutes=50)
