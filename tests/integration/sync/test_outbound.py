"""Keeptrusts -> Jira: an upstream resolution moves the ticket to done, and is never echoed."""

from __future__ import annotations

import json

from kt_jira.sandbox import Status, Transition, Workflow, guide_workflow
from kt_jira.sandbox.jira.state import HUMAN
from tests.support.contracts import validate_adf
from tests.support.sync import HarnessFactory, SyncHarness


def _text(comment: dict[str, object]) -> str:
    return json.dumps(comment["body"])


async def test_upstream_resolution_walks_several_hops_to_done(harness: SyncHarness) -> None:
    """Open -> In Progress -> Under Review -> Resolved (never the False Positive shortcut for
    'approved'), resolution Done set on the screen that has it, one comment naming the reviewer;
    the bridge's own webhooks come back and resolve nothing in Keeptrusts."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_1")
    harness.keeptrusts.resolve_in_console(
        "esc_out_1", resolution="approved", notes="*not* {markup} [x|http://e]"
    )
    await harness.settle()

    view = harness.status(issue)
    assert (view["status"], view["status_category"], view["resolution"]) == (
        "Resolved",
        "done",
        "Done",
    )
    moves = [c for c in issue.changelog if c["field"] == "status"]
    assert [c["to"] for c in moves] == ["3", "10001", "5"]
    [comment] = harness.bot_comments(issue)
    validate_adf(comment["body"])
    assert "Rita Reviewer" in _text(comment)
    assert "*not* {markup} [x|http://e]" in _text(comment)
    assert harness.keeptrusts.escalations["esc_out_1"].resolve_calls == []
    assert await harness.resolve_jobs() == 0
    assert await harness.dead_jobs() == []


async def test_denied_maps_to_wont_do(harness: SyncHarness) -> None:
    """'denied' upstream becomes resolution Won't Do in Jira."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_denied")
    harness.keeptrusts.resolve_in_console("esc_out_denied", resolution="denied")
    await harness.settle()
    assert harness.status(issue)["resolution"] == "Won't Do"


async def test_done_transition_without_resolution_screen(harness: SyncHarness) -> None:
    """A done transition with no screen is taken without a resolution (Jira would refuse it)."""
    workflow = Workflow(
        name="Plain",
        statuses=(Status("1", "To Do", "new"), Status("2", "Done", "done")),
        transitions=(Transition(id="21", name="Done", to="2", sources=("1",)),),
    )
    harness.jira.set_workflow("AIGOV", workflow)
    issue = await harness.ticket("esc_out_plain")
    harness.keeptrusts.resolve_in_console("esc_out_plain")
    await harness.settle()
    view = harness.status(issue)
    assert (view["status"], view["resolution"]) == ("Done", None)
    assert len(harness.bot_comments(issue)) == 1
    assert await harness.dead_jobs() == []


async def test_no_path_to_done_gets_comment_and_label(harness: SyncHarness) -> None:
    """A workflow with no way to a done status ends with a comment and the label, not a dead job."""
    workflow = Workflow(
        name="Stuck",
        statuses=(Status("1", "Open", "new"), Status("2", "Triage", "indeterminate")),
        transitions=(
            Transition(id="11", name="Triage", to="2", sources=("1",)),
            Transition(id="12", name="Back", to="1", sources=("2",)),
        ),
    )
    harness.jira.set_workflow("AIGOV", workflow)
    issue = await harness.ticket("esc_out_stuck")
    harness.keeptrusts.resolve_in_console("esc_out_stuck", resolution="denied")
    await harness.settle()
    assert "kt-resolved-upstream" in issue.labels
    [comment] = harness.bot_comments(issue)
    assert "no workflow transition" in _text(comment)
    assert harness.status(issue)["status_category"] != "done"
    assert await harness.dead_jobs() == []
    assert harness.keeptrusts.escalations["esc_out_stuck"].resolve_calls == []


