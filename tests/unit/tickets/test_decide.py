"""What a matching rule sets: project, type, priority, SLA, labels, components, assignee,
watchers, fields by name and its own summary and description templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.nodes import Document, Panel, Paragraph, Text
from kt_jira.tickets.rules import decide

RECEIVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def esc(**fields: Any) -> Escalation:
    """A redaction escalation unless told otherwise."""
    base: dict[str, Any] = {
        "escalation_id": "esc_9",
        "policy_name": "pii-detector",
        "action": "redact",
        "model": "gpt-4o",
        "gateway_id": "gw_eu",
        "user_id": "u_1",
        "org_id": "org_acme",
        "severity": "medium",
    }
    base.update(fields)
    return Escalation(**base)


def settings(*rules: dict[str, Any], **extra: Any) -> Settings:
    """Settings holding ``rules`` (and any other top-level keys)."""
    return settings_from_dict({"rules": list(rules), **extra})


def test_every_set_key_reaches_the_draft() -> None:
    """project, type, priority, SLA, labels, components, assignee and watchers all apply."""
    decision = decide(
        esc(),
        settings(
            {
                "name": "redactions",
                "match": {"action": "redact"},
                "set": {
                    "project": "PRIV",
                    "issue_type": "Task",
                    "priority": "Low",
                    "sla_first_response": "4h",
                    "sla_resolution": "1w",
                    "labels": ["Privacy Team", "gw-{{ escalation.gateway_id }}", "{{ '' }}"],
                    "components": ["Policy", "Gateway"],
                    "assignee": "5d53f3cbc6b9320d9ea5bdc2",
                    "watchers": ["acc-1", "acc-2"],
                },
            }
        ).content,
        received_at=RECEIVED,
    )
    draft = decision.draft
    assert (draft.project, draft.issue_type, draft.priority) == ("PRIV", "Task", "Low")
    assert decision.deadlines.first_response_due == RECEIVED + timedelta(hours=4)
    assert draft.due_date == (RECEIVED + timedelta(weeks=1)).date()
    assert draft.labels == (
        "ai-governance",
        "keeptrusts",
        "pii-detector",
        "privacy-team",
        "gw-gw_eu",
    )
    assert draft.components == ("Policy", "Gateway")
    assert draft.assignee == "5d53f3cbc6b9320d9ea5bdc2"
    assert draft.watchers == ("acc-1", "acc-2")
    assert draft.rule == "redactions"
    assert decision.reasons == ("action 'redact' matches 'redact'",)


def test_defaults_when_a_rule_sets_little() -> None:
    """Unset keys fall back: jira.project, Task, no priority, no deadlines, no extras."""
    draft = decide(esc(), settings({"name": "bare"}).content, received_at=RECEIVED).draft
    assert (draft.project, draft.issue_type, draft.priority, draft.due_date) == (
        "AIGOV",
        "Task",
        None,
        None,
    )
    assert (draft.components, draft.assignee, draft.watchers) == ((), None, ())


def test_fields_by_name_are_templated() -> None:
    """set.fields renders each value; lists stay lists; an empty value leaves the field out,
    even one the concept mapping (jira.fields) would fill."""
    decision = decide(
        esc(),
        settings(
            {
                "name": "r",
                "set": {
                    "fields": {
                        "Business Unit": "{{ escalation.gateway_id | upper }}",
                        "Tags": ["{{ escalation.org_id }}", "static", "{{ '' }}"],
                        "Model": "",
                        "Escalation ID": "{{ escalation.escalation_id }}-x",
                    }
                },
            }
        ).content,
        received_at=RECEIVED,
    )
    fields = decision.draft.fields
    assert fields["Business Unit"] == "GW_EU"
    assert fields["Tags"] == ("org_acme", "static")
    assert "Model" not in fields
    assert fields["Escalation ID"] == "esc_9-x"
    assert fields["Policy Name"] == "pii-detector"


def test_rule_templates_override_the_global_ones() -> None:
    """set.summary and set.description replace templates.summary and templates.description."""
    config = settings(
        {
            "name": "loud",
            "match": {"action": "block"},
            "set": {
                "summary": "BLOCKED {{ escalation.policy_name }}",
                "description": ":::error\n{{ rule }}\n:::",
            },
        },
        {"name": "rest"},
        templates={"summary": "{{ rule }}: {{ escalation.escalation_id }}", "description": "plain"},
    )
    loud = decide(esc(action="block"), config.content, received_at=RECEIVED).draft
    assert loud.summary == "BLOCKED pii-detector"
    assert loud.description == Document(
        content=(Panel(kind="error", content=(Paragraph(content=(Text(text="loud"),)),)),)
    )
    rest = decide(esc(), config.content, received_at=RECEIVED).draft
    assert rest.summary == "rest: esc_9"
    assert rest.description == Document(content=(Paragraph(content=(Text(text="plain"),)),))


def test_template_context_has_the_documented_names() -> None:
    """Templates see escalation, category, category_source, rule, console_url, sla, project,
    issue_type and priority."""
    summary = (
        "{{ escalation.org_id }}|{{ escalation.severity }}|{{ category }}|{{ category_source }}|"
        "{{ rule }}|{{ console_url }}|{{ sla.first_response_due }}|{{ sla.resolution_due }}|"
        "{{ project }}|{{ issue_type }}|{{ priority }}"
    )
    config = settings(
        {
            "name": "ctx",
            "set": {"summary": summary, "priority": "High", "sla_first_response": "1h",
                    "sla_resolution": "4h", "issue_type": "Bug"},
        }
    )  # fmt: skip
    draft = decide(esc(), config.content, received_at=RECEIVED).draft
    assert draft.summary.split("|") == [
        "org_acme",
        "medium",
        "Data protection",
        "categories",
        "ctx",
        "https://console.keeptrusts.com/escalations/esc_9",
        "2026-11-26T13:00+00:00",
        "2026-11-26T16:00+00:00",
        "AIGOV",
        "Bug",
        "High",
    ]


def test_summary_template_output_is_one_line_within_255() -> None:
    """Whatever the summary template produces is flattened to one line of at most 255."""
    config = settings({"name": "r", "set": {"summary": "a\n{{ escalation.policy_name }}"}})
    draft = decide(esc(policy_name="x" * 400), config.content, received_at=RECEIVED).draft
    assert len(draft.summary) <= 255
    assert draft.summary.startswith("a xxx")


def test_old_keys_keep_working() -> None:
    """match.action, match.category and set.issue_type/priority/sla_*/labels mean what they did."""
    config = settings(
        {
            "name": "legacy",
            "match": {"action": ["block"], "category": ["Compliance"]},
            "set": {"issue_type": "Bug", "priority": "Highest", "sla_first_response": "15m",
                    "sla_resolution": "2h", "labels": ["legacy"]},
        }
    )  # fmt: skip
    decision = decide(
        esc(action="block", category="Compliance"), config.content, received_at=RECEIVED
    )
    assert decision.rule.name == "legacy"
    assert decision.deadlines.resolution_due == RECEIVED + timedelta(hours=2)
    assert "legacy" in decision.draft.labels


def test_a_failing_template_names_rule_and_line() -> None:
    """A template that fails on this escalation raises ConfigError naming the rule and line."""
    config = settings(
        {"name": "broken", "set": {"description": "ok\n\n{{ escalation.policy_name.nope }}"}}
    )
    with pytest.raises(ConfigError, match=r"rule 'broken' set\.description: template line 3"):
        decide(esc(), config.content, received_at=RECEIVED)
    labels = settings({"name": "lab", "set": {"labels": ["{{ 1 / 0 }}"]}})
    with pytest.raises(ConfigError, match=r"rule 'lab' set\.labels\[0\].*division by zero"):
        decide(esc(), labels.content, received_at=RECEIVED)


def test_categories_map_replaces_the_built_in_one() -> None:
    """A configured categories map is used instead of the built-in globs, regexes included."""
    config = settings(
        {"name": "comply", "match": {"category": "Compliance"}},
        {"name": "rest"},
        categories={"re:^pii-": "Compliance"},
    )
    decision = decide(esc(), config.content, received_at=RECEIVED)
    assert (decision.rule.name, decision.category, decision.category_source) == (
        "comply",
        "Compliance",
        "categories",
    )
    other = decide(
        esc(policy_name="hipaa", action="escalate"), config.content, received_at=RECEIVED
    )
    assert (other.category, other.category_source) == ("Review required", "action")


def test_a_rule_on_a_business_calendar_gets_business_hours_deadlines() -> None:
    """Thursday 12:00 UTC = 13:00 Berlin; 8 working hours (09-17, Mon-Fri) end Friday 13:00."""
    chosen = settings(
        {
            "name": "office",
            "set": {"sla_first_response": "1h", "sla_resolution": "8h", "sla_calendar": "emea"},
        },
        sla={"calendars": {"emea": {"timezone": "Europe/Berlin", "hours": "09:00-17:00"}}},
    )
    clock = decide(esc(), chosen.content, received_at=RECEIVED).deadlines
    assert clock.calendar == "emea"
    assert (clock.first_response, clock.resolution) == (timedelta(hours=1), timedelta(hours=8))
    assert clock.first_response_due == RECEIVED + timedelta(hours=1)
    assert clock.resolution_due == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_rule_without_a_calendar_runs_around_the_clock() -> None:
    chosen = settings({"name": "any", "set": {"sla_resolution": "8h"}})
    clock = decide(esc(), chosen.content, received_at=RECEIVED).deadlines
    assert (clock.calendar, clock.resolution_due) == ("", RECEIVED + timedelta(hours=8))


def test_tickets_carry_the_label_reconcile_and_jql_search_for() -> None:
    """``reconcile.jira_label`` is the label every ticket gets, so changing it keeps reconcile
    and ``kt-jira jql`` finding the bridge's tickets."""
    default = decide(esc(), settings().content, received_at=RECEIVED).draft.labels
    assert default[:2] == ("ai-governance", "keeptrusts")
    moved = settings(reconcile={"jira_label": "ai-gov-eu"}).content
    labels = decide(esc(), moved, received_at=RECEIVED).draft.labels
    assert labels[:2] == ("ai-gov-eu", "keeptrusts")
    assert "ai-governance" not in labels
