"""``Sync`` (``store.sync``): two-way sync's rows: Jira intake, the link's view of Jira, origins.

Loop prevention lives in these rows: ``last_origin`` says which side a synced change began on,
``bridge_busy_until`` bounds the echoes of the bridge's own Jira writes, and the Jira status a
link holds only moves forward in webhook time (compare-and-set on ``jira_status_at`` and
``jira_changelog_id``), so an out-of-order delivery can never roll it back. It writes only the
sync columns of a link (never its issue or create state) and never creates a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira import jobs as job_contract
from kt_jira.events.keeptrusts import Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit, deliveries, group_steps, queue, sla
from kt_jira.store.database import Database
from kt_jira.store.models import (
    DeliveryStatus,
    EscalationStatus,
    InboundChange,
    IngestOutcome,
    JiraStatus,
    Outcome,
)
from kt_jira.store.tables import UTCDateTime, escalations, links

ENTITY = "link"


class Sync:
    """Two-way sync's writes, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        the issue is linked, else record it as ignored. Duplicates as in ``deliveries.ingest``."""
        event_key, event_type = deliveries.fit_key(event_key), deliveries.fit_type(event_type)

        async def work(conn: AsyncConnection) -> IngestOutcome:
            escalation_id = await _linked_escalation(conn, issue_id=issue_id, labels=labels)
            if escalation_id is None or job is None:
                row_id = await deliveries.insert(
                    conn,
                    delivery,
                    status=DeliveryStatus.IGNORED,
                    event_type=event_type,
                    action="ignored",
                    detail={"event_type": event_type},
                )
                if row_id is None:
                    return await deliveries.duplicate(conn, delivery, "")
                return IngestOutcome(
                    outcome=Outcome.IGNORED,
                    delivery_row_id=row_id,
                    delivery_id=delivery.delivery_id,
                )
            row_id = await deliveries.insert(
                conn,
                delivery,
                status=DeliveryStatus.ACCEPTED,
                event_key=event_key,
                event_type=event_type,
                escalation_id=escalation_id,
            )
            if row_id is None:
                return await deliveries.duplicate(conn, delivery, event_key)
            bound = job_contract.linked_to(job, escalation_id)
            enqueued = await deliveries.enqueue_accepted(
                conn, delivery, row_id, event_type=event_type, jobs=[bound]
            )
            return IngestOutcome(
                outcome=Outcome.ACCEPTED,
                delivery_row_id=row_id,
                delivery_id=delivery.delivery_id,
                enqueued=enqueued,
            )

        return await self._db.group.run(work)  # shared with the other deliveries waiting

    async def apply_inbound(
        self, escalation_id: str, change: InboundChange, *, now: datetime
    ) -> bool:
        """Apply one Jira event's effects atomically; ``False`` (nothing applied) when a newer
        status was recorded since the caller read ``change.seen_status_at``: read again and
        re-decide."""
        where = links.c.escalation_id == escalation_id
        values: dict[str, Any] = {}
        if change.status is not None:
            where = (
                where
                & _same_time(links.c.jira_status_at, change.seen_status_at)
                & _same_id(links.c.jira_changelog_id, change.seen_changelog_id)
            )
            values.update(_status_values(change.status))
            done = change.status.category == "done"
            values["jira_resolution"] = (change.resolution or None) if done else None
            values["resolved_in_jira_at"] = change.status.at if done else None
        if change.issue_key:
            values["issue_key"] = change.issue_key
        if change.first_response_at is not None:
            values["first_response_at"] = _first(
                links.c.first_response_at, change.first_response_at
            )
        if change.deleted_at is not None:
            values["deleted_at"] = _first(links.c.deleted_at, change.deleted_at)
        async with self._db.write() as conn:
            if values:
                stmt = update(links).where(where).values(updated_at=now, **values)
                if (await conn.execute(stmt)).rowcount == 0:
                    return False
            await sla.insert_signals(conn, escalation_id, change.signals, now=now)
            enqueued = [
                job.job_key for job in change.jobs if await queue.insert(conn, job, now=now)
            ]
            if change.members_resolve is not None:
                template = change.members_resolve
                enqueued += await group_steps.resolve_members(
                    conn, escalation_id, template, now=now
                )
            await audit.write(
                conn,
                at=now,
                entity=ENTITY,
                entity_id=escalation_id,
                action="jira_event",
                detail={**change.detail, "enqueued": enqueued},
            )
        return True

    async def begin_sync(
        self,
        escalation_id: str,
        *,
        origin: str | None,
        now: datetime,
        busy_until: datetime | None = None,
    ) -> None:
        """Commit, before writing to the other side, that a resolution from ``origin`` is being
        synced (``None``: a write that syncs no resolution, such as an explanatory comment), and,
        for Jira writes, until when authorless webhooks are this write's echoes."""
        values: dict[str, Any] = {"updated_at": now}
        if origin is not None:
            values.update(last_origin=origin, last_synced_at=now)
        if busy_until is not None:
            values["bridge_busy_until"] = _busy_until(busy_until)
        stmt = update(links).where(links.c.escalation_id == escalation_id).values(values)
        async with self._db.write() as conn:
            await conn.execute(stmt)
            if origin is not None:  # a group member has no link: its own row says it
                await group_steps.mark_member(conn, escalation_id, last_origin=origin)
            await audit.write(
                conn,
                at=now,
                entity=ENTITY,
                entity_id=escalation_id,
                action="sync_started" if origin else "bridge_write",
                detail={"origin": origin},
            )

    async def finish_inbound(
        self, escalation_id: str, *, resolution: Resolution | None, outcome: str, now: datetime
    ) -> None:
        """Keeptrusts now has the Jira resolution: close the escalation here too (the first
        resolution wins, as at intake; ``None`` when Keeptrusts had closed it already and its own
        webhook will say how) and mark the link synced with origin ``jira``."""
        detail = {"outcome": outcome, "resolution": resolution.outcome if resolution else None}
        async with self._db.write() as conn:
            if resolution is not None:
                still_open = escalations.c.status == EscalationStatus.OPEN.value
                await conn.execute(
                    update(escalations)
                    .where(escalations.c.escalation_id == escalation_id, still_open)
                    .values(
                        status=EscalationStatus.RESOLVED.value,
                        resolution=resolution.outcome,
                        resolution_notes=resolution.notes,
                        resolved_by=resolution.resolved_by,
                        resolved_at=resolution.resolved_at or now,
                        updated_at=now,
                    )
                )
            await _finish(
                conn,
                escalation_id,
                origin="jira",
                column="synced_to_keeptrusts_at",
                now=now,
                detail=detail,
            )

    async def finish_outbound(
        self, escalation_id: str, *, status: JiraStatus | None, outcome: str, now: datetime
    ) -> None:
        """Jira now reflects the Keeptrusts resolution (or says why it cannot)."""
        async with self._db.write() as conn:
            await _finish(
                conn,
                escalation_id,
                origin="keeptrusts",
                column="synced_to_jira_at",
                now=now,
                detail={"outcome": outcome},
            )
            if status is not None:
                # Our write is news only if no newer webhook has been applied meanwhile.
                newer = links.c.jira_status_at.is_(None) | (links.c.jira_status_at <= status.at)
                await conn.execute(
                    update(links)
                    .where(links.c.escalation_id == escalation_id, newer)
                    .values(_status_values(status))
                )


