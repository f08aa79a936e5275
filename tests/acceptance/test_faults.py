"""Acceptance: a Jira that pushes back, goes down, or answers too late still ends with exactly one
issue per escalation, created by the real ``kt-jira serve`` process."""

from __future__ import annotations

import asyncio

import pytest

from kt_jira.sandbox import KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import CONSISTENCY_DELAY, JIRA_TIMEOUT, JiraSite, eventually

pytestmark = pytest.mark.slow

ACTIONS = ("block", "escalate", "redact", "log")


def exactly_one_each(site: JiraSite, ids: list[str]) -> None:
    counts = site.count_by_escalation(ids)
    wrong = {eid: n for eid, n in counts.items() if n != 1}
    assert not wrong, f"escalations without exactly one issue: {wrong}"
    assert len(site.issues()) == len(ids)


async def deliver(world: World, url: str, ids: list[str]) -> None:
    """Send one signed escalation per id, concurrently; every one must be accepted."""
    async with KeeptrustsSender(url, secret=world.secrets.webhook, base_delay=0.05) as sender:
        results = await asyncio.gather(
            *(
                sender.send(escalation_payload(eid, action=ACTIONS[n % 4]))
                for n, eid in enumerate(ids)
            )
        )
    assert [r.status for r in results] == [202] * len(ids), [r.attempts for r in results]


async def test_rate_limited_jira_gets_every_issue_without_retry_after_violations(
    world: World,
) -> None:
    """Against a site allowing 3 requests/s (burst 2, Retry-After 1 s), 15 escalations still
    get exactly one issue each and no request arrives inside an announced Retry-After window."""
    site = world.jira(rate_limit=3, rate_burst=2, retry_after=1)
    bridge = await world.bridge(site)
    ids = [f"esc_rate_{n:02d}" for n in range(15)]
    await deliver(world, bridge.webhook_url, ids)

    await eventually(lambda: exactly_one_each(site, ids), timeout=90, interval=0.25)
    await world.idle(bridge)
    exactly_one_each(site, ids)
    # The bridge's own budget (10/s by default) is above the site's, so Jira had to say 429.
    assert site.sandbox.stats.rate_limited > 0
    assert site.sandbox.retry_after_violations == 0, site.sandbox.windows.violation_log
    assert site.sandbox.contract_violations == []


async def test_outage_delays_issues_and_loses_none(world: World) -> None:
    """While Jira answers 503 to everything the webhook still answers 202; when Jira is back,
    each of the 10 escalations gets exactly one issue."""
    site = world.jira()
    bridge = await world.bridge(site)
    site.sandbox.faults.outage = True
    ids = [f"esc_outage_{n:02d}" for n in range(10)]
    await deliver(world, bridge.webhook_url, ids)

    def tried_and_refused() -> None:
        refused = sum(counts[503] for counts in site.sandbox.stats.by_route.values())
        assert refused >= 5, f"only {refused} requests reached the outage so far"

    await eventually(tried_and_refused, timeout=30)
    assert site.issues() == []
    site.sandbox.faults.outage = False

    await eventually(lambda: exactly_one_each(site, ids), timeout=60, interval=0.25)
    await world.idle(bridge)
    exactly_one_each(site, ids)
    assert world.jobs(bridge, "dead") == []
    assert site.sandbox.contract_violations == []


async def test_creates_answered_after_the_timeout_are_adopted_not_duplicated(
    world: World,
) -> None:
    """Three creates that Jira commits but answers only after the bridge's timeout are adopted:
    every escalation has exactly one issue, still after the search-consistency delay."""
    site = world.jira()
    bridge = await world.bridge(site)
    site.sandbox.faults.update({"slow_after_commit": 3, "slow_seconds": JIRA_TIMEOUT + 2})
    ids = [f"esc_slow_{n:02d}" for n in range(6)]
    await deliver(world, bridge.webhook_url, ids)

    await eventually(lambda: exactly_one_each(site, ids), timeout=60, interval=0.25)
    assert site.sandbox.faults.slow_after_commit == 0, "the slow creates never happened"
    await world.idle(bridge)
    # Past the consistency delay a bridge that trusted a stale "not found" would have re-created.
    await asyncio.sleep(CONSISTENCY_DELAY + site.sandbox.search_lag)
    await world.idle(bridge)
    exactly_one_each(site, ids)
    assert site.sandbox.contract_violations == []
