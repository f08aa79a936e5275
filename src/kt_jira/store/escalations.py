"""Escalations: the upsert an accepted delivery makes, and reads of the stored facts.

Never reopens a closed escalation; empty fields in newer data never erase known ones.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.signing import VerifiedDelivery
from kt_jira.store import audit
from kt_jira.store.models import EscalationRecord, EscalationStatus
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
CLOSED = (EscalationStatus.RESOLVED.value, EscalationStatus.EXPIRED.value)


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
    ins = audit.insert(conn, escalations).values(
        escalation_id=escalation.escalation_id,
        **{name: getattr(escalation, name) for name in DESCRIPTIVE},
        occurred_at=escalation.occurred_at,
        status=status.value,
        **resolved,
        payload=_payload(delivery.body),
        created_at=at,
        updated_at=at,
    )
    new, old = ins.excluded, escalations.c
    set_: dict[str, Any] = {
        name: case((new[name] != "", new[name]), else_=old[name]) for name in DESCRIPTIVE
    }
    set_["occurred_at"] = func.coalesce(new.occurred_at, old.occurred_at)
    set_["updated_at"] = new.updated_at
    if resolution is None:
        set_["payload"] = new.payload
    else:
        closed = old.status.in_(CLOSED)
        for name in ("status", *resolved):
            set_[name] = case((closed, old[name]), else_=new[name])
    before = (
        await conn.execute(select(old.status).where(old.escalation_id == escalation.escalation_id))
    ).scalar_one_or_none()
    await conn.execute(ins.on_conflict_do_update(index_elements=[old.escalation_id], set_=set_))
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


async def get_escalation(conn: AsyncConnection, escalation_id: str) -> EscalationRecord | None:
    query = select(escalations).where(escalations.c.escalation_id == escalation_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else to_escalation(row)


async def list_escalations(
    conn: AsyncConnection, *, status: str | None, limit: int
) -> list[EscalationRecord]:
    query = select(escalations).order_by(escalations.c.updated_at.desc()).limit(limit)
    if status is not None:
        query = query.where(escalations.c.status == status)
    return [to_escalation(row) for row in (await conn.execute(query)).mappings()]


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
