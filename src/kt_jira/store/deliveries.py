"""``Deliveries`` (``store.deliveries``): accepted, quarantined and ignored deliveries, and reads.

Dedup is decided by unique indexes and ``ON CONFLICT DO NOTHING``, never by a read followed by
a write, so two concurrent copies of one delivery yield one ``accepted`` and one ``duplicate``
on both dialects. A duplicate only bumps the original row's ``duplicates`` counter. The
conn-level steps (``insert``, ``duplicate``, ``enqueue_accepted``) are shared with
``sync.ingest_jira``, which records Jira deliveries in its own transaction. Nothing here ever
deletes a delivery or changes a stored body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import fields
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.errors import KtJiraError
from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit, escalations, queue
from kt_jira.store.database import Database
from kt_jira.store.models import DeliveryRecord, DeliveryStatus, IngestOutcome, Outcome
from kt_jira.store.tables import deliveries

EVENT_KEY_CHARS = 500  # deliveries.event_key
EVENT_TYPE_CHARS = 100  # deliveries.event_type
ENTITY = "delivery"
Detail = Mapping[str, Any] | None  # of an audit row


class Deliveries:
    """Every write of a verified delivery, each one transaction, and the reads of them."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        event_key, event_type = fit_key(event_key), fit_type(event_type)
        escalation_id = escalation.escalation_id if escalation else None

        async def work(conn: AsyncConnection) -> IngestOutcome:
            row_id = await insert(
                conn,
                delivery,
                status=DeliveryStatus.ACCEPTED,
                event_key=event_key,
                event_type=event_type,
                escalation_id=escalation_id,
            )
            if row_id is None:
                return await duplicate(conn, delivery, event_key)
            if escalation is not None:
                await escalations.upsert(conn, delivery, escalation, resolution, event_type)
            enqueued = await enqueue_accepted(
                conn, delivery, row_id, event_type=event_type, jobs=jobs
            )
            return IngestOutcome(
                outcome=Outcome.ACCEPTED,
                delivery_row_id=row_id,
                delivery_id=delivery.delivery_id,
                escalation_id=escalation_id,
                enqueued=enqueued,
            )

        # Shared with every delivery waiting meanwhile: one transaction, a savepoint each.
        return await self._db.group.run(work)

    async def quarantine(self, delivery: VerifiedDelivery, *, reason: str, http_status: int) -> int:
        """Keep a signed but unusable body for inspection and replay; returns its row id."""
        async with self._db.write() as conn:
            row_id = await insert(
                conn,
                delivery,
                status=DeliveryStatus.QUARANTINED,
                reason=reason,
                http_status=http_status,
                action="quarantined",
                detail={"reason": reason, "http_status": http_status},
            )
            if row_id is None:
                return (await duplicate(conn, delivery, "")).delivery_row_id
        return row_id

    async def record_ignored(self, delivery: VerifiedDelivery, *, event_type: str) -> IngestOutcome:
        """Record a valid delivery of an event type the bridge does not handle (once)."""
        event_type = fit_type(event_type)
        async with self._db.write() as conn:
            row_id = await insert(
                conn,
                delivery,
                status=DeliveryStatus.IGNORED,
                event_type=event_type,
                action="ignored",
                detail={"event_type": event_type},
            )
            if row_id is None:
                return await duplicate(conn, delivery, "")
        return IngestOutcome(
            outcome=Outcome.IGNORED, delivery_row_id=row_id, delivery_id=delivery.delivery_id
        )

    async def get(self, delivery_row_id: int) -> DeliveryRecord | None:
        query = select(deliveries).where(deliveries.c.id == delivery_row_id)
        async with self._db.read() as conn:
            found = (await conn.execute(query)).mappings().first()
        return None if found is None else to_delivery(found, with_body=True)

    # Last: annotations after it would name this method, not the builtin.
    async def list(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[DeliveryRecord]:
        """Newest first, without bodies (``get`` has the body); with ``before_id``, only older
        deliveries (the next page)."""
        columns = [c for c in deliveries.c if c.name != "body"]
        query = select(*columns).order_by(deliveries.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        if source is not None:
            query = query.where(deliveries.c.source == source)
        if before_id is not None:
            query = query.where(deliveries.c.id < before_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [to_delivery(row, with_body=False) for row in rows]


# -- conn-level steps, composed here and by sync.ingest_jira ----------------------------------


def fit_key(event_key: str) -> str:
    """Event keys longer than the column are replaced by their digest (still one per fact)."""
    if len(event_key) <= EVENT_KEY_CHARS:
        return event_key
    return "sha256:" + hashlib.sha256(event_key.encode()).hexdigest()


def fit_type(event_type: str) -> str:
    return event_type[:EVENT_TYPE_CHARS]


async def enqueue_accepted(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    row_id: int,
    *,
    event_type: str,
    jobs: Sequence[NewJob],
) -> tuple[str, ...]:
    """Enqueue an accepted delivery's jobs and audit it; returns the keys newly enqueued."""
    at = delivery.received_at
    enqueued = tuple([job.job_key for job in jobs if await queue.insert(conn, job, now=at)])
    detail = {"event_type": event_type, "enqueued": list(enqueued)}
    await _audit(conn, delivery, row_id, "accepted", detail)
    return enqueued


@cache
def _insert_delivery(dialect: str) -> Any:
    """The delivery INSERT, built once per dialect: unique ids and accepted event keys make a
    copy a no-op (``ON CONFLICT DO NOTHING``) that returns no id."""
    columns = [c.name for c in deliveries.c if c.name != "id"]
    return (
        audit.dialect_insert(dialect, deliveries)
        .values(audit.bound(deliveries, columns))
        .on_conflict_do_nothing()
        .returning(deliveries.c.id)
    )


async def insert(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    *,
    status: DeliveryStatus,
    event_key: str = "",
    event_type: str = "",
    escalation_id: str | None = None,
    reason: str | None = None,
    http_status: int | None = None,
    action: str | None = None,
    detail: Detail = None,
) -> int | None:
    """The new row's id, or ``None`` when a unique index says it is a duplicate; with
    ``action``, the new row's audit row too. An accepted or ignored delivery takes the place of
    its own quarantined copy (keys and types fitted already: ``fit_key``, ``fit_type``)."""
    row = {
        "source": delivery.source,
        "delivery_id": delivery.delivery_id,
        "event_key": event_key,
        "event_type": event_type,
        "status": status.value,
        "reason": reason,
        "http_status": http_status,
        "headers": dict(delivery.headers),
        "body": delivery.body,
        "verified_by": delivery.verified_by,
        "received_at": delivery.received_at,
        "duplicates": 0,
        "escalation_id": escalation_id,
    }
    stmt = _insert_delivery(conn.dialect.name)
    row_id: int | None = (await conn.execute(stmt, row)).scalar_one_or_none()
    if row_id is None and status in _PROMOTED:
        row_id = await _promote_quarantined(
            conn, delivery, status, event_key, event_type, escalation_id
        )
    elif row_id is not None and action is not None:
        await _audit(conn, delivery, row_id, action, detail)
    return row_id


async def duplicate(
    conn: AsyncConnection, delivery: VerifiedDelivery, event_key: str
) -> IngestOutcome:
    """Count a duplicate on the original delivery (same id, or accepted with ``event_key``)."""
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


async def _promote_quarantined(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    status: DeliveryStatus,
    event_key: str,
    event_type: str,
    escalation_id: str | None,
) -> int | None:
    """A sender's retry (or an admin's replay) of a delivery we quarantined, say before a parser
    fix, is accepted (or ignored, when it turns out to be an event the bridge does not handle).

    Without this, the first 400/422 would turn every later retry into a "duplicate" of a
    delivery that never became state. Only when no accepted delivery has the same event key.
    """
    if event_key and await _accepted_with_key(conn, delivery.source, event_key) is not None:
        return None
    stmt = (
        update(deliveries)
        .where(*_same_delivery(delivery), deliveries.c.status == DeliveryStatus.QUARANTINED.value)
        .values(
            status=status.value,
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
        detail = {"event_type": event_type, "status": status.value}
        await _audit(conn, delivery, row_id, "promoted", detail)
    return row_id


async def _accepted_with_key(conn: AsyncConnection, source: str, event_key: str) -> int | None:
    query = select(deliveries.c.id).where(
        deliveries.c.source == source,
        deliveries.c.event_key == event_key,
        deliveries.c.status == DeliveryStatus.ACCEPTED.value,
    )
    row_id: int | None = (await conn.execute(query)).scalar_one_or_none()
    return row_id


async def _audit(
    conn: AsyncConnection, delivery: VerifiedDelivery, row_id: int, action: str, detail: Detail
) -> None:
    at = delivery.received_at
    await audit.write(conn, at=at, entity=ENTITY, entity_id=row_id, action=action, detail=detail)


def _same_delivery(delivery: VerifiedDelivery) -> tuple[ColumnElement[bool], ...]:
    return (
        deliveries.c.source == delivery.source,
        deliveries.c.delivery_id == delivery.delivery_id,
    )


def to_delivery(row: RowMapping, *, with_body: bool) -> DeliveryRecord:
    values = {name: row[name] for name in _DELIVERY_FIELDS}
    return DeliveryRecord(
        **{**values, "status": DeliveryStatus(row["status"]), "headers": dict(row["headers"])},
        body=bytes(row["body"]) if with_body else None,
    )


_PROMOTED = (DeliveryStatus.ACCEPTED, DeliveryStatus.IGNORED)  # may replace a quarantined copy
_DELIVERY_FIELDS = tuple(field.name for field in fields(DeliveryRecord) if field.name != "body")
