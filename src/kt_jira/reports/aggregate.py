"""The numbers of a report, from the bridge's own rows. Pure.

Tickets count once, in the range they were created in (``created``); resolutions in the range
they happened in (``resolved``, whenever the ticket was created). SLA success counts a target
once it is final: met in time, or breached; running targets are pending. Times are wall-clock
from when the escalation happened to the first response or the resolution, with the signals the
SLA clocks use. A false positive is a resolution named ``feedback.false_positive.resolution``
in Jira or one of its ``outcomes`` in Keeptrusts (case-insensitive).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from kt_jira.sla.plan import Clock, status_of
from kt_jira.tickets.calendar import BusinessCalendar
from kt_jira.tickets.sla_clock import SlaState

UNKNOWN = "(not given)"
TARGETS = ("first_response", "resolution")
BUCKETS = (
    ("< 1h", timedelta(hours=1)),
    ("1h-4h", timedelta(hours=4)),
    ("4h-24h", timedelta(days=1)),
    ("1d-7d", timedelta(days=7)),
    ("> 7d", timedelta.max),
)
_FOREVER = timedelta(days=36500)  # a goal nothing reaches: measures when a target was met


@dataclass(frozen=True, kw_only=True)
class Ticket:
    """One ticket as a report sees it (``reports.load`` makes these from the store's rows)."""

    clock: Clock  #: its SLA as the link keeps it (``started_at``: when the escalation happened)
    signals: tuple[tuple[str, datetime], ...]  #: every dated fact the SLA clocks read
    tracked: bool  #: it has SLA targets (tickets from before schema 0003 have none)
    created_at: datetime
    resolved_at: datetime | None
    priority: str = ""
    action: str = ""
    model: str = ""
    gateway_id: str = ""
    resolution: str = ""  #: the escalation's outcome in Keeptrusts
    jira_resolution: str = ""  #: the issue's resolution in Jira

    @property
    def policy(self) -> str:
        return self.clock.policy_name


@dataclass(frozen=True, kw_only=True)
class Rate:
    met: int = 0
    breached: int = 0

    @property
    def rate(self) -> float | None:
        final = self.met + self.breached
        return self.met / final if final else None


@dataclass(frozen=True, kw_only=True)
class Times:
    count: int
    mean: float | None
    median: float | None
    p90: float | None


@dataclass(frozen=True, kw_only=True)
class Report:
    since: datetime
    until: datetime
    project: str | None
    escalations: int
    by_priority: dict[str, int]
    by_policy: dict[str, int]
    by_action: dict[str, int]
    by_model: dict[str, int]
    by_gateway: dict[str, int]
    per_day: list[tuple[date, int, int]]  #: (day, created, resolved)
    sla: dict[str, dict[str, Rate]]  #: target -> priority -> rate ("all": every priority)
    times: dict[str, Times]  #: target -> seconds
    false_positives: dict[str, tuple[int, int]]  #: policy -> (resolved, false positives)
    backlog: dict[str, int]
    dead_letters: dict[str, int] = field(default_factory=dict)
    grouped: int = 0  #: escalations that became a comment on a group's ticket

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "project": self.project,
            "escalations": self.escalations,
            "grouped": self.grouped,
            "by_priority": self.by_priority,
            "by_policy": self.by_policy,
            "by_action": self.by_action,
            "by_model": self.by_model,
            "by_gateway": self.by_gateway,
            "per_day": [
                {"day": day.isoformat(), "created": created, "resolved": resolved}
                for day, created, resolved in self.per_day
            ],
            "sla": {
                target: {
                    priority: {"met": r.met, "breached": r.breached, "rate": r.rate}
                    for priority, r in rates.items()
                }
                for target, rates in self.sla.items()
            },
            "times": {
                target: {
                    "count": t.count,
                    "mean_seconds": t.mean,
                    "median_seconds": t.median,
                    "p90_seconds": t.p90,
                }
                for target, t in self.times.items()
            },
            "false_positives": {
                policy: {
                    "resolved": resolved,
                    "false_positives": fps,
                    "rate": fps / resolved if resolved else None,
                }
                for policy, (resolved, fps) in self.false_positives.items()
            },
            "backlog": self.backlog,
            "dead_letters": {
                "total": sum(self.dead_letters.values()),
                "by_kind": self.dead_letters,
            },
        }


