"""Values for store tests: signed deliveries (only ``signing.verify`` makes them) and jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import PRIORITY_CREATE, NewJob
from kt_jira.signing import JIRA_SCHEME, KEEPTRUSTS_DEFAULT, Source, VerifiedDelivery, sign, verify
from kt_jira.store import IngestOutcome, Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SECRET = "store-test-secret"
LEASE = timedelta(seconds=30)


def delivery(
    body: dict[str, Any] | bytes,
    *,
    delivery_id: str = "d-1",
    source: Source = "keeptrusts",
    at: datetime = T0,
) -> VerifiedDelivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    scheme = KEEPTRUSTS_DEFAULT if source == "keeptrusts" else JIRA_SCHEME
    headers = {scheme.id_header: delivery_id, "Content-Type": "application/json"}
    headers |= sign(SECRET, raw, scheme)
    return verify(source=source, body=raw, headers=headers, secrets=[SECRET], scheme=scheme, now=at)


def escalation(escalation_id: str = "esc-1", **fields: Any) -> Escalation:
    values: dict[str, Any] = {
        "policy_name": "PII leak",
        "action": "block",
        "model": "gpt-4o",
        "gateway_id": "gw-1",
        "severity": "high",
        "occurred_at": T0 - timedelta(minutes=1),
    }
    return Escalation(escalation_id=escalation_id, **(values | fields))


def create_job(escalation_id: str = "esc-1", *, at: datetime = T0) -> NewJob:
    return NewJob(
        kind="create_issue",
        job_key=f"create_issue:{escalation_id}",
        payload={"escalation_id": escalation_id},
        run_at=at,
        priority=PRIORITY_CREATE,
    )


def job(key: str, *, at: datetime = T0, priority: int = 10, kind: str = "sync") -> NewJob:
    return NewJob(kind=kind, job_key=key, payload={"key": key}, run_at=at, priority=priority)


async def ingest_created(
    store: Store, escalation_id: str = "esc-1", *, delivery_id: str = "d-1", at: datetime = T0
) -> IngestOutcome:
    """Ingest an ``escalation.created`` delivery the way the webhook does."""
    body = {"type": "escalation.created", "data": {"escalation_id": escalation_id}}
    return await store.deliveries.ingest(
        delivery(body, delivery_id=delivery_id, at=at),
        event_key=f"escalation.created:{escalation_id}",
        escalation=escalation(escalation_id),
        resolution=None,
        event_type="escalation.created",
        jobs=[create_job(escalation_id, at=at)],
    )


async def ingest_resolved(
    store: Store,
    escalation_id: str = "esc-1",
    *,
    delivery_id: str = "d-r",
    at: datetime = T0,
    outcome: str = "approved",
) -> IngestOutcome:
    body = {"type": "escalation.resolved", "data": {"escalation_id": escalation_id}}
    return await store.deliveries.ingest(
        delivery(body, delivery_id=delivery_id, at=at),
        event_key=f"escalation.resolved:{escalation_id}",
        escalation=Escalation(escalation_id=escalation_id),
        resolution=Resolution(outcome=outcome, notes="fine", resolved_by="ana", resolved_at=at),
        event_type="escalation.resolved",
        jobs=[],
    )


async def ingest_escalations(store: Store, count: int) -> list[str]:
    """``esc-0`` … ``esc-<count-1>``, each ingested as the webhook does."""
    ids = [f"esc-{n}" for n in range(count)]
    for n, eid in enumerate(ids):
        await ingest_created(store, eid, delivery_id=f"d-{n}")
    return ids
