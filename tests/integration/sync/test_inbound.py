"""Jira -> Keeptrusts: a person resolving the ticket resolves the escalation, exactly once."""

from __future__ import annotations

from kt_jira.sandbox import guide_workflow
from kt_jira.sandbox.jira.state import HUMAN
from tests.support.sync import ADA_KEEPTRUSTS_ID, SyncHarness


async def test_human_resolution_resolves_keeptrusts_exactly_once(harness: SyncHarness) -> None:
    """Four hops by a person, each webhook sent twice and all shuffled, give ONE resolve call
    with the mapped outcome, the note and the mapped actor, and the bridge writes nothing back."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_in_1")
    harness.jira.webhooks.hold = True
    harness.jira.webhooks.duplicates = 1
    for status in ("In Progress", "Under Review", "Resolved", "Closed"):
        harness.jira.transition_issue(issue.key, status)
    await harness.jira.webhooks.release(order="shuffle")
    await harness.settle()

    escalation = harness.keeptrusts.escalations["esc_in_1"]
    assert [call["status"] for call in escalation.resolve_calls] == [200]
    call = escalation.resolve_calls[0]
    assert call["actor"] == ADA_KEEPTRUSTS_ID
    assert call["body"] == {
        "resolution": "approved",
        "notes": f"Resolved via Jira {issue.key} by {HUMAN.display_name}: Done",
    }
    assert escalation.status == "resolved"
    view = harness.status(issue)
    assert (view["status"], view["resolution"]) == ("Closed", "Done")
    assert harness.bot_comments(issue) == []
    assert await harness.resolve_jobs() == 1
    assert await harness.dead_jobs() == []


async def test_false_positive_maps_to_denied(harness: SyncHarness) -> None:
    """A ticket closed as False Positive resolves the escalation as 'denied'."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_in_fp")
    harness.jira.transition_issue(issue.key, "In Progress")
    harness.jira.transition_issue(issue.key, "False Positive")
    await harness.settle()
    [call] = harness.keeptrusts.escalations["esc_in_fp"].resolve_calls
    assert call["body"]["resolution"] == "denied"
    assert call["body"]["notes"].endswith(": False Positive")


async def test_already_resolved_upstream_is_success(harness: SyncHarness) -> None:
    """If Keeptrusts answers 409 (resolved meanwhile in the console), the job succeeds and the
    console's resolution stays the one the bridge records."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_in_race")
    harness.jira.webhooks.hold = True
    harness.jira.transition_issue(issue.key, "In Progress")
    harness.jira.transition_issue(issue.key, "False Positive")
    harness.keeptrusts.resolve_in_console("esc_in_race", resolution="approved", notes="fine")
    await harness.jira.webhooks.release()
    await harness.settle()
    escalation = harness.keeptrusts.escalations["esc_in_race"]
    assert [c["status"] for c in escalation.resolve_calls] in ([409], [])
    assert escalation.resolution == "approved"
    stored = await harness.bridge.store.escalations.get("esc_in_race")
    assert stored is not None
    assert (stored.status, stored.resolution) == ("resolved", "approved")
    assert harness.status(issue)["status"] == "False Positive"
    assert await harness.dead_jobs() == []


async def test_first_human_comment_sets_first_response_once(harness: SyncHarness) -> None:
    """The bridge's own comments never count; the first person's comment does, once."""
    issue = await harness.ticket("esc_in_comment")
    state = harness.jira.state
    state.comment(issue, _adf("bot note"), state.bot.account_id)
    await harness.settle()
    link = await harness.bridge.store.links.get("esc_in_comment")
    assert link is not None
    assert link.first_response_at is None
    state.comment(issue, _adf("Looking at it"), HUMAN.account_id)
    await harness.settle()
    link = await harness.bridge.store.links.get("esc_in_comment")
    assert link is not None
    assert link.first_response_at is not None
    first = link.first_response_at
    state.comment(issue, _adf("Still looking"), HUMAN.account_id)
    await harness.settle()
    link = await harness.bridge.store.links.get("esc_in_comment")
    assert link is not None
    assert link.first_response_at == first


async def test_deleted_issue_is_marked_and_never_recreated(harness: SyncHarness) -> None:
    """Deleting the ticket marks the link deleted; an upstream resolve then leaves Jira alone."""
    issue = await harness.ticket("esc_in_deleted")
    harness.jira.delete_issue(issue.key)
    await harness.settle()
    link = await harness.bridge.store.links.get("esc_in_deleted")
    assert link is not None
    assert link.deleted_at is not None
    harness.keeptrusts.resolve_in_console("esc_in_deleted")
    await harness.settle()
    assert harness.jira.issues == []
    assert await harness.dead_jobs() == []


def _adf(text: str) -> dict[str, object]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


async def test_keeptrusts_outages_are_retried_into_one_resolve(harness: SyncHarness) -> None:
    """503/502 from Keeptrusts are retried; the escalation is resolved by exactly one call."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_in_retry")
    harness.keeptrusts.faults.fail_next = [503, 502]
    harness.jira.transition_issue(issue.key, "In Progress")
    harness.jira.transition_issue(issue.key, "False Positive")
    await harness.settle()
    calls = harness.keeptrusts.escalations["esc_in_retry"].resolve_calls
    assert [c["status"] for c in calls] == [200]
    assert harness.keeptrusts.faults.fail_next == []
    assert await harness.dead_jobs() == []


async def test_unknown_escalation_upstream_dead_letters_with_advice(harness: SyncHarness) -> None:
    """A 404 from Keeptrusts is permanent: the job is dead with an error that says what to check."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_in_gone")
    del harness.keeptrusts.escalations["esc_in_gone"]
    harness.jira.transition_issue(issue.key, "In Progress")
    harness.jira.transition_issue(issue.key, "False Positive")
    await harness.settle()
    [dead] = await harness.dead_jobs()
    assert dead.startswith("resolve_keeptrusts: PermanentError: Keeptrusts answered 404")
    assert "keeptrusts.api_url" in dead
