"""The false-positive loop end to end: tickets resolved as false positives in Jira or in the
console open one "Policy improvement" Story per policy, linked to them, exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from kt_jira.config.secrets import SecretRef
from kt_jira.errors import Deferred, PermanentError
from kt_jira.feedback.plan import marker, policy_key
from kt_jira.jobs import Kind
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.store import Job, JobStatus
from kt_jira.store.tables import feedback_members
from tests.support.contracts import validate_adf
from tests.support.feedback import STORY_LABEL, FeedbackFactory, FeedbackHarness

POLICY = "pii-detector"
KEY = policy_key(POLICY)


def _text(doc: Any) -> str:
    """Every text of an ADF tree, joined."""
    if isinstance(doc, dict):
        return str(doc.get("text", "")) + "".join(_text(c) for c in doc.get("content", []))
    return ""


async def _story_job(feedback: FeedbackHarness) -> Job:
    job = await feedback.sync.bridge.store.queue.by_key(f"{Kind.FEEDBACK_STORY}:{KEY}:1")
    assert job is not None
    return job


async def test_the_nth_false_positive_opens_one_story_and_later_ones_join_it(
    feedback: FeedbackHarness,
) -> None:
    """Two false positives: no Story. The third: one Story with the summary, type, labels and a
    valid ADF body, linked to the three tickets. Other policies, other outcomes and repeated
    scans change nothing; a fourth false positive is linked with one comment, still one Story."""
    await feedback.tickets("esc_1", "esc_2", "esc_3", "esc_4", "esc_ok")
    await feedback.tickets("esc_b1", "esc_b2", policy="toxicity")
    await feedback.false_positive_in_jira("esc_1", "esc_b1", "esc_b2")
    await feedback.resolve_in_console("esc_2")
    await feedback.resolve_in_console("esc_ok", outcome="approved")
    assert await feedback.scan() == 0
    assert feedback.stories() == []

    await feedback.false_positive_in_jira("esc_3")
    assert await feedback.scan() == 1
    [story] = feedback.stories()
    assert story.values["summary"] == f"Policy improvement: {POLICY}"
    assert feedback.issue_type(story) == "Story"
    assert story.labels == [STORY_LABEL, marker(KEY, 1)]
    validate_adf(story.values["description"])
    assert "3 tickets of policy pii-detector were resolved as false positives" in _text(
        story.values["description"]
    )
    tickets = sorted(feedback.issue(e).key for e in ("esc_1", "esc_2", "esc_3"))
    assert feedback.linked_keys(story) == tickets
    assert {link.type.name for link in feedback.links(story)} == {"Relates"}
    assert feedback.sync.bot_comments(story) == []
    assert await feedback.scan() == 0

    await feedback.false_positive_in_jira("esc_4")
    assert await feedback.scan() == 1
    assert feedback.stories() == [story]
    assert feedback.linked_keys(story) == sorted([*tickets, feedback.issue("esc_4").key])
    [comment] = feedback.sync.bot_comments(story)
    assert "1 more ticket of policy pii-detector resolved as false positive (4 in all)" in (
        _text(comment["body"])
    )
    assert feedback.issue("esc_4").key in _text(comment["body"])
    assert await feedback.scan() == 0
    assert len(feedback.sync.bot_comments(story)) == 1
    record = await feedback.sync.bridge.store.feedback.story(KEY, 1)
    assert record is not None
    assert all(m.linked_at is not None for m in record.members)
    assert await feedback.sync.dead_jobs() == []


@pytest.mark.parametrize("fault", ["commit_then_timeout", "gateway_error"])
async def test_an_uncertain_create_never_makes_a_second_story(
    make_feedback: FeedbackFactory, fault: str
) -> None:
    """The Story's create times out after Jira committed it (adopted by its marker), or fails
    with a 500 before (created once after search caught up): one Story, linked, either way."""
    feedback = await make_feedback(jira={"timeout_seconds": 0.5})
    await feedback.tickets("esc_1", "esc_2", "esc_3")
    await feedback.resolve_in_console("esc_1", "esc_2", "esc_3")
    faults = feedback.sync.jira.faults
    if fault == "commit_then_timeout":
        faults.slow_after_commit, faults.slow_seconds = 1, 1.0
    else:
        # With the create screen cached, the next request is the create itself.
        await feedback.sync.bridge.feedback.metadata.field_id("AIGOV", "Story", "Summary")
        faults.fail_next = [500]
    assert await feedback.sync.bridge.feedback.scan(feedback.clock()) == 1
    assert await feedback.sync.bridge.worker.run_once()
    record = await feedback.sync.bridge.store.feedback.story(KEY, 1)
    assert record is not None
    assert record.state == "attempting"
    await feedback.sync.settle()
    assert await feedback.scan() == 0
    [story] = feedback.stories()
    assert len(feedback.sync.jira.issues_with_label(marker(KEY, 1))) == 1
    assert len(feedback.linked_keys(story)) == 3
    trail = await feedback.sync.bridge.store.audit.list(entity="feedback_story")
    adopted = "adopted" in [a.action for a in trail]
    assert adopted is (fault == "commit_then_timeout")
    assert (await _story_job(feedback)).status is JobStatus.DONE


async def test_a_retry_never_links_a_ticket_twice(feedback: FeedbackHarness) -> None:
    """A crash between linking a ticket and recording it: the rerun reads the Story's links
    and sends none again (the sandbox, like Jira, would answer 201 to a repeat)."""
    await feedback.tickets("esc_1", "esc_2", "esc_3")
    await feedback.resolve_in_console("esc_1", "esc_2", "esc_3")
    assert await feedback.scan() == 1
    store = feedback.sync.bridge.store
    async with store.db.write() as conn:  # forget that the links were made
        await conn.execute(update(feedback_members).values(linked_at=None))
    stats = feedback.sync.jira.stats.as_dict()["by_route"]
    sent = dict(stats.get("POST /rest/api/3/issueLink", {}))
    await feedback.sync.bridge.feedback.create_story(await _story_job(feedback))
    stats = feedback.sync.jira.stats.as_dict()["by_route"]
    assert stats.get("POST /rest/api/3/issueLink", {}) == sent == {"201": 3}
    [story] = feedback.stories()
    assert len(feedback.links(story)) == 3
    record = await store.feedback.story(KEY, 1)
    assert record is not None
    assert all(m.linked_at is not None for m in record.members)


async def test_a_link_type_the_site_lacks_dead_letters_naming_the_key(
    make_feedback: FeedbackFactory,
) -> None:
    """``link_type: Causes`` on a site without it: the job dead-letters naming the key and the
    site's types; the Story exists once and is linked when replayed after the fix."""
    feedback = await make_feedback(link_type="Causes")
    await feedback.tickets("esc_1", "esc_2", "esc_3")
    await feedback.resolve_in_console("esc_1", "esc_2", "esc_3")
    assert await feedback.scan() == 1
    [dead] = await feedback.sync.dead_jobs()
    assert "feedback.false_positive.link_type is 'Causes'" in dead
    assert "Blocks, Cloners, Duplicate, Relates" in dead
    [story] = feedback.stories()
    assert feedback.links(story) == []

    fixed = await make_feedback(link_type="relates")  # the same database and site, fixed
    assert await fixed.sync.bridge.store.queue.replay_dead(now=fixed.clock()) == 1
    await fixed.sync.settle()
    assert fixed.stories() == [story]
    assert len(fixed.links(story)) == 3
    assert await fixed.sync.dead_jobs() == []


