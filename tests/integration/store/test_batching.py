"""Group commit: concurrent deliveries share transactions; every caller hears
back only after the commit, a failing piece fails alone, a failed commit fails them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store import Outcome, Store, audit
from kt_jira.store.batching import GroupCommit
from tests.integration.store.builders import T0, ingest_created

BURST = 60


def _count_commits(store: Store) -> list[int]:
    commits = [0]

    @event.listens_for(store.db.engine.sync_engine, "commit")
    def _commit(conn: object) -> None:
        commits[0] += 1

    return commits


async def test_a_burst_shares_transactions_and_every_delivery_is_stored(store: Store) -> None:
    """60 concurrent deliveries: all accepted and stored, in far fewer commits than 60."""
    commits = _count_commits(store)
    outcomes = await asyncio.gather(
        *(ingest_created(store, f"esc-{n}", delivery_id=f"d-{n}") for n in range(BURST))
    )
    assert {o.outcome for o in outcomes} == {Outcome.ACCEPTED}
    assert commits[0] < BURST // 4
    stored = await store.escalations.list(limit=BURST + 1)
    assert len(stored) == BURST
    assert len(await store.queue.list(limit=BURST + 1)) == BURST


async def test_copies_in_one_batch_are_one_acceptance_and_duplicates(store: Store) -> None:
    """Five copies of one delivery arriving together: one accepted, four duplicates, one job."""
    outcomes = await asyncio.gather(
        *(ingest_created(store, "esc-same", delivery_id="d-same") for _ in range(5))
    )
    assert sorted(o.outcome for o in outcomes) == [Outcome.ACCEPTED] + [Outcome.DUPLICATE] * 4
    assert len(await store.queue.list()) == 1
    [record] = await store.deliveries.list()
    assert record.duplicates == 4


async def test_a_failing_piece_is_rolled_back_alone(store: Store) -> None:
    """A piece that writes and then raises leaves no row; the pieces around it commit."""

    async def bad(conn: AsyncConnection) -> None:
        await conn.execute(
            text("INSERT INTO pauses (name, until, reason) VALUES ('x', '2030-01-01', '')")
        )
        await audit.write(conn, at=T0, entity="pause", entity_id="x", action="set")
        raise ValueError("a bad row")

    results = await asyncio.gather(
        ingest_created(store, "esc-before", delivery_id="d-before"),
        store.db.group.run(bad),
        ingest_created(store, "esc-after", delivery_id="d-after"),
        return_exceptions=True,
    )
    assert isinstance(results[1], ValueError)
    assert {r.outcome for r in (results[0], results[2])} == {Outcome.ACCEPTED}  # type: ignore[union-attr]
    assert await store.pauses.get_pause("x") is None
    assert await store.audit.list(entity="pause") == []  # its audit row went with it
    assert len(await store.audit.list(entity="escalation")) == 2  # the others' rows did not
    assert {e.escalation_id for e in await store.escalations.list()} == {"esc-before", "esc-after"}


async def test_a_failed_commit_fails_every_caller_of_the_batch(store: Store) -> None:
    """When the shared transaction cannot commit, no caller is told its delivery is stored, and
    none of it is."""

    @asynccontextmanager
    async def failing_commit() -> AsyncIterator[AsyncConnection]:
        async with store.db.write() as conn:
            yield conn
            raise OSError("disk full")  # before COMMIT: the transaction rolls back

    group = GroupCommit(failing_commit)

    async def write(n: int) -> int:
        async def work(conn: AsyncConnection) -> int:
            await conn.execute(
                text("INSERT INTO pauses (name, until, reason) VALUES (:n, '2030-01-01', '')"),
                {"n": f"p{n}"},
            )
            return n

        return await group.run(work)

    results = await asyncio.gather(*(write(n) for n in range(5)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    for n in range(5):
        assert await store.pauses.get_pause(f"p{n}") is None


async def test_a_caller_that_goes_away_does_not_stop_the_batch(store: Store) -> None:
    """A request cancelled while its piece waits (the sender hung up) changes nothing for the
    others; the writer carries on and later work still runs."""
    slow = asyncio.Event()

    async def held(conn: AsyncConnection) -> None:
        await slow.wait()

    first = asyncio.create_task(store.db.group.run(held))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(ingest_created(store, "esc-gone", delivery_id="d-gone"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    slow.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await waiting
    outcome = await ingest_created(store, "esc-next", delivery_id="d-next")
    assert outcome.outcome == Outcome.ACCEPTED
