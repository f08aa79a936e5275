"""What ``kt-jira sla ls`` shows: each tracked ticket's targets at ``now``, as rows for a table
and as JSON. Pure: the store's clock rows, the calendars and ``now`` in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kt_jira.sla.plan import status_of
from kt_jira.sla.scan import clock_of, signal_rows
from kt_jira.store import SlaClockRow
from kt_jira.tickets.calendar import BusinessCalendar
from kt_jira.tickets.sla_clock import SlaState, SlaStatus, TargetStatus, duration_words

HEADER = ("issue", "escalation", "policy", "first response", "resolution", "actions")


@dataclass(frozen=True, kw_only=True)
class Listed:
    row: SlaClockRow
    status: SlaStatus

    @property
    def breached(self) -> bool:
        return any(t.state is SlaState.BREACHED for t in self.status.targets)

    @property
    def at_risk(self) -> bool:
        return any(t.state is SlaState.AT_RISK for t in self.status.targets)


def evaluate_rows(
    rows: Iterable[SlaClockRow],
    calendars: Mapping[str, BusinessCalendar],
    *,
    at_risk: float | None,
    now: datetime,
) -> list[Listed]:
    return [
        Listed(
            row=row,
            status=status_of(clock_of(row), signal_rows(row), calendars, at_risk=at_risk, now=now),
        )
        for row in rows
    ]


def select(listed: Iterable[Listed], *, breached: bool, at_risk: bool) -> list[Listed]:
    """``--breached`` and ``--at-risk`` each narrow the list; both together show either."""
    if not (breached or at_risk):
        return list(listed)
    return [item for item in listed if (breached and item.breached) or (at_risk and item.at_risk)]


def table_row(item: Listed) -> tuple[str, ...]:
    link = item.row.link
    actions = ", ".join(f"{a.target} {a.action}" for a in item.row.actions)
    return (
        link.issue_key or link.issue_id or "",
        link.escalation_id,
        item.row.policy_name,
        _cell(item.status.first_response),
        _cell(item.status.resolution),
        actions,
    )


def as_json(item: Listed) -> dict[str, Any]:
    link = item.row.link
    return {
        "escalation_id": link.escalation_id,
        "issue_key": link.issue_key,
        "policy_name": item.row.policy_name,
        "severity": item.row.severity,
        "started_at": _iso(link.sla_started_at),
        "calendar": link.sla_calendar or None,
        "paused": item.status.paused,
        "first_response": _target(item.status.first_response),
        "resolution": _target(item.status.resolution),
        "actions": [
            {
                "target": a.target,
                "action": a.action,
                "due": _iso(a.due),
                "acted_at": _iso(a.acted_at),
            }
            for a in item.row.actions
        ],
    }


def _cell(status: TargetStatus | None) -> str:
    if status is None:
        return "-"
    due = status.due.strftime("%Y-%m-%d %H:%M UTC")
    if status.state is SlaState.BREACHED:
        return f"breached by {duration_words(status.overdue_by)} (due {due})"
    if status.state is SlaState.MET:
        return "met"
    left = duration_words(status.remaining)
    return f"{status.state.value}: {left} left (due {due})"


def _target(status: TargetStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    return {
        "state": status.state.name.lower(),
        "goal_seconds": int(status.goal.total_seconds()),
        "due": _iso(status.due),
        "met_at": _iso(status.met_at),
        "remaining_seconds": int(status.remaining.total_seconds()),
        "overdue_seconds": int(status.overdue_by.total_seconds()),
        "paused_seconds": int(status.paused.total_seconds()),
    }


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None
