"""The runaway guard end to end: a policy that opens too many tickets is grouped into one
ticket per policy for one window, says so once (log, metric, comment, dashboard, its Story),
leaves other policies alone, and gets tickets again by itself."""

from __future__ import annotations

import json

from kt_jira.feedback.plan import policy_key
from kt_jira.jira.comments import plain_text
from kt_jira.jobs import NewJob
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import SandboxIssue, escalation_payload
from kt_jira.store import CreatedIssue, StoryOpening
from kt_jira.tickets.groups import member_headline
from kt_jira.web import dashboard_view
from tests.support.clock import ManualClock
from tests.support.intake import Harness, HarnessFactory

STORM = {"max_tickets_per_policy": 3, "window": "10m"}
BAD = [f"esc_bad_{n:02d}" for n in range(10)]
HEALTHY = ["esc_ok_1", "esc_ok_2"]


def _payload(escalation_id: str, policy: str) -> bytes:
    return json.dumps(escalation_payload(escalation_id, policy_name=policy)).encode()


def _own_ticket(harness: Harness, escalation_id: str) -> SandboxIssue | None:
    found = harness.sandbox.issues_with_label(correlation_label(escalation_id))
    assert len(found) <= 1, f"{escalation_id} has {len(found)} tickets"
    return found[0] if found else None


def _texts(issue: SandboxIssue) -> list[str]:
    return [plain_text(c["body"]) for c in issue.comments]


async def _quiet(harness: Harness) -> bool:
    """No job due now is left (a summary edit waiting a few seconds is not due yet)."""
    now = harness.bridge.worker.clock()
    jobs = await harness.bridge.store.queue.list(limit=1000)
    due = [j for j in jobs if j.status in ("queued", "running") and j.run_at <= now]
    return not [j for j in due if j.kind != "test_noop"]


async def _story_on(harness: Harness, issue: SandboxIssue, policy: str, clock: ManualClock) -> None:
    """The false-positive loop's Story for ``policy``, standing for it: an existing issue."""
    store = harness.bridge.store
    key = policy_key(policy)
    opening = StoryOpening(policy=policy, policy_key=key, sequence=1, project="AIGOV",
                           marker=f"kt-fp-{key[:16]}-1")  # fmt: skip
    never: NewJob = NewJob(kind="test_noop", job_key="test_noop:story", payload={},
                           run_at=clock())  # fmt: skip
    story = await store.feedback.open_story(opening, [], job=never, now=clock())
    assert story is not None
    created = CreatedIssue(issue_id=issue.id, issue_key=issue.key)
    await store.feedback.save_created(story.id, created, now=clock())


async def test_a_storming_policy_is_grouped_and_says_so_once(make_harness: HarnessFactory) -> None:
    """Ten escalations of a policy allowed three tickets: three tickets, then one storm ticket
    taking the other six as comments, each escalation accounted for once; one storm comment,
    one Story note, the metric and the dashboard say so; the healthy policy is untouched."""
    clock = ManualClock()
    harness = await make_harness(storm=STORM, clock=clock)
    store = harness.bridge.store
    for eid in HEALTHY:
        await harness.deliver(_payload(eid, "healthy-policy"))
    await harness.work_until(lambda: _quiet(harness))
    ok = _own_ticket(harness, HEALTHY[0])
    assert ok is not None
    await _story_on(harness, ok, "bad-regex", clock)
    for eid in BAD:
        await harness.deliver(_payload(eid, "bad-regex"))
    await harness.work_until(lambda: _quiet(harness), limit=30)

    own = {eid: _own_ticket(harness, eid) for eid in BAD}
    with_ticket = [eid for eid, issue in own.items() if issue is not None]
    assert with_ticket == BAD[:4]  # three before the storm, and the storm's own ticket
    storm_ticket = own[BAD[3]]
    assert storm_ticket is not None
    texts = _texts(storm_ticket)
    for eid in BAD[4:]:
        assert sum(t.startswith(member_headline(eid) + ".") for t in texts) == 1, eid
    for eid in BAD[:4]:
        assert not any(t.startswith(member_headline(eid)) for t in texts)
    announced = [t for t in texts if t.startswith("Storm control: policy bad-regex opened 3")]
    assert len(announced) == 1
    assert "until" in announced[0]
    notes = [t for t in _texts(ok) if t.startswith("Storm control: on ")]
    assert len(notes) == 1
    assert storm_ticket.key in notes[0]
    assert all(_own_ticket(harness, eid) is not None for eid in HEALTHY)
    assert _texts(_own_ticket(harness, HEALTHY[1])) == []  # type: ignore[arg-type]

    registry = harness.bridge.metrics.registry
    assert registry.get_sample_value("kt_jira_storms_total", {"policy": "bad-regex"}) == 1
    [storm] = await store.storms.running(now=clock())
    assert (storm.policy_name, storm.tickets, storm.grouped) == ("bad-regex", 3, 6)
    shown = await dashboard_view.load(store, harness.bridge.settings, range_name="24h",
                                      now=clock())  # fmt: skip
    assert [(s.policy, s.key, s.grouped) for s in shown.storms] == [
        ("bad-regex", storm_ticket.key, 6)
    ]
    assert "bad-regex" in str(dashboard_view.render(shown, csrf=""))
    assert await store.queue.list(status="dead") == []

    clock.advance(seconds=5)  # the summary edit, once, after the burst
    await harness.work_until(lambda: _quiet(harness))
    assert storm_ticket.values["summary"].startswith("[7 escalations] ")
    edits = harness.sandbox.stats.count("PUT /rest/api/3/issue/{issueIdOrKey}", 204)
    assert edits == 1

    clock.advance(minutes=10, seconds=1)  # the storm is over: tickets again, by itself
    await harness.deliver(_payload("esc_bad_after", "bad-regex"))
    await harness.work_until(lambda: _quiet(harness))
    assert _own_ticket(harness, "esc_bad_after") is not None
    assert await store.storms.running(now=clock()) == []


async def test_a_guard_switched_off_opens_a_ticket_each(make_harness: HarnessFactory) -> None:
    """``max_tickets_per_policy: 0``: the old behaviour, one ticket per escalation."""
    harness = await make_harness(storm={"max_tickets_per_policy": 0})
    ids = [f"esc_off_{n}" for n in range(6)]
    for eid in ids:
        await harness.deliver(_payload(eid, "bad-regex"))
    await harness.work_until(lambda: _quiet(harness))
    assert all(_own_ticket(harness, eid) is not None for eid in ids)
    assert await harness.bridge.store.storms.running(now=harness.bridge.worker.clock()) == []
