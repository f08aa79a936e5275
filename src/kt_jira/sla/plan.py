"""What one breach scan does for one ticket. Pure: the link's targets, its signals, the actions
already taken and ``now`` in; the actions to take (with their comment and notification) out.

A target is acted on at most once per action (``breached``, ``at_risk``): the store's unique key
on (ticket, target, action) makes that hold across restarts and replicas. A target met in time
is never acted on; one met late still counts as breached. At-risk warnings are only sent while
the target is still running: a scan that first sees a target already breached sends the breach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kt_jira.tickets.calendar import ALWAYS, BusinessCalendar
from kt_jira.tickets.sla_clock import (
    Signal,
    SignalKind,
    SlaPolicy,
    SlaState,
    SlaStatus,
    Target,
    TargetStatus,
    at_risk_comment_text,
    breach_comment_text,
    evaluate,
)

BREACHED = "breached"
AT_RISK = "at_risk"
#: The stored name of each target (``sla_actions.target``, job keys, notifications).
TARGET_NAMES = {Target.FIRST_RESPONSE: "first_response", Target.RESOLUTION: "resolution"}
TARGETS = {name: target for target, name in TARGET_NAMES.items()}


@dataclass(frozen=True, kw_only=True)
class Clock:
    """One ticket's SLA as the store keeps it: when it started, its targets, its calendar."""

    escalation_id: str
    issue_key: str
    started_at: datetime
    first_response: timedelta | None
    resolution: timedelta | None
    calendar: str = ""
    policy_name: str = ""
    severity: str = ""


@dataclass(frozen=True, kw_only=True)
class Action:
    """Act on ``status`` (one target, breached or at risk): label, comment, notifications."""

    target: str
    action: str
    status: TargetStatus
    label: str
    comment: str

    @property
    def due(self) -> datetime:
        return self.status.due


def policy_for(
    clock: Clock, calendars: Mapping[str, BusinessCalendar], *, at_risk: float | None
) -> SlaPolicy:
    """The engine's policy for ``clock``; a calendar no longer configured runs around the clock
    (the caller warns: deadlines then move earlier, never silently later)."""
    return SlaPolicy(
        first_response=clock.first_response,
        resolution=clock.resolution,
        calendar=calendars.get(clock.calendar, ALWAYS) if clock.calendar else ALWAYS,
        at_risk=at_risk,
    )


def signals(rows: Iterable[tuple[str, datetime]]) -> list[Signal]:
    """Stored ``(kind, at)`` rows as signals; a kind this version does not know is skipped."""
    known = {kind.value: kind for kind in SignalKind}
    return [Signal(kind=known[kind], at=at) for kind, at in rows if kind in known]


def status_of(
    clock: Clock,
    rows: Iterable[tuple[str, datetime]],
    calendars: Mapping[str, BusinessCalendar],
    *,
    at_risk: float | None,
    now: datetime,
) -> SlaStatus:
    return evaluate(
        policy_for(clock, calendars, at_risk=at_risk),
        started_at=clock.started_at,
        signals=signals(rows),
        now=now,
    )


def actions_due(
    status: SlaStatus,
    taken: Iterable[tuple[str, str]],
    *,
    breach_label: str,
    at_risk_label: str,
    warn: bool,
) -> list[Action]:
    """The actions ``status`` calls for that were not ``taken`` (``(target, action)`` pairs)."""
    done = set(taken)
    due: list[Action] = []
    for target_status in status.targets:
        name = TARGET_NAMES[target_status.target]
        state = target_status.state
        if state is SlaState.BREACHED and (name, BREACHED) not in done:
            text = breach_comment_text(target_status, target_status.target)
            due.append(Action(target=name, action=BREACHED, status=target_status,
                              label=breach_label, comment=text))  # fmt: skip
        elif state is SlaState.AT_RISK and warn and (name, AT_RISK) not in done:
            text = at_risk_comment_text(target_status, target_status.target)
            due.append(Action(target=name, action=AT_RISK, status=target_status,
                              label=at_risk_label, comment=text))  # fmt: skip
    return due


def settled(status: SlaStatus) -> bool:
    """Every target is final (met, in time or late): later scans can skip the ticket."""
    return all(t.met_at is not None for t in status.targets)


def notification(clock: Clock, action: Action, *, issue_url: str, now: datetime) -> dict[str, Any]:
    """The JSON a notification channel receives for ``action`` (``type``: ``sla.breached`` or
    ``sla.at_risk``). Times are ISO 8601 UTC; durations are whole seconds."""
    status = action.status
    return {
        "type": f"sla.{action.action}",
        "escalation_id": clock.escalation_id,
        "issue_key": clock.issue_key,
        "issue_url": issue_url,
        "target": action.target,
        "action": action.action,
        "policy_name": clock.policy_name,
        "severity": clock.severity,
        "due": status.due.isoformat(),
        "goal_seconds": int(status.goal.total_seconds()),
        "overdue_seconds": int(status.overdue_by.total_seconds()),
        "remaining_seconds": int(status.remaining.total_seconds()),
        "text": action.comment,
        "at": now.isoformat(),
    }
