"""Statements for reconcile: what it reads to compare, and the repairs it records.

Reconcile learns facts from the Keeptrusts API, not from a signed delivery, so it never writes a
``deliveries`` row: it inserts an escalation it never heard of (``learn``), closes one that was
resolved upstream (``record_resolution``), and enqueues a job again under a fresh key when an
earlier one with the same key already finished (job keys are unique forever).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira import jobs as job_contract
from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob
from kt_jira.store import audit, links, queue
from kt_jira.store.escalations import DESCRIPTIVE
from kt_jira.store.models import EscalationStatus, JobStatus
from kt_jira.store.tables import escalations, jobs
from kt_jira.store.tables import links as links_table

CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit
RECONCILE_SUFFIX = job_contract.REPEAT_SEPARATOR
SOURCE = {"source": "reconcile"}
ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


@dataclass(frozen=True, kw_only=True)
class ReconcileRow:
    """One escalation as the database holds it, with its link (if any)."""

    escalation_id: str
    status: str
    link_state: str | None
    issue_id: str | None
    issue_key: str | None


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """Mark a create as possibly done, so the job searches for the marker before creating."""

    project: str
    correlation_label: str


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _rows_query() -> Select[Any]:
    joined = escalations.outerjoin(
        links_table, links_table.c.escalation_id == escalations.c.escalation_id
    )
    return select(
        escalations.c.escalation_id,
        escalations.c.status,
        links_table.c.state,
        links_table.c.issue_id,
        links_table.c.issue_key,
    ).select_from(joined)


async def rows(
    conn: AsyncConnection, *, escalation_ids: Sequence[str], issue_ids: Sequence[str]
) -> list[ReconcileRow]:
    """Every open escalation, plus those named by id or by their linked issue's id."""
    queries = [_rows_query().where(escalations.c.status == EscalationStatus.OPEN.value)]
    queries += [
        _rows_query().where(escalations.c.escalation_id.in_(chunk))
        for chunk in _chunks(escalation_ids)
    ]
    queries += [
        _rows_query().where(links_table.c.issue_id.in_(chunk)) for chunk in _chunks(issue_ids)
    ]
    found: dict[str, ReconcileRow] = {}
    for query in queries:
        for row in await conn.execute(query):
            found[row[0]] = ReconcileRow(
                escalation_id=row[0],
                status=row[1],
                link_state=row[2],
                issue_id=row[3],
                issue_key=row[4],
            )
    return list(found.values())


async def job_statuses(
    conn: AsyncConnection, *, escalation_ids: Sequence[str], kinds: Sequence[str]
) -> dict[tuple[str, str], list[str]]:
    """``(kind, escalation_id) -> statuses`` of its jobs, reconcile's re-enqueued ones included."""
    by_key = {f"{kind}:{eid}": (kind, eid) for kind in kinds for eid in set(escalation_ids)}
    found: dict[tuple[str, str], list[str]] = {}
    queries = [
        select(jobs.c.job_key, jobs.c.status).where(jobs.c.job_key.in_(chunk))
        for chunk in _chunks(list(by_key))
    ]
    queries.append(
        select(jobs.c.job_key, jobs.c.status).where(
            jobs.c.kind.in_(list(kinds)), jobs.c.job_key.contains(RECONCILE_SUFFIX)
        )
    )
    for query in queries:
        for key, status in await conn.execute(query):
            target = by_key.get(str(key).split(RECONCILE_SUFFIX, 1)[0])
            if target is not None:
                found.setdefault(target, []).append(str(status))
    return found


async def learn(
    conn: AsyncConnection,
    escalation: Escalation,
    *,
    payload: Mapping[str, Any],
    now: datetime,
    job: NewJob | None,
    attempt: Attempt | None,
) -> str | None:
    """Insert an open escalation the bridge never received (an existing row is kept as it is),
    then enqueue ``job``; returns the key enqueued, or ``None`` when one is already pending."""
    stmt = (
        audit.insert(conn, escalations)
        .values(
            escalation_id=escalation.escalation_id,
            **{name: getattr(escalation, name) for name in DESCRIPTIVE},
            occurred_at=escalation.occurred_at,
            status=EscalationStatus.OPEN.value,
            payload=dict(payload),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[escalations.c.escalation_id])
        .returning(escalations.c.escalation_id)
    )
    if (await conn.execute(stmt)).scalar_one_or_none() is not None:
        await audit.write(
            conn,
            at=now,
            entity="escalation",
            entity_id=escalation.escalation_id,
            action="learned",
            detail=SOURCE,
        )
    return await _follow_up(conn, escalation.escalation_id, now=now, job=job, attempt=attempt)


async def record_resolution(
    conn: AsyncConnection,
    escalation_id: str,
    resolution: Resolution,
    *,
    expired: bool,
    now: datetime,
    job: NewJob | None,
) -> str | None:
    """Close an escalation the database still holds open (a closed one is never changed), then
    enqueue ``job``; returns the key enqueued, or ``None`` when one is already pending."""
    status = EscalationStatus.EXPIRED if expired else EscalationStatus.RESOLVED
    stmt = (
        update(escalations)
        .where(
            escalations.c.escalation_id == escalation_id,
            escalations.c.status == EscalationStatus.OPEN.value,
        )
        .values(
            status=status.value,
            resolution=resolution.outcome,
            resolution_notes=resolution.notes,
            resolved_by=resolution.resolved_by,
            resolved_at=resolution.resolved_at or now,
            updated_at=now,
        )
    )
    if (await conn.execute(stmt)).rowcount:
        await audit.write(
            conn,
            at=now,
            entity="escalation",
            entity_id=escalation_id,
            action=status.value,
            detail=SOURCE,
        )
    return await _follow_up(conn, escalation_id, now=now, job=job, attempt=None)


async def enqueue_again(
    conn: AsyncConnection, job: NewJob, *, now: datetime, attempt: Attempt | None = None
) -> str | None:
    """Enqueue ``job``; if its key was used by a finished job, under ``key:reconcile:<now>``.

    ``None`` (nothing enqueued) while a job with that key, or a reconcile copy of it, is still
    queued or running. With ``attempt``, the escalation's link is first marked ``attempting``.
    """
    escalation_id = str(job.payload.get("escalation_id", ""))
    return await _follow_up(conn, escalation_id, now=now, job=job, attempt=attempt)


async def _follow_up(
    conn: AsyncConnection,
    escalation_id: str,
    *,
    now: datetime,
    job: NewJob | None,
    attempt: Attempt | None,
) -> str | None:
    if job is None:
        return None
    copies = jobs.c.job_key.startswith(job.job_key + RECONCILE_SUFFIX, autoescape=True)
    active = select(jobs.c.id).where(
        (jobs.c.job_key == job.job_key) | copies, jobs.c.status.in_(ACTIVE)
    )
    if (await conn.execute(active.limit(1))).first() is not None:
        return None
    if attempt is not None:
        await links.begin_attempt(
            conn,
            escalation_id,
            project=attempt.project,
            correlation_label=attempt.correlation_label,
            now=now,
        )
    if await queue.enqueue(conn, job, now=now) is not None:
        return job.job_key
    again = job_contract.again(job, now=now)
    return again.job_key if await queue.enqueue(conn, again, now=now) is not None else None
