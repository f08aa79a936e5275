"""Acceptance: storm control in the real ``kt-jira serve`` process. One misfiring policy sends
1,000 escalations (and healthy policies 20) against a rate-limited, contract-checked Jira: the
storm costs a bounded number of tickets, every escalation is accounted for exactly once (its own
ticket, or one comment on the storm's ticket), the healthy ones each get their own ticket, and
no request breaks Jira's Retry-After; a ``kill -9`` mid-storm changes none of that.

Only the product's surface is used: the config file, the webhook, and what the sandbox Jira
holds at the end (comments are recognised by their documented first words,
``Escalation <id> joined this group.``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import DeliveryResult, KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import BridgeProcess, JiraSite, adf_text, eventually

pytestmark = pytest.mark.slow

STORMING = 1000
KILL_STORMING = 250  # the kill -9 round: a smaller storm keeps the suite short, same guard
HEALTHY = 20
LIMIT = 50  # the defaults: more than 50 tickets of one policy within 10 minutes is a storm
CONCURRENCY = 8
BAD = [f"esc_storm_{n:04d}" for n in range(STORMING)]
GOOD = [f"esc_well_{n:02d}" for n in range(HEALTHY)]
# Jira's burst limit per endpoint, and the bridge's own budget just under it.
SITE = {"rate_limit": 60.0, "rate_burst": 20, "retry_after": 1, "search_lag": 0.5}
OVERRIDES: dict[str, Any] = {
    "jira": {"max_requests_per_second": 45},
    "worker": {"concurrency": CONCURRENCY},
}


def payload(escalation_id: str) -> dict[str, Any]:
    if escalation_id in GOOD:
        index = GOOD.index(escalation_id)
        return escalation_payload(escalation_id, policy_name=f"healthy-{index % 4}")
    return escalation_payload(escalation_id, policy_name="bad-regex", gateway_id="gw_busy")


def accounted(site: JiraSite, bad: list[str] = BAD) -> Counter[str]:
    """How often each escalation is in Jira: an issue carrying its marker label, plus each
    comment opening with its headline."""
    labels = {correlation_label(eid): eid for eid in [*bad, *GOOD]}
    headlines = {f"Escalation {eid} joined this group.": eid for eid in [*bad, *GOOD]}
    seen: Counter[str] = Counter()
    for issue in site.issues():
        seen.update(labels[label] for label in issue.labels if label in labels)
        for comment in list(issue.comments):
            first = adf_text(comment["body"]).split(".", 1)[0] + "."
            if first in headlines:
                seen[headlines[first]] += 1
    return seen


def every_escalation_once(site: JiraSite, bad: list[str] = BAD) -> None:
    seen = accounted(site, bad)
    missing = [eid for eid in [*bad, *GOOD] if seen[eid] == 0]
    doubled = {eid: n for eid, n in seen.items() if n > 1}
    assert not doubled, f"escalations in Jira more than once: {doubled}"
    assert not missing, f"{len(missing)} escalations not in Jira yet, e.g. {missing[:5]}"


def check_the_storm(site: JiraSite, bad: list[str] = BAD) -> None:
    """Bounded storm tickets, the healthy ones each their own, nothing beyond the site's
    rate budget and contracts."""
    own = site.count_by_escalation([*bad, *GOOD])
    storm_tickets = sum(own[eid] for eid in bad)
    assert storm_tickets <= LIMIT + CONCURRENCY + 1, storm_tickets
    assert all(own[eid] == 1 for eid in GOOD), {eid: own[eid] for eid in GOOD}
    assert len(site.issues()) == storm_tickets + HEALTHY
    for eid in GOOD:
        [issue] = site.issues_for(eid)
        assert issue.comments == [], f"{eid}'s ticket got comments"
    grouped = [i for i in site.issues() if str(i.values.get("summary", "")).startswith("[")]
    assert grouped, "no ticket shows its group's count"
    stats = site.sandbox.stats_json()
    assert site.sandbox.retry_after_violations == 0, stats["retry_after_violation_log"]
    assert stats["requests_total"] < 1.3 * (len(bad) + HEALTHY), stats["by_route"]
    assert site.sandbox.contract_violations == []


async def deliver(bridge: BridgeProcess, world: World, ids: list[str]) -> list[DeliveryResult]:
    """Send ``ids`` at high concurrency, the way a busy gateway's sender would."""
    gate = asyncio.Semaphore(48)
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, attempts=3, base_delay=0.05
    ) as sender:

        async def one(eid: str) -> DeliveryResult:
            async with gate:
                return await sender.send(payload(eid))

        return await asyncio.gather(*(one(eid) for eid in ids))


def interleaved(bad: list[str] = BAD) -> list[str]:
    """The storm, with a healthy escalation every fifty (the rest at the end)."""
    order: list[str] = []
    for n, eid in enumerate(bad):
        order.append(eid)
        if n % 50 == 25 and n // 50 < HEALTHY:
            order.append(GOOD[n // 50])
    return order + [eid for eid in GOOD if eid not in order]


async def test_a_storm_of_a_thousand_is_bounded_and_accounted_for(world: World) -> None:
    """1,000 escalations of one policy and 20 healthy ones: at most 50 tickets and a few for the
    storm, every escalation once (ticket or comment), the healthy ones untouched."""
    site = world.jira(**SITE)
    site.sandbox.faults.latency = 0.01
    bridge = await world.bridge(site, OVERRIDES)
    results = await deliver(bridge, world, interleaved())
    assert Counter(r.status for r in results) == Counter({202: STORMING + HEALTHY})
    await eventually(lambda: every_escalation_once(site), timeout=150, interval=1.0)
    await world.idle(bridge, timeout=60)
    every_escalation_once(site)
    check_the_storm(site)
    assert world.jobs(bridge, "dead") == []


async def test_kill_9_mid_storm_comments_nothing_twice_and_loses_nothing(world: World) -> None:
    """``kill -9`` while the storm's comments are being posted (some posted, some in flight),
    then a new process on the same database: every escalation ends in Jira exactly once."""
    site = world.jira(**SITE)
    site.sandbox.faults.latency = 0.05  # comments in flight when the kill lands
    bridge = await world.bridge(site, OVERRIDES)
    bad = BAD[:KILL_STORMING]
    results = await deliver(bridge, world, interleaved(bad))
    assert all(r.status == 202 for r in results)

    def commenting() -> None:
        assert sum(accounted(site, bad).values()) >= 120, "the storm's comments have not begun"

    await eventually(commenting, timeout=120, interval=0.05)
    bridge.kill9()
    assert sum(accounted(site, bad).values()) < len(bad) + HEALTHY, "all done before the kill"
    bridge.start()
    await bridge.wait_healthy()
    await eventually(lambda: every_escalation_once(site, bad), timeout=150, interval=1.0)
    await world.idle(bridge, timeout=60)
    every_escalation_once(site, bad)
    check_the_storm(site, bad)
    assert world.jobs(bridge, "dead") == []
    rerun = [row for row in world.jobs(bridge) if row[1] == "group_comment" and int(row[4]) > 1]
    assert rerun, "the kill interrupted no comment: nothing was tested"
