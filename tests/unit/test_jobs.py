"""The job contract: one key per piece of work, creates before updates, payloads as typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kt_jira import jobs

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_each_kind_keys_its_work_by_the_escalation_or_delivery() -> None:
    """Keys are ``kind:id``; the reopen key also names the change, so each reopen gets one."""
    built = [
        jobs.create_issue("esc_1", run_at=T0),
        jobs.resolve_jira("esc_1", run_at=T0),
        jobs.jira_event({"issue_id": "10001"}, delivery_id="d-1", run_at=T0),
        jobs.explain_reopen("esc_1", change="5", actor_name="Ana", run_at=T0),
    ]
    assert [job.job_key for job in built] == [
        "create_issue:esc_1",
        "resolve_jira:esc_1",
        "jira_event:d-1",
        "explain_reopen:esc_1:5",
    ]
    assert [job.kind for job in built] == [
        "create_issue",
        "resolve_jira",
        "jira_event",
        "explain_reopen",
    ]


def test_creates_run_before_updates() -> None:
    """Only creates get the create priority (lower runs first)."""
    create = jobs.create_issue("esc_1", run_at=T0)
    resolve = jobs.resolve_keeptrusts(
        escalation_id="esc_1",
        issue_id="10001",
        issue_key="AIGOV-1",
        resolution="Done",
        actor_name="Ana",
        actor_account_id="acc-1",
        run_at=T0,
    )
    assert create.priority < resolve.priority == jobs.PRIORITY_UPDATE
    assert resolve.job_key == jobs.key(jobs.Kind.RESOLVE_KEEPTRUSTS, "esc_1")


def test_a_repeat_keeps_the_work_under_a_key_that_starts_with_the_original() -> None:
    """``again`` changes only the key, which still starts with the original key."""
    first = jobs.resolve_jira("esc_1", run_at=T0)
    repeat = jobs.again(first, now=T0)
    assert repeat.job_key.startswith(first.job_key + jobs.REPEAT_SEPARATOR)
    assert (repeat.kind, repeat.payload, repeat.priority) == (
        first.kind,
        first.payload,
        first.priority,
    )


def test_linking_a_jira_event_adds_the_escalation_and_keeps_the_key() -> None:
    """``linked_to`` adds ``escalation_id`` to the payload and nothing else."""
    event = jobs.jira_event({"issue_id": "10001"}, delivery_id="d-1", run_at=T0)
    linked = jobs.linked_to(event, "esc_1")
    assert linked.payload == {"event": {"issue_id": "10001"}, "escalation_id": "esc_1"}
    assert linked.job_key == event.job_key


def test_feedback_jobs_are_keyed_by_story_and_batch() -> None:
    """A Story's job is ``feedback_story:<policy key>:<sequence>``; a link job also names its
    batch's first escalation, so each scan's batch runs once, and an empty batch is refused."""
    story = jobs.feedback_story("ab12", 3, run_at=T0)
    batch = jobs.feedback_link("ab12", 3, ["esc_7", "esc_8"], run_at=T0)
    assert (story.kind, story.job_key, story.payload) == (
        "feedback_story",
        "feedback_story:ab12:3",
        {"policy_key": "ab12", "sequence": 3},
    )
    assert (batch.kind, batch.job_key) == ("feedback_link", "feedback_link:ab12:3:esc_7")
    assert batch.payload["escalation_ids"] == ["esc_7", "esc_8"]
    assert jobs.feedback_link("ab12", 3, ["esc_9"], run_at=T0).job_key != batch.job_key
    with pytest.raises(ValueError, match="at least one"):
        jobs.feedback_link("ab12", 3, [], run_at=T0)
