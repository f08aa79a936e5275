"""The job queue: unique keys, claim order, leases, guarded transitions and dead letters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kt_jira.store import JobStatus, Store

from .builders import LEASE, T0, job
from .conftest import OpenStore


async def test_enqueue_keeps_the_first_job_per_key(store: Store) -> None:
    """A job key is unique: the second enqueue is refused and the first job is kept as it was."""
    assert await store.queue.enqueue(job("k-1", priority=5)) is True
    assert await store.queue.enqueue(job("k-1", priority=1)) is False
    (kept,) = await store.queue.list()
    assert (kept.job_key, kept.priority, kept.payload) == ("k-1", 5, {"key": "k-1"})


async def test_claim_order_is_priority_then_run_at(store: Store) -> None:
    """Lower priority numbers run first, then earlier run_at; future jobs are not claimable."""
    await store.queue.enqueue(job("late-update", at=T0 - timedelta(seconds=1), priority=10))
    await store.queue.enqueue(job("early-update", at=T0 - timedelta(seconds=9), priority=10))
    await store.queue.enqueue(job("create", at=T0, priority=0))
    await store.queue.enqueue(job("future", at=T0 + timedelta(seconds=1), priority=0))
    claimed = await store.queue.claim(worker_id="w", now=T0, lease=LEASE, limit=10)
    assert [j.job_key for j in claimed] == ["create", "early-update", "late-update"]
    assert all(j.status is JobStatus.RUNNING and j.locked_by == "w" for j in claimed)
    assert all(j.attempts == 1 and j.locked_until == T0 + LEASE for j in claimed)
    assert await store.queue.claim(worker_id="w", now=T0, lease=LEASE) == []
    (later,) = await store.queue.claim(worker_id="w", now=T0 + timedelta(seconds=1), lease=LEASE)
    assert later.job_key == "future"


async def test_claim_filters_by_kind(store: Store) -> None:
    """A worker asking for some kinds only gets those kinds."""
    await store.queue.enqueue(job("a", kind="create_issue"))
    await store.queue.enqueue(job("b", kind="resolve"))
    (claimed,) = await store.queue.claim(
        worker_id="w", now=T0, lease=LEASE, limit=5, kinds=["resolve"]
    )
    assert claimed.job_key == "b"
    assert await store.queue.claim(worker_id="w", now=T0, lease=LEASE, kinds=[]) == []


async def test_concurrent_claimers_never_share_a_job(store: Store, open_another: OpenStore) -> None:
    """Two replicas claiming at once from one queue get disjoint jobs that cover all of it."""
    for index in range(30):
        await store.queue.enqueue(job(f"k-{index:02d}"))
    other = await open_another()

    async def drain(claimer: Store, worker_id: str) -> list[int]:
        got: list[int] = []
        while batch := await claimer.queue.claim(worker_id=worker_id, now=T0, lease=LEASE, limit=3):
            got += [j.id for j in batch]
        return got

    first, second = await asyncio.gather(drain(store, "w1"), drain(other, "w2"))
    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == 30
    assert (await store.queue.counts())["running"] == 30


async def test_stalled_lease_is_reclaimed_and_old_holder_is_refused(store: Store) -> None:
    """After its lease expires a job is claimed again; the old holder can no longer finish it."""
    await store.queue.enqueue(job("k"))
    (held,) = await store.queue.claim(worker_id="dead-worker", now=T0, lease=LEASE)
    assert await store.queue.claim(worker_id="w2", now=T0 + LEASE, lease=LEASE) == []
    later = T0 + LEASE + timedelta(seconds=1)
    (taken,) = await store.queue.claim(worker_id="w2", now=later, lease=LEASE)
    assert (taken.id, taken.attempts, taken.locked_by) == (held.id, 2, "w2")
    assert await store.queue.finish(held.id, worker_id="dead-worker", now=later) is False
    assert await store.queue.fail(held.id, worker_id="dead-worker", now=later, error="x") is False
    assert (
        await store.queue.heartbeat([held.id], worker_id="dead-worker", now=later, lease=LEASE) == 0
    )
    assert await store.queue.finish(held.id, worker_id="w2", now=later) is True
    done = await store.queue.get(held.id)
    assert done is not None
    assert done.status is JobStatus.DONE
    assert done.locked_by is None


async def test_heartbeat_extends_only_own_leases(store: Store) -> None:
    """A heartbeat pushes locked_until out for the caller's running jobs and no one else's."""
    await store.queue.enqueue(job("mine"))
    await store.queue.enqueue(job("theirs"))
    (mine,) = await store.queue.claim(worker_id="me", now=T0, lease=LEASE)
    (theirs,) = await store.queue.claim(worker_id="them", now=T0, lease=LEASE)
    later = T0 + timedelta(seconds=20)
    assert (
        await store.queue.heartbeat([mine.id, theirs.id], worker_id="me", now=later, lease=LEASE)
        == 1
    )
    refreshed, untouched = await store.queue.get(mine.id), await store.queue.get(theirs.id)
    assert refreshed is not None
    assert refreshed.locked_until == later + LEASE
    assert untouched is not None
    assert untouched.locked_until == T0 + LEASE


async def test_retry_requeues_at_run_at_with_the_error(store: Store) -> None:
    """retry() returns the job to the queue at run_at, keeping the error and the attempt count."""
    await store.queue.enqueue(job("k"))
    (claimed,) = await store.queue.claim(worker_id="w", now=T0, lease=LEASE)
    run_at = T0 + timedelta(minutes=1)
    assert await store.queue.retry(claimed.id, worker_id="w", now=T0, run_at=run_at, error="503")
    again = await store.queue.get(claimed.id)
    assert again is not None
    assert (again.status, again.run_at, again.last_error, again.attempts) == (
        JobStatus.QUEUED,
        run_at,
        "503",
        1,
    )
    assert again.locked_by is None
    assert again.locked_until is None
    assert await store.queue.claim(worker_id="w", now=T0, lease=LEASE) == []
    (second,) = await store.queue.claim(worker_id="w", now=run_at, lease=LEASE)
    assert second.attempts == 2


async def test_release_gives_the_attempt_back(store: Store) -> None:
    """A graceful stop puts the job back without counting the attempt that never ran."""
    await store.queue.enqueue(job("k"))
    (claimed,) = await store.queue.claim(worker_id="w", now=T0, lease=LEASE)
    assert await store.queue.release(claimed.id, worker_id="w", run_at=T0)
    released = await store.queue.get(claimed.id)
    assert released is not None
    assert (released.status, released.attempts, released.locked_by) == (JobStatus.QUEUED, 0, None)
    assert await store.queue.release(claimed.id, worker_id="w", run_at=T0) is False


async def test_fail_dead_letters_and_replay_requeues(store: Store) -> None:
    """fail() keeps the full error in a dead letter; replay_dead() requeues with attempts reset."""
    for key in ("a", "b"):
        await store.queue.enqueue(job(key))
    claimed = await store.queue.claim(worker_id="w", now=T0, lease=LEASE, limit=2)
    error = "400 Bad Request: field Policy Name is not on the AIGOV Task create screen\n" * 50
    for each in claimed:
        assert await store.queue.fail(each.id, worker_id="w", now=T0, error=error)
    dead = await store.queue.list(status="dead")
    assert len(dead) == 2
    assert all(j.last_error == error for j in dead)
    assert (await store.queue.counts()) == {"queued": 0, "running": 0, "done": 0, "dead": 2}
    later = T0 + timedelta(hours=1)
    assert await store.queue.replay_dead(job_id=claimed[0].id, now=later) == 1
    assert await store.queue.replay_dead(now=later) == 1
    assert await store.queue.replay_dead(now=later) == 0
    requeued = await store.queue.claim(worker_id="w", now=later, lease=LEASE, limit=5)
    assert sorted(j.id for j in requeued) == sorted(j.id for j in claimed)
    assert all(j.attempts == 1 for j in requeued)


async def test_job_transitions_are_audited(store: Store) -> None:
    """Every job state change leaves an audit row naming the job."""
    await store.queue.enqueue(job("k"))
    (claimed,) = await store.queue.claim(worker_id="w", now=T0, lease=LEASE)
    await store.queue.retry(claimed.id, worker_id="w", now=T0, run_at=T0, error="boom")
    await store.queue.claim(worker_id="w", now=T0, lease=LEASE)
    await store.queue.finish(claimed.id, worker_id="w", now=T0)
    trail = await store.audit.list(entity="job", entity_id=str(claimed.id))
    assert [a.action for a in reversed(trail)] == [
        "enqueued",
        "claimed",
        "retried",
        "claimed",
        "done",
    ]
    assert trail[2].detail["error"] == "boom"
