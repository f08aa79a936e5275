"""``Queue`` (``store.queue``): the job queue: enqueue, claim, leases and guarded transitions.

The database does the claiming, in one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
RETURNING`` statement (SQLite ignores the lock clause; there the ``BEGIN IMMEDIATE`` writer
transaction serialises claimers). A transition out of ``running`` only applies while the caller
still holds the lease, so a worker whose stalled lease was taken over cannot overwrite the new
holder's result. Job keys are unique forever: nothing here deletes a job. The conn-level
``insert``, ``pending`` and ``insert_fresh`` are the steps other concepts enqueue with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira import jobs as job_contract
from kt_jira.jobs import NewJob
from kt_jira.store import audit, claims, links
from kt_jira.store.claims import to_job
from kt_jira.store.database import Database
from kt_jira.store.models import Attempt, Job, JobStatus
from kt_jira.store.tables import jobs

ENTITY = "job"
AUDIT_ERROR_CHARS = 2000  # the job row keeps the full error; the audit row a summary
RECONCILE_SUFFIX = job_contract.REPEAT_SEPARATOR
ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


class Queue:
    """Every job-queue operation, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, job: NewJob, *, now: datetime | None = None) -> bool:
        """False when ``job.job_key`` exists already (that job is kept as it is)."""
        async with self._db.write() as conn:
            return await insert(conn, job, now=now or job.run_at) is not None

    async def enqueue_again(
        self, job: NewJob, *, now: datetime, attempt: Attempt | None = None
    ) -> str | None:
        """Enqueue ``job``; if its key was used by a finished job, under ``key:reconcile:<now>``.

        ``None`` (nothing enqueued) while a job with that key, or a reconcile copy of it, is still
        queued or running. With ``attempt``, the escalation's link is first marked ``attempting``.
        """
        async with self._db.write() as conn:
            if await pending(conn, job.job_key):
                return None
            if attempt is not None:
                escalation_id = str(job.payload.get("escalation_id", ""))
                await links.mark_attempting(conn, escalation_id, attempt, now=now)
            return await insert_fresh(conn, job, now=now)

    async def claim(
        self,
        *,
        worker_id: str,
        now: datetime,
        lease: timedelta,
        limit: int = 1,
        kinds: Sequence[str] | None = None,
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs to ``worker_id``: jobs whose lease expired (their holder
        died or hung) first, then queued jobs that are due, each lowest priority, then run_at,
        first.

        Two statements, each walking ``ix_jobs_status_priority_run_at`` in its order, rather than
        one ``WHERE`` of both cases, which no index serves: that one sorted every queued job to
        hand out one (3.1 ms at 10,000 queued, docs/performance.md).
        """
        if limit < 1 or (kinds is not None and not kinds):
            return []
        async with self._db.write() as conn:
            claimed = await claims.lease(
                conn, claims.expired(now), limit, worker_id, now, lease, kinds
            )
            if len(claimed) < limit:
                left = limit - len(claimed)
                claimed += await claims.lease(
                    conn, claims.due(now), left, worker_id, now, lease, kinds
                )
            details = {job.id: {"worker_id": worker_id, "attempt": job.attempts} for job in claimed}
            await audit.write_many(conn, _audit_rows(now, "claimed", details))
        return claimed

    async def heartbeat(
        self, job_ids: Sequence[int], *, worker_id: str, now: datetime, lease: timedelta
    ) -> int:
        """Extend the leases ``worker_id`` still holds; returns how many it still holds."""
        if not job_ids:
            return 0
        stmt = (
            update(jobs)
            .where(jobs.c.id.in_(list(job_ids)), *_held_by(worker_id))
            .values(locked_until=now + lease, updated_at=now)
        )
        async with self._db.write() as conn:
            return (await conn.execute(stmt)).rowcount

    async def finish(self, job_id: int, *, worker_id: str, now: datetime) -> bool:
        """Mark done; False (and no change) when ``worker_id`` no longer holds the job."""
        values = {"status": JobStatus.DONE.value}
        return await self._transition(job_id, worker_id, now, "done", values)

    async def retry(
        self, job_id: int, *, worker_id: str, now: datetime, run_at: datetime, error: str
    ) -> bool:
        """Back to the queue at ``run_at``, keeping ``error``; False if the lease was lost."""
        values = {"status": JobStatus.QUEUED.value, "run_at": run_at, "last_error": error}
        return await self._transition(job_id, worker_id, now, "retried", values, error)

    async def release(
        self, job_id: int, *, worker_id: str, run_at: datetime, now: datetime | None = None
    ) -> bool:
        """Graceful stop: back to the queue, the claim's attempt given back (``now`` defaults
        to ``run_at``, for the audit row); False if the lease was lost."""
        # The claim counted an attempt that never ran; give it back.
        attempts = case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0)
        values = {"status": JobStatus.QUEUED.value, "run_at": run_at, "attempts": attempts}
        return await self._transition(job_id, worker_id, now or run_at, "released", values)

    async def fail(self, job_id: int, *, worker_id: str, now: datetime, error: str) -> bool:
        """Dead letter, with the full error; False if the lease was lost."""
        values = {"status": JobStatus.DEAD.value, "last_error": error}
        return await self._transition(job_id, worker_id, now, "dead", values, error)

    async def _transition(
        self,
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
        detail: dict[str, Any] = {"worker_id": worker_id}
        if error is not None:
            detail["error"] = error[:AUDIT_ERROR_CHARS]
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            await audit.write(
                conn, at=now, entity=ENTITY, entity_id=job_id, action=action, detail=detail
            )
        return True

    async def replay_dead(self, *, job_id: int | None = None, now: datetime) -> int:
        """Dead letters (one, or all) back to the queue, due now, with attempts reset; returns
        how many."""
        return len(await self.replay(None if job_id is None else [job_id], now=now))

    async def replay(
        self, job_ids: Sequence[int] | None = None, *, now: datetime, by: str | None = None
    ) -> list[int]:
        """Dead letters (those of ``job_ids``, or all) back to the queue, due now, with
        attempts reset; returns the ids replayed (ids that are not dead are left as they are).
        ``by`` (who asked, for the audit rows) is recorded when given."""
        stmt = (
            update(jobs)
            .where(jobs.c.status == JobStatus.DEAD.value)
            .values(status=JobStatus.QUEUED.value, attempts=0, run_at=now, updated_at=now)
            .returning(jobs.c.id)
        )
        if job_ids is not None:
            stmt = stmt.where(jobs.c.id.in_(list(job_ids)))
        detail = {} if by is None else {"by": by}
        async with self._db.write() as conn:
            replayed = sorted((await conn.execute(stmt)).scalars())
            await audit.write_many(
                conn, _audit_rows(now, "replayed", {jid: detail for jid in replayed})
            )
        return replayed

    async def cancel(self, job_id: int, *, now: datetime, by: str) -> bool:
        """A queued job to ``dead`` with the error ``cancelled by <by>``, so it never runs
        unless replayed; False (and no change) when it is not queued (a running job is held by
        its worker, a finished one is history)."""
        error = f"cancelled by {by}"
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.DEAD.value, last_error=error, updated_at=now)
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            await audit.write(
                conn, at=now, entity=ENTITY, entity_id=job_id, action="cancelled", detail={"by": by}
            )
        return True

    async def get(self, job_id: int) -> Job | None:
        return await self._one(jobs.c.id == job_id)

    async def by_key(self, job_key: str) -> Job | None:
        """The job enqueued under ``job_key`` (not its reconcile copies)."""
        return await self._one(jobs.c.job_key == job_key)

    async def _one(self, where: ColumnElement[bool]) -> Job | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(jobs).where(where))).mappings().first()
        return None if row is None else to_job(row)

    async def counts(self) -> dict[str, int]:
        """Jobs by status, every status present (zeros included)."""
        counts = {status.value: 0 for status in JobStatus}
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        async with self._db.read() as conn:
            for status, count in await conn.execute(query):
                counts[status] = count
        return counts

    # Last: annotations after it would name this method, not the builtin.
    async def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[Job]:
        """Newest first; with ``before_id``, only older jobs (the next page)."""
        query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(jobs.c.id < before_id)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        async with self._db.read() as conn:
            return [to_job(row) for row in (await conn.execute(query)).mappings()]


# -- conn-level steps, composed here and by deliveries, escalations and sync ------------------


@cache
def _insert_job(dialect: str) -> Any:
    """The job INSERT, built once per dialect; a taken ``job_key`` returns no id."""
    columns = ("kind", "job_key", "payload", "status", "priority", "attempts", "run_at")
    return (
        audit.dialect_insert(dialect, jobs)
        .values(audit.bound(jobs, (*columns, "created_at", "updated_at")))
        .on_conflict_do_nothing(index_elements=[jobs.c.job_key])
        .returning(jobs.c.id)
    )


async def insert(conn: AsyncConnection, job: NewJob, *, now: datetime) -> int | None:
    """Insert ``job``; ``None`` when its ``job_key`` already exists (the old job is kept)."""
    row = {
        "kind": job.kind,
        "job_key": job.job_key,
        "payload": dict(job.payload),
        "status": JobStatus.QUEUED.value,
        "priority": job.priority,
        "attempts": 0,
        "run_at": job.run_at,
        "created_at": now,
        "updated_at": now,
    }
    stmt = _insert_job(conn.dialect.name)
    job_id: int | None = (await conn.execute(stmt, row)).scalar_one_or_none()
    if job_id is not None:
        detail = {"kind": job.kind, "job_key": job.job_key, "run_at": job.run_at.isoformat()}
        await audit.write(
            conn, at=now, entity=ENTITY, entity_id=job_id, action="enqueued", detail=detail
        )
    return job_id


async def pending(conn: AsyncConnection, job_key: str, *, statuses: Sequence[str] = ACTIVE) -> bool:
    """Whether a job with ``job_key``, or a reconcile copy of it, is queued or running (or in
    ``statuses``: only ``queued`` asks whether one is still to start)."""
    copies = jobs.c.job_key.startswith(job_key + RECONCILE_SUFFIX, autoescape=True)
    active = select(jobs.c.id).where(
        (jobs.c.job_key == job_key) | copies, jobs.c.status.in_(list(statuses))
    )
    return (await conn.execute(active.limit(1))).first() is not None


async def insert_fresh(conn: AsyncConnection, job: NewJob, *, now: datetime) -> str | None:
    """Insert ``job``, or, if its key is taken, a copy under ``key:reconcile:<now>``; returns
    the key enqueued (``None`` if that copy exists too)."""
    if await insert(conn, job, now=now) is not None:
        return job.job_key
    again = job_contract.again(job, now=now)
    return again.job_key if await insert(conn, again, now=now) is not None else None


def _audit_rows(
    now: datetime, action: str, details: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """``audit.write_many`` rows: one ``action`` per job id, with its detail."""
    return [
        {"at": now, "entity": ENTITY, "entity_id": job_id, "action": action, "detail": detail}
        for job_id, detail in details.items()
    ]


def _held_by(worker_id: str) -> tuple[ColumnElement[bool], ...]:
    return (jobs.c.locked_by == worker_id, jobs.c.status == JobStatus.RUNNING.value)
