"""Acceptance: ``kill -9`` of the real ``kt-jira serve`` in the middle of a burst loses and
duplicates nothing once a new process runs on the same database and port."""

from __future__ import annotations

import asyncio

import pytest

from kt_jira.sandbox import DeliveryResult, KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import eventually
from tests.acceptance.replicas import exactly_one_each

pytestmark = pytest.mark.slow

COUNT = 40
SPREAD = 0.075
ACTIONS = ("block", "escalate", "redact", "log")


async def test_kill_9_mid_burst_then_restart_gives_exactly_one_issue_each(world: World) -> None:
    """SIGKILL while 40 concurrent escalations arrive and are being turned into tickets (some
    exist, some are in flight); a new ``serve`` on the same database and port, plus the sender
    re-sending what was not acknowledged, ends with exactly one issue per escalation."""
    site = world.jira()
    site.sandbox.faults.latency = 0.2
    bridge = await world.bridge(site)
    ids = [f"esc_crash_{n:02d}" for n in range(COUNT)]
    payloads = {
        eid: escalation_payload(eid, action=ACTIONS[n % 4], policy_name=f"policy-{n % 5}")
        for n, eid in enumerate(ids)
    }
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, attempts=2, base_delay=0.05
    ) as sender:

        async def send(n: int, eid: str) -> DeliveryResult:
            # Spread over about three seconds, so the kill lands while deliveries still arrive too.
            await asyncio.sleep(n * SPREAD)
            return await sender.send(payloads[eid])

        burst = asyncio.gather(*(send(n, eid) for n, eid in enumerate(ids)))

        def some_created() -> None:
            assert site.issues(), "no issue created yet"

        await eventually(some_created, timeout=60, interval=0.01)
        bridge.kill9()
        created_at_kill = len(site.issues())
        assert created_at_kill < COUNT, "every issue existed before the kill: nothing was tested"
        results: list[DeliveryResult] = await burst

        bridge.start()
        await bridge.wait_healthy()
        unacknowledged = [r for r in results if r.status not in (200, 202)]
        for result in unacknowledged:  # a real sender retries with the same delivery id
            again = await sender.send_raw(
                result.body, event_type=result.event_type, delivery_id=result.delivery_id
            )
            assert again.status in (200, 202), again.attempts

    await eventually(lambda: exactly_one_each(site, ids), timeout=90, interval=0.25)
    await world.idle(bridge)
    exactly_one_each(site, ids)
    assert world.jobs(bridge, "dead") == []
    assert site.sandbox.contract_violations == []
