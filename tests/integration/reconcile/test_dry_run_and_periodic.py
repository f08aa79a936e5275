"""``--dry-run`` writes nowhere; the worker's periodic reconcile runs one replica at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kt_jira.reconcile.plan import ActionKind
from kt_jira.reconcile.reconciler import Reconciler
from kt_jira.reconcile.report import Status
from kt_jira.reconcile.source import KeeptrustsReader
from tests.support.reconcile import World, WorldFactory

WRITE_METHODS = ("POST", "PUT", "DELETE")


async def every_discrepancy(world: World) -> None:
    """One of each: a dropped escalation, a ticket done in Jira, an escalation resolved
    upstream, and a duplicate ticket."""
    for eid in ("esc_jira_done", "esc_kt_done", "esc_dup"):
        world.keeptrusts.add_escalation(eid)
    await world.ticketed("esc_jira_done", "esc_kt_done", "esc_dup")
    [done] = world.tickets("esc_jira_done")
    world.jira.transition_issue(done.key, "In Progress")
    world.jira.transition_issue(done.key, "False Positive", resolution="False Positive")
    world.keeptrusts.resolve_in_console("esc_kt_done", resolution="approved")
    world.keeptrusts.add_escalation("esc_lost")
    world.drop_outbox()
    await world.create_behind_the_bridge("esc_dup")
    world.clock_offset = timedelta(minutes=1)


async def snapshot(world: World) -> dict[str, Any]:
    """Everything a write could change: database rows and both sandboxes' state."""
    store = world.bridge.store
    escalations = await store.escalations.list(limit=1000)
    jira_writes = {
        route: dict(counts)
        for route, counts in world.jira.stats.by_route.items()
        if route.split(" ", 1)[0] in WRITE_METHODS and not route.endswith("/search/jql")
    }
    return {
        "counts": await store.counts.totals(),
        "audit": len(await store.audit.list(limit=100_000)),
        "jobs": [(j.job_key, j.status) for j in await store.queue.list(limit=1000)],
        "escalations": sorted((e.escalation_id, e.status, e.resolution) for e in escalations),
        "links": sorted((k.escalation_id, k.state, k.issue_key) for k in await store.links.list()),
        "pause": await store.pauses.get_pause("jira"),
        "issues": sorted(
            (i.key, i.status_id, i.resolution_id, len(i.comments), i.updated)
            for i in world.jira.issues
        ),
        "jira_writes": jira_writes,
        "keeptrusts": sorted(
            (e.id, e.status, e.resolution, len(e.resolve_calls))
            for e in world.keeptrusts.escalations.values()
        ),
        "keeptrusts_requests": [r for r in world.keeptrusts.requests if r[0] != "GET"],
    }


async def test_dry_run_plans_every_repair_and_writes_nothing(world: World) -> None:
    """The plan names all four repairs; database rows and sandbox states are byte-for-byte kept."""
    await every_discrepancy(world)
    before = await snapshot(world)

    report = await world.reconcile(dry_run=True)

    assert report.dry_run
    planned = {(o.action.kind, o.action.escalation_id) for o in report.outcomes}
    assert planned == {
        (ActionKind.LEARN, "esc_lost"),
        (ActionKind.CREATE, "esc_lost"),
        (ActionKind.RESOLVE_KEEPTRUSTS, "esc_jira_done"),
        (ActionKind.RECORD_RESOLUTION, "esc_kt_done"),
        (ActionKind.RESOLVE_JIRA, "esc_kt_done"),
        (ActionKind.FOLD, "esc_dup"),
    }
    assert {o.status for o in report.outcomes} == {Status.WOULD}
    assert await snapshot(world) == before

    done = await world.reconcile()
    assert {o.status for o in done.outcomes} == {Status.DONE}
    assert await snapshot(world) != before


async def test_periodic_reconcile_repairs_while_the_bridge_runs(make_world: WorldFactory) -> None:
    """With reconcile.interval set, the running worker finds and tickets a dropped escalation."""
    world = await make_world(interval="1s")
    world.keeptrusts.add_escalation("esc_periodic")
    world.drop_outbox()
    stop = asyncio.Event()
    running = asyncio.create_task(world.bridge.run(stop, web=False, work=True))
    try:
        for _ in range(300):
            if await world.linked("esc_periodic"):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert len(world.tickets("esc_periodic")) == 1


async def test_a_replica_that_cannot_take_the_lock_skips_its_run(world: World) -> None:
    """While another replica holds the reconcile lock, a periodic run does nothing at all."""
    world.keeptrusts.add_escalation("esc_locked")
    world.drop_outbox()
    reconciler = Reconciler(
        settings=world.settings, store=world.bridge.store, jira=world.bridge.jira, keeptrusts=None
    )
    async with world.bridge.store.db.exclusive("reconcile") as held:
        assert held
        assert await reconciler.run_locked() is None
    assert await world.bridge.store.escalations.get("esc_locked") is None
    report = await reconciler.run_locked()
    assert report is not None
    assert (ActionKind.LEARN, Status.DONE) in report.counts()


async def test_reconcile_reads_every_page_of_open_escalations(world: World) -> None:
    """Keeptrusts pages by cursor (page_size 2 here): all seven open escalations are seen."""
    for n in range(7):
        world.keeptrusts.add_escalation(f"esc_page_{n}")
    world.drop_outbox()
    async with KeeptrustsReader.open(world.settings) as reader:
        found = await reader.list_open()
        missing = await reader.get("esc_nowhere")
    assert sorted(r.escalation_id for r in found) == [f"esc_page_{n}" for n in range(7)]
    assert missing.status == "missing"
