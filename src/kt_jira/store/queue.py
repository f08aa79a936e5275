"""Every job-queue statement: enqueue, claim, heartbeat and the guarded state transitions.

The database does the claiming, in one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
RETURNING`` statement (SQLite ignores the lock clause; there the caller's ``BEGIN IMMEDIATE``
writer transaction serialises claimers). A transition out of ``running`` only applies while the
caller still holds the lease, so a worker whose stalled lease was taken over cannot overwrite
the new holder's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.jobs import NewJob
from kt_jira.store import audit
from kt_jira.store.models import Job, JobStatus
from kt_jira.store.tables import jobs

ENTITY = "job"
AUDIT_ERROR_CHARS = 2000  # the job row keeps the full error; the audit row a summary


def claimable(now: datetime) -> ColumnElement[bool]:
    """Due queued jobs, and running jobs whose lease expired (their holder died or hung)."""
    return or_(
        and_(jobs.c.status == JobStatus.QUEUED.value, jobs.c.run_at <= now),
        and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.locked_until < now),
    )


async def enqueue(conn: AsyncConnection, job: NewJob, *, now: datetime) -> int | None:
    """Insert ``job``; ``None`` when its ``job_key`` already exists (the old job is kept)."""
    stmt = (
        audit.insert(conn, jobs)
        .values(
            kind=job.kind,
            job_key=job.job_key,
            payload=dict(job.payload),
            status=JobStatus.QUEUED.value,
            priority=job.priority,
            attempts=0,
            run_at=job.run_at,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[jobs.c.job_key])
        .returning(jobs.c.id)
    )
    job_id: int | None = (await conn.execute(stmt)).scalar_one_or_none()
    if job_id is not None:
        detail = {"kind": job.kind, "job_key": job.job_key, "run_at": job.run_at.isoformat()}
        await audit.write(
            conn, at=now, entity=ENTITY, entity_id=job_id, action="enqueued", detail=detail
        )
    return job_id


async def claim(
    conn: AsyncConnection,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None,
) -> list[Job]:
    if limit < 1 or (kinds is not None and not kinds):
        return []
    candidates = (
        select(jobs.c.id)
        .where(claimable(now))
        .order_by(jobs.c.priority, jobs.c.run_at, jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if kinds is not None:
        candidates = candidates.where(jobs.c.kind.in_(list(kinds)))
    stmt = (
        update(jobs)
        .where(jobs.c.id.in_(candidates))
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
    await audit.write_many(
        conn,
        [
            {
                "at": now,
                "entity": ENTITY,
                "entity_id": job.id,
                "action": "claimed",
                "detail": {"worker_id": worker_id, "attempt": job.attempts},
            }
            for job in claimed
        ],
    )
    return claimed


async def heartbeat(
    conn: AsyncConnection,
    job_ids: Sequence[int],
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
) -> int:
    if not job_ids:
        return 0
    stmt = (
        update(jobs)
        .where(jobs.c.id.in_(list(job_ids)), *_held_by(worker_id))
        .values(locked_until=now + lease, updated_at=now)
    )
    return (await conn.execute(stmt)).rowcount


async def finish(conn: AsyncConnection, job_id: int, *, worker_id: str, now: datetime) -> bool:
    values = {"status": JobStatus.DONE.value}
    return await _transition(conn, job_id, worker_id, now, "done", values)


async def retry(
    conn: AsyncConnection,
    job_id: int,
    *,
    worker_id: str,
    now: datetime,
    run_at: datetime,
    error: str,
) -> bool:
    values = {"status": JobStatus.QUEUED.value, "run_at": run_at, "last_error": error}
    return await _transition(conn, job_id, worker_id, now, "retried", values, error)


async def release(
    conn: AsyncConnection, job_id: int, *, worker_id: str, now: datetime, run_at: datetime
) -> bool:
    # The claim counted an attempt that never ran; give it back.
    attempts = case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0)
    values = {"status": JobStatus.QUEUED.value, "run_at": run_at, "attempts": attempts}
    return await _transition(conn, job_id, worker_id, now, "released", values)


async def fail(
    conn: AsyncConnection, job_id: int, *, worker_id: str, now: datetime, error: str
) -> bool:
    values = {"status": JobStatus.DEAD.value, "last_error": error}
    return await _transition(conn, job_id, worker_id, now, "dead", values, error)


async def _transition(
    conn: AsyncConnection,
    job_id: int,
    worker_id: str,
    now: datetime,
    action: str,
    values: dict[str, Any],
    error: str | None = None,
) -> bool:
    """Move a running job out of ``running``, only if ``worker_id`` still holds it."""
    stmt = (
        update(jobs)
        .where(jobs.c.id == job_id, *_held_by(worker_id))
        .values(locked_by=None, locked_until=None, updated_at=now, **values)
    )
    if (await conn.execute(stmt)).rowcount == 0:
        return False
    detail: dict[str, Any] = {"worker_id": worker_id}
    if error is not None:
        detail["error"] = error[:AUDIT_ERROR_CHARS]
    await audit.write(conn, at=now, entity=ENTITY, entity_id=job_id, action=action, detail=detail)
    return True


async def replay_dead(conn: AsyncConnection, *, job_id: int | None, now: datetime) -> int:
    """Dead letters back to the queue, due now, with their attempts reset."""
    stmt = (
        update(jobs)
        .where(jobs.c.status == JobStatus.DEAD.value)
        .values(status=JobStatus.QUEUED.value, attempts=0, run_at=now, updated_at=now)
        .returning(jobs.c.id)
    )
    if job_id is not None:
        stmt = stmt.where(jobs.c.id == job_id)
    replayed = list((await conn.execute(stmt)).scalars())
    await audit.write_many(
        conn,
        [
            {"at": now, "entity": ENTITY, "entity_id": jid, "action": "replayed", "detail": {}}
            for jid in replayed
        ],
    )
    return len(replayed)


async def get_job(conn: AsyncConnection, job_id: int) -> Job | None:
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
    return None if row is None else to_job(row)


async def list_jobs(
    conn: AsyncConnection, *, status: str | None, kind: str | None, limit: int
) -> list[Job]:
    query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(jobs.c.status == status)
    if kind is not None:
        query = query.where(jobs.c.kind == kind)
    return [to_job(row) for row in (await conn.execute(query)).mappings()]


async def job_counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {status.value: 0 for status in JobStatus}
    query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
    for status, count in await conn.execute(query):
        counts[status] = count
    return counts


def _held_by(worker_id: str) -> tuple[ColumnElement[bool], ...]:
    return (jobs.c.locked_by == worker_id, jobs.c.status == JobStatus.RUNNING.value)


def to_job(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        job_key=row["job_key"],
        payload=dict(row["payload"]),
        status=JobStatus(row["status"]),
        priority=row["priority"],
        attempts=row["attempts"],
        run_at=row["run_at"],
        locked_by=row["locked_by"],
        locked_until=row["locked_until"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
