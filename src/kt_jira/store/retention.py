"""Retention (``store.retention``): what ``kt-jira prune`` may delete, counted and deleted in
batches.

Older than the cutoff, and only what can never matter again:

- ``deliveries``: every stored webhook body, quarantined ones included (an admin replays a
  quarantined body within days, not months);
- ``jobs``: finished (``done``) jobs; queued, running and dead ones stay whatever their age;
- ``audit``: rows of the audit trail;
- ``escalations``: closed ones (resolved or expired in Keeptrusts before the cutoff) whose ticket
  is done in Jira since before the cutoff, was deleted there, or never existed; their link, SLA
  signals and actions go with them (``ON DELETE CASCADE``), and so do their rows in the
  false-positive loop's Story members; an escalation that owns a group's ticket goes only when
  every member of its group may go too (the group's rows go with it).

Everything else stays: open escalations and their tickets, every link of a ticket not done,
dead letters, the shared pause, the false-positive Stories. Exactly-once does not depend on a
pruned row: a finished job's key only matters while its escalation's link exists, and a link
is only pruned with its escalation, long after any sender's retries (the command refuses a
cutoff inside ``reconcile.since``). Each batch is one short transaction, so a prune runs
beside a serving bridge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Column, ColumnElement, Select, and_, delete, exists, func, or_, select

from kt_jira.store.database import Database
from kt_jira.store.escalations import CLOSED
from kt_jira.store.models import JobStatus
from kt_jira.store.tables import (
    audit,
    deliveries,
    escalations,
    feedback_members,
    group_members,
    jobs,
    links,
    ticket_groups,
)

#: The tables ``prune`` deletes from, in the order it does.
KINDS: Final = ("deliveries", "jobs", "audit", "escalations")


def _old(kind: str, cutoff: datetime) -> Select[tuple[object]]:
    """The primary keys of ``kind``'s rows that may go."""
    if kind == "deliveries":
        return select(deliveries.c.id).where(deliveries.c.received_at < cutoff)
    if kind == "jobs":
        return select(jobs.c.id).where(
            jobs.c.status == JobStatus.DONE.value, jobs.c.updated_at < cutoff
        )
    if kind == "audit":
        return select(audit.c.id).where(audit.c.at < cutoff)
    if kind == "escalations":
        return (
            select(escalations.c.escalation_id)
            .select_from(escalations.outerjoin(links))
            .where(
                _closed_before(cutoff), _ticket_closed_before(cutoff), ~_opens_a_live_group(cutoff)
            )
        )
    raise ValueError(f"unknown retention kind {kind!r}")


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        escalations.c.status.in_(CLOSED),
        func.coalesce(escalations.c.resolved_at, escalations.c.updated_at) < cutoff,
    )


def _opens_a_live_group(cutoff: datetime) -> ColumnElement[bool]:
    """The escalation owns a group ticket with a member that may not go yet: deleting the group
    would leave that member without its ticket (and reconcile would open one)."""
    member = escalations.alias("member")
    still_here = or_(
        member.c.status.not_in(CLOSED),
        func.coalesce(member.c.resolved_at, member.c.updated_at) >= cutoff,
    )
    return exists(
        select(group_members.c.escalation_id)
        .join(ticket_groups, ticket_groups.c.id == group_members.c.group_id)
        .join(member, member.c.escalation_id == group_members.c.escalation_id)
        .where(ticket_groups.c.opener_id == escalations.c.escalation_id, still_here)
    )


def _ticket_closed_before(cutoff: datetime) -> ColumnElement[bool]:
    no_ticket = links.c.escalation_id.is_(None)
    never_created = and_(links.c.issue_id.is_(None), links.c.updated_at < cutoff)
    done = and_(links.c.jira_status_category == "done", links.c.jira_status_at < cutoff)
    deleted = links.c.deleted_at < cutoff
    return or_(no_ticket, never_created, done, deleted)


#: Each kind's primary key column (its table is the column's).
_KEY: Final[dict[str, Column[Any]]] = {
    "deliveries": deliveries.c.id,
    "jobs": jobs.c.id,
    "audit": audit.c.id,
    "escalations": escalations.c.escalation_id,
}


class Retention:
    """Counting and deleting what ``prune`` may delete; each call one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self, kind: str, *, cutoff: datetime) -> int:
        async with self.db.read() as conn:
            subquery = _old(kind, cutoff).subquery()
            return int(
                (await conn.execute(select(func.count()).select_from(subquery))).scalar_one()
            )

    async def prune_batch(self, kind: str, *, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` of ``kind``'s old rows (oldest key first); how many went."""
        key = _KEY[kind]
        async with self.db.write() as conn:
            ids = list(
                (await conn.execute(_old(kind, cutoff).order_by(key).limit(limit))).scalars()
            )
            if not ids:
                return 0
            if kind == "escalations":
                await conn.execute(
                    delete(feedback_members).where(feedback_members.c.escalation_id.in_(ids))
                )
            await conn.execute(delete(key.table).where(key.in_(ids)))
            return len(ids)
