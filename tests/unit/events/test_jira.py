"""Parsing Jira webhook bodies into JiraEvent (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kt_jira.errors import PayloadError
from kt_jira.events.jira import JiraEvent, JiraEventType, parse_jira_event

TS = 1_750_000_000_123


def _body(**doc: Any) -> bytes:
    return json.dumps({"timestamp": TS, **doc}).encode()


def _updated(**extra: Any) -> bytes:
    doc: dict[str, Any] = dict(
        webhookEvent="jira:issue_updated",
        user={"accountId": "acc-1", "displayName": "Ada"},
        issue={
            "id": "10001",
            "key": "AIGOV-7",
            "fields": {
                "labels": ["kt-esc-esc_1", "ai-governance"],
                "status": {"id": "5", "name": "Resolved", "statusCategory": {"key": "done"}},
                "resolution": {"name": "Done"},
            },
        },
        changelog={
            "id": 777,
            "items": [
                {"field": "status", "from": "3", "fromString": "In Progress",
                 "to": "5", "toString": "Resolved"},
                {"field": "resolution", "from": None, "fromString": None,
                 "to": "10000", "toString": "Done"},
                {"field": "assignee", "fieldId": "assignee", "from": None, "to": "acc-2",
                 "toString": "Bo"},
            ],
        },
    )  # fmt: skip
    return _body(**{**doc, **extra})


def test_cloud_issue_update_is_parsed() -> None:
    """Actor, issue id/key, labels, resulting status and category, and the changes come out."""
    event = parse_jira_event(_updated())
    assert event.type is JiraEventType.ISSUE_UPDATED
    assert event.timestamp == datetime.fromtimestamp(TS / 1000, tz=UTC)
    assert (event.issue_id, event.issue_key) == ("10001", "AIGOV-7")
    assert (event.actor_id, event.actor_name) == ("acc-1", "Ada")
    assert (event.status_id, event.status_category, event.resolution) == ("5", "done", "Done")
    assert event.status_change is not None
    assert (event.status_change.from_name, event.status_change.to_name) == (
        "In Progress",
        "Resolved",
    )
    assert event.resolution_change is not None
    assert event.assignee_change is not None
    assert event.assignee_change.to_id == "acc-2"
    assert event.labels == ("kt-esc-esc_1", "ai-governance")
    assert event.dedup_key == "jira:issue_updated:10001:777"


def test_data_center_user_key_is_the_actor() -> None:
    """Data Center users have no accountId: the key (then the name) identifies them."""
    event = parse_jira_event(_updated(user={"key": "JIRAUSER10100", "name": "bot"}))
    assert event.actor_id == "JIRAUSER10100"


def test_comment_author_is_the_actor() -> None:
    """A comment event's actor is the comment's author; its id and time are kept."""
    body = _body(
        webhookEvent="comment_created",
        comment={
            "id": "10200",
            "author": {"accountId": "acc-9", "displayName": "Cy"},
            "created": "2025-06-15T10:00:00.000+0000",
        },
        issue={"id": "10001", "key": "AIGOV-7", "fields": {}},
    )
    event = parse_jira_event(body)
    assert event.type is JiraEventType.COMMENT_CREATED
    assert event.actor_id == "acc-9"
    assert event.comment_created == datetime(2025, 6, 15, 10, 0, tzinfo=UTC)
    assert event.dedup_key == "comment_created:10200"


def test_other_events_are_typed_other() -> None:
    """Events the bridge does not act on parse as OTHER, with no dedup key."""
    event = parse_jira_event(_body(webhookEvent="worklog_created"))
    assert event.type is JiraEventType.OTHER
    assert event.dedup_key == ""


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 422),
        (json.dumps({"timestamp": TS}).encode(), 422),
        (json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}).encode(), 422),
        (_body(webhookEvent="jira:issue_updated", issue={"key": "AIGOV-1"}), 422),
    ],
)
def test_unusable_bodies_are_payload_errors(body: bytes, status: int) -> None:
    """Not JSON is 400; no event type, no timestamp or no issue id is 422."""
    with pytest.raises(PayloadError) as caught:
        parse_jira_event(body)
    assert caught.value.status == status


def test_job_payload_round_trips() -> None:
    """as_job() is JSON-safe and from_job() restores the same event."""
    event = parse_jira_event(_updated())
    data = json.loads(json.dumps(event.as_job()))
    assert JiraEvent.from_job(data) == event
