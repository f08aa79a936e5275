"""Grouping by rule end to end: repeats of one group become comments on one ticket, exactly once
each, the ticket's summary shows the count, and a group past its window starts a new ticket."""

from __future__ import annotations

import json
from typing import Any

from kt_jira.jira.comments import plain_text
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import SandboxIssue, escalation_payload
from kt_jira.tickets.groups import member_headline
from tests.support.clock import ManualClock
from tests.support.intake import Harness, HarnessFactory

GROUPED = {
    "name": "grouped",
    "match": {"policy": "pii-*"},
    "set": {"group_by": ["policy", "model"], "group_window": "1h"},
}


def _payload(escalation_id: str, **fields: Any) -> bytes:
    return json.dumps(escalation_payload(escalation_id, **fields)).encode()


def _ticket_of(harness: Harness, escalation_id: str) -> SandboxIssue | None:
    found = harness.sandbox.issues_with_label(correlation_label(escalation_id))
    assert len(found) <= 1, f"{escalation_id} has {len(found)} tickets"
    return found[0] if found else None


def marker_counts(issue: SandboxIssue, escalation_ids: list[str]) -> dict[str, int]:
    """How many of the issue's comments open with each escalation's member headline."""
    texts = [plain_text(comment["body"]) for comment in issue.comments]
    return {
        eid: sum(text.startswith(member_headline(eid) + ".") for text in texts)
        for eid in escalation_ids
    }


async def _all_posted(harness: Harness, escalation_ids: list[str]) -> bool:
    for eid in escalation_ids:
        found = await harness.bridge.store.groups.member(eid)
        if found is None or found[0].comment_state != "posted":
            return False
    return True


async def test_repeats_of_a_group_become_comments_on_one_ticket(
    make_harness: HarnessFactory,
) -> None:
    """Five escalations of one policy and model make one ticket with four comments, one per
    further escalation, and a summary counting five; another model gets a ticket of its own."""
    harness = await make_harness(rules=[GROUPED])
    ids = [f"esc_grp_{n}" for n in range(5)]
    for eid in ids:
        await harness.deliver(_payload(eid, policy_name="pii-detector", model="gpt-4o"))
    await harness.deliver(_payload("esc_grp_other", policy_name="pii-detector", model="claude"))
    store = harness.bridge.store

    async def settled() -> bool:
        group = await store.groups.placement(ids[0])
        if group is None or not await _all_posted(harness, ids[1:]):
            return False
        ticket = _ticket_of(harness, ids[0])
        return ticket is not None and ticket.values["summary"].startswith("[5 escalations] ")

    await harness.work_until(settled, limit=30)
    assert len(harness.sandbox.issues) == 2
    ticket = _ticket_of(harness, ids[0])
    assert ticket is not None
    assert marker_counts(ticket, ids) == {ids[0]: 0, **{eid: 1 for eid in ids[1:]}}
    assert all(_ticket_of(harness, eid) is None for eid in ids[1:])
    comment = plain_text(ticket.comments[0]["body"])
    assert "pii-detector" in comment
    assert "user_789" in comment
    assert "gpt-4o" in comment
    assert "gw_prod_east" in comment
    other = _ticket_of(harness, "esc_grp_other")
    assert other is not None
    assert other.comments == []
    assert not other.values["summary"].startswith("[")
    assert await store.queue.list(status="dead") == []


async def test_a_group_past_its_window_starts_a_new_ticket(make_harness: HarnessFactory) -> None:
    """Once the group's window has passed, the next escalation of the group opens a new ticket;
    the old ticket keeps what it had."""
    clock = ManualClock()
    harness = await make_harness(rules=[GROUPED], clock=clock)
    store = harness.bridge.store
    await harness.deliver(_payload("esc_win_1"))
    await harness.deliver(_payload("esc_win_2"))
    await harness.work_until(lambda: _all_posted(harness, ["esc_win_2"]))
    clock.advance(hours=1, seconds=1)
    await harness.deliver(_payload("esc_win_3"))

    async def new_ticket() -> bool:
        link = await store.links.get("esc_win_3")
        return link is not None and link.state == "created"

    await harness.work_until(new_ticket)
    first, second = _ticket_of(harness, "esc_win_1"), _ticket_of(harness, "esc_win_3")
    assert first is not None
    assert second is not None
    assert first.id != second.id
    assert marker_counts(first, ["esc_win_2", "esc_win_3"]) == {"esc_win_2": 1, "esc_win_3": 0}
    placed = await store.groups.placement("esc_win_3")
    assert placed is not None
    assert placed.role == "opener"


async def test_a_comment_whose_answer_was_lost_is_posted_once(
    make_harness: HarnessFactory,
) -> None:
    """Jira commits a member's comment but answers after the client's timeout: the retry finds
    the comment on the ticket and does not post it again."""
    harness = await make_harness(rules=[GROUPED])
    await harness.deliver(_payload("esc_slowc_1"))
    await harness.work_until(lambda: _created(harness, "esc_slowc_1"))
    harness.sandbox.faults.update({"slow_comment_commits": 1, "slow_seconds": 2.5})
    await harness.deliver(_payload("esc_slowc_2"))
    await harness.work_until(lambda: _all_posted(harness, ["esc_slowc_2"]), limit=30)
    ticket = _ticket_of(harness, "esc_slowc_1")
    assert ticket is not None
    assert marker_counts(ticket, ["esc_slowc_2"]) == {"esc_slowc_2": 1}
    [job] = await harness.bridge.store.queue.list(kind="group_comment")
    assert job.attempts == 2  # the first attempt's outcome was unknown


async def _created(harness: Harness, escalation_id: str) -> bool:
    link = await harness.bridge.store.links.get(escalation_id)
    return link is not None and link.state == "created"
