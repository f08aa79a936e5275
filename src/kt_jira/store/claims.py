"""How a worker's claim finds and leases jobs (``Queue.claim`` runs it): jobs whose lease
expired first, then due queued jobs, each walking ``ix_jobs_status_priority_run_at`` in its
order (one ``WHERE`` of both cases would sort the whole queue; docs/performance.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.models import Job, JobStatus
from kt_jira.store.tables import jobs


def candidates(
    which: ColumnElement[bool], limit: int, kinds: Sequence[str] | None = None
) -> Select[tuple[int]]:
    """The ids a claim takes, in the index's order, skipping rows other workers hold."""
    query = (
        select(jobs.c.id)
        .where(which)
        .order_by(jobs.c.priority, jobs.c.run_at, jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return query if kinds is None else query.where(jobs.c.kind.in_(list(kinds)))


def due(now: datetime) -> ColumnElement[bool]:
    """Queued jobs whose time has come."""
    return and_(jobs.c.status == JobStatus.QUEUED.value, jobs.c.run_at <= now)


def expired(now: datetime) -> ColumnElement[bool]:
    """Running jobs whose lease ran out: their holder died or hung."""
    return and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.locked_until < now)


async def lease(
    conn: AsyncConnection,
    which: ColumnElement[bool],
    limit: int,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    kinds: Sequence[str] | None,
) -> list[Job]:
    stmt = (
        update(jobs)
        .where(jobs.c.id.in_(candidates(which, limit, kinds)))
        .values(
            status=JobStatus.RUNNING.value,
            locked_by=worker_id,
            locked_until=now + lease,
            attempts=jobs.c.attempts + 1,
            updated_at=now,
        )
        .returning(*jobs.c)
    )
    claimed = [to_job(row) for row in (await conn.execute(stmt)).mappings()]
    # RETURNING order is unspecified; hand jobs back in the order they were chosen.
    claimed.sort(key=lambda job: (job.priority, job.run_at, job.id))
    return claimed


def to_job(row: RowMapping) -> Job:
    values = {name: row[name] for name in _JOB_FIELDS}
    return Job(**{**values, "payload": dict(row["payload"]), "status": JobStatus(row["status"])})


_JOB_FIELDS = tuple(field.name for field in fields(Job))
