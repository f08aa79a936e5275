"""What the admin API reads and changes: pages and filters, replay by id, cancel, and the
replay of a quarantined delivery, each audited with who asked."""

from __future__ import annotations

from datetime import timedelta

from kt_jira.store import DeliveryStatus, JobStatus, Outcome, Store

from .builders import LEASE, T0, delivery, ingest_created, job

LATER = T0 + timedelta(minutes=5)


async def _dead(store: Store, key: str) -> int:
    await store.queue.enqueue(job(key))
    [claimed] = await store.queue.claim(worker_id="w", now=T0, lease=LEASE, kinds=["sync"])
    assert await store.queue.fail(claimed.id, worker_id="w", now=T0, error="400 bad field")
    return claimed.id


async def test_job_pages_are_newest_first_and_filtered(store: Store) -> None:
    """``before_id`` pages through jobs newest first; status and kind filters combine with it."""
    for n in range(5):
        await store.queue.enqueue(job(f"k-{n}", kind="create_issue" if n % 2 else "sync"))
    first = await store.queue.list(limit=2)
    second = await store.queue.list(limit=2, before_id=first[-1].id)
    rest = await store.queue.list(limit=2, before_id=second[-1].id)
    assert [j.job_key for j in first + second + rest] == [f"k-{n}" for n in (4, 3, 2, 1, 0)]
    creates = await store.queue.list(kind="create_issue", before_id=first[-1].id)
    assert [j.job_key for j in creates] == ["k-1"]


async def test_delivery_pages_filter_by_status_and_source(store: Store) -> None:
    """Deliveries page by ``before_id`` and filter by status and by source."""
    await ingest_created(store, "esc-1", delivery_id="d-1")
    bad = delivery(b"{", delivery_id="q-1")
    await store.deliveries.quarantine(bad, reason="x", http_status=400)
    jira = delivery(b"[", delivery_id="j-1", source="jira")
    await store.deliveries.quarantine(jira, reason="x", http_status=400)
    newest = await store.deliveries.list(limit=2)
    assert [d.delivery_id for d in newest] == ["j-1", "q-1"]
    assert [d.delivery_id for d in await store.deliveries.list(before_id=newest[-1].id)] == ["d-1"]
    quarantined = await store.deliveries.list(status="quarantined", source="keeptrusts")
    assert [d.delivery_id for d in quarantined] == ["q-1"]


async def test_replay_by_ids_requeues_only_dead_ones_and_audits_who(store: Store) -> None:
    """Replaying ids requeues the dead ones among them, returns their ids and audits ``by``."""
    dead = await _dead(store, "dead-1")
    other_dead = await _dead(store, "dead-2")
    await store.queue.enqueue(job("queued"))
    queued = (await store.queue.by_key("queued")).id  # type: ignore[union-attr]
    assert await store.queue.replay([dead, queued, 999], now=LATER, by="admin") == [dead]
    replayed = await store.queue.get(dead)
    assert replayed is not None
    assert (replayed.status, replayed.attempts, replayed.run_at) == (JobStatus.QUEUED, 0, LATER)
    assert (await store.queue.get(other_dead)).status is JobStatus.DEAD  # type: ignore[union-attr]
    [row] = await store.audit.list(entity="job", entity_id=str(dead), limit=1)
    assert (row.action, row.detail) == ("replayed", {"by": "admin"})


async def test_cancel_moves_only_queued_jobs_to_dead(store: Store) -> None:
    """A queued job is cancelled into a dead letter naming who did it; running and dead jobs
    are not touched, and a replay brings a cancelled job back."""
    await store.queue.enqueue(job("to-cancel"))
    target = (await store.queue.by_key("to-cancel")).id  # type: ignore[union-attr]
    assert await store.queue.cancel(target, now=LATER, by="session:ab12") is True
    cancelled = await store.queue.get(target)
    assert cancelled is not None
    assert (cancelled.status, cancelled.last_error) == (JobStatus.DEAD, "cancelled by session:ab12")
    assert await store.queue.cancel(target, now=LATER, by="admin") is False
    await store.queue.enqueue(job("running"))
    [running] = await store.queue.claim(worker_id="w", now=LATER, lease=LEASE)
    assert await store.queue.cancel(running.id, now=LATER, by="admin") is False
    [row] = await store.audit.list(entity="job", entity_id=str(target), limit=1)
    assert (row.action, row.detail) == ("cancelled", {"by": "session:ab12"})
    assert await store.queue.replay([target], now=LATER) == [target]


async def test_begin_replay_audits_only_quarantined_deliveries(store: Store) -> None:
    """Opening a replay returns the delivery with its body; only a quarantined one is audited."""
    bad = delivery(b"{oops", delivery_id="q-1")
    row_id = await store.deliveries.quarantine(bad, reason="not JSON", http_status=400)
    opened = await store.quarantine.begin_replay(row_id, by="admin", now=LATER)
    assert opened is not None
    assert (opened.status, opened.body) == (DeliveryStatus.QUARANTINED, b"{oops")
    [row] = await store.audit.list(entity="delivery", entity_id=str(row_id), limit=1)
    assert (row.action, row.detail, row.at) == ("replay", {"by": "admin"}, LATER)
    accepted = await ingest_created(store, delivery_id="d-ok")
    again = await store.quarantine.begin_replay(accepted.delivery_row_id, by="admin", now=LATER)
    assert again is not None
    assert again.status is DeliveryStatus.ACCEPTED
    [last] = await store.audit.list(entity="delivery", entity_id=str(accepted.delivery_row_id))
    assert last.action == "accepted"
    assert await store.quarantine.begin_replay(999, by="admin", now=LATER) is None


async def test_a_failed_replay_keeps_the_delivery_quarantined_with_the_new_reason(
    store: Store,
) -> None:
    """A body that fails again stays quarantined, its reason updated and the failure audited."""
    row_id = await store.deliveries.quarantine(
        delivery(b"{", delivery_id="q-1"), reason="old parser", http_status=400
    )
    assert await store.quarantine.still_unusable(
        row_id, reason="still not JSON", http_status=400, by="admin", now=LATER
    )
    kept = await store.deliveries.get(row_id)
    assert kept is not None
    assert (kept.status, kept.reason, kept.body) == ("quarantined", "still not JSON", b"{")
    [row] = await store.audit.list(entity="delivery", entity_id=str(row_id), limit=1)
    assert row.action == "replay_failed"
    await ingest_created(store, delivery_id="d-ok")
    ok_id = (await store.deliveries.list(status="accepted"))[0].id
    assert not await store.quarantine.still_unusable(
        ok_id, reason="x", http_status=400, by="admin", now=LATER
    )


async def test_a_quarantined_delivery_that_turns_out_ignored_is_ignored(store: Store) -> None:
    """A quarantined delivery that now parses as an unhandled event type becomes ignored, not a
    duplicate of its own quarantined copy."""
    ping = delivery({"type": "webhook.ping"}, delivery_id="p-1")
    row_id = await store.deliveries.quarantine(ping, reason="parser bug", http_status=422)
    outcome = await store.deliveries.record_ignored(ping, event_type="webhook.ping")
    assert (outcome.outcome, outcome.delivery_row_id) == (Outcome.IGNORED, row_id)
    stored = await store.deliveries.get(row_id)
    assert stored is not None
    assert (stored.status, stored.event_type, stored.reason) == ("ignored", "webhook.ping", None)
    [row] = await store.audit.list(entity="delivery", entity_id=str(row_id), limit=1)
    assert (row.action, row.detail["status"]) == ("promoted", "ignored")
