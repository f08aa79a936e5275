"""``sla.mode: jsm``: Jira Service Management keeps the clocks; read its SLAs instead. Pure.

JSM answers each SLA with its ``completedCycles`` and, while it runs, an ``ongoingCycle``
(``breached``, ``breachTime``, ``goalDuration``, ``elapsedTime``, ``remainingTime``; times in
``epochMillis``). The latest cycle becomes the same ``TargetStatus`` the computed clocks give,
so breach handling, comments and ``sla ls`` work the same on both. JSM applies its own calendars
and pauses; at-risk is read off its remaining time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kt_jira.tickets.sla_clock import SlaState, SlaStatus, Target, TargetStatus

_ZERO = timedelta(0)


def jsm_status(
    values: Iterable[Mapping[str, Any]],
    *,
    first_response: str,
    resolution: str,
    at_risk: float | None,
) -> SlaStatus:
    """The two targets from JSM's SLA list, by the configured SLA names (case-insensitive)."""
    by_name = {str(v.get("name", "")).casefold(): v for v in values}
    fr = _target(by_name.get(first_response.casefold()), Target.FIRST_RESPONSE, at_risk)
    res = _target(by_name.get(resolution.casefold()), Target.RESOLUTION, at_risk)
    paused = any(
        bool((v.get("ongoingCycle") or {}).get("paused"))
        for v in (by_name.get(n.casefold()) for n in (first_response, resolution))
        if v
    )
    return SlaStatus(first_response=fr, resolution=res, paused=paused)


def _target(
    value: Mapping[str, Any] | None, target: Target, at_risk: float | None
) -> TargetStatus | None:
    if value is None:
        return None
    ongoing = value.get("ongoingCycle")
    completed = [c for c in value.get("completedCycles") or [] if isinstance(c, Mapping)]
    cycle = ongoing if isinstance(ongoing, Mapping) else (completed[-1] if completed else None)
    if cycle is None:
        return None
    goal = _millis(cycle.get("goalDuration"))
    elapsed = _millis(cycle.get("elapsedTime"))
    remaining = _millis(cycle.get("remainingTime"))
    due = _instant(cycle.get("breachTime")) or _instant(cycle.get("startTime"))
    if goal is None or due is None:
        return None
    elapsed = elapsed if elapsed is not None else goal - (remaining or _ZERO)
    remaining = remaining if remaining is not None else goal - elapsed
    met_at = None if cycle is ongoing else _instant(cycle.get("stopTime"))
    warn_at = None if at_risk is None else due - goal * (1 - at_risk)
    if cycle.get("breached") is True:
        state = SlaState.BREACHED
    elif met_at is not None:
        state = SlaState.MET
    elif at_risk is not None and remaining <= goal * (1 - at_risk):
        state = SlaState.AT_RISK
    else:
        state = SlaState.RUNNING
    breached = state is SlaState.BREACHED
    return TargetStatus(
        target=target,
        goal=goal,
        state=state,
        due=due,
        met_at=met_at,
        breached_at=due if breached else None,
        at_risk_at=warn_at,
        elapsed=elapsed,
        paused=_ZERO,
        remaining=max(remaining, _ZERO),
        overdue_by=max(elapsed - goal, _ZERO) if breached else _ZERO,
        timezone="UTC",
    )


def _millis(value: object) -> timedelta | None:
    millis = value.get("millis") if isinstance(value, Mapping) else None
    return timedelta(milliseconds=millis) if isinstance(millis, int | float) else None


def _instant(value: object) -> datetime | None:
    millis = value.get("epochMillis") if isinstance(value, Mapping) else None
    if not isinstance(millis, int | float):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
