"""SLA clocks: first-response and resolution targets decided from dated signals, and the words of
the breach and at-risk comments. Pure: ``now`` is always passed in and nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from kt_jira.tickets.calendar import ALWAYS, BusinessCalendar

_ZERO = timedelta(0)
_Span = tuple[datetime, datetime]


class Target(Enum):
    FIRST_RESPONSE = "first response"
    RESOLUTION = "resolution"

    @property
    def words(self) -> str:
        """The target in words, lower case: comments name the missed target first."""
        return str(self.value)


class SignalKind(Enum):
    """What happened to the ticket. Declaration order breaks ties between equal instants."""

    LEFT_TODO = "left to-do"
    ASSIGNED = "assigned"
    HUMAN_COMMENT = "human comment"
    RESUMED = "resumed"
    PAUSED = "paused"
    REOPENED = "reopened"
    DONE = "done"
    ESCALATION_RESOLVED = "escalation resolved"


class SlaState(Enum):
    RUNNING = "running"
    AT_RISK = "at risk"
    MET = "met"
    BREACHED = "breached"


_RANK = {kind: rank for rank, kind in enumerate(SignalKind)}
#: The signals that count as a first response.
RESPONSES = frozenset({SignalKind.LEFT_TODO, SignalKind.ASSIGNED, SignalKind.HUMAN_COMMENT})


@dataclass(frozen=True, kw_only=True)
class Signal:
    kind: SignalKind
    at: datetime

    def __post_init__(self) -> None:
        _utc(self.at, "a signal's time")


@dataclass(frozen=True, kw_only=True)
class SlaPolicy:
    """Working-time targets (``None``: not tracked) on ``calendar``; ``at_risk``: a fraction."""

    first_response: timedelta | None = None
    resolution: timedelta | None = None
    calendar: BusinessCalendar = ALWAYS
    at_risk: float | None = None

    def __post_init__(self) -> None:
        for name, goal in (
            ("first_response", self.first_response),
            ("resolution", self.resolution),
        ):
            if goal is not None and goal <= _ZERO:
                raise ValueError(f"the {name} target must be positive, got {goal}")
        if self.at_risk is not None and not 0 < self.at_risk < 1:
            raise ValueError(f"at_risk is a fraction between 0 and 1, got {self.at_risk}")


@dataclass(frozen=True, kw_only=True)
class TargetStatus:
    """One target at ``now``. Instants are UTC; ``timezone`` is the calendar's, for display."""

    target: Target
    goal: timedelta
    state: SlaState
    due: datetime
    met_at: datetime | None
    breached_at: datetime | None
    at_risk_at: datetime | None
    elapsed: timedelta
    paused: timedelta
    remaining: timedelta
    overdue_by: timedelta
    timezone: str


@dataclass(frozen=True, kw_only=True)
class SlaStatus:
    """One status per configured target; ``paused``: the ticket is in a waiting status at now."""

    first_response: TargetStatus | None
    resolution: TargetStatus | None
    paused: bool

    @property
    def targets(self) -> tuple[TargetStatus, ...]:
        return tuple(s for s in (self.first_response, self.resolution) if s is not None)


def evaluate(
    policy: SlaPolicy, *, started_at: datetime, signals: Iterable[Signal], now: datetime
) -> SlaStatus:
    """Where each configured target stands at ``now``, from the signals that occurred by then.

    - First response is met by the first LEFT_TODO, ASSIGNED or HUMAN_COMMENT; a resolution (DONE
      or ESCALATION_RESOLVED, even one later reopened) also counts as the response.
    - Resolution is met by DONE or ESCALATION_RESOLVED. REOPENED after DONE reopens it and the
      time spent done does not count; after ESCALATION_RESOLVED (Keeptrusts decides) nothing does.
    - PAUSED..RESUMED stops both clocks; a pause still open stops them until ``now``.
    - Signals are sorted by time (ties: the order of ``SignalKind``); duplicates are harmless;
      those before ``started_at`` count at ``started_at``; those after ``now`` have not happened.
      Only occurrence times matter, so a late-delivered signal that happened in time cures.
    - ``due`` is the earliest instant the target's working time is used up. A clock stopped at
      ``now`` (paused, or done) is projected as if it ran again from ``now``; a met clock from
      ``met_at``. A target met after ``due`` (even outside working hours) is BREACHED, with
      ``met_at`` set. Elapsed, paused, remaining and overdue are working time, and
      ``elapsed + paused`` is the working time from the start to ``met_at`` or ``now``.
    """
    start, real_now = _utc(started_at, "started_at"), _utc(now, "now")
    clock_now = max(real_now, start)
    happened = sorted(
        ((max(s.at.astimezone(UTC), start), _RANK[s.kind], s.kind) for s in signals if s.at <= now),
        key=lambda event: event[:2],
    )
    responded: datetime | None = None
    first_resolve: datetime | None = None
    done_since: datetime | None = None
    resolved: datetime | None = None
    pause_since: datetime | None = None
    pauses: list[_Span] = []
    done_gaps: list[_Span] = []
    for at, _, kind in happened:
        if kind in RESPONSES:
            responded = responded or at
        elif kind is SignalKind.PAUSED:
            pause_since = pause_since or at
        elif kind is SignalKind.RESUMED and pause_since is not None:
            pauses.append((pause_since, at))
            pause_since = None
        elif kind is SignalKind.DONE:
            first_resolve = first_resolve or at
            if resolved is None:
                done_since = done_since or at
        elif kind is SignalKind.REOPENED and resolved is None and done_since is not None:
            done_gaps.append((done_since, at))
            done_since = None
        elif kind is SignalKind.ESCALATION_RESOLVED:
            first_resolve = first_resolve or at
            resolved = resolved or done_since or at
    resolved = resolved or done_since
    if pause_since is not None:
        pauses.append((pause_since, clock_now))
    if first_resolve is not None and (responded is None or first_resolve < responded):
        responded = first_resolve

    def status(
        target: Target, goal: timedelta | None, met: datetime | None, gaps: list[_Span]
    ) -> TargetStatus | None:
        if goal is None:
            return None
        return _target(policy, target, goal, start=start, now=clock_now, met_at=met, gaps=gaps)

    return SlaStatus(
        first_response=status(Target.FIRST_RESPONSE, policy.first_response, responded, pauses),
        resolution=status(Target.RESOLUTION, policy.resolution, resolved, pauses + done_gaps),
        paused=pause_since is not None,
    )


