"""Acceptance: high availability, several ``kt-jira serve`` replicas on one PostgreSQL database.

A burst spread over three replicas with one killed by ``kill -9``; the periodic duties (reconcile,
SLA scan) under advisory locks, taken over when their holder dies; and the Jira pause one replica
learns honoured by all (``test_ha_recovery`` has graceful shutdown and a PostgreSQL restart).
PostgreSQL is required: skipped with the reason, or failed under ``KT_JIRA_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.acceptance.conftest import World
from tests.acceptance.harness import BridgeProcess, JiraSite, adf_text, eventually
from tests.acceptance.observers import (
    LockWatch,
    Request,
    RequestLog,
    connect,
    job_history,
    jobs,
    orphaned,
)
from tests.acceptance.replicas import (
    FailoverSender,
    burst,
    created,
    exactly_one_each,
    migrate_with_cli,
    payloads,
    settled,
    start_fleet,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BREACH_LABEL = "sla-breached"
KILL_AFTER = 10  # issues created before the kill: the victim is in full swing
SESSION_END_GRACE = 1.0  # seconds for PostgreSQL to end a killed replica's session


async def test_burst_over_three_replicas_with_one_killed_gives_one_issue_each(
    empty_postgres_url: str, world: World
) -> None:
    """60 signed escalations spread round-robin over three replicas; one replica is killed with
    ``kill -9`` while it holds leased jobs and deliveries aimed at it fail over to the others:
    every delivery is acknowledged, each escalation has exactly one issue, no job is dead or
    stuck, and the jobs the killed replica held were finished by the others."""
    site = world.jira()
    site.sandbox.faults.latency = 0.15
    await migrate_with_cli(world, site, empty_postgres_url)
    fleet = await start_fleet(world, site, database_url=empty_postgres_url, count=3)
    victim = fleet.replicas[0]
    sent = payloads("esc_ha", 60)
    async with (
        FailoverSender(fleet.webhook_urls, secret=world.secrets.webhook) as sender,
        connect(empty_postgres_url) as conn,
    ):
        deliveries = burst(sender, sent, spread=0.05)

        async def victim_holds_jobs() -> None:
            created(site, at_least=KILL_AFTER)
            held = [r for r in await jobs(conn) if r["status"] == "running"]
            assert any(fleet.by_worker(r["locked_by"]) is victim for r in held), held

        await eventually(victim_holds_jobs, timeout=60, interval=0.02)
        victim.kill9()
        created_at_kill = len(site.issues())
        results = await deliveries
    assert created_at_kill < len(sent), "every issue existed before the kill: nothing was tested"
    assert [r.statuses for r in results if not r.ok] == []

    await eventually(lambda: exactly_one_each(site, list(sent)), timeout=90, interval=0.25)
    rows = await settled(fleet)
    assert {r["status"] for r in rows} == {"done"}, [r for r in rows if r["status"] != "done"]
    async with connect(empty_postgres_url) as conn:
        history = await job_history(conn)
    left = orphaned(history, lambda worker: fleet.by_worker(worker) is victim)
    assert left, "the killed replica held no job: nothing was taken over"
    for job_id in left:
        done_by = [e.worker_id for e in history if e.job_id == job_id and e.action == "done"]
        assert [fleet.by_worker(w) in fleet.alive() for w in done_by] == [True], (job_id, done_by)
    exactly_one_each(site, list(sent))
    assert site.sandbox.contract_violations == []


def breach_comments(site: JiraSite, escalation_id: str) -> dict[str, int]:
    """How many breach comments each target got on the escalation's one issue (which must
    carry the breach label)."""
    found = site.issues_for(escalation_id)
    assert len(found) == 1, f"{escalation_id} has {len(found)} issues"
    issue = found[0]
    assert BREACH_LABEL in issue.labels, f"{issue.key} is not labelled {BREACH_LABEL} yet"
    texts = [adf_text(comment["body"]) for comment in issue.comments]
    counts = {target: sum(t.startswith(f"{target} SLA breached") for t in texts)
              for target in ("First response", "Resolution")}  # fmt: skip
    assert all(counts.values()), f"{issue.key} lacks a breach comment: {counts}"
    return counts


async def test_periodic_duties_run_on_one_replica_at_a_time_and_survive_their_holder(
    postgres_url: str, world: World
) -> None:
    """Three replicas reconcile and scan SLAs every second under advisory locks: each lock is
    held by at most one replica's session at a time; ``kill -9`` of the replica holding the
    reconcile lock hands it to another; escalations that only reconcile can find (no webhook is
    sent) get one ticket each after the kill, and every overdue ticket is commented exactly once
    per missed target although three replicas scan."""
    site = world.jira()
    site.sandbox.faults.latency = 0.1
    overdue = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")

    def open_upstream(prefix: str) -> list[str]:
        made = [
            world.keeptrusts.add_escalation(f"{prefix}_{n}", action="block", timestamp=overdue)
            for n in range(3)
        ]
        return [str(payload["escalation_id"]) for payload in made]

    before = open_upstream("esc_duty_before")
    every_second = {"sla": {"scan_interval": "1s"}, "reconcile": {"interval": "1s"}}
    fleet = await start_fleet(
        world, site, database_url=postgres_url, count=3, overrides=every_second
    )
    async with LockWatch.watching(postgres_url, ("reconcile", "sla-scan")) as watch:
        for eid in before:
            await eventually(lambda eid=eid: breach_comments(site, eid), timeout=60)

        def reconciling() -> BridgeProcess:
            apps = watch.latest("reconcile")
            assert apps, "nobody holds the reconcile lock right now"
            holder = fleet.by_application(apps[0])
            assert holder is not None, f"reconcile held by {apps}, not a replica"
            return holder

        holder = await eventually(reconciling, timeout=30, interval=0.01)
        holder.kill9()
        killed_at = time.monotonic()
        after = open_upstream("esc_duty_after")
        for eid in after:
            await eventually(lambda eid=eid: breach_comments(site, eid), timeout=60)

        def taken_over() -> None:
            assert watch.holders("reconcile", since=killed_at), "nobody reconciles any more"

        await eventually(taken_over, timeout=30)
    for sample in watch.samples:
        for name, apps in sample.holders.items():
            assert len(apps) <= 1, f"{name} held by {apps} at once"
            assert all(fleet.name_of(app) for app in apps), f"{name} held by {apps}"
    # PostgreSQL ends a dead client's session (and frees its lock) when it reads the closed
    # socket, and a sample is stamped when its query returns: allow that moment.
    settled = killed_at + SESSION_END_GRACE
    took_over = {fleet.name_of(app) for app in watch.holders("reconcile", since=settled)}
    assert took_over, "nobody took the reconcile lock over"
    assert holder.name not in took_over, (holder.name, took_over)
    exactly_one_each(site, before + after)
    for eid in before + after:
        assert breach_comments(site, eid) == {"First response": 1, "Resolution": 1}, eid
    assert site.sandbox.contract_violations == []


PAUSE = 3  # seconds of Retry-After
GRACE = 0.5  # a request sent before the 429's pause reached the database may still arrive


async def test_a_429_one_replica_sees_pauses_every_replica(postgres_url: str, world: World) -> None:
    """Three replicas busy creating issues; Jira answers one request 429 with Retry-After: 3:
    the pause that replica records is honoured by all, so no replica sends Jira anything until
    it is over (after a grace for requests already under way), and then all carry on."""
    log = RequestLog()
    site = world.jira(wrap=log.around, retry_after=PAUSE)
    site.sandbox.faults.latency = 0.1
    fleet = await start_fleet(
        world,
        site,
        database_url=postgres_url,
        count=3,
        jira_url=lambda name: f"{site.url}{log.base(name)}",
    )
    names = {replica.name for replica in fleet.replicas}
    sent = payloads("esc_pause", 36)
    async with FailoverSender(fleet.webhook_urls, secret=world.secrets.webhook) as sender:
        deliveries = burst(sender, sent, spread=0.05)

        def all_talking() -> None:
            assert {r.replica for r in log.arrivals} == names, "not every replica calls Jira yet"

        await eventually(all_talking, timeout=60, interval=0.02)
        site.sandbox.faults.fail_next = [429]

        def limited() -> Request:
            found = [answer for answer in log.answers if answer.status == 429]
            assert found, "no request was answered 429 yet"
            return found[0]

        answer = await eventually(limited, timeout=30, interval=0.02)
        results = await deliveries
    assert [r.statuses for r in results if not r.ok] == []
    await eventually(lambda: exactly_one_each(site, list(sent)), timeout=90, interval=0.25)
    await settled(fleet)

    opened, closed = answer.at + GRACE, answer.at + PAUSE - 0.05
    inside = [r for r in log.arrivals if opened < r.at < closed]
    assert inside == [], f"sent during the pause {answer.replica} learnt: {inside}"
    busy = {r.replica for r in log.arrivals if answer.at - 1 <= r.at <= answer.at}
    assert busy - {answer.replica}, f"only {busy} was calling Jira: nothing was tested"
    assert {r.replica for r in log.arrivals if r.at >= closed} - {answer.replica}
    exactly_one_each(site, list(sent))