async def test_reopen_after_upstream_resolve_gets_one_comment(harness: SyncHarness) -> None:
    """A person reopening the ticket gets ONE explanation (even with duplicated webhooks); the
    bridge neither closes it again nor calls Keeptrusts."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_reopen")
    harness.keeptrusts.resolve_in_console("esc_out_reopen")
    await harness.settle()
    harness.jira.webhooks.duplicates = 2
    harness.jira.transition_issue(issue.key, "Open")
    await harness.settle()
    comments = harness.bot_comments(issue)
    assert len(comments) == 2
    assert "cannot be undone" in _text(comments[1])
    assert harness.status(issue)["status"] == "Open"
    assert harness.keeptrusts.escalations["esc_out_reopen"].resolve_calls == []
    assert await harness.dead_jobs() == []


async def test_reopen_after_jira_resolve_is_explained_not_reclosed(harness: SyncHarness) -> None:
    """Resolved in Jira, echoed by Keeptrusts, then reopened: one explanation, the echo never
    closes the ticket again, and Keeptrusts saw one resolve call."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_both")
    harness.jira.transition_issue(issue.key, "In Progress")
    harness.jira.transition_issue(issue.key, "False Positive")
    await harness.settle()
    harness.jira.transition_issue(issue.key, "Open")
    await harness.settle()
    assert harness.status(issue)["status"] == "Open"
    [comment] = harness.bot_comments(issue)
    assert "cannot be undone" in _text(comment)
    calls = harness.keeptrusts.escalations["esc_out_both"].resolve_calls
    assert [c["status"] for c in calls] == [200]


async def test_resolution_before_the_ticket_exists(harness: SyncHarness) -> None:
    """Created and resolved before the worker ran: the create runs, then the resolve."""
    harness.jira.set_workflow("AIGOV", guide_workflow())
    harness.keeptrusts.add_escalation("esc_out_early")
    harness.keeptrusts.resolve_in_console("esc_out_early")
    await harness.deliver_outbox()
    await harness.settle()
    [issue] = harness.jira.issues
    assert harness.status(issue)["status_category"] == "done"
    assert len(harness.bot_comments(issue)) == 1


async def test_authorless_echoes_are_recognised_by_the_write_window(
    make_harness: HarnessFactory,
) -> None:
    """With webhooks that name no user, the bridge's own hops still count as its echoes."""
    harness = await make_harness()
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_anon")
    harness.jira.webhooks.omit_user = True
    harness.keeptrusts.resolve_in_console("esc_out_anon")
    await harness.settle()
    assert harness.status(issue)["status_category"] == "done"
    audit = await harness.bridge.store.audit.list(entity="link", entity_id="esc_out_anon")
    events = [a.detail for a in audit if a.action == "jira_event"]
    assert events
    assert all(detail["echo"] for detail in events)
    assert len(harness.bot_comments(issue)) == 1
    assert HUMAN.account_id not in {c["author"] for c in issue.comments}


async def test_jira_failures_mid_walk_are_retried_to_the_same_end(
    make_harness: HarnessFactory,
) -> None:
    """Gateway errors on any call of the walk (a transition's outcome then unknown) are retried
    from the issue's real status: the ticket still ends in Resolved, with one comment."""
    harness = await make_harness(worker={"max_attempts": 100})
    harness.jira.set_workflow("AIGOV", guide_workflow())
    issue = await harness.ticket("esc_out_flaky")
    harness.keeptrusts.resolve_in_console("esc_out_flaky")
    await harness.deliver_outbox()
    harness.jira.faults.error_rate = 0.4
    await harness.settle(limit=60)
    harness.jira.faults.error_rate = 0.0
    await harness.settle()
    view = harness.status(issue)
    assert (view["status"], view["resolution"]) == ("Resolved", "Done")
    assert len(harness.bot_comments(issue)) == 1
    assert await harness.dead_jobs() == []
    retried = await harness.bridge.store.audit.list(entity="job", limit=1000)
    assert any(a.action == "retried" for a in retried)
