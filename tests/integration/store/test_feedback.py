"""The false-positive loop's store: which tickets count, Stories opened exactly once with their
members and job, later members in one batch, the Story's create protocol and linked members."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from kt_jira import jobs
from kt_jira.events.keeptrusts import Resolution
from kt_jira.store import (
    CreatedIssue,
    Deadlines,
    FalsePositiveRecord,
    LinkState,
    Store,
    StoryOpening,
    StoryRecord,
)
from kt_jira.store.tables import links

from .builders import T0, delivery, escalation
from .conftest import OpenStore

FP = "False Positive"
OUTCOMES = ("false_positive",)
KEY = "a" * 64


async def ticket(
    store: Store,
    escalation_id: str,
    *,
    policy: str = "pii-detector",
    model: str = "gpt-4o",
    created: bool = True,
) -> None:
    """An escalation of ``policy`` with its created Jira issue (or only an attempt at one)."""
    body = {"type": "escalation.created", "data": {"escalation_id": escalation_id}}
    await store.deliveries.ingest(
        delivery(body, delivery_id=f"d-{escalation_id}"),
        event_key=f"escalation.created:{escalation_id}",
        escalation=escalation(escalation_id, policy_name=policy, model=model),
        resolution=None,
        event_type="escalation.created",
        jobs=[],
    )
    await store.links.begin_create_attempt(
        escalation_id, project="AIGOV", correlation_label=f"kt-esc-{escalation_id}", now=T0
    )
    if created:
        number = escalation_id.rsplit("-", 1)[-1]
        issue = CreatedIssue(issue_id=f"100{number}", issue_key=f"AIGOV-{number}")
        await store.links.save_created(escalation_id, issue, Deadlines(), now=T0)


async def resolve(store: Store, escalation_id: str, outcome: str, at: datetime) -> None:
    """Keeptrusts resolved the escalation with ``outcome`` at ``at``."""
    resolution = Resolution(outcome=outcome, notes="", resolved_by="ana", resolved_at=at)
    await store.sync.finish_inbound(escalation_id, resolution=resolution, outcome="ok", now=at)


async def done_in_jira(store: Store, escalation_id: str, resolution: str, at: datetime) -> None:
    """Jira reached a done status with ``resolution`` (the columns sync records from Jira's
    webhooks)."""
    stmt = (
        update(links)
        .where(links.c.escalation_id == escalation_id)
        .values(jira_resolution=resolution, resolved_in_jira_at=at)
    )
    async with store.db.write() as conn:
        await conn.execute(stmt)


async def false_positives(store: Store, since: datetime = T0) -> list[FalsePositiveRecord]:
    return await store.feedback.false_positives(since=since, resolution=FP, outcomes=OUTCOMES)


async def open_story(
    store: Store, members: list[FalsePositiveRecord], *, sequence: int = 1, at: datetime = T0
) -> StoryRecord | None:
    opening = StoryOpening(
        policy="pii-detector",
        policy_key=KEY,
        sequence=sequence,
        project="AIGOV",
        marker=f"kt-fp-aaaa-{sequence}",
    )
    job = jobs.feedback_story(KEY, sequence, run_at=at)
    return await store.feedback.open_story(opening, members, job=job, now=at)


async def test_a_false_positive_is_a_created_ticket_resolved_so_on_either_side(
    store: Store,
) -> None:
    """Keeptrusts' outcome matching the Jira name or an outcome, or Jira's own resolution,
    counts, case-insensitively; other outcomes, tickets never created, and tickets resolved
    before ``since`` do not."""
    hour = timedelta(hours=1)
    for n in range(1, 8):
        await ticket(store, f"esc-{n}", created=n != 6, model=f"m{n}")
    await resolve(store, "esc-1", "false positive", T0 + hour)  # the Jira name, any case
    await resolve(store, "esc-2", "FALSE_POSITIVE", T0 + 2 * hour)  # a Keeptrusts outcome
    await done_in_jira(store, "esc-3", "FaLsE PoSiTiVe", T0 + 3 * hour)  # Jira's resolution
    await resolve(store, "esc-4", "approved", T0 + hour)
    await done_in_jira(store, "esc-5", "Done", T0 + hour)
    await resolve(store, "esc-6", FP, T0 + hour)  # no issue was ever created
    await resolve(store, "esc-7", FP, T0 - hour)  # before since
    found = await false_positives(store)
    assert [(f.escalation_id, f.issue_key, f.model) for f in found] == [
        ("esc-1", "AIGOV-1", "m1"),
        ("esc-2", "AIGOV-2", "m2"),
        ("esc-3", "AIGOV-3", "m3"),
    ]
    assert [f.resolved_at for f in found] == [T0 + hour, T0 + 2 * hour, T0 + 3 * hour]
    assert {f.policy_name for f in found} == {"pii-detector"}
    assert await false_positives(store, since=T0 + 2 * hour) == found[1:]


async def test_keeptrusts_resolution_time_wins_over_jiras(store: Store) -> None:
    """A ticket resolved on both sides is dated by Keeptrusts' resolution."""
    await ticket(store, "esc-1")
    await done_in_jira(store, "esc-1", FP, T0 + timedelta(hours=5))
    await resolve(store, "esc-1", "approved", T0 + timedelta(hours=1))
    [found] = await false_positives(store)
    assert found.resolved_at == T0 + timedelta(hours=1)


