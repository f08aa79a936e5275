"""Reconcile and the webhooks enqueue the same work under the same job key (``kt_jira.jobs``):
a webhook that arrives after reconcile repaired its loss adds no second job."""

from __future__ import annotations

from typing import Any

from tests.support.reconcile import World


async def _jobs(world: World, kind: str) -> list[str]:
    return [job.job_key for job in await world.bridge.store.queue.list(kind=kind, limit=100)]


async def _send_late(world: World, events: list[dict[str, Any]]) -> None:
    for event in events:
        result = await world.sender.send(event)
        assert result.ok, result.statuses


async def test_a_late_created_webhook_finds_reconciles_create_job(world: World) -> None:
    """The create job reconcile queued has the webhook's key: the late delivery adds none."""
    world.keeptrusts.add_escalation("esc_same")
    late = world.keeptrusts.take_outbox()

    await world.reconcile()
    await _send_late(world, late)

    assert await _jobs(world, "create_issue") == ["create_issue:esc_same"]


async def test_a_late_resolved_webhook_finds_reconciles_resolve_job(world: World) -> None:
    """The outbound resolve reconcile queued has the webhook's key: the late one adds none."""
    world.keeptrusts.add_escalation("esc_closed")
    await world.ticketed("esc_closed")
    world.keeptrusts.resolve_in_console("esc_closed", notes="handled")
    late = world.keeptrusts.take_outbox()

    await world.reconcile()
    await _send_late(world, late)

    assert await _jobs(world, "resolve_jira") == ["resolve_jira:esc_closed"]
