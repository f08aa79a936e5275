"""The guide's default mapping, as data: type, priority, SLA, labels, fields, description."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.nodes import Link, OrderedList, Table, Text
from kt_jira.tickets.rules import decide

RECEIVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = Settings()


def _esc(**fields: object) -> Escalation:
    base: dict[str, object] = {
        "escalation_id": "esc_1",
        "policy_name": "pii-detector",
        "action": "redact",
        "model": "gpt-4o",
        "gateway_id": "gw_1",
        "user_id": "u_1",
    }
    base.update(fields)
    return Escalation(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "issue_type", "priority"),
    [
        ("block", "Bug", "Highest"),
        ("escalate", "Task", "High"),
        ("redact", "Task", "Medium"),
        ("log", "Task", "Low"),
        ("", "Task", "Low"),
        ("shadow", "Task", "Low"),
    ],
)
def test_priority_and_type_by_action(action: str, issue_type: str, priority: str) -> None:
    """block -> Bug/Highest, escalate -> High, redact -> Medium, else Low (the guide)."""
    draft = decide(_esc(action=action), SETTINGS.content, received_at=RECEIVED).draft
    assert (draft.issue_type, draft.priority) == (issue_type, priority)


@pytest.mark.parametrize(
    ("action", "category", "resolution"),
    [
        ("block", "Content safety", timedelta(hours=1)),
        ("block", "Compliance", timedelta(hours=2)),
        ("escalate", "Review required", timedelta(hours=4)),
        ("redact", "Data protection", timedelta(hours=24)),
        ("log", "Audit trail", timedelta(weeks=1)),
    ],
)
def test_sla_table_by_category(action: str, category: str, resolution: timedelta) -> None:
    """The resolution deadline follows the guide's SLA table for each action and category."""
    decision = decide(
        _esc(action=action, category=category), SETTINGS.content, received_at=RECEIVED
    )
    assert decision.deadlines.resolution_due == RECEIVED + resolution
    assert decision.draft.due_date == (RECEIVED + resolution).date()


def test_category_derived_from_policy_name() -> None:
    """Without a category in the payload, a compliance-named block policy gets the 2-hour SLA."""
    decision = decide(
        _esc(action="block", policy_name="HIPAA-compliance"), SETTINGS.content, received_at=RECEIVED
    )
    assert decision.category == "Compliance"
    assert decision.rule.name == "compliance-block"


def test_first_response_by_priority() -> None:
    """First response: Highest 15 min, High 1 h, Medium 4 h."""
    due = {
        a: decide(
            _esc(action=a), SETTINGS.content, received_at=RECEIVED
        ).deadlines.first_response_due
        for a in ("block", "escalate", "redact")
    }
    assert due == {
        "block": RECEIVED + timedelta(minutes=15),
        "escalate": RECEIVED + timedelta(hours=1),
        "redact": RECEIVED + timedelta(hours=4),
    }


def test_sla_clock_starts_at_the_escalation_not_in_the_future() -> None:
    """The SLA starts when the escalation happened, unless the payload claims a future time."""
    past = RECEIVED - timedelta(minutes=30)
    assert (
        decide(_esc(occurred_at=past), SETTINGS.content, received_at=RECEIVED).deadlines.started_at
        == past
    )
    future = RECEIVED + timedelta(days=3)
    assert (
        decide(
            _esc(occurred_at=future), SETTINGS.content, received_at=RECEIVED
        ).deadlines.started_at
        == RECEIVED
    )


def test_summary_labels_and_fields() -> None:
    """Summary, labels and the five custom fields by name, with the console link per escalation."""
    draft = decide(
        _esc(policy_name="Content Safety v2"), SETTINGS.content, received_at=RECEIVED
    ).draft
    assert draft.summary == "AI Escalation: Content Safety v2 — redact (gpt-4o)"
    assert draft.labels == ("ai-governance", "keeptrusts", "content-safety-v2")
    assert draft.correlation_label == "kt-esc-esc_1"
    assert draft.fields == {
        "Escalation ID": "esc_1",
        "Policy Name": "Content Safety v2",
        "Model": "gpt-4o",
        "Gateway ID": "gw_1",
        "Console URL": "https://console.keeptrusts.com/escalations/esc_1",
    }


def test_console_url_escapes_the_id() -> None:
    """An id with URL-significant characters cannot change the console link's path."""
    draft = decide(_esc(escalation_id="esc/../x?y"), SETTINGS.content, received_at=RECEIVED).draft
    assert (
        draft.fields["Console URL"] == "https://console.keeptrusts.com/escalations/esc%2F..%2Fx%3Fy"
    )


def test_field_names_are_configurable_and_can_be_left_out() -> None:
    """jira.fields maps concepts to this site's field names; null leaves a field out."""
    settings = settings_from_dict({"jira": {"fields": {"policy_name": "AI Policy", "model": None}}})
    draft = decide(_esc(), settings.content, received_at=RECEIVED).draft
    assert "AI Policy" in draft.fields
    assert "Model" not in draft.fields


def test_summary_is_one_line_within_255() -> None:
    """Newlines and very long names still give a one-line summary of at most 255 characters."""
    draft = decide(
        _esc(policy_name="a\nb" + "x" * 400), SETTINGS.content, received_at=RECEIVED
    ).draft
    assert len(draft.summary) <= 255
    assert "\n" not in draft.summary


def test_description_is_the_guides_content_as_a_tree() -> None:
    """The description holds the field table, the console link and the five investigation steps."""
    doc = decide(
        _esc(policy_name="[x|http://evil]"), SETTINGS.content, received_at=RECEIVED
    ).draft.description
    table = next(block for block in doc.content if isinstance(block, Table))
    cells = {row[0][0].text: row[1][0] for row in table.rows}  # type: ignore[union-attr]
    assert cells["Policy"] == Text(text="[x|http://evil]")  # data, never markup
    steps = next(block for block in doc.content if isinstance(block, OrderedList))
    assert len(steps.items) == 5
    links = [
        inline
        for block in doc.content
        for inline in getattr(block, "content", ())
        if isinstance(inline, Link)
    ]
    assert links[0].href == "https://console.keeptrusts.com/escalations/esc_1"


def test_configured_rules_replace_the_default() -> None:
    """Rules from the config are used in order, first match wins."""
    settings = settings_from_dict(
        {
            "rules": [
                {
                    "name": "all-redactions",
                    "match": {"action": ["redact"]},
                    "set": {"issue_type": "Story", "priority": "Low"},
                },
                {
                    "name": "rest",
                    "set": {"issue_type": "Task", "priority": "Medium", "labels": ["triage me"]},
                },
            ]
        }
    )
    redact = decide(_esc(action="redact"), settings.content, received_at=RECEIVED)
    other = decide(_esc(action="block"), settings.content, received_at=RECEIVED)
    assert (redact.rule.name, redact.draft.issue_type) == ("all-redactions", "Story")
    assert (other.rule.name, other.draft.priority) == ("rest", "Medium")
    assert "triage-me" in other.draft.labels