async def test_resolved_count_covers_every_outcome_of_the_policy(store: Store) -> None:
    """The rate's denominator: tickets of the policy resolved in the range, any outcome."""
    await ticket(store, "esc-1")
    await ticket(store, "esc-2")
    await ticket(store, "esc-3")
    await ticket(store, "esc-4", policy="other")
    await resolve(store, "esc-1", FP, T0 + timedelta(hours=1))
    await resolve(store, "esc-2", "approved", T0 + timedelta(hours=2))
    await done_in_jira(store, "esc-3", "Done", T0 + timedelta(hours=9))
    await resolve(store, "esc-4", "approved", T0 + timedelta(hours=2))
    until = T0 + timedelta(hours=2)
    assert await store.feedback.resolved_count("pii-detector", since=T0, until=until) == 2
    later = T0 + timedelta(hours=9)
    assert await store.feedback.resolved_count("pii-detector", since=T0, until=later) == 3


async def _three(store: Store) -> list[FalsePositiveRecord]:
    for n in (1, 2, 3):
        await ticket(store, f"esc-{n}")
        await resolve(store, f"esc-{n}", FP, T0 + timedelta(minutes=n))
    return await false_positives(store)


async def test_opening_a_story_records_members_and_job_in_one_go(store: Store) -> None:
    """open_story writes the Story, its members and its job; the same Story again is None and
    changes nothing."""
    found = await _three(store)
    opened = await open_story(store, found[:2])
    assert opened is not None
    assert (opened.sequence, opened.state, opened.opened_at) == (1, LinkState.PENDING, T0)
    assert [(m.escalation_id, m.issue_id, m.linked_at) for m in opened.members] == [
        ("esc-1", "1001", None),
        ("esc-2", "1002", None),
    ]
    assert opened.members[0].resolved_at == T0 + timedelta(minutes=1)
    job = await store.queue.by_key(f"feedback_story:{KEY}:1")
    assert job is not None
    assert job.payload == {"policy_key": KEY, "sequence": 1}
    assert await open_story(store, found) is None
    assert await store.feedback.story(KEY, 1) == opened
    trail = await store.audit.list(entity="feedback_story", entity_id=str(opened.id))
    assert [(a.action, a.detail["members"]) for a in trail] == [("opened", ["esc-1", "esc-2"])]


async def test_two_scanners_open_a_story_once(store: Store, open_another: OpenStore) -> None:
    """Two replicas opening the same Story at once: one wins, one job, one set of members."""
    found = await _three(store)
    other = await open_another()
    first, second = await asyncio.gather(open_story(store, found[:2]), open_story(other, found))
    assert (first is None) != (second is None)
    story = await store.feedback.story(KEY, 1)
    assert story is not None
    assert story == (first or second)
    assert len(await store.queue.list(kind="feedback_story")) == 1


