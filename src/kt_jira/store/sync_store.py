"""``SyncStore`` (``Store.sync``): the two-way sync methods, each one transaction.

A thin face over ``sync_state``'s statements, kept apart so ``Store`` stays one screenful per
concern. It shares the store's transactions (and SQLite's single-writer lock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.events.keeptrusts import Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import sync_state
from kt_jira.store.models import IngestOutcome, Job
from kt_jira.store.sync_state import JiraStatus

Transaction = Callable[[], AbstractAsyncContextManager[AsyncConnection]]

__all__ = ["JiraStatus", "SyncStore"]


class SyncStore:
    def __init__(self, *, write: Transaction, read: Transaction) -> None:
        self._write = write
        self._read = read

    async def ingest_jira(
        self,
        delivery: VerifiedDelivery,
        *,
        event_key: str,
        event_type: str,
        issue_id: str,
        labels: Sequence[str],
        job: NewJob | None,
    ) -> IngestOutcome:
        """Record a verified Jira delivery; enqueue ``job`` (plus ``escalation_id``) only when
        the issue is linked, else record it as ignored. Duplicates as in ``Store.ingest``."""
        async with self._write() as conn:
            return await sync_state.ingest_jira(
                conn,
                delivery,
                event_key=event_key,
                event_type=event_type,
                issue_id=issue_id,
                labels=labels,
                job=job,
            )

    async def apply_inbound(
        self,
        escalation_id: str,
        *,
        seen_status_at: datetime | None,
        seen_changelog_id: int | None = None,
        status: JiraStatus | None = None,
        issue_key: str | None = None,
        first_response_at: datetime | None = None,
        deleted_at: datetime | None = None,
        jobs: Sequence[NewJob] = (),
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Apply a Jira event's effects; ``False`` if a newer status arrived meanwhile."""
        async with self._write() as conn:
            return await sync_state.apply_inbound(
                conn,
                escalation_id,
                seen_status_at=seen_status_at,
                seen_changelog_id=seen_changelog_id,
                status=status,
                issue_key=issue_key,
                first_response_at=first_response_at,
                deleted_at=deleted_at,
                jobs_=jobs,
                now=now,
                detail=detail or {},
            )

    async def begin_sync(
        self,
        escalation_id: str,
        *,
        origin: str | None,
        now: datetime,
        busy_until: datetime | None = None,
    ) -> None:
        """Commit the origin of a change before the bridge writes it to the other side."""
        async with self._write() as conn:
            await sync_state.begin_sync(
                conn, escalation_id, origin=origin, now=now, busy_until=busy_until
            )

    async def finish_inbound(
        self, escalation_id: str, *, resolution: Resolution | None, outcome: str, now: datetime
    ) -> None:
        async with self._write() as conn:
            await sync_state.finish_inbound(
                conn, escalation_id, resolution=resolution, outcome=outcome, now=now
            )

    async def finish_outbound(
        self, escalation_id: str, *, status: JiraStatus | None, outcome: str, now: datetime
    ) -> None:
        async with self._write() as conn:
            await sync_state.finish_outbound(
                conn, escalation_id, status=status, outcome=outcome, now=now
            )

    async def job_by_key(self, job_key: str) -> Job | None:
        async with self._read() as conn:
            return await sync_state.get_job_by_key(conn, job_key)
