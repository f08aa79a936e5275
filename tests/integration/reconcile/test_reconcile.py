"""Reconcile repairs what dropped webhooks left behind, on both databases, against the sandboxes."""

from __future__ import annotations

from datetime import timedelta

from kt_jira.reconcile.plan import ActionKind
from kt_jira.reconcile.report import Report, Status
from tests.support.reconcile import World


def outcomes(report: Report) -> list[tuple[ActionKind, str, Status]]:
    return [(o.action.kind, o.action.escalation_id, o.status) for o in report.outcomes]


async def test_escalations_whose_webhooks_were_dropped_get_one_ticket_each(world: World) -> None:
    """Escalations that never reached the bridge are stored, ticketed once, and stay at one."""
    world.keeptrusts.add_escalation("esc_seen")
    await world.ticketed("esc_seen")
    lost = [f"esc_lost_{n}" for n in range(3)]
    for eid in lost:
        world.keeptrusts.add_escalation(eid, policy_name="hipaa-compliance")
    world.drop_outbox()

    report = await world.reconcile()

    assert sorted(outcomes(report)) == sorted(
        (kind, eid, Status.DONE) for eid in lost for kind in (ActionKind.LEARN, ActionKind.CREATE)
    )
    for eid in lost:
        stored = await world.bridge.store.escalations.get(eid)
        assert stored is not None
        assert stored.policy_name == "hipaa-compliance"
    await world.work_until(lambda: world.linked(*lost))
    assert {eid: len(world.tickets(eid)) for eid in ["esc_seen", *lost]} == dict.fromkeys(
        ["esc_seen", *lost], 1
    )
    again = await world.reconcile()
    assert again.plan.writes == []


async def test_a_ticket_filed_behind_the_bridges_back_is_adopted_not_duplicated(
    world: World,
) -> None:
    """An escalation the bridge missed, whose ticket someone filed by hand, adopts that ticket."""
    world.keeptrusts.add_escalation("esc_manual")
    world.drop_outbox()
    filed = await world.create_behind_the_bridge("esc_manual")

    report = await world.reconcile()

    assert [(o.action.kind, o.action.search_first) for o in report.outcomes] == [
        (ActionKind.LEARN, False),
        (ActionKind.CREATE, True),
    ]
    await world.work_until(lambda: world.linked("esc_manual"))
    link = await world.bridge.store.links.get("esc_manual")
    assert link is not None
    assert (link.issue_key, link.adopted) == (filed["key"], True)
    assert len(world.tickets("esc_manual")) == 1


async def test_ticket_resolved_in_jira_while_the_bridge_was_down(world: World) -> None:
    """A ticket done in Jira whose escalation is open upstream gets a resolve_keeptrusts job."""
    world.keeptrusts.add_escalation("esc_jira_done")
    await world.ticketed("esc_jira_done")
    [ticket] = world.tickets("esc_jira_done")
    world.jira.transition_issue(ticket.key, "In Progress")
    world.jira.transition_issue(ticket.key, "False Positive", resolution="False Positive")
    await world.settle()

    report = await world.reconcile()

    assert outcomes(report) == [(ActionKind.RESOLVE_KEEPTRUSTS, "esc_jira_done", Status.DONE)]
    [job] = await world.bridge.store.queue.list(kind="resolve_keeptrusts")
    assert job.job_key == "resolve_keeptrusts:esc_jira_done"
    assert job.payload == {
        "escalation_id": "esc_jira_done",
        "issue_id": ticket.id,
        "issue_key": ticket.key,
        "resolution": "False Positive",
        "actor_name": "",
        "actor_account_id": "",
    }
    again = await world.reconcile()
    assert [o.status for o in again.outcomes] == [Status.NOTED]  # that job is still queued

    await world.drain()
    upstream = world.keeptrusts.escalations["esc_jira_done"]
    assert upstream.status == "resolved"
    assert [call["status"] for call in upstream.resolve_calls] == [200]
    await world.settle()
    assert (await world.reconcile()).outcomes == ()


async def test_escalation_resolved_upstream_while_the_bridge_was_down(world: World) -> None:
    """Resolved in Keeptrusts (event lost): the database learns it and resolve_jira is queued."""
    world.keeptrusts.add_escalation("esc_kt_done")
    await world.ticketed("esc_kt_done")
    world.keeptrusts.resolve_in_console("esc_kt_done", resolution="rejected", notes="policy ok")
    world.drop_outbox()

    report = await world.reconcile()

    assert outcomes(report) == [
        (ActionKind.RECORD_RESOLUTION, "esc_kt_done", Status.DONE),
        (ActionKind.RESOLVE_JIRA, "esc_kt_done", Status.DONE),
    ]
    stored = await world.bridge.store.escalations.get("esc_kt_done")
    assert stored is not None
    assert (stored.status, stored.resolution, stored.resolution_notes) == (
        "resolved",
        "rejected",
        "policy ok",
    )
    assert stored.resolved_by == "usr_reviewer_1"
    [job] = await world.bridge.store.queue.list(kind="resolve_jira")
    assert (job.job_key, job.payload) == (
        "resolve_jira:esc_kt_done",
        {"escalation_id": "esc_kt_done"},
    )

    await world.drain()
    [ticket] = world.tickets("esc_kt_done")
    assert world.jira.view(ticket)["status_category"] == "done"
    await world.settle()
    assert (await world.reconcile()).outcomes == ()


async def test_a_duplicate_ticket_is_closed_as_a_duplicate_of_the_linked_one(world: World) -> None:
    """The linked ticket stays; the copy ends done, resolution Duplicate, with a comment."""
    world.keeptrusts.add_escalation("esc_dup")
    await world.ticketed("esc_dup")
    [kept] = world.tickets("esc_dup")
    copy = await world.create_behind_the_bridge("esc_dup")
    world.clock_offset = timedelta(minutes=1)  # past the grace period for new tickets

    report = await world.reconcile()

    assert outcomes(report) == [(ActionKind.FOLD, "esc_dup", Status.DONE)]
    duplicate = world.jira.issue(copy["key"])
    assert duplicate is not None
    view = world.jira.view(duplicate)
    assert (view["status"], view["status_category"], view["resolution"]) == (
        "Resolved",
        "done",
        "Duplicate",
    )
    assert kept.key in str(duplicate.comments[-1]["body"])
    assert world.jira.view(kept)["status_category"] == "new"
    link = await world.bridge.store.links.get("esc_dup")
    assert link is not None
    assert link.issue_key == kept.key
    await world.settle()
    again = await world.reconcile()
    assert again.outcomes == ()
