"""Intake: deliveries are recorded once, escalations upserted, jobs enqueued, in one transaction."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.store import DeliveryStatus, EscalationStatus, Outcome, Store

from .builders import T0, delivery, escalation, ingest_created, ingest_resolved
from .conftest import OpenStore


async def test_accepted_delivery_records_escalation_job_and_audit(store: Store) -> None:
    """An accepted delivery stores the delivery, the escalation and one create job, with audit."""
    outcome = await ingest_created(store)
    assert outcome.outcome is Outcome.ACCEPTED
    assert outcome.enqueued == ("create_issue:esc-1",)
    record = await store.escalations.get("esc-1")
    assert record is not None
    assert record.status is EscalationStatus.OPEN
    assert record.escalation == escalation("esc-1")
    assert record.payload["data"] == {"escalation_id": "esc-1"}
    assert record.created_at == T0
    (job,) = await store.queue.list()
    assert (job.kind, job.job_key, job.priority, job.status) == (
        "create_issue",
        "create_issue:esc-1",
        0,
        "queued",
    )
    actions = {(a.entity, a.action) for a in await store.audit.list()}
    assert {("delivery", "accepted"), ("escalation", "created"), ("job", "enqueued")} <= actions


async def test_same_delivery_id_is_a_duplicate(store: Store) -> None:
    """A re-sent delivery id answers duplicate, names the original, and only bumps its counter."""
    first = await ingest_created(store)
    again = await ingest_created(store, at=T0 + timedelta(seconds=5))
    assert again.outcome is Outcome.DUPLICATE
    assert (again.delivery_row_id, again.delivery_id) == (first.delivery_row_id, "d-1")
    (stored,) = await store.deliveries.list()
    assert stored.duplicates == 1
    assert len(await store.queue.list()) == 1
    record = await store.escalations.get("esc-1")
    assert record is not None
    assert record.updated_at == T0


async def test_same_event_key_under_another_delivery_id_is_a_duplicate(store: Store) -> None:
    """The same fact re-sent under a new delivery id is a duplicate of the accepted original."""
    first = await ingest_created(store, delivery_id="d-1")
    again = await ingest_created(store, delivery_id="d-2")
    assert again.outcome is Outcome.DUPLICATE
    assert (again.delivery_row_id, again.delivery_id) == (first.delivery_row_id, "d-1")
    assert len(await store.deliveries.list()) == 1


async def test_concurrent_copies_of_one_delivery_yield_one_accepted(
    store: Store, open_another: OpenStore
) -> None:
    """Two replicas ingesting the same delivery at once: exactly one accepted, one duplicate."""
    other = await open_another()
    outcomes = await asyncio.gather(ingest_created(store), ingest_created(other))
    assert sorted(o.outcome.value for o in outcomes) == ["accepted", "duplicate"]
    assert len(await store.queue.list()) == 1
    (stored,) = await store.deliveries.list()
    assert stored.duplicates == 1


async def test_concurrent_copies_under_two_delivery_ids_yield_one_accepted(
    store: Store, open_another: OpenStore
) -> None:
    """Two deliveries of one fact racing on two replicas: the event-key index lets one win."""
    other = await open_another()
    outcomes = await asyncio.gather(
        ingest_created(store, delivery_id="d-1"), ingest_created(other, delivery_id="d-2")
    )
    assert sorted(o.outcome.value for o in outcomes) == ["accepted", "duplicate"]
    assert len(await store.deliveries.list()) == 1


async def test_quarantine_keeps_the_raw_bytes(store: Store) -> None:
    """A quarantined body is stored byte for byte with its reason, and a repeat is counted."""
    raw = b'{"not": "an event"\xff'
    bad = delivery(raw, delivery_id="bad-1")
    row_id = await store.deliveries.quarantine(bad, reason="body is not JSON", http_status=400)
    assert (
        await store.deliveries.quarantine(bad, reason="body is not JSON", http_status=400) == row_id
    )
    stored = await store.deliveries.get(row_id)
    assert stored is not None
    assert stored.body == raw
    assert (stored.status, stored.reason, stored.http_status) == (
        "quarantined",
        "body is not JSON",
        400,
    )
    assert stored.duplicates == 1
    assert stored.headers["x-keeptrusts-delivery"] == "bad-1"
    assert [d.id for d in await store.deliveries.list(status="quarantined")] == [row_id]
    assert (await store.deliveries.list())[0].body is None


async def test_retry_of_a_quarantined_delivery_is_accepted(store: Store) -> None:
    """A sender's retry of a delivery we quarantined becomes accepted once it parses."""
    body = {"type": "escalation.created", "data": {"escalation_id": "esc-1"}}
    row_id = await store.deliveries.quarantine(delivery(body), reason="parser bug", http_status=422)
    outcome = await ingest_created(store)
    assert outcome.outcome is Outcome.ACCEPTED
    assert outcome.delivery_row_id == row_id
    stored = await store.deliveries.get(row_id)
    assert stored is not None
    assert stored.status is DeliveryStatus.ACCEPTED
    assert len(await store.queue.list()) == 1


