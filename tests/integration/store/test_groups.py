"""``store.groups``: placing escalations in groups atomically, one open group per key even when
replicas race, groups closing by window and by done ticket, and a member's comment states."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kt_jira import jobs
from kt_jira.errors import Conflict
from kt_jira.events.keeptrusts import Resolution
from kt_jira.store import CreatedIssue, Deadlines, GroupOpening, JiraStatus, Placement, Store
from tests.integration.store.builders import T0, ingest_escalations
from tests.integration.store.conftest import OpenStore

KEY = "rule:test-key"


def opening(key: str = KEY, *, hours: float = 1) -> GroupOpening:
    return GroupOpening(
        key=key,
        rule="grouped",
        policy_name="PII leak",
        reason="rule",
        summary="AI Escalation: PII leak",
        window_ends_at=T0 + timedelta(hours=hours),
    )


async def _created(store: Store, escalation_id: str, issue_id: str = "10001") -> None:
    await store.links.begin_create_attempt(
        escalation_id, project="AIGOV", correlation_label=f"kt-{escalation_id}", now=T0
    )
    issue = CreatedIssue(issue_id=issue_id, issue_key=f"AIGOV-{issue_id}")
    await store.links.save_created(escalation_id, issue, Deadlines(), now=T0)


async def test_first_opens_the_rest_join_with_their_comment_jobs(store: Store) -> None:
    """The first escalation of a key opens the group; the next ones join it, each with one
    group_comment job, and the group counts them; placing again changes nothing."""
    ids = await ingest_escalations(store, 3)
    placed = [await store.groups.join_or_open(eid, opening(), now=T0) for eid in ids]
    assert [p.role for p in placed if p] == ["opener", "member", "member"]
    again = await store.groups.join_or_open(ids[2], opening(), now=T0)
    assert again is not None
    assert again.role == "member"
    group = await store.groups.group(placed[0].group.id if placed[0] else 0)
    assert group is not None
    assert (group.opener_id, group.member_count, group.size) == (ids[0], 2, 3)
    keys = sorted(j.job_key for j in await store.queue.list(kind="group_comment"))
    assert keys == [jobs.key(jobs.Kind.GROUP_COMMENT, eid) for eid in ids[1:]]


async def test_may_open_false_only_joins(store: Store) -> None:
    """Without permission to open, an escalation with no open group is left unplaced."""
    [eid] = await ingest_escalations(store, 1)
    assert await store.groups.join_or_open(eid, opening(), now=T0, may_open=False) is None
    assert await store.groups.placement(eid) is None


async def test_a_group_past_its_window_or_done_is_closed_and_replaced(store: Store) -> None:
    """Past the window, the next escalation opens a new group; a done ticket closes one too."""
    ids = await ingest_escalations(store, 3)
    first = await store.groups.join_or_open(ids[0], opening(), now=T0)
    later = T0 + timedelta(hours=1)
    second = await store.groups.join_or_open(ids[1], opening(), now=later)
    assert first is not None
    assert second is not None
    assert second.role == "opener"
    assert second.group.id != first.group.id
    closed = await store.groups.group(first.group.id)
    assert closed is not None
    assert closed.closed_at == later
    await _created(store, ids[1])
    done = JiraStatus(status_id="10002", category="done", at=later)
    await store.sync.finish_outbound(ids[1], status=done, outcome="transitioned", now=later)
    third = await store.groups.join_or_open(ids[2], opening(hours=3), now=later)
    assert third is not None
    assert third.role == "opener"


async def test_racing_replicas_open_one_group(store: Store, open_another: OpenStore) -> None:
    """Escalations of one key placed at once from several replicas: one opener, the rest
    members after at most a retry (Conflict), and one open group for the key."""
    ids = await ingest_escalations(store, 12)
    replicas = [store, *[await open_another() for _ in range(3)]]

    async def place(n: int, eid: str) -> Placement:
        for _ in range(5):
            try:
                found = await replicas[n % 4].groups.join_or_open(eid, opening(), now=T0)
            except Conflict:
                await asyncio.sleep(0.01)
                continue
            assert found is not None
            return found
        raise AssertionError(f"{eid} could not be placed")

    placed = await asyncio.gather(*(place(n, eid) for n, eid in enumerate(ids)))
    assert sorted(p.role for p in placed) == ["member"] * 11 + ["opener"]
    assert len({p.group.id for p in placed}) == 1
    group = await store.groups.group(placed[0].group.id)
    assert group is not None
    assert group.member_count == 11


async def test_comment_states_and_one_waiting_summary(store: Store) -> None:
    """A member's comment goes attempting -> posted once; posting asks for one summary edit
    while one is waiting, and for a fresh one once it has run."""
    ids = await ingest_escalations(store, 4)
    for eid in ids:
        await store.groups.join_or_open(eid, opening(), now=T0)
    group = await store.groups.placement(ids[0])
    assert group is not None
    summary = jobs.group_summary(group.group.id, run_at=T0)
    await store.groups.begin_comment(ids[1], opener_id=ids[0], now=T0, busy_until=T0)
    found = await store.groups.member(ids[1])
    assert found is not None
    assert found[0].comment_state == "attempting"
    assert await store.groups.comment_posted(ids[1], comment_id="7", summary=summary, now=T0)
    assert not await store.groups.comment_posted(ids[1], comment_id="8", summary=summary, now=T0)
    assert await store.groups.comment_posted(ids[2], comment_id="9", summary=summary, now=T0)
    assert len(await store.queue.list(kind="group_summary")) == 1
    [waiting] = await store.queue.claim(worker_id="w", now=T0, lease=timedelta(seconds=30),
                                        kinds=["group_summary"])  # fmt: skip
    assert await store.groups.comment_posted(ids[3], comment_id="10", summary=summary, now=T0)
    assert len(await store.queue.list(kind="group_summary")) == 2
    assert waiting.job_key == summary.job_key
    member = await store.groups.member(ids[1])
    assert member is not None
    assert (member[0].comment_state, member[0].comment_id) == ("posted", "7")


async def test_tickets_since_counts_created_and_attempting_of_the_policy(store: Store) -> None:
    """The guard's count: the policy's tickets created or being created since the time."""
    ids = await ingest_escalations(store, 3)
    await _created(store, ids[0], "10001")
    await store.links.begin_create_attempt(
        ids[1], project="AIGOV", correlation_label="kt-esc-1", now=T0
    )
    assert await store.groups.tickets_since("PII leak", since=T0 - timedelta(minutes=1)) == 2
    assert await store.groups.tickets_since("PII leak", since=T0 + timedelta(seconds=1)) == 0
    assert await store.groups.tickets_since("other", since=T0 - timedelta(minutes=1)) == 0


async def test_a_group_tickets_clock_ends_with_its_last_escalation(store: Store) -> None:
    """The SLA scan sees a group's ticket (the opener's link) as open while any member is open,
    and resolved when the last escalation of the group was."""
    ids = await ingest_escalations(store, 3)
    for eid in ids:
        await store.groups.join_or_open(eid, opening(), now=T0)
    await store.links.begin_create_attempt(
        ids[0], project="AIGOV", correlation_label="kt-esc-0", now=T0
    )
    clock = Deadlines(started_at=T0, resolution=timedelta(hours=4))
    await store.links.save_created(
        ids[0], CreatedIssue(issue_id="1", issue_key="A-1"), clock, now=T0
    )

    async def resolve(eid: str, minutes: int) -> None:
        done = Resolution(outcome="approved", resolved_at=T0 + timedelta(minutes=minutes))
        await store.escalations.record_resolution(eid, done, expired=False, now=T0)

    await resolve(ids[0], 10)
    await resolve(ids[1], 20)
    [row] = await store.sla.clocks()
    assert row.escalation_open
    assert row.escalation_resolved_at is None
    await resolve(ids[2], 30)
    [row] = await store.sla.clocks()
    assert not row.escalation_open
    assert row.escalation_resolved_at == T0 + timedelta(minutes=30)
