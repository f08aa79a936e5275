"""The report's arithmetic on hand-made tickets (``reports.aggregate``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from kt_jira.reports.aggregate import Ticket, build
from kt_jira.sla.plan import Clock

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def ticket(n: int, *, age: timedelta, responded: float | None = None, **extra: Any) -> Ticket:
    """Ticket ``n``, created ``age`` ago with 15 min / 1 h targets; ``responded``: minutes in."""
    start = NOW - age
    signals = () if responded is None else (("assigned", start + timedelta(minutes=responded)),)
    clock = Clock(escalation_id=f"esc_{n}", issue_key=f"AIGOV-{n}", started_at=start,
                  first_response=timedelta(minutes=15), resolution=timedelta(hours=1),
                  policy_name=extra.pop("policy", "pii"))  # fmt: skip
    resolved_at, priority = extra.pop("resolved_at", None), extra.pop("priority", "High")
    return Ticket(clock=clock, signals=signals, tracked=True, created_at=start,
                  resolved_at=resolved_at, priority=priority, **extra)  # fmt: skip


def report(created: list[Ticket], resolved: list[Ticket] | None = None, backlog=()):  # type: ignore[no-untyped-def]
    return build(created=created, resolved=resolved or [], backlog=list(backlog),
                 dead_letters={"create_issue": 2}, calendars={},
                 false_positive_names=["False Positive", "false_positive"],
                 since=NOW - timedelta(days=2), until=NOW)  # fmt: skip


def test_an_empty_range_has_every_day_and_no_rates() -> None:
    data = report([]).as_json()
    assert data["escalations"] == 0
    assert [d["day"] for d in data["per_day"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert data["sla"] == {"first_response": {}, "resolution": {}}
    nothing = {"count": 0, "mean_seconds": None, "median_seconds": None, "p90_seconds": None}
    assert data["times"]["first_response"] == nothing
    assert data["dead_letters"] == {"total": 2, "by_kind": {"create_issue": 2}}


def test_sla_success_counts_final_targets_by_priority() -> None:
    tickets = [
        ticket(1, age=timedelta(hours=3), responded=5),  # met
        ticket(2, age=timedelta(hours=3), responded=30, priority="Highest"),  # met late
        ticket(3, age=timedelta(hours=3)),  # never responded: breached
        ticket(4, age=timedelta(minutes=5)),  # still running: pending
    ]
    sla = report(tickets).as_json()["sla"]["first_response"]
    assert sla["all"] == {"met": 1, "breached": 2, "rate": 1 / 3}
    assert sla["High"] == {"met": 1, "breached": 1, "rate": 0.5}
    assert sla["Highest"] == {"met": 0, "breached": 1, "rate": 0.0}


def test_times_are_wall_clock_with_nearest_rank_p90() -> None:
    tickets = [ticket(n, age=timedelta(hours=5), responded=float(n)) for n in range(1, 11)]
    times = report(tickets).as_json()["times"]["first_response"]
    assert times["count"] == 10
    assert times["mean_seconds"] == 5.5 * 60
    assert times["median_seconds"] == 5.5 * 60
    assert times["p90_seconds"] == 9 * 60


def test_false_positive_rate_by_policy_counts_either_side() -> None:
    day = NOW - timedelta(hours=1)
    resolved = [
        ticket(1, age=timedelta(hours=2), resolved_at=day, jira_resolution="false positive"),
        ticket(2, age=timedelta(hours=2), resolved_at=day, resolution="false_positive"),
        ticket(3, age=timedelta(hours=2), resolved_at=day, resolution="approved"),
        ticket(4, age=timedelta(hours=2), resolved_at=day, policy="toxicity"),
    ]
    data = report([], resolved).as_json()
    assert data["false_positives"]["pii"] == {"resolved": 3, "false_positives": 2, "rate": 2 / 3}
    assert data["false_positives"]["toxicity"]["false_positives"] == 0
    assert data["per_day"][-1] == {"day": date(2026, 3, 4).isoformat(), "created": 0, "resolved": 4}


def test_backlog_buckets_by_age() -> None:
    ages = [timedelta(minutes=5), timedelta(hours=2), timedelta(hours=5), timedelta(days=2),
            timedelta(days=9)]  # fmt: skip
    backlog = [ticket(n, age=age) for n, age in enumerate(ages)]
    assert report([], backlog=backlog).as_json()["backlog"] == {
        "< 1h": 1, "1h-4h": 1, "4h-24h": 1, "1d-7d": 1, "> 7d": 1,
    }  # fmt: skip