async def test_latest_story_of_each_policy_and_batches_of_new_members(store: Store) -> None:
    """latest_stories returns each policy's highest sequence; add_members adds only new members
    and enqueues a link job only when one was new."""
    found = await _three(store)
    one = await open_story(store, found[:1])
    two = await open_story(store, found[1:2], sequence=2, at=T0 + timedelta(days=8))
    assert one is not None
    assert two is not None
    latest = await store.feedback.latest_stories([KEY, "b" * 64])
    assert list(latest) == [KEY]
    assert latest[KEY].id == two.id
    assert await store.feedback.latest_stories([]) == {}
    later = T0 + timedelta(days=9)
    batch = jobs.feedback_link(KEY, 2, ["esc-2", "esc-3"], run_at=later)
    assert await store.feedback.add_members(two.id, found[1:], job=batch, now=later) == ["esc-3"]
    again = jobs.feedback_link(KEY, 2, ["esc-3"], run_at=later)
    assert await store.feedback.add_members(two.id, found[2:], job=again, now=later) == []
    assert [j.job_key for j in await store.queue.list(kind="feedback_link")] == [batch.job_key]
    story = await store.feedback.story(KEY, 2)
    assert story is not None
    assert [(m.escalation_id, m.added_at) for m in story.members] == [
        ("esc-2", T0 + timedelta(days=8)),
        ("esc-3", later),
    ]


async def test_the_create_protocol_and_linked_members(store: Store) -> None:
    """begin/clear/save as for links: a created Story keeps its issue; members are marked
    linked once, and the audit trail says what happened."""
    found = await _three(store)
    story = await open_story(store, found)
    assert story is not None
    started = await store.feedback.begin_attempt(story.id, now=T0 + timedelta(seconds=1))
    assert (started.state, started.attempt_started_at) == (
        LinkState.ATTEMPTING,
        T0 + timedelta(seconds=1),
    )
    assert await store.feedback.clear_attempt(story.id, now=T0) is True
    assert await store.feedback.clear_attempt(story.id, now=T0) is False
    await store.feedback.begin_attempt(story.id, now=T0)
    issue = CreatedIssue(issue_id="2001", issue_key="AIGOV-9", adopted=True)
    saved = await store.feedback.save_created(story.id, issue, now=T0)
    assert (saved.state, saved.issue_id, saved.issue_key) == (LinkState.CREATED, "2001", "AIGOV-9")
    other = CreatedIssue(issue_id="2002", issue_key="AIGOV-10")
    assert await store.feedback.save_created(story.id, other, now=T0) == saved
    assert await store.feedback.begin_attempt(story.id, now=T0) == saved
    linked_at = T0 + timedelta(minutes=5)
    assert await store.feedback.mark_linked(story.id, ["esc-1", "esc-2"], now=linked_at) == 2
    assert await store.feedback.mark_linked(story.id, ["esc-2", "esc-3"], now=T0) == 1
    final = await store.feedback.story(KEY, 1)
    assert final is not None
    assert [m.linked_at for m in final.members] == [linked_at, linked_at, T0]
    trail = await store.audit.list(entity="feedback_story", entity_id=str(story.id))
    assert [a.action for a in reversed(trail)] == [
        "opened",
        "attempt_started",
        "attempt_cleared",
        "attempt_started",
        "adopted",
        "linked",
        "linked",
    ]


@pytest.mark.parametrize("policy", ["", "p" * 3000, "名前 with 'quotes' and \"more\""])
async def test_any_policy_name_is_stored(store: Store, policy: str) -> None:
    """Policy names of any length and alphabet group their false positives exactly."""
    await ticket(store, "esc-1", policy=policy)
    await resolve(store, "esc-1", FP, T0)
    [found] = await false_positives(store)
    assert found.policy_name == policy