async def test_ignored_event_types_are_recorded_once(store: Store) -> None:
    """A valid but unhandled event is stored as ignored; its re-delivery is a duplicate."""
    ping = delivery({"type": "webhook.ping"}, delivery_id="p-1")
    first = await store.deliveries.record_ignored(ping, event_type="webhook.ping")
    again = await store.deliveries.record_ignored(ping, event_type="webhook.ping")
    assert (first.outcome, again.outcome) == (Outcome.IGNORED, Outcome.DUPLICATE)
    (stored,) = await store.deliveries.list(status="ignored")
    assert (stored.event_type, stored.duplicates) == ("webhook.ping", 1)


async def test_resolution_closes_and_never_reopens(store: Store) -> None:
    """A resolution closes the escalation; a late created event does not reopen or rewrite it."""
    await ingest_created(store)
    resolved = await ingest_resolved(store, at=T0 + timedelta(minutes=5))
    assert resolved.outcome is Outcome.ACCEPTED
    late = {"type": "escalation.created", "data": {"escalation_id": "esc-1"}}
    await store.deliveries.ingest(
        delivery(late, delivery_id="d-late", at=T0 + timedelta(minutes=6)),
        event_key="",
        escalation=escalation("esc-1", severity="low"),
        resolution=None,
        event_type="escalation.created",
        jobs=[],
    )
    record = await store.escalations.get("esc-1")
    assert record is not None
    assert record.status is EscalationStatus.RESOLVED
    assert (record.resolution, record.resolution_notes, record.resolved_by) == (
        "approved",
        "fine",
        "ana",
    )
    assert record.resolved_at == T0 + timedelta(minutes=5)
    assert record.severity == "low"  # descriptive columns follow the newest data
    assert record.policy_name == "PII leak"  # ...but empty fields never erase known ones
    assert record.resolution_event is not None
    actions = [a.action for a in await store.audit.list(entity="escalation")]
    assert actions == ["updated", "resolved", "created"]


async def test_expired_event_marks_escalation_expired(store: Store) -> None:
    """An escalation.expired delivery for an unseen escalation inserts it as expired."""
    body = {"type": "escalation.expired", "data": {"escalation_id": "esc-9"}}
    await store.deliveries.ingest(
        delivery(body, delivery_id="x-1"),
        event_key="escalation.expired:esc-9",
        escalation=Escalation(escalation_id="esc-9"),
        resolution=Resolution(),
        event_type="escalation.expired",
        jobs=[],
    )
    record = await store.escalations.get("esc-9")
    assert record is not None
    assert record.status is EscalationStatus.EXPIRED
    assert [e.escalation_id for e in await store.escalations.list(status="expired")] == ["esc-9"]


async def test_datetimes_come_back_aware_utc(store: Store) -> None:
    """Aware datetimes in any zone are stored as UTC instants and returned aware in UTC."""
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    await ingest_created(store, at=plus_two)
    record = await store.escalations.get("esc-1")
    assert record is not None
    assert record.created_at == T0
    assert record.created_at.utcoffset() == timedelta(0)
    assert record.occurred_at == T0 - timedelta(minutes=1)


async def test_oversized_payload_text_is_stored_not_rejected(store: Store) -> None:
    """Long policy names, event types and keys are stored: no delivery is refused forever."""
    long_type = "escalation.created" + " " * 600
    outcome = await store.deliveries.ingest(
        delivery({"policy_name": "p" * 5000}, delivery_id="long"),
        event_key=long_type + ":esc-1",
        escalation=escalation("esc-1", policy_name="p" * 5000, category="c" * 900),
        resolution=None,
        event_type=long_type,
        jobs=[],
    )
    assert outcome.outcome is Outcome.ACCEPTED
    record = await store.escalations.get("esc-1")
    assert record is not None
    assert record.policy_name == "p" * 5000
    (stored,) = await store.deliveries.list()
    assert stored.event_key.startswith("sha256:")
    assert len(stored.event_type) == 100
