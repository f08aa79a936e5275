"""Grouping's conn-level writes that other concepts' transactions compose: sync records a
member's origins here, and a group ticket done in Jira closes its group and resolves its open
members in the transaction that applies the Jira event.

Nothing here opens a transaction (``Groups`` and ``Sync`` do).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira import jobs
from kt_jira.jobs import NewJob
from kt_jira.store import audit, queue
from kt_jira.store.models import EscalationStatus
from kt_jira.store.tables import UTCDateTime, escalations, group_members, ticket_groups

ENTITY = "group"


async def mark_member(conn: AsyncConnection, escalation_id: str, **values: Any) -> None:
    """Set a member's sync columns (``last_origin``, ``synced_to_…_at``); a no-op for an
    escalation that is no group's member."""
    stmt = update(group_members).where(group_members.c.escalation_id == escalation_id)
    await conn.execute(stmt.values(**values))


async def resolve_members(
    conn: AsyncConnection, opener_id: str, template: NewJob, *, now: datetime
) -> list[str]:
    """The ticket of the group ``opener_id`` opened is done: close the group (its row lock
    orders this after any join in flight) and enqueue ``template`` (a ``resolve_keeptrusts``)
    for each member still open. Returns the keys enqueued."""
    closing = (
        update(ticket_groups)
        .where(ticket_groups.c.opener_id == opener_id)
        .values(closed_at=func.coalesce(ticket_groups.c.closed_at, literal(now, UTCDateTime())))
        .returning(ticket_groups.c.id)
    )
    group_id = (await conn.execute(closing)).scalar_one_or_none()
    if group_id is None:
        return []
    members = (
        select(group_members.c.escalation_id)
        .join(escalations, escalations.c.escalation_id == group_members.c.escalation_id)
        .where(group_members.c.group_id == group_id)
        .where(escalations.c.status == EscalationStatus.OPEN.value)
        .order_by(group_members.c.escalation_id)
    )
    enqueued = []
    for escalation_id in (await conn.execute(members)).scalars():
        job = jobs.resolve_member(template, str(escalation_id))
        if await queue.insert(conn, job, now=now) is not None:
            enqueued.append(job.job_key)
    await audit.write(
        conn,
        at=now,
        entity=ENTITY,
        entity_id=group_id,
        action="ticket_done",
        detail={"resolving": len(enqueued)},
    )
    return enqueued
