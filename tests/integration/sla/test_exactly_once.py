"""A breach is acted on once whatever happens around it: a second process on the same database
(a restart, or a replica), scans racing each other, and a comment Jira committed but answered
too late for the bridge to see."""

from __future__ import annotations

import asyncio

from kt_jira.jira.comments import plain_text
from kt_jira.sandbox import SandboxIssue
from tests.support.clock import ManualClock
from tests.support.sync import HarnessFactory, SyncHarness

NO_WARNINGS = {"at_risk": None}


def breach_comments(harness: SyncHarness, issue: SandboxIssue) -> list[str]:
    live = harness.jira.issue(issue.id)
    assert live is not None
    texts = [plain_text(c["body"]) for c in harness.bot_comments(live)]
    return [text for text in texts if " SLA breached" in text]


async def test_a_new_process_does_not_act_again(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    before = await make_harness(clock=clock, sla=NO_WARNINGS)
    issue = await before.ticket("esc_sla_restart", action="block")
    clock.advance(minutes=16)
    report = await before.bridge.sla.run_locked()
    assert report is not None
    assert report.acted == 1  # the action and its job are committed; the process then stops

    after = await make_harness(clock=clock, sla=NO_WARNINGS)  # same database, fresh process
    again = await after.bridge.sla.run_locked()
    assert again is not None
    assert again.acted == 0
    await after.settle()
    assert len(breach_comments(after, issue)) == 1


async def test_replicas_scanning_at_once_act_once(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    replicas = [await make_harness(clock=clock, sla=NO_WARNINGS) for _ in range(2)]
    issue = await replicas[0].ticket("esc_sla_replicas", action="block")
    clock.advance(minutes=16)

    scans = [r.bridge.sla for r in replicas]
    locked = await asyncio.gather(*(scan.run_locked() for scan in scans))
    assert sum(r.acted for r in locked if r is not None) == 1
    # Past the lock too (a lock lost mid-scan): the database's unique key still decides.
    unlocked = await asyncio.gather(*(scan.run() for scan in scans * 2))
    assert sum(r.acted for r in unlocked) == 0

    for replica in replicas:
        await replica.settle()
    assert len(breach_comments(replicas[0], issue)) == 1
    assert await replicas[0].dead_jobs() == []


async def test_a_comment_answered_too_late_is_not_posted_twice(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, sla=NO_WARNINGS)
    issue = await harness.ticket("esc_sla_uncertain", action="block")
    clock.advance(minutes=16)
    # Jira commits the comment but answers after the client's 2-second timeout.
    harness.jira.faults.update({"slow_comment_commits": 1, "slow_seconds": 2.5})
    report = await harness.bridge.sla.run_locked()
    assert report is not None
    assert report.acted == 1
    while not await harness.bridge.worker.run_once():  # the try whose answer comes too late
        await asyncio.sleep(0.05)
    clock.advance(minutes=1)  # past the retry's backoff
    await harness.settle()

    assert len(breach_comments(harness, issue)) == 1
    [job] = await harness.bridge.store.queue.list(kind="sla_action", limit=10)
    assert job.attempts == 2  # the uncertain first try, then the one that found the comment
    assert job.status.value == "done"