def build(
    *,
    created: Sequence[Ticket],
    resolved: Sequence[Ticket],
    backlog: Sequence[Ticket],
    dead_letters: Mapping[str, int],
    calendars: Mapping[str, BusinessCalendar],
    false_positive_names: Iterable[str],
    since: datetime,
    until: datetime,
    project: str | None = None,
    grouped: int = 0,
) -> Report:
    """The report for ``[since, until)``; ``until`` is also the "now" SLA states are read at.
    ``grouped`` escalations became comments on a group's ticket (``created`` are tickets)."""
    names = {name.casefold() for name in false_positive_names}
    return Report(
        since=since,
        until=until,
        project=project,
        escalations=len(created),
        by_priority=_count(r.priority for r in created),
        by_policy=_count(r.policy for r in created),
        by_action=_count(r.action for r in created),
        by_model=_count(r.model for r in created),
        by_gateway=_count(r.gateway_id for r in created),
        per_day=_per_day(created, resolved, since, until),
        sla=_sla(created, calendars, until),
        times={target: _times(created, target, until) for target in TARGETS},
        false_positives=_false_positives(resolved, names),
        backlog=_backlog(backlog, until),
        dead_letters=dict(sorted(dead_letters.items())),
        grouped=grouped,
    )


def is_false_positive(row: Ticket, names: set[str]) -> bool:
    return bool(names) and (
        row.resolution.casefold() in names or row.jira_resolution.casefold() in names
    )


def _count(values: Iterable[str | None]) -> dict[str, int]:
    counted = Counter(value or UNKNOWN for value in values)
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _per_day(
    created: Sequence[Ticket],
    resolved: Sequence[Ticket],
    since: datetime,
    until: datetime,
) -> list[tuple[date, int, int]]:
    made = Counter(r.created_at.date() for r in created)
    done = Counter(r.resolved_at.date() for r in resolved if r.resolved_at)
    days, day = [], since.date()
    while day <= (until - timedelta(microseconds=1)).date():
        days.append((day, made[day], done[day]))
        day += timedelta(days=1)
    return days


def _sla(
    created: Sequence[Ticket], calendars: Mapping[str, BusinessCalendar], now: datetime
) -> dict[str, dict[str, Rate]]:
    tallies: dict[str, dict[str, Counter[str]]] = {t: {} for t in TARGETS}
    for row in created:
        if not row.tracked:
            continue
        status = status_of(row.clock, row.signals, calendars, at_risk=None, now=now)
        for target, value in (("first_response", status.first_response),
                              ("resolution", status.resolution)):  # fmt: skip
            if value is None or value.state not in (SlaState.MET, SlaState.BREACHED):
                continue
            outcome = "met" if value.state is SlaState.MET else "breached"
            for priority in (row.priority or UNKNOWN, "all"):
                tallies[target].setdefault(priority, Counter())[outcome] += 1
    return {
        target: {p: Rate(met=c["met"], breached=c["breached"]) for p, c in sorted(by.items())}
        for target, by in tallies.items()
    }


def _times(created: Sequence[Ticket], target: str, now: datetime) -> Times:
    seconds = []
    for row in created:
        clock = row.clock
        measuring = replace(clock, first_response=_FOREVER, resolution=_FOREVER, calendar="")
        status = status_of(measuring, row.signals, {}, at_risk=None, now=now)
        value = status.first_response if target == "first_response" else status.resolution
        if value is not None and value.met_at is not None:
            seconds.append((value.met_at - clock.started_at).total_seconds())
    if not seconds:
        return Times(count=0, mean=None, median=None, p90=None)
    ordered = sorted(seconds)
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]  # nearest rank
    return Times(count=len(seconds), mean=statistics.fmean(seconds),
                 median=statistics.median(seconds), p90=p90)  # fmt: skip


def _false_positives(resolved: Sequence[Ticket], names: set[str]) -> dict[str, tuple[int, int]]:
    total: Counter[str] = Counter()
    fps: Counter[str] = Counter()
    for row in resolved:
        policy = row.policy or UNKNOWN
        total[policy] += 1
        fps[policy] += is_false_positive(row, names)
    ordered = sorted(total, key=lambda p: (-fps[p], -total[p], p))
    return {policy: (total[policy], fps[policy]) for policy in ordered}


def _backlog(rows: Sequence[Ticket], now: datetime) -> dict[str, int]:
    counts = dict.fromkeys((name for name, _ in BUCKETS), 0)
    for row in rows:
        age = now - row.created_at
        name = next(name for name, limit in BUCKETS if age < limit)
        counts[name] += 1
    return counts