def _target(
    policy: SlaPolicy,
    target: Target,
    goal: timedelta,
    *,
    start: datetime,
    now: datetime,
    met_at: datetime | None,
    gaps: list[_Span],
) -> TargetStatus:
    calendar = policy.calendar
    stop = met_at or now
    running = _running(start, stop, gaps)
    elapsed = sum((calendar.working_time(a, b) for a, b in running), _ZERO)
    due = _reach(calendar, running, goal, stop)
    at_risk_at = (
        None if policy.at_risk is None else _reach(calendar, running, goal * policy.at_risk, stop)
    )
    if met_at is not None:
        state = SlaState.MET if met_at <= due else SlaState.BREACHED
    elif now > due:
        state = SlaState.BREACHED
    elif at_risk_at is not None and at_risk_at <= now:
        state = SlaState.AT_RISK
    else:
        state = SlaState.RUNNING
    return TargetStatus(
        target=target,
        goal=goal,
        state=state,
        due=due,
        met_at=met_at,
        breached_at=due if state is SlaState.BREACHED else None,
        at_risk_at=at_risk_at,
        elapsed=elapsed,
        paused=calendar.working_time(start, stop) - elapsed,
        remaining=max(goal - elapsed, _ZERO),
        overdue_by=max(elapsed - goal, _ZERO) if state is SlaState.BREACHED else _ZERO,
        timezone=calendar.timezone,
    )


def _running(start: datetime, stop: datetime, gaps: list[_Span]) -> list[_Span]:
    """``[start, stop)`` minus the (possibly overlapping) gaps, as ordered disjoint spans."""
    spans: list[_Span] = []
    cursor = start
    for a, b in sorted(gaps):
        if a > cursor:
            spans.append((cursor, min(a, stop)))
        cursor = max(cursor, b)
        if cursor >= stop:
            break
    if cursor < stop:
        spans.append((cursor, stop))
    return [(a, b) for a, b in spans if a < b]


def _reach(
    calendar: BusinessCalendar, running: list[_Span], amount: timedelta, stop: datetime
) -> datetime:
    """The earliest instant the running spans hold ``amount``; beyond them, as if run from stop."""
    used = _ZERO
    for a, b in running:
        span = calendar.working_time(a, b)
        if used + span >= amount:
            return calendar.add(a, amount - used)
        used += span
    return calendar.add(stop, amount - used)


def breach_comment_text(status: TargetStatus, target: Target) -> str:
    """``"First response SLA breached: the target was 15 minutes, missed by 7 minutes (...)."``"""
    _check(status, target, SlaState.BREACHED)
    return (
        f"{target.words.capitalize()} SLA breached: the target was {duration_words(status.goal)}, "
        f"missed by {duration_words(status.overdue_by)} (deadline {_local(status)})."
    )


def at_risk_comment_text(status: TargetStatus, target: Target) -> str:
    """``"Resolution SLA at risk: 15 minutes left of the 1 hour target (deadline ...)."``"""
    _check(status, target, SlaState.AT_RISK)
    return (
        f"{target.words.capitalize()} SLA at risk: {duration_words(status.remaining)} left of "
        f"the {duration_words(status.goal)} target (deadline {_local(status)})."
    )


def duration_words(amount: timedelta) -> str:
    """``1 hour 5 minutes``, ``1 week``; seconds are dropped, under a minute is said so."""
    minutes = amount // timedelta(minutes=1)
    parts = []
    for unit, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60), ("minute", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "less than a minute"


def _check(status: TargetStatus, target: Target, state: SlaState) -> None:
    if status.target is not target or status.state is not state:
        raise ValueError(
            f"the {status.target.words} status is {status.state.value}, "
            f"not the {target.words} target {state.value}"
        )


def _local(status: TargetStatus) -> str:
    return status.due.astimezone(ZoneInfo(status.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _utc(instant: datetime, name: str) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
