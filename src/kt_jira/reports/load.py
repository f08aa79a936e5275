"""Reading a report: the store's rows for a range, made into ``aggregate.Ticket`` values and
aggregated. The one I/O module of ``reports`` (``kt-jira report``, the dashboard, the API)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from kt_jira.config.models import Settings
from kt_jira.reports.aggregate import Report, Ticket, build
from kt_jira.sla.plan import Clock
from kt_jira.sla.scan import clock_of, signal_rows
from kt_jira.store import SlaClockRow, Store


async def load_report(
    store: Store,
    settings: Settings,
    *,
    since: timedelta,
    now: datetime,
    project: str | None = None,
) -> Report:
    """The report for the ``since`` before ``now`` (in ``project`` when given)."""
    report, _ = await load_report_and_tickets(
        store, settings, since=since, now=now, project=project
    )
    return report


async def load_report_and_tickets(
    store: Store,
    settings: Settings,
    *,
    since: timedelta,
    now: datetime,
    project: str | None = None,
) -> tuple[Report, list[Ticket]]:
    """The report, and the tickets created in its range it was made from (the dashboard lists
    the newest of them), from one read of the store."""
    start = now - since
    created = [
        ticket(r) for r in await store.reports.created(since=start, until=now, project=project)
    ]
    resolved = await store.reports.resolved(since=start, until=now, project=project)
    backlog = await store.reports.backlog(project=project)
    fp = settings.feedback.false_positive
    report = build(
        created=created,
        resolved=[ticket(r) for r in resolved],
        backlog=[ticket(r) for r in backlog],
        dead_letters=await store.reports.dead_letters(),
        calendars=settings.content.calendars,
        false_positive_names=[fp.resolution, *fp.outcomes],
        since=start,
        until=now,
        project=project,
        grouped=await store.reports.grouped(since=start, until=now, project=project),
    )
    return report, created


def ticket(row: SlaClockRow) -> Ticket:
    link = row.link
    assert link.created_at is not None  # the store reads created links only
    tracked = link.sla_started_at is not None
    clock = clock_of(row) if tracked else clock_of_untracked(row)
    done = [t for t in (row.escalation_resolved_at, link.resolved_in_jira_at) if t]
    return Ticket(
        clock=clock,
        signals=tuple(signal_rows(row)),
        tracked=tracked,
        created_at=link.created_at,
        resolved_at=min(done) if done else None,
        priority=link.priority or "",
        action=row.action,
        model=row.model,
        gateway_id=row.gateway_id,
        resolution=row.resolution,
        jira_resolution=link.jira_resolution or "",
    )


def clock_of_untracked(row: SlaClockRow) -> Clock:
    """A ticket from before SLA tracking: its clock starts when its issue was created."""
    assert row.link.created_at is not None
    return clock_of(replace(row, link=replace(row.link, sla_started_at=row.link.created_at)))
