"""``Store``: the async face of the database; each method is one transaction.

The SQL lives in ``intake``, ``escalations``, ``queue`` and ``links``; this class owns
transactions and locks. SQLite has one writer, so write transactions are serialised in-process
by an ``asyncio.Lock`` and open with ``BEGIN IMMEDIATE`` (other processes wait on
``busy_timeout``). It never reads the clock: callers pass ``now``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit, counts, engine, escalations, intake, links, locks, migrate, queue
from kt_jira.store import reconcile as reconcile_sql
from kt_jira.store.models import (
    AuditRecord,
    DeliveryRecord,
    EscalationRecord,
    IngestOutcome,
    Job,
    LinkRecord,
)
from kt_jira.store.sync_store import SyncStore


@asynccontextmanager
async def open_store(database_url: str) -> AsyncIterator[Store]:
    """Open an engine for ``database_url`` and dispose of it on exit; does not migrate."""
    url = engine.normalise_url(database_url)
    sa_engine = engine.create_engine(url)
    try:
        yield Store(sa_engine, url=url)
    finally:
        await sa_engine.dispose()


class Store:
    """Every read and write kt-jira makes to its database."""

    def __init__(self, sa_engine: AsyncEngine, *, url: URL) -> None:
        self._engine = sa_engine
        self._url = url
        self.dialect: str = url.get_backend_name()
        sqlite = self.dialect == "sqlite"
        self._writer = sa_engine.execution_options(**{engine.WRITE_OPTION: True})
        self._write_lock = asyncio.Lock() if sqlite else None
        # ":memory:" is one shared connection: reads must not interleave with a write either.
        self._read_lock = self._write_lock if engine.is_memory(url) else None
        #: Two-way sync's methods (Jira intake, link status, origins), on these transactions.
        self.sync = SyncStore(write=self._write, read=self._read)

    # -- transactions -------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with _maybe(self._write_lock), self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with _maybe(self._read_lock), self._engine.connect() as conn:
            yield conn

    # -- schema -------------------------------------------------------------------------------

    async def migrate(self) -> None:
        """``alembic upgrade head``; concurrent replicas serialise on an advisory lock."""
        async with self._write() as conn:
            await locks.lock_migrations(conn)
            await conn.run_sync(migrate.upgrade)

    async def migration_status(self) -> tuple[str | None, str]:
        """``(current, head)`` revision ids; current is ``None`` on an empty database."""
        async with self._read() as conn:
            current = await conn.run_sync(migrate.current_revision)
        return current, migrate.head_revision()

    async def ping(self) -> None:
        async with self._read() as conn:
            await conn.execute(text("SELECT 1"))

    # -- intake -------------------------------------------------------------------------------

    async def ingest(
        self,
        delivery: VerifiedDelivery,
        *,
        event_key: str,
        escalation: Escalation | None,
        resolution: Resolution | None,
        event_type: str,
        jobs: Sequence[NewJob],
    ) -> IngestOutcome:
        """Record an accepted delivery, upsert its escalation and enqueue ``jobs``, atomically.

        A delivery already stored under the same id, or an accepted one with the same non-empty
        ``event_key``, makes this a ``duplicate``: only the original's counter changes.
        """
        async with self._write() as conn:
            return await intake.ingest(
                conn,
                delivery,
                event_key=event_key,
                escalation=escalation,
                resolution=resolution,
                event_type=event_type,
                jobs=jobs,
            )

    async def quarantine(self, delivery: VerifiedDelivery, *, reason: str, http_status: int) -> int:
        """Keep a signed but unusable body for inspection and replay; returns its row id."""
        async with self._write() as conn:
            return await intake.quarantine(conn, delivery, reason=reason, http_status=http_status)

    async def record_ignored(self, delivery: VerifiedDelivery, *, event_type: str) -> IngestOutcome:
        async with self._write() as conn:
            return await intake.record_ignored(conn, delivery, event_type=event_type)

    async def list_deliveries(
        self, *, status: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        """Newest first, without bodies (``get_delivery`` has the body)."""
        async with self._read() as conn:
            return await intake.list_deliveries(conn, status=status, limit=limit)

    async def get_delivery(self, delivery_row_id: int) -> DeliveryRecord | None:
        async with self._read() as conn:
            return await intake.get_delivery(conn, delivery_row_id)

    # -- queue --------------------------------------------------------------------------------

    async def enqueue(self, job: NewJob, *, now: datetime | None = None) -> bool:
        """False when ``job.job_key`` exists already (that job is kept as it is)."""
        async with self._write() as conn:
            return await queue.enqueue(conn, job, now=now or job.run_at) is not None

    async def claim(
        self,
        *,
        worker_id: str,
        now: datetime,
        lease: timedelta,
        limit: int = 1,
        kinds: Sequence[str] | None = None,
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs (lowest priority, then run_at, first) to ``worker_id``."""
        async with self._write() as conn:
            return await queue.claim(
                conn, worker_id=worker_id, now=now, lease=lease, limit=limit, kinds=kinds
            )

    async def heartbeat(
        self, job_ids: Sequence[int], *, worker_id: str, now: datetime, lease: timedelta
    ) -> int:
        """Extend the leases ``worker_id`` still holds; returns how many it still holds."""
        async with self._write() as conn:
            return await queue.heartbeat(conn, job_ids, worker_id=worker_id, now=now, lease=lease)

    async def finish(self, job_id: int, *, worker_id: str, now: datetime) -> bool:
        """Mark done; False (and no change) when ``worker_id`` no longer holds the job."""
        async with self._write() as conn:
            return await queue.finish(conn, job_id, worker_id=worker_id, now=now)

    async def retry(
        self, job_id: int, *, worker_id: str, now: datetime, run_at: datetime, error: str
    ) -> bool:
        """Back to the queue at ``run_at``, keeping ``error``; False if the lease was lost."""
        async with self._write() as conn:
            return await queue.retry(
                conn, job_id, worker_id=worker_id, now=now, run_at=run_at, error=error
            )

    async def release(
        self, job_id: int, *, worker_id: str, run_at: datetime, now: datetime | None = None
    ) -> bool:
        """Graceful stop: back to the queue, the claim's attempt given back (``now`` defaults
        to ``run_at``, for the audit row); False if the lease was lost."""
        async with self._write() as conn:
            return await queue.release(
                conn, job_id, worker_id=worker_id, now=now or run_at, run_at=run_at
            )

    async def fail(self, job_id: int, *, worker_id: str, now: datetime, error: str) -> bool:
        """Dead letter, with the full error; False if the lease was lost."""
        async with self._write() as conn:
            return await queue.fail(conn, job_id, worker_id=worker_id, now=now, error=error)

    async def replay_dead(self, *, job_id: int | None = None, now: datetime) -> int:
        """Dead letters (one, or all) back to the queue with attempts reset; returns how many."""
        async with self._write() as conn:
            return await queue.replay_dead(conn, job_id=job_id, now=now)

    async def list_jobs(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Job]:
        async with self._read() as conn:
            return await queue.list_jobs(conn, status=status, kind=kind, limit=limit)

    async def job_counts(self) -> dict[str, int]:
        async with self._read() as conn:
            return await queue.job_counts(conn)

    async def get_job(self, job_id: int) -> Job | None:
        async with self._read() as conn:
            return await queue.get_job(conn, job_id)

    # -- escalations and links ----------------------------------------------------------------

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        async with self._read() as conn:
            return await escalations.get_escalation(conn, escalation_id)

    async def list_escalations(
        self, *, status: str | None = None, limit: int = 100
    ) -> list[EscalationRecord]:
        async with self._read() as conn:
            return await escalations.list_escalations(conn, status=status, limit=limit)

    async def get_link(self, escalation_id: str) -> LinkRecord | None:
        async with self._read() as conn:
            return await links.get_link(conn, escalation_id)

    async def begin_create_attempt(
        self, escalation_id: str, *, project: str, correlation_label: str, now: datetime
    ) -> LinkRecord:
        """Commit ``attempting`` before calling Jira; a ``created`` link comes back unchanged."""
        async with self._write() as conn:
            return await links.begin_attempt(
                conn, escalation_id, project=project, correlation_label=correlation_label, now=now
            )

    async def clear_create_attempt(self, escalation_id: str, *, now: datetime) -> bool:
        """The attempt certainly created nothing: back to ``pending`` (no search next time)."""
        async with self._write() as conn:
            return await links.clear_attempt(conn, escalation_id, now=now)

    async def save_created(
        self,
        escalation_id: str,
        *,
        issue_id: str,
        issue_key: str,
        now: datetime,
        first_response_due: datetime | None,
        resolution_due: datetime | None,
        adopted: bool,
    ) -> LinkRecord:
        """Record the created (or adopted) issue; compare the result's ``issue_id`` with yours."""
        async with self._write() as conn:
            return await links.save_created(
                conn,
                escalation_id,
                issue_id=issue_id,
                issue_key=issue_key,
                now=now,
                first_response_due=first_response_due,
                resolution_due=resolution_due,
                adopted=adopted,
            )

    async def find_link_by_issue(self, issue_id: str) -> LinkRecord | None:
        async with self._read() as conn:
            return await links.find_by_issue(conn, issue_id)

    async def list_links(self, *, state: str | None = None, limit: int = 100) -> list[LinkRecord]:
        async with self._read() as conn:
            return await links.list_links(conn, state=state, limit=limit)

    # -- reconcile (see store/reconcile.py) ---------------------------------------------------

    async def reconcile_rows(
        self, *, escalation_ids: Sequence[str] = (), issue_ids: Sequence[str] = ()
    ) -> list[reconcile_sql.ReconcileRow]:
        """Open escalations, plus those named by id or by their linked issue, with links."""
        async with self._read() as conn:
            return await reconcile_sql.rows(
                conn, escalation_ids=escalation_ids, issue_ids=issue_ids
            )

    async def reconcile_job_statuses(
        self, *, escalation_ids: Sequence[str], kinds: Sequence[str]
    ) -> dict[tuple[str, str], list[str]]:
        async with self._read() as conn:
            return await reconcile_sql.job_statuses(
                conn, escalation_ids=escalation_ids, kinds=kinds
            )

    async def learn_escalation(
        self,
        escalation: Escalation,
        *,
        payload: dict[str, Any],
        now: datetime,
        job: NewJob | None = None,
        attempt: reconcile_sql.Attempt | None = None,
    ) -> str | None:
        """Reconcile: store an escalation found through the API (no delivery), enqueue ``job``."""
        async with self._write() as conn:
            return await reconcile_sql.learn(
                conn, escalation, payload=payload, now=now, job=job, attempt=attempt
            )

    async def record_resolution(
        self,
        escalation_id: str,
        resolution: Resolution,
        *,
        expired: bool,
        now: datetime,
        job: NewJob | None = None,
    ) -> str | None:
        """Reconcile: close an escalation resolved upstream while the bridge missed it."""
        async with self._write() as conn:
            return await reconcile_sql.record_resolution(
                conn, escalation_id, resolution, expired=expired, now=now, job=job
            )

    async def enqueue_again(
        self, job: NewJob, *, now: datetime, attempt: reconcile_sql.Attempt | None = None
    ) -> str | None:
        """Enqueue under a fresh key if the old one finished; ``None`` while one is pending."""
        async with self._write() as conn:
            return await reconcile_sql.enqueue_again(conn, job, now=now, attempt=attempt)

    # -- shared pause, audit, locks, counts ---------------------------------------------------

    async def get_pause(self, name: str) -> datetime | None:
        async with self._read() as conn:
            return await links.get_pause(conn, name)

    async def set_pause(
        self, name: str, *, until: datetime, reason: str, now: datetime | None = None
    ) -> datetime:
        """Extend (never shorten) the pause ``name``; returns the time now in force."""
        async with self._write() as conn:
            return await links.set_pause(conn, name, until=until, reason=reason, now=now)

    async def list_audit(
        self, *, entity: str | None = None, entity_id: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first."""
        async with self._read() as conn:
            return await audit.list_audit(conn, entity=entity, entity_id=entity_id, limit=limit)

    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """``async with store.exclusive(name) as acquired:`` one holder at a time, never waits.

        PostgreSQL: an advisory lock held on one connection, across all replicas. SQLite: held
        within this process only (see ``locks``).
        """
        return locks.exclusive(self._engine, self._url, name)

    async def counts(self) -> dict[str, int]:
        """Totals by state for the demo and /metrics (see ``counts.counts`` for the keys)."""
        async with self._read() as conn:
            return await counts.counts(conn)


def _maybe(lock: asyncio.Lock | None) -> AbstractAsyncContextManager[Any]:
    return lock if lock is not None else nullcontext()
