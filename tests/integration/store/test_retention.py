"""Retention: ``store.retention`` deletes only what can never matter again, in batches, and
leaves open work, dead letters, queued jobs and tickets not yet done alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from kt_jira.store import CreatedIssue, Deadlines, GroupOpening, JobStatus, Store
from kt_jira.store.retention import KINDS
from kt_jira.store.tables import links
from tests.integration.store.builders import LEASE, T0, ingest_created, ingest_resolved, job

CUTOFF = T0 + timedelta(days=90)
LATER = T0 + timedelta(days=100)


async def _ticket(store: Store, escalation_id: str, *, category: str, at: datetime) -> None:
    """A created issue whose newest Jira status (since ``at``) is in ``category``."""
    await store.links.begin_create_attempt(
        escalation_id, project="AIGOV", correlation_label=f"kt-{escalation_id}", now=at
    )
    issue = CreatedIssue(issue_id=f"id-{escalation_id}", issue_key=f"AIGOV-{escalation_id}")
    await store.links.save_created(escalation_id, issue, Deadlines(), now=at)
    async with store.db.write() as conn:  # what an inbound Jira event records
        await conn.execute(
            update(links)
            .where(links.c.escalation_id == escalation_id)
            .values(jira_status_category=category, jira_status_at=at)
        )


async def _finish_all(store: Store, at: datetime) -> None:
    while claimed := await store.queue.claim(worker_id="w", now=at, lease=LEASE):
        for each in claimed:
            await store.queue.finish(each.id, worker_id="w", now=at)


async def _world(store: Store) -> None:
    # Closed long ago on both sides: goes, with its deliveries, finished job and audit rows.
    await ingest_created(store, "esc-gone", delivery_id="d-1", at=T0)
    await _ticket(store, "esc-gone", category="done", at=T0)
    await ingest_resolved(store, "esc-gone", delivery_id="d-2", at=T0)
    # Still open in Keeptrusts: stays, though its old delivery and finished job go.
    await ingest_created(store, "esc-open", delivery_id="d-3", at=T0)
    await _ticket(store, "esc-open", category="indeterminate", at=T0)
    # Resolved in Keeptrusts, but its ticket is still open in Jira: stays.
    await ingest_created(store, "esc-ticket-open", delivery_id="d-4", at=T0)
    await _ticket(store, "esc-ticket-open", category="indeterminate", at=T0)
    await ingest_resolved(store, "esc-ticket-open", delivery_id="d-5", at=T0)
    # Closed after the cutoff: stays, with its delivery.
    await ingest_created(store, "esc-recent", delivery_id="d-6", at=LATER)
    await _ticket(store, "esc-recent", category="done", at=LATER)
    await ingest_resolved(store, "esc-recent", delivery_id="d-7", at=LATER)
    await _finish_all(store, T0)
    await _finish_all(store, LATER)  # esc-recent's create: finished after the cutoff, stays
    # A dead letter and a job still queued, both old: stay.
    await store.queue.enqueue(job("old-dead", at=T0), now=T0)
    [dead] = await store.queue.claim(worker_id="w", now=T0, lease=LEASE)
    await store.queue.fail(dead.id, worker_id="w", now=T0, error="400")
    await store.queue.enqueue(job("old-queued", at=LATER), now=T0)


async def _escalation_ids(store: Store) -> set[str]:
    return {record.escalation_id for record in await store.escalations.list(limit=100)}


async def test_prune_deletes_only_what_is_closed_and_old(store: Store) -> None:
    """Counted first, then deleted in batches of two: old deliveries and finished jobs go, the
    escalation closed on both sides goes with its link; open work and later rows stay."""
    await _world(store)
    counts = {kind: await store.retention.count(kind, cutoff=CUTOFF) for kind in KINDS}
    assert counts["deliveries"] == 5
    assert counts["escalations"] == 1
    assert counts["jobs"] == 3  # the three old creates
    assert counts["audit"] > 0
    deleted = dict.fromkeys(KINDS, 0)
    for kind in KINDS:
        while n := await store.retention.prune_batch(kind, cutoff=CUTOFF, limit=2):
            assert n <= 2
            deleted[kind] += n
    assert deleted == counts
    assert await _escalation_ids(store) == {"esc-open", "esc-ticket-open", "esc-recent"}
    assert await store.links.get("esc-gone") is None
    assert await store.links.get("esc-ticket-open") is not None
    left = {(j.job_key, j.status) for j in await store.queue.list(limit=100)}
    assert left == {
        ("create_issue:esc-recent", JobStatus.DONE),
        ("old-dead", JobStatus.DEAD),
        ("old-queued", JobStatus.QUEUED),
    }
    remaining = {d.delivery_id for d in await store.deliveries.list(limit=100)}
    assert remaining == {"d-6", "d-7"}
    assert all(a.at >= CUTOFF for a in await store.audit.list(limit=1000))
    assert {
        kind: await store.retention.count(kind, cutoff=CUTOFF) for kind in KINDS
    } == dict.fromkeys(KINDS, 0)


async def test_a_group_ticket_goes_only_with_every_member(store: Store) -> None:
    """The escalation owning a group's ticket stays while a member of its group is open (the
    member would lose its ticket); once every member is closed and old, the group goes whole."""
    opening = GroupOpening(
        key="g-1",
        rule="grouped",
        policy_name="PII leak",
        reason="rule",
        summary="PII leak",
        window_ends_at=T0 + timedelta(hours=1),
    )
    await ingest_created(store, "esc-opener", delivery_id="d-o", at=T0)
    await store.groups.join_or_open("esc-opener", opening, now=T0)
    await ingest_created(store, "esc-member", delivery_id="d-m", at=T0)
    placed = await store.groups.join_or_open("esc-member", opening, now=T0)
    assert placed is not None
    assert placed.role == "member"
    await _ticket(store, "esc-opener", category="done", at=T0)
    await ingest_resolved(store, "esc-opener", delivery_id="d-o2", at=T0)
    assert await store.retention.count("escalations", cutoff=CUTOFF) == 0  # the member is open
    await ingest_resolved(store, "esc-member", delivery_id="d-m2", at=T0)
    assert await store.retention.count("escalations", cutoff=CUTOFF) == 2
    while await store.retention.prune_batch("escalations", cutoff=CUTOFF, limit=10):
        pass
    assert await _escalation_ids(store) == set()
    assert await store.groups.member("esc-member") is None
