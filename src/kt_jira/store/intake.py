"""Every delivery statement: accepted, quarantined and ignored deliveries, and their reads.

Dedup is decided by unique indexes and ``ON CONFLICT DO NOTHING``, never by a read followed by
a write, so two concurrent copies of one delivery yield one ``accepted`` and one ``duplicate``
on both dialects. A duplicate only bumps the original row's ``duplicates`` counter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.errors import KtJiraError
from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit, escalations, queue
from kt_jira.store.models import DeliveryRecord, DeliveryStatus, IngestOutcome, Outcome
from kt_jira.store.tables import deliveries

EVENT_KEY_CHARS = 500  # deliveries.event_key
EVENT_TYPE_CHARS = 100  # deliveries.event_type


async def ingest(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    *,
    event_key: str,
    escalation: Escalation | None,
    resolution: Resolution | None,
    event_type: str,
    jobs: Sequence[NewJob],
) -> IngestOutcome:
    at = delivery.received_at
    event_key, event_type = fit_key(event_key), event_type[:EVENT_TYPE_CHARS]
    escalation_id = escalation.escalation_id if escalation else None
    row_id = await _insert(
        conn,
        delivery,
        status=DeliveryStatus.ACCEPTED,
        event_key=event_key,
        event_type=event_type,
        escalation_id=escalation_id,
    )
    if row_id is None:
        row_id = await _promote_quarantined(conn, delivery, event_key, event_type, escalation_id)
    if row_id is None:
        return await _duplicate(conn, delivery, event_key)
    if escalation is not None:
        await escalations.upsert(conn, delivery, escalation, resolution, event_type)
    enqueued = tuple([job.job_key for job in jobs if await queue.enqueue(conn, job, now=at)])
    await audit.write(
        conn,
        at=at,
        entity="delivery",
        entity_id=row_id,
        action="accepted",
        detail={"event_type": event_type, "enqueued": list(enqueued)},
    )
    return IngestOutcome(
        outcome=Outcome.ACCEPTED,
        delivery_row_id=row_id,
        delivery_id=delivery.delivery_id,
        escalation_id=escalation_id,
        enqueued=enqueued,
    )


async def quarantine(
    conn: AsyncConnection, delivery: VerifiedDelivery, *, reason: str, http_status: int
) -> int:
    row_id = await _insert(
        conn, delivery, status=DeliveryStatus.QUARANTINED, reason=reason, http_status=http_status
    )
    if row_id is None:
        return (await _duplicate(conn, delivery, "")).delivery_row_id
    detail = {"reason": reason, "http_status": http_status}
    await audit.write(
        conn,
        at=delivery.received_at,
        entity="delivery",
        entity_id=row_id,
        action="quarantined",
        detail=detail,
    )
    return row_id


async def record_ignored(
    conn: AsyncConnection, delivery: VerifiedDelivery, *, event_type: str
) -> IngestOutcome:
    event_type = event_type[:EVENT_TYPE_CHARS]
    row_id = await _insert(conn, delivery, status=DeliveryStatus.IGNORED, event_type=event_type)
    if row_id is None:
        return await _duplicate(conn, delivery, "")
    await audit.write(
        conn,
        at=delivery.received_at,
        entity="delivery",
        entity_id=row_id,
        action="ignored",
        detail={"event_type": event_type},
    )
    return IngestOutcome(
        outcome=Outcome.IGNORED, delivery_row_id=row_id, delivery_id=delivery.delivery_id
    )


def fit_key(event_key: str) -> str:
    """Event keys longer than the column are replaced by their digest (still one per fact)."""
    if len(event_key) <= EVENT_KEY_CHARS:
        return event_key
    return "sha256:" + hashlib.sha256(event_key.encode()).hexdigest()


async def _insert(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    *,
    status: DeliveryStatus,
    event_key: str = "",
    event_type: str = "",
    escalation_id: str | None = None,
    reason: str | None = None,
    http_status: int | None = None,
) -> int | None:
    """The new row's id, or ``None`` when a unique index says it is a duplicate."""
    stmt = (
        audit.insert(conn, deliveries)
        .values(
            source=delivery.source,
            delivery_id=delivery.delivery_id,
            event_key=event_key,
            event_type=event_type,
            status=status.value,
            reason=reason,
            http_status=http_status,
            headers=dict(delivery.headers),
            body=delivery.body,
            verified_by=delivery.verified_by,
            received_at=delivery.received_at,
            duplicates=0,
            escalation_id=escalation_id,
        )
        .on_conflict_do_nothing()
        .returning(deliveries.c.id)
    )
    row_id: int | None = (await conn.execute(stmt)).scalar_one_or_none()
    return row_id