async def hold_echoes(conn: AsyncConnection, escalation_id: str, *, until: datetime) -> None:
    """The conn-level step of a bridge write to the link's issue: authorless webhooks until
    ``until`` are its echoes (the window only ever grows)."""
    stmt = update(links).where(links.c.escalation_id == escalation_id)
    await conn.execute(stmt.values(bridge_busy_until=_busy_until(until)))


def _busy_until(until: datetime) -> ColumnElement[Any]:
    later = links.c.bridge_busy_until.is_(None) | (links.c.bridge_busy_until < until)
    return case((later, until), else_=links.c.bridge_busy_until)


async def _linked_escalation(
    conn: AsyncConnection, *, issue_id: str, labels: Sequence[str]
) -> str | None:
    """The escalation whose link holds ``issue_id``; else, while its create is unsettled, the one
    whose correlation label the issue carries (a created link with another issue is a duplicate
    ticket, not this escalation's)."""
    query = select(links.c.escalation_id).where(links.c.issue_id == issue_id)
    found: str | None = (await conn.execute(query)).scalar_one_or_none()
    if found is None and labels:
        by_label = select(links.c.escalation_id).where(
            links.c.correlation_label.in_(list(labels)), links.c.issue_id.is_(None)
        )
        found = (await conn.execute(by_label.limit(1))).scalar_one_or_none()
    return found


async def _finish(
    conn: AsyncConnection,
    escalation_id: str,
    *,
    origin: str,
    column: str,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    stmt = update(links).where(links.c.escalation_id == escalation_id)
    await conn.execute(
        stmt.values(last_origin=origin, last_synced_at=now, updated_at=now, **{column: now})
    )
    await group_steps.mark_member(conn, escalation_id, last_origin=origin, **{column: now})
    await audit.write(
        conn,
        at=now,
        entity=ENTITY,
        entity_id=escalation_id,
        action=f"synced_to_{'keeptrusts' if origin == 'jira' else 'jira'}",
        detail={"origin": origin, **detail},
    )


def _first(column: ColumnElement[Any], value: datetime) -> ColumnElement[Any]:
    """The stored time if there is one, else ``value``: the first one recorded wins."""
    return func.coalesce(column, literal(value, UTCDateTime()))


def _same_time(column: ColumnElement[Any], value: datetime | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == literal(value, UTCDateTime())


def _same_id(column: ColumnElement[Any], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _status_values(status: JiraStatus) -> dict[str, Any]:
    return {
        "jira_status_id": status.status_id,
        "jira_status_category": status.category,
        "jira_status_at": status.at,
        "jira_changelog_id": status.changelog_id,
    }
