"""The create pipeline end to end: webhook in, worker, sandbox Jira out; exactly once throughout."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import escalation_payload
from kt_jira.tickets.rules import decide
from tests.support.intake import Harness, HarnessFactory


def _payload(escalation_id: str, **fields: Any) -> bytes:
    return json.dumps(escalation_payload(escalation_id, **fields)).encode()


def _issues_for(harness: Harness, escalation_id: str) -> list[dict[str, Any]]:
    sandbox = harness.sandbox
    return [
        sandbox.view(issue) for issue in sandbox.issues_with_label(correlation_label(escalation_id))
    ]


async def _link_created(harness: Harness, escalation_id: str) -> bool:
    link = await harness.bridge.store.links.get(escalation_id)
    return link is not None and link.state == "created"


async def test_escalation_becomes_one_correct_ticket(harness: Harness) -> None:
    """A block escalation becomes one Bug/Highest issue, guide fields on the real field ids."""
    await harness.deliver(
        _payload(
            "esc_flow_1",
            policy_name="content_safety",
            action="block",
            model="gpt-4o",
            gateway_id="gw_east",
            user_id="u_1",
        )
    )
    await harness.work_until(lambda: _link_created(harness, "esc_flow_1"))
    [issue] = _issues_for(harness, "esc_flow_1")
    by_name = issue["fields_by_name"]
    assert (issue["issue_type"], issue["priority"]) == ("Bug", "Highest")
    assert by_name["Summary"] == "AI Escalation: content_safety — block (gpt-4o)"
    assert by_name["Escalation ID"] == "esc_flow_1"
    assert by_name["Policy Name"] == "content_safety"
    assert by_name["Gateway ID"] == "gw_east"
    assert by_name["Console URL"] == "https://console.keeptrusts.com/escalations/esc_flow_1"
    assert {"ai-governance", "keeptrusts", "content_safety"} <= set(issue["labels"])
    assert "Escalation Id" not in by_name  # the decoy field is left alone
    link = await harness.bridge.store.links.get("esc_flow_1")
    assert link is not None
    assert link.issue_key == issue["key"]
    assert link.resolution_due is not None
    assert by_name["Due date"] == link.resolution_due.date().isoformat()


async def test_unanswered_create_is_adopted_not_repeated(make_harness: HarnessFactory) -> None:
    """Jira commits a create but answers after the client timeout: the retry adopts that issue."""
    harness = await make_harness()
    harness.sandbox.faults.update({"slow_after_commit": 1, "slow_seconds": 2.5})
    await harness.deliver(_payload("esc_slow_1"))
    await harness.work_until(lambda: _link_created(harness, "esc_slow_1"))
    assert len(_issues_for(harness, "esc_slow_1")) == 1
    link = await harness.bridge.store.links.get("esc_slow_1")
    assert link is not None
    assert link.adopted


async def test_crash_after_create_is_adopted(harness: Harness) -> None:
    """A worker that died between Jira's create and recording the key is followed by adoption."""
    await harness.deliver(_payload("esc_crash_1"))
    store, bridge = harness.bridge.store, harness.bridge
    now = datetime.now(UTC)
    # The dead worker: it claimed the job, recorded its attempt, and Jira created what it sent.
    [job] = await store.queue.claim(worker_id="dead-worker", now=now, lease=bridge.worker.lease)
    escalation = await store.escalations.get("esc_crash_1")
    assert escalation is not None
    draft = decide(
        escalation.escalation, bridge.settings.content, received_at=escalation.created_at
    ).draft
    handlers = bridge.worker.handlers["create_issue"].__self__  # type: ignore[attr-defined]
    body = await handlers.metadata.build_create_body(draft)
    await store.links.begin_create_attempt(
        "esc_crash_1",
        project="AIGOV",
        correlation_label=draft.correlation_label,
        now=datetime.now(UTC),
    )
    await bridge.jira.create_issue(body)
    # Its lease runs out; the job is claimable again.
    await store.queue.release(job.id, worker_id="dead-worker", run_at=now)
    await harness.work_until(lambda: _link_created(harness, "esc_crash_1"), limit=20)
    assert len(_issues_for(harness, "esc_crash_1")) == 1
    link = await store.links.get("esc_crash_1")
    assert link is not None
    assert link.adopted


