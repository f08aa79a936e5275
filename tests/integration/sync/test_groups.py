"""Two-way sync for grouped escalations: the group's ticket done in Jira resolves every
escalation of the group in Keeptrusts once, and escalations resolved in Keeptrusts comment on
the ticket, which goes done with the last one; neither direction echoes back."""

from __future__ import annotations

from kt_jira.config.secrets import SecretRef
from kt_jira.jira.comments import plain_text
from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    SandboxIssue,
    guide_workflow,
    serve_app,
)
from tests.support.sync import HarnessFactory, SyncHarness

GROUPED = {"name": "grouped", "set": {"group_by": ["policy"], "group_window": "1h"}}
IDS = [f"esc_gs_{n}" for n in range(4)]


async def _group(make_harness: HarnessFactory) -> tuple[SyncHarness, SandboxIssue]:
    """A bridge grouping by policy and one group of four escalations, settled."""
    harness = await make_harness(rules=[GROUPED])
    harness.jira.set_workflow("AIGOV", guide_workflow())
    for eid in IDS:
        harness.keeptrusts.add_escalation(eid, policy_name="pii-detector")
    await harness.settle()
    link = await harness.bridge.store.links.get(IDS[0])
    assert link is not None
    assert link.issue_id is not None
    issue = harness.jira.issue(link.issue_id)
    assert issue is not None
    assert len(harness.jira.issues) == 1
    return harness, issue


def _texts(harness: SyncHarness, issue: SandboxIssue) -> list[str]:
    return [plain_text(c["body"]) for c in harness.bot_comments(issue)]


async def test_group_ticket_done_in_jira_resolves_every_escalation_once(
    make_harness: HarnessFactory,
) -> None:
    """A person closing the group's ticket resolves all four escalations in Keeptrusts, one
    call each with the ticket in the note; their echoes write nothing back to Jira."""
    harness, issue = await _group(make_harness)
    comments_before = len(harness.bot_comments(issue))
    for status in ("In Progress", "Under Review", "Resolved"):
        harness.jira.transition_issue(issue.key, status)
    await harness.settle()
    for eid in IDS:
        escalation = harness.keeptrusts.escalations[eid]
        assert [call["status"] for call in escalation.resolve_calls] == [200], eid
        assert escalation.resolve_calls[0]["body"]["notes"].startswith(
            f"Resolved via Jira {issue.key} by"
        )
        stored = await harness.bridge.store.escalations.get(eid)
        assert stored is not None
        assert stored.status == "resolved"
    assert len(harness.bot_comments(issue)) == comments_before  # no echo comments
    assert harness.status(issue)["status"] == "Resolved"
    assert await harness.resolve_jobs() == len(IDS)
    assert await harness.dead_jobs() == []


async def test_resolved_in_keeptrusts_one_by_one_then_the_ticket_goes_done(
    make_harness: HarnessFactory,
) -> None:
    """Each escalation resolved in Keeptrusts (the opener first) is one comment saying how many
    are still open, the ticket stays open; the last one moves it to done, with one comment."""
    harness, issue = await _group(make_harness)
    before = len(harness.bot_comments(issue))
    for n, eid in enumerate(IDS[:-1]):
        harness.keeptrusts.resolve_in_console(eid, resolution="approved")
        await harness.settle()
        assert harness.status(issue)["status_category"] != "done"
        latest = _texts(harness, issue)[-1]
        assert latest.startswith(f"Keeptrusts escalation {eid} was resolved")
        assert f"{len(IDS) - n - 1} more" in latest
    harness.keeptrusts.resolve_in_console(IDS[-1], resolution="approved")
    await harness.settle()
    view = harness.status(issue)
    assert (view["status_category"], view["resolution"]) == ("done", "Done")
    texts = _texts(harness, issue)[before:]
    assert len(texts) == len(IDS)  # three notes and the closing comment: nothing twice
    assert texts[-1].startswith(f"Keeptrusts escalation {IDS[-1]} was resolved")
    assert "last open one of the 4 escalations" in texts[-1]
    for eid in IDS:
        assert harness.keeptrusts.escalations[eid].resolve_calls == []
    assert await harness.resolve_jobs() == 0
    assert await harness.dead_jobs() == []


async def test_reconcile_resolves_members_of_a_done_group_ticket(
    make_harness: HarnessFactory,
) -> None:
    """With the Jira webhooks lost, reconcile finds the done group ticket and resolves its open
    escalations; run again, it finds nothing more to do, and never creates a member's ticket."""
    harness, issue = await _group(make_harness)
    harness.jira.webhooks.hold = True
    for status in ("In Progress", "Under Review", "Resolved"):
        harness.jira.transition_issue(issue.key, status)
    harness.jira.webhooks.discard()
    harness.jira.webhooks.hold = False
    report = await harness.reconcile()
    assert {a.escalation_id for a in report.plan.writes} == set(IDS)
    await harness.settle()
    for eid in IDS:
        assert harness.keeptrusts.escalations[eid].status == "resolved", eid
    again = await harness.reconcile()
    assert again.plan.writes == []
    assert len(harness.jira.issues) == 1


async def test_reconcile_closes_a_fully_resolved_group_ticket(
    make_harness: HarnessFactory,
) -> None:
    """Every escalation of the group closed upstream while the bridge missed it: reconcile
    records them and walks the group's ticket to done once."""
    harness, issue = await _group(make_harness)
    for eid in IDS:
        harness.keeptrusts.resolve_in_console(eid, resolution="approved")
    harness.keeptrusts.take_outbox()  # the webhooks never arrive
    await harness.reconcile()
    await harness.settle()
    assert harness.status(issue)["status_category"] == "done"
    again = await harness.reconcile()
    assert again.plan.writes == []
    assert await harness.dead_jobs() == []


async def test_on_data_center_a_lost_comment_is_found_in_wiki_markup(
    make_harness: HarnessFactory,
) -> None:
    """On Data Center comments are wiki markup, which escapes characters of an id like
    ``esc-dc_1``: a member's comment whose answer was lost is still found, and posted once."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter", search_lag=0.2))
    async with serve_app(sandbox.app) as url:
        harness = await make_harness(
            site=(sandbox, url),
            jira={"flavor": "datacenter", "pat": SecretRef.literal(sandbox.settings.pat)},
            rules=[GROUPED],
        )
        opener = await harness.ticket("esc-dc_0", policy_name="pii-detector")
        sandbox.faults.update({"slow_comment_commits": 1, "slow_seconds": 3.0})
        harness.keeptrusts.add_escalation("esc-dc_1", policy_name="pii-detector")
        await harness.settle()
        await sandbox.webhooks.drain()
    [comment] = harness.bot_comments(opener)
    assert isinstance(comment["body"], str)
    assert comment["body"].startswith("Escalation esc\\-dc\\_1 joined this group.")
    [job] = await harness.bridge.store.queue.list(kind="group_comment")
    assert job.attempts == 2  # the first answer was lost; the retry found the comment
    assert await harness.dead_jobs() == []
