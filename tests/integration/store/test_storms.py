"""``store.storms``: a storm starts once per policy even when replicas race, with its jobs and
its group, and is running only inside its window."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kt_jira import jobs
from kt_jira.errors import Conflict
from kt_jira.store import GroupOpening, Placement, Store, StormRecord
from tests.integration.store.builders import T0, ingest_escalations
from tests.integration.store.conftest import OpenStore

UNTIL = T0 + timedelta(minutes=10)


def storm_opening() -> GroupOpening:
    return GroupOpening(
        key="storm:pii",
        rule="default",
        policy_name="PII leak",
        reason="storm",
        summary="AI Escalation: PII leak",
        window_ends_at=UNTIL,
    )


async def test_racing_replicas_start_one_storm(store: Store, open_another: OpenStore) -> None:
    """Eight escalations of a storming policy started from four replicas at once: one storm,
    started once (one announcement job), one group with one opener and seven members."""
    ids = await ingest_escalations(store, 8)
    replicas = [store, *[await open_another() for _ in range(3)]]

    async def start(n: int, eid: str) -> tuple[StormRecord, bool, Placement]:
        for _ in range(5):
            try:
                return await replicas[n % 4].storms.start(
                    eid,
                    policy_key="pii",
                    opening=storm_opening(),
                    tickets=50,
                    jobs=lambda storm_id: [jobs.storm_comment(storm_id, run_at=T0)],
                    now=T0,
                )
            except Conflict:
                await asyncio.sleep(0.01)
        raise AssertionError(f"{eid} could not be placed")

    results = await asyncio.gather(*(start(n, eid) for n, eid in enumerate(ids)))
    assert sum(started for _, started, _ in results) == 1
    assert len({storm.id for storm, _, _ in results}) == 1
    assert sorted(p.role for _, _, p in results) == ["member"] * 7 + ["opener"]
    assert len({p.group.id for _, _, p in results}) == 1
    assert len(await store.queue.list(kind="storm_comment")) == 1
    [running] = await store.storms.running(now=T0 + timedelta(minutes=1))
    assert running.group_id == results[0][2].group.id
    assert running.grouped == 7
    assert running.ends_at == UNTIL


async def test_a_storm_runs_only_inside_its_window(store: Store) -> None:
    """Active from its start until its end, then over: the policy gets tickets again."""
    [eid] = await ingest_escalations(store, 1)
    storm, started, placed = await store.storms.start(
        eid, policy_key="pii", opening=storm_opening(), tickets=50, jobs=lambda _: [], now=T0
    )
    assert started
    assert placed.role == "opener"
    assert placed.group.window_ends_at == UNTIL
    assert await store.storms.active("pii", now=T0 + timedelta(minutes=9)) == storm
    assert await store.storms.active("pii", now=UNTIL) is None
    assert await store.storms.active("other", now=T0) is None
    assert await store.storms.running(now=UNTIL) == []