async def test_rate_limited_creates_wait_for_retry_after(make_harness: HarnessFactory) -> None:
    """Under Jira's rate limit each escalation gets one issue and no call breaks Retry-After."""
    harness = await make_harness()
    harness.sandbox.limiter.__init__(3, 2, 1)  # type: ignore[misc]  # 3 requests/s, burst 2, Retry-After 1 s
    for n in range(8):
        await harness.deliver(_payload(f"esc_rl_{n}"))

    async def all_created() -> bool:
        return (await harness.bridge.store.counts.totals())["links_created"] == 8

    await harness.work_until(all_created, limit=30)
    assert all(len(_issues_for(harness, f"esc_rl_{n}")) == 1 for n in range(8))
    assert harness.sandbox.retry_after_violations == 0


async def test_field_missing_from_screen_dead_letters_then_replays(
    make_harness: HarnessFactory,
) -> None:
    """A field off the create screen dead-letters with an actionable message; replay creates."""
    # No metadata caching, so the replay sees the admin's fix at once (the default re-reads
    # metadata older than 10 s before believing a failure).
    harness = await make_harness(metadata_cache_seconds=0)
    harness.sandbox.remove_field_from_screen("AIGOV", "Policy Name")
    await harness.deliver(_payload("esc_screen_1", action="escalate"))
    store = harness.bridge.store

    async def dead() -> bool:
        return bool(await store.queue.list(status="dead"))

    await harness.work_until(dead)
    [job] = await store.queue.list(status="dead")
    assert "Policy Name" in (job.last_error or "")
    assert "create screen" in (job.last_error or "")
    assert _issues_for(harness, "esc_screen_1") == []
    harness.sandbox.add_field_to_screen(
        "AIGOV", "customfield_10432"
    )  # the real one; 10299 is a decoy
    assert await store.queue.replay_dead(now=datetime.now(UTC)) == 1
    await harness.work_until(lambda: _link_created(harness, "esc_screen_1"))
    assert len(_issues_for(harness, "esc_screen_1")) == 1


async def test_jira_outage_delays_but_loses_nothing(harness: Harness) -> None:
    """While Jira answers 503 the job retries; when Jira is back the issue is created once."""
    harness.sandbox.faults.update({"outage": True})
    await harness.deliver(_payload("esc_outage_1"))
    for _ in range(3):
        await harness.bridge.worker.run_once()
    assert _issues_for(harness, "esc_outage_1") == []
    [job] = await harness.bridge.store.queue.list(kind="create_issue")
    assert job.status == "queued"
    assert "503" in (job.last_error or "")
    harness.sandbox.faults.update({"outage": False})
    await harness.work_until(lambda: _link_created(harness, "esc_outage_1"))
    assert len(_issues_for(harness, "esc_outage_1")) == 1


async def test_hostile_policy_name_stays_text(harness: Harness) -> None:
    """Markup, control characters and 300-character names become a valid issue with inert text."""
    hostile = "[x|http://evil] {color:red}*h1. Big*\n\t{{ 7*7 }} " + "ש" * 300
    await harness.deliver(_payload("esc_hostile_1", policy_name=hostile))
    await harness.work_until(lambda: _link_created(harness, "esc_hostile_1"))
    [issue] = _issues_for(harness, "esc_hostile_1")
    summary = issue["fields_by_name"]["Summary"]
    assert len(summary) <= 255
    assert "\n" not in summary
    assert summary.startswith("AI Escalation: [x|http://evil] {color:red}*h1. Big* {{ 7*7 }}")
    assert all(" " not in label and len(label) <= 255 for label in issue["labels"])
    description = json.dumps(issue["fields_by_name"]["Description"])
    assert (
        "[x|http://evil]" in description
    )  # as text: ADF validity is checked by the contract validator


async def test_rule_watchers_are_added_after_the_create(make_harness: HarnessFactory) -> None:
    """A rule's watchers are added to the new issue right after it is created."""
    rule = {"name": "watched", "set": {"issue_type": "Task", "watchers": ["acc-lead", "acc-2"]}}
    harness = await make_harness(rules=[rule])
    await harness.deliver(_payload("esc_watch_1"))
    await harness.work_until(lambda: _link_created(harness, "esc_watch_1"))
    [issue] = _issues_for(harness, "esc_watch_1")
    assert issue["watchers"] == ["acc-lead", "acc-2"]
    assert await harness.bridge.store.queue.list(status="dead") == []