async def test_nothing_happens_when_the_loop_is_off(make_feedback: FeedbackFactory) -> None:
    """``enabled: false``: the scan enqueues nothing, however many false positives there are."""
    feedback = await make_feedback(enabled=False)
    await feedback.tickets("esc_1", "esc_2", "esc_3")
    await feedback.resolve_in_console("esc_1", "esc_2", "esc_3")
    assert await feedback.scan() == 0
    assert feedback.stories() == []


async def test_on_data_center_the_story_and_comment_are_wiki_markup(
    make_feedback: FeedbackFactory,
) -> None:
    """On DC the Story's description and the comment are wiki markup strings (the policy name
    in bold, escaped), the links are made and read through REST v2."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter", search_lag=0.2))
    async with serve_app(sandbox.app) as url:
        pat = SecretRef.literal(sandbox.settings.pat)
        feedback = await make_feedback(
            site=(sandbox, url), jira={"flavor": "datacenter", "pat": pat}
        )
        await feedback.tickets("esc_1", "esc_2", "esc_3", "esc_4", policy="*pii* {color:red}")
        await feedback.false_positive_in_jira("esc_1", "esc_2", "esc_3")
        assert await feedback.scan() == 1
        await feedback.false_positive_in_jira("esc_4")
        assert await feedback.scan() == 1
        await sandbox.webhooks.drain()
    [story] = feedback.stories()
    description = story.values["description"]
    assert isinstance(description, str)
    assert description.startswith("3 tickets of policy *&#42;pii&#42; \\{color:red\\}* were")
    assert "{color:red}" not in description  # the policy's name stays text
    assert len(feedback.linked_keys(story)) == 4
    [comment] = feedback.sync.bot_comments(story)
    assert isinstance(comment["body"], str)
    assert comment["body"].startswith("1 more ticket of policy *&#42;pii&#42; \\{color:red\\}*")
    assert feedback.issue("esc_4").key.replace("-", "\\-") in comment["body"]
    assert await feedback.sync.dead_jobs() == []


async def test_tickets_that_join_before_the_story_exists_wait_for_it(
    make_feedback: FeedbackFactory,
) -> None:
    """A batch that joins while the Story is still to be created waits for the create (and
    stops, saying so, while that job is dead); once created, every ticket is linked and the
    batch gets its comment, while the body describes the tickets that opened the Story."""
    feedback = await make_feedback(threshold=2)
    await feedback.tickets("esc_1", "esc_2", "esc_3")
    await feedback.resolve_in_console("esc_1", "esc_2")
    feedback.clock.advance(timedelta(hours=1))
    await feedback.false_positive_in_jira("esc_3")  # resolved on the bridge's clock
    bridge, store = feedback.sync.bridge, feedback.sync.bridge.store
    before = feedback.clock() - timedelta(minutes=30)
    assert await bridge.feedback.scan(before) == 1  # a Story of esc_1 and esc_2
    assert await bridge.feedback.scan(feedback.clock()) == 1  # esc_3 joins it
    [link_job] = await store.queue.list(kind=Kind.FEEDBACK_LINK)
    with pytest.raises(Deferred, match="waiting for the Story"):
        await bridge.feedback.link_more(link_job)
    [create] = await store.queue.claim(
        worker_id="t", now=feedback.clock(), lease=timedelta(seconds=5), kinds=["feedback_story"]
    )
    await store.queue.fail(create.id, worker_id="t", now=feedback.clock(), error="test")
    with pytest.raises(PermanentError, match="feedback_story job is dead"):
        await bridge.feedback.link_more(link_job)

    assert await store.queue.replay_dead(now=feedback.clock()) == 1
    await feedback.sync.settle()
    [story] = feedback.stories()
    assert len(feedback.linked_keys(story)) == 3
    assert _text(story.values["description"]).startswith("2 tickets of policy pii-detector")
    [comment] = feedback.sync.bot_comments(story)
    assert "(3 in all)" in _text(comment["body"])
    assert await feedback.sync.dead_jobs() == []


async def test_a_batch_comment_answered_too_late_is_posted_once(
    feedback: FeedbackHarness,
) -> None:
    """Jira commits the batch's comment but answers after the client's timeout: the retry finds
    the comment and does not post it again."""
    await feedback.tickets("esc_1", "esc_2", "esc_3", "esc_4")
    await feedback.false_positive_in_jira("esc_1", "esc_2", "esc_3")
    assert await feedback.scan() == 1
    [story] = feedback.stories()
    await feedback.false_positive_in_jira("esc_4")
    feedback.sync.jira.faults.update({"slow_comment_commits": 1, "slow_seconds": 2.5})
    enqueued = await feedback.sync.bridge.feedback.scan(feedback.clock())
    assert enqueued == 1
    while not await feedback.sync.bridge.worker.run_once():  # the try whose answer is lost
        await asyncio.sleep(0.05)
    feedback.clock.advance(timedelta(minutes=1))  # past the retry's backoff
    await feedback.sync.settle()
    assert len(feedback.sync.bot_comments(story)) == 1
    [job] = await feedback.sync.bridge.store.queue.list(kind="feedback_link", limit=10)
    assert job.attempts == 2
    assert await feedback.sync.dead_jobs() == []
