"""Acceptance: replicas that stop and a database that restarts lose nothing. A SIGTERM hands a
replica's in-flight jobs to another at once (not at lease expiry); PostgreSQL stopped as by a
crash in the middle of a burst and started again leaves every delivery with exactly one issue.
PostgreSQL is required: skipped with the reason, or failed under ``KT_JIRA_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from kt_jira.sandbox import KeeptrustsSender
from tests.acceptance.conftest import World
from tests.acceptance.harness import BridgeProcess, eventually
from tests.acceptance.observers import connect, job_history, jobs
from tests.acceptance.replicas import (
    FailoverSender,
    burst,
    exactly_one_each,
    payloads,
    settled,
    start_fleet,
)
from tests.support.pgcluster import PgCluster

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGE = 3.0  # seconds PostgreSQL is down


async def test_sigterm_hands_in_flight_jobs_to_another_replica_at_once(
    postgres_url: str, world: World
) -> None:
    """SIGTERM to a replica while it holds jobs on a slow Jira: it exits 0 after releasing what
    it had not finished, and the other replica claims and finishes those jobs well before their
    30 s lease would have expired; one issue per escalation."""
    site = world.jira()
    site.sandbox.faults.latency = 0.5
    lease = 30.0
    slow = {"worker": {"lease_seconds": lease, "shutdown_grace_seconds": 0.5}}
    fleet = await start_fleet(world, site, database_url=postgres_url, count=2, overrides=slow)
    leaving, staying = fleet.replicas
    sent = payloads("esc_term", 8)
    async with KeeptrustsSender(leaving.webhook_url, secret=world.secrets.webhook) as sender:
        results = await asyncio.gather(*(sender.send(p) for p in sent.values()))
    assert [r.status for r in results] == [202] * len(sent)
    async with connect(postgres_url) as conn:

        async def leaving_holds_jobs() -> None:
            held = [r for r in await jobs(conn) if r["status"] == "running"]
            assert any(fleet.by_worker(r["locked_by"]) is leaving for r in held), held

        await eventually(leaving_holds_jobs, timeout=30, interval=0.02)
        signalled = time.time()
        assert await asyncio.to_thread(leaving.stop) == 0
        await eventually(lambda: exactly_one_each(site, list(sent)), timeout=lease / 2)
        await settled(fleet, timeout=lease / 2)
        history = await job_history(conn)

    def by(replica: BridgeProcess, action: str) -> dict[int, float]:
        """Job id -> when ``replica`` took ``action`` on it (the last time)."""
        found = {}
        for event in history:
            if event.action == action and fleet.by_worker(event.worker_id) is replica:
                found[event.job_id] = event.at
        return found

    released, finished = by(leaving, "released"), by(staying, "done")
    assert released, "the stopping replica released nothing: nothing was tested"
    assert set(released) <= set(finished), (released, finished)
    late = {job: finished[job] - signalled for job in released}
    late = {job: after for job, after in late.items() if after > lease / 2}
    assert not late, f"finished only near the lease's expiry: {late}"


async def test_postgres_restart_mid_burst_loses_nothing(
    private_postgres: tuple[PgCluster, str], world: World
) -> None:
    """Two replicas on a private PostgreSQL that is stopped immediately (as by a crash) for
    three seconds in the middle of a burst, then started again, the sender retrying: every
    delivery is acknowledged in the end and has exactly one issue, no job is dead or stuck,
    and the replicas never exited and are ready again."""
    cluster, url = private_postgres
    site = world.jira()
    site.sandbox.faults.latency = 0.1
    fleet = await start_fleet(world, site, database_url=url, count=2)
    sent = payloads("esc_restart", 30)
    retrying = FailoverSender(fleet.webhook_urls, secret=world.secrets.webhook, attempts=40)
    async with retrying as sender:
        deliveries = burst(sender, sent, spread=0.1)
        await asyncio.sleep(0.1 * len(sent) / 2)  # half sent, their jobs under way
        await asyncio.to_thread(cluster.stop, "immediate")
        created_at_stop = len(site.issues())
        await asyncio.sleep(OUTAGE)
        await asyncio.to_thread(cluster.start)
        results = await deliveries
    assert created_at_stop < len(sent), "every issue existed before the stop: nothing was tested"
    assert [r.statuses for r in results if not r.ok] == []
    assert any(set(r.statuses) - {202} for r in results), "no delivery met the outage"
    await eventually(lambda: exactly_one_each(site, list(sent)), timeout=90, interval=0.25)
    rows = await settled(fleet)
    assert {r["status"] for r in rows} == {"done"}, [r for r in rows if r["status"] != "done"]
    assert [r.name for r in fleet.alive()] == [r.name for r in fleet.replicas]
    async with httpx.AsyncClient(timeout=5.0) as client:
        for replica in fleet.replicas:
            ready = await client.get(f"{replica.url}/readyz")
            assert ready.status_code == 200, (replica.name, ready.text)
    exactly_one_each(site, list(sent))