async def _promote_quarantined(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    event_key: str,
    event_type: str,
    escalation_id: str | None,
) -> int | None:
    """A sender's retry of a delivery we quarantined (say, before a parser fix) is accepted.

    Without this, the first 400/422 would turn every later retry into a "duplicate" of a
    delivery that never became state. Only when no accepted delivery has the same event key.
    """
    if event_key and await _accepted_with_key(conn, delivery.source, event_key) is not None:
        return None
    stmt = (
        update(deliveries)
        .where(*_same_delivery(delivery), deliveries.c.status == DeliveryStatus.QUARANTINED.value)
        .values(
            status=DeliveryStatus.ACCEPTED.value,
            event_key=event_key,
            event_type=event_type,
            escalation_id=escalation_id,
            reason=None,
            http_status=None,
        )
        .returning(deliveries.c.id)
    )
    row_id: int | None = (await conn.execute(stmt)).scalar_one_or_none()
    if row_id is not None:
        await audit.write(
            conn,
            at=delivery.received_at,
            entity="delivery",
            entity_id=row_id,
            action="promoted",
            detail={"event_type": event_type},
        )
    return row_id


async def _duplicate(
    conn: AsyncConnection, delivery: VerifiedDelivery, event_key: str
) -> IngestOutcome:
    found = (await conn.execute(select(deliveries.c.id).where(*_same_delivery(delivery)))).first()
    row_id = found[0] if found else None
    if row_id is None and event_key:
        row_id = await _accepted_with_key(conn, delivery.source, event_key)
    if row_id is None:
        raise KtJiraError(f"delivery {delivery.delivery_id!r} conflicts with no stored delivery")
    stmt = (
        update(deliveries)
        .where(deliveries.c.id == row_id)
        .values(duplicates=deliveries.c.duplicates + 1)
        .returning(deliveries.c.delivery_id, deliveries.c.escalation_id)
    )
    original_id, escalation_id = (await conn.execute(stmt)).one()
    return IngestOutcome(
        outcome=Outcome.DUPLICATE,
        delivery_row_id=row_id,
        delivery_id=original_id,
        escalation_id=escalation_id,
    )


async def _accepted_with_key(conn: AsyncConnection, source: str, event_key: str) -> int | None:
    query = select(deliveries.c.id).where(
        deliveries.c.source == source,
        deliveries.c.event_key == event_key,
        deliveries.c.status == DeliveryStatus.ACCEPTED.value,
    )
    row_id: int | None = (await conn.execute(query)).scalar_one_or_none()
    return row_id


def _same_delivery(delivery: VerifiedDelivery) -> tuple[ColumnElement[bool], ...]:
    return (
        deliveries.c.source == delivery.source,
        deliveries.c.delivery_id == delivery.delivery_id,
    )


async def get_delivery(conn: AsyncConnection, row_id: int) -> DeliveryRecord | None:
    row = (await conn.execute(select(deliveries).where(deliveries.c.id == row_id))).mappings()
    found = row.first()
    return None if found is None else to_delivery(found, with_body=True)


async def list_deliveries(
    conn: AsyncConnection, *, status: str | None, limit: int
) -> list[DeliveryRecord]:
    columns = [c for c in deliveries.c if c.name != "body"]
    query = select(*columns).order_by(deliveries.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    return [to_delivery(row, with_body=False) for row in (await conn.execute(query)).mappings()]


def to_delivery(row: RowMapping, *, with_body: bool) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        source=row["source"],
        delivery_id=row["delivery_id"],
        event_key=row["event_key"],
        event_type=row["event_type"],
        status=DeliveryStatus(row["status"]),
        reason=row["reason"],
        http_status=row["http_status"],
        headers=dict(row["headers"]),
        received_at=row["received_at"],
        duplicates=row["duplicates"],
        escalation_id=row["escalation_id"],
        verified_by=row["verified_by"],
        body=bytes(row["body"]) if with_body else None,
    )
