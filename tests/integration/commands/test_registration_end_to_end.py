"""A registration made by ``setup jira-webhook`` is the one Jira signs and delivers with."""

from __future__ import annotations

from kt_jira.commands.setup import register_jira_webhook
from kt_jira.config.secrets import SecretRef
from tests.support.reconcile import WorldFactory

SECRET = "end-to-end-jira-webhook-secret"


async def test_a_jira_change_reaches_keeptrusts_through_the_registered_webhook(
    make_world: WorldFactory,
) -> None:
    """Register, resolve the ticket in Jira: the signed delivery resolves the escalation."""
    world = await make_world(jira_extra={"webhook_secret": SecretRef.literal(SECRET)})
    done = await register_jira_webhook(world.settings, public_url=world.url)
    assert done.outcome == "created"
    [hook] = world.jira.admin_webhooks.hooks.values()
    assert (hook.url, hook.secret) == (f"{world.url}/webhooks/jira", SECRET)

    world.keeptrusts.add_escalation("esc_wired")
    await world.ticketed("esc_wired")
    [ticket] = world.tickets("esc_wired")
    world.jira.transition_issue(ticket.key, "In Progress")
    world.jira.transition_issue(ticket.key, "False Positive", resolution="False Positive")
    await world.jira.webhooks.drain()

    assert all(d.statuses[-1] == 202 for d in world.jira.webhooks.sent), [
        d.statuses for d in world.jira.webhooks.sent
    ]
    escalation = world.keeptrusts.escalations["esc_wired"]

    async def resolved() -> bool:
        return escalation.status == "resolved"

    await world.work_until(resolved)
    assert (await register_jira_webhook(world.settings, public_url=world.url)).outcome == (
        "already present"
    )
