"""The claim walks ``ix_jobs_status_priority_run_at``: with thousands of jobs queued, neither
SQLite nor PostgreSQL sorts the queue to hand out one job (PostgreSQL only breaks ties on id
within one priority and run_at, incrementally), and claims keep their order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from kt_jira.jobs import NewJob
from kt_jira.store import JobStatus, Store
from kt_jira.store.claims import candidates, due, expired
from kt_jira.store.tables import jobs
from tests.integration.store.builders import LEASE, T0

QUEUED = 3000


async def _fill(store: Store) -> None:
    rows = [
        {
            "kind": "create_issue",
            "job_key": f"k-{n}",
            "payload": {},
            "status": JobStatus.QUEUED.value,
            "priority": n % 3,
            "attempts": 0,
            "run_at": T0 + timedelta(seconds=n % 50),
            "created_at": T0,
            "updated_at": T0,
        }
        for n in range(QUEUED)
    ]
    async with store.db.write() as conn:
        await conn.execute(jobs.insert(), rows)
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE jobs"))


async def _plan(store: Store, query: object) -> str:
    async with store.db.read() as conn:
        dialect = conn.dialect
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        explain = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        rows = (await conn.execute(text(explain + sql))).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


async def test_both_claim_queries_walk_the_index(store: Store) -> None:
    """EXPLAIN of the exact candidate queries: the index is used and nothing is sorted."""
    await _fill(store)
    now = T0 + timedelta(minutes=5)
    # Expired leases are at most the running jobs (workers x replicas): found by the index,
    # sorting that handful is nothing.
    assert "ix_jobs_status_priority_run_at" in await _plan(store, candidates(expired(now), 1))
    plan = await _plan(store, candidates(due(now), 1))
    assert "ix_jobs_status_priority_run_at" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # SQLite: the index's rowid order is id's
    # PostgreSQL: at most the tie-break on id within one (priority, run_at), incrementally.
    sorts = [line for line in plan.splitlines() if "Sort" in line and "Key" not in line]
    assert all("Incremental Sort" in line for line in sorts), plan
    if sorts:
        assert "Presorted Key: priority, run_at" in plan, plan


async def test_expired_leases_first_then_due_jobs_in_priority_order(store: Store) -> None:
    """A job whose holder died is taken over before queued work; queued jobs come lowest
    priority first, then earliest run_at; jobs not yet due are left."""
    for key, priority, delay in (("late", 0, 600), ("p2", 2, 0), ("p1", 1, 5), ("p1-first", 1, 0)):
        job = NewJob(
            kind="sync",
            job_key=key,
            payload={},
            run_at=T0 + timedelta(seconds=delay),
            priority=priority,
        )
        await store.queue.enqueue(job, now=T0)
    stale = NewJob(kind="sync", job_key="stale", payload={}, run_at=T0, priority=5)
    await store.queue.enqueue(stale, now=T0)
    [held] = await store.queue.claim(worker_id="dead", now=T0, lease=LEASE, kinds=["sync"], limit=1)
    assert held.job_key == "p1-first"  # lowest priority first among the due ones
    after = T0 + LEASE + timedelta(seconds=10)
    claimed = await store.queue.claim(worker_id="w", now=after, lease=LEASE, limit=10)
    assert [job.job_key for job in claimed] == ["p1-first", "p1", "p2", "stale"]
