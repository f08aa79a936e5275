"""``Escalations`` (``store.escalations``): the stored facts, and what reconcile learns upstream.

``upsert`` is the step an accepted delivery takes (in ``deliveries.ingest``'s transaction);
``learn`` and ``record_resolution`` are reconcile's repairs from the Keeptrusts API, each with
the job that follows them, in one transaction, and never a ``deliveries`` row (only a signed
delivery makes one). Nothing here reopens a closed escalation, and empty fields in newer data
never erase known ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit, links, queue
from kt_jira.store.database import Database
from kt_jira.store.models import Attempt, EscalationRecord, EscalationStatus
from kt_jira.store.tables import escalations

DESCRIPTIVE = (
    "policy_name",
    "action",
    "model",
    "gateway_id",
    "user_id",
    "org_id",
    "severity",
    "category",
)
RESOLVED = ("resolution", "resolution_notes", "resolved_by", "resolved_at")
CLOSED = (EscalationStatus.RESOLVED.value, EscalationStatus.EXPIRED.value)
SOURCE = {"source": "reconcile"}


class Escalations:
    """Reads of the stored escalations, and reconcile's writes, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, escalation_id: str) -> EscalationRecord | None:
        query = select(escalations).where(escalations.c.escalation_id == escalation_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else to_escalation(row)

    async def learn(
        self,
        escalation: Escalation,
        *,
        payload: Mapping[str, Any],
        now: datetime,
        job: NewJob | None = None,
        attempt: Attempt | None = None,
    ) -> str | None:
        """Reconcile: store an open escalation the bridge never received (an existing row is kept
        as it is), then enqueue ``job`` as ``queue.enqueue_again`` does (with ``attempt``, the
        link marked ``attempting`` first); returns the key enqueued, or ``None``."""
        escalation_id = escalation.escalation_id
        async with self._db.write() as conn:
            stmt = (
                audit.insert(conn, escalations)
                .values(
                    escalation_id=escalation_id,
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
                    entity_id=escalation_id,
                    action="learned",
                    detail=SOURCE,
                )
            if job is None or await queue.pending(conn, job.job_key):
                return None
            if attempt is not None:
                await links.mark_attempting(conn, escalation_id, attempt, now=now)
            return await queue.insert_fresh(conn, job, now=now)

    async def record_resolution(
        self,
        escalation_id: str,
        resolution: Resolution,
        *,
        expired: bool,
        now: datetime,
        job: NewJob | None = None,
    ) -> str | None:
        """Reconcile: close an escalation resolved upstream while the bridge missed it (one
        already closed is never changed), then enqueue ``job`` as ``queue.enqueue_again`` does;
        returns the key enqueued, or ``None``."""
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
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount:
                await audit.write(
                    conn,
                    at=now,
                    entity="escalation",
                    entity_id=escalation_id,
                    action=status.value,
                    detail=SOURCE,
                )
            if job is None or await queue.pending(conn, job.job_key):
                return None
            return await queue.insert_fresh(conn, job, now=now)

    # Last: annotations after it would name this method, not the builtin.
    async def list(self, *, status: str | None = None, limit: int = 100) -> list[EscalationRecord]:
        """Most recently updated first."""
        query = select(escalations).order_by(escalations.c.updated_at.desc()).limit(limit)
        if status is not None:
            query = query.where(escalations.c.status == status)
        async with self._db.read() as conn:
            return [to_escalation(row) for row in (await conn.execute(query)).mappings()]


@cache
def _status_of() -> Any:
    return select(escalations.c.status).where(
        escalations.c.escalation_id == bindparam("escalation_id")
    )


@cache
def _upsert(dialect: str, *, resolving: bool) -> Any:
    """The escalation upsert, built once per dialect and kind (with or without a resolution):
    empty fields never overwrite known ones, and a closed escalation keeps its resolution."""
    columns = ("escalation_id", *DESCRIPTIVE, "occurred_at", "status", *RESOLVED, "payload")
    ins = audit.dialect_insert(dialect, escalations).values(
        audit.bound(escalations, (*columns, "created_at", "updated_at"))
    )
    new, old = ins.excluded, escalations.c
    set_: dict[str, Any] = {
        name: case((new[name] != "", new[name]), else_=old[name]) for name in DESCRIPTIVE
    }
    set_["occurred_at"] = func.coalesce(new.occurred_at, old.occurred_at)
    set_["updated_at"] = new.updated_at
    if not resolving:
        set_["payload"] = new.payload
    else:
        closed = old.status.in_(CLOSED)
        for name in ("status", *RESOLVED):
            set_[name] = case((closed, old[name]), else_=new[name])
    return ins.on_conflict_do_update(index_elements=[old.escalation_id], set_=set_)


async def upsert(
    conn: AsyncConnection,
    delivery: VerifiedDelivery,
    escalation: Escalation,
    resolution: Resolution | None,
    event_type: str,
) -> None:
    """Insert, or refresh from the newest data; a closed escalation never reopens.

    Empty fields never overwrite known ones (a resolved event often carries only the id), and
    the first resolution wins: Keeptrusts resolves are irreversible, so a second is a re-send.
    """
    at = delivery.received_at
    status = EscalationStatus.OPEN
    if resolution is not None:
        expired = resolution.outcome == "expired" or event_type.endswith("expired")
        status = EscalationStatus.EXPIRED if expired else EscalationStatus.RESOLVED
    resolved = {
        "resolution": resolution.outcome if resolution else "",
        "resolution_notes": resolution.notes if resolution else "",
        "resolved_by": resolution.resolved_by if resolution else "",
        "resolved_at": (resolution.resolved_at or at) if resolution else None,
    }
    row = {
        "escalation_id": escalation.escalation_id,
        **{name: getattr(escalation, name) for name in DESCRIPTIVE},
        "occurred_at": escalation.occurred_at,
        "status": status.value,
        **resolved,
        "payload": _payload(delivery.body),
        "created_at": at,
        "updated_at": at,
    }
    # Read before the write: SQLite's upsert cannot return the row's previous status.
    before = (await conn.execute(_status_of(), row)).scalar_one_or_none()
    await conn.execute(_upsert(conn.dialect.name, resolving=resolution is not None), row)
    if before is None:
        action = "created" if resolution is None else status.value
    elif resolution is not None and before not in CLOSED:
        action = status.value
    else:
        action = "updated"
    await audit.write(
        conn,
        at=at,
        entity="escalation",
        entity_id=escalation.escalation_id,
        action=action,
        detail={"delivery_id": delivery.delivery_id},
    )


def _payload(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {"value": doc}


def to_escalation(row: RowMapping) -> EscalationRecord:
    values = {name: row[name] for name in DESCRIPTIVE}
    return EscalationRecord(
        escalation_id=row["escalation_id"],
        **values,
        occurred_at=row["occurred_at"],
        status=EscalationStatus(row["status"]),
        resolution=row["resolution"],
        resolution_notes=row["resolution_notes"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        payload=dict(row["payload"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
