"""Escalation -> issue draft: project, type, priority, SLA, labels, fields and description.

Pure and data-driven: the guide's mapping is the default rule set, expressed as data, not code
paths. Rules are ordered and the first match wins. Every payload value stays text: the
description is a node tree, labels are sanitised, the summary is one line within Jira's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from urllib.parse import quote

from kt_jira.config import Rule, RuleMatch, RuleSet, Settings
from kt_jira.draft import FieldValue, IssueDraft
from kt_jira.events import Escalation
from kt_jira.render.nodes import (
    Document,
    Heading,
    Inline,
    Link,
    OrderedList,
    Paragraph,
    Table,
    Text,
    text,
)
from kt_jira.render.text import correlation_label, label_safe, one_line
from kt_jira.sla import Deadlines, deadlines, parse_duration, sla_start

BASE_LABELS = ("ai-governance", "keeptrusts")


def _rule(name: str, actions: list[str] | None, categories: list[str] | None, **sets: str) -> Rule:
    return Rule(
        name=name, match=RuleMatch(action=actions, category=categories), set=RuleSet(**sets)
    )


# The guide's priority table, then its fallbacks by action ("anything else -> Low").
DEFAULT_RULES: tuple[Rule, ...] = (
    _rule("content-safety-block", ["block"], ["Content safety"], issue_type="Bug",
          priority="Highest",
          sla_first_response="15m", sla_resolution="1h"),
    _rule("compliance-block", ["block"], ["Compliance"], issue_type="Bug", priority="Highest",
          sla_first_response="15m", sla_resolution="2h"),
    _rule("block", ["block"], None, issue_type="Bug", priority="Highest",
          sla_first_response="15m", sla_resolution="1h"),
    _rule("escalate", ["escalate"], None, issue_type="Task", priority="High",
          sla_first_response="1h", sla_resolution="4h"),
    _rule("redact", ["redact"], None, issue_type="Task", priority="Medium",
          sla_first_response="4h", sla_resolution="24h"),
    _rule("default", None, None, issue_type="Task", priority="Low", sla_resolution="1w"),
)  # fmt: skip

# Policy-name globs -> the guide's categories, for payloads without a category.
DEFAULT_CATEGORIES: dict[str, str] = {
    "*safety*": "Content safety",
    "*toxic*": "Content safety",
    "*harm*": "Content safety",
    "*complian*": "Compliance",
    "*hipaa*": "Compliance",
    "*gdpr*": "Compliance",
    "*itar*": "Compliance",
    "*pii*": "Data protection",
    "*dlp*": "Data protection",
    "*privacy*": "Data protection",
    "*phi*": "Data protection",
    "*oversight*": "Review required",
    "*review*": "Review required",
    "*audit*": "Audit trail",
}
CATEGORY_BY_ACTION = {
    "block": "Content safety",
    "escalate": "Review required",
    "redact": "Data protection",
    "log": "Audit trail",
}

INVESTIGATION_STEPS = (
    "Open the console link above",
    "Review the event context and conversation history",
    "Determine if the violation is genuine or a false positive",
    "Update this ticket with findings",
    "Resolve the escalation in Keeptrusts",
)


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Which rule matched, the category used, the draft and the SLA deadlines."""

    rule: Rule
    category: str
    draft: IssueDraft
    deadlines: Deadlines


def category_of(escalation: Escalation, categories: dict[str, str]) -> str:
    """The payload's category, else the first policy-name glob that matches, else by action."""
    if escalation.category:
        return escalation.category
    name = escalation.policy_name.lower()
    for pattern, category in (categories or DEFAULT_CATEGORIES).items():
        if fnmatchcase(name, pattern.lower()):
            return category
    return CATEGORY_BY_ACTION.get(escalation.action, "Audit trail")


def match_rule(escalation: Escalation, category: str, rules: tuple[Rule, ...]) -> Rule:
    for rule in rules:
        if _matches(rule.match, escalation, category):
            return rule
    return DEFAULT_RULES[-1]


def _matches(match: RuleMatch, escalation: Escalation, category: str) -> bool:
    if match.action is not None and escalation.action not in [a.lower() for a in match.action]:
        return False
    return match.category is None or category.lower() in [c.lower() for c in match.category]


def console_link(console_url: str, escalation_id: str) -> str:
    return f"{console_url.rstrip('/')}/escalations/{quote(escalation_id, safe='')}"


def decide(escalation: Escalation, settings: Settings, *, received_at: datetime) -> Decision:
    """Map one escalation through the rules (the guide's by default) to a draft and deadlines."""
    rules = tuple(settings.rules) or DEFAULT_RULES
    category = category_of(escalation, settings.categories)
    rule = match_rule(escalation, category, rules)
    chosen = rule.set
    clock = deadlines(
        started_at=sla_start(escalation.occurred_at, received_at),
        first_response=parse_duration(chosen.sla_first_response)
        if chosen.sla_first_response
        else None,
        resolution=parse_duration(chosen.sla_resolution) if chosen.sla_resolution else None,
    )
    link = console_link(settings.keeptrusts.console_url, escalation.escalation_id)
    draft = IssueDraft(
        project=settings.jira.project,
        issue_type=chosen.issue_type or "Task",
        priority=chosen.priority,
        summary=summary(escalation),
        description=description(escalation, category=category, console=link, clock=clock),
        labels=labels(escalation, chosen.labels),
        due_date=clock.due_date,
        fields=_custom_fields(escalation, settings, link),
        correlation_label=correlation_label(escalation.escalation_id),
    )
    return Decision(rule=rule, category=category, draft=draft, deadlines=clock)


def summary(escalation: Escalation) -> str:
    policy = escalation.policy_name or "unknown policy"
    action = escalation.action or "unknown action"
    model = escalation.model or "unknown model"
    return one_line(f"AI Escalation: {policy} — {action} ({model})", 255)


def labels(escalation: Escalation, extra: list[str]) -> tuple[str, ...]:
    found = [*BASE_LABELS, label_safe(escalation.policy_name or "unknown-policy")]
    found += [label_safe(label) for label in extra]
    return tuple(dict.fromkeys(found))


def _custom_fields(escalation: Escalation, settings: Settings, link: str) -> dict[str, FieldValue]:
    names = settings.jira.fields
    values: dict[str | None, FieldValue] = {
        names.escalation_id: escalation.escalation_id,
        names.policy_name: one_line(escalation.policy_name, 255),
        names.model: one_line(escalation.model, 255),
        names.gateway_id: one_line(escalation.gateway_id, 255),
        names.console_url: link,
    }
    return {name: value for name, value in values.items() if name and value}


def description(
    escalation: Escalation, *, category: str, console: str, clock: Deadlines
) -> Document:
    """The guide's description: the field table, the console link and the investigation steps."""
    rows: list[tuple[str, str]] = [
        ("Policy", escalation.policy_name),
        ("Category", category),
        ("Action", escalation.action),
        ("Severity", escalation.severity),
        ("Model", escalation.model),
        ("Gateway", escalation.gateway_id),
        ("User", escalation.user_id),
        ("Time", escalation.occurred_at.isoformat() if escalation.occurred_at else ""),
        ("Escalation ID", escalation.escalation_id),
    ]
    if clock.resolution_due:
        rows.append(("Resolution due", clock.resolution_due.isoformat(timespec="minutes")))
    table = Table(
        header=((text("Field"),), (text("Value"),)),
        rows=tuple(((text(k),), (text(v or "—"),)) for k, v in rows),
    )
    link: tuple[Inline, ...] = (Link(text="View in Keeptrusts Console", href=console),)
    return Document(
        content=(
            Heading(level=2, content=(Text(text="AI Governance Escalation"),)),
            table,
            Paragraph(content=link),
            Heading(level=3, content=(Text(text="Investigation Steps"),)),
            OrderedList(
                items=tuple((Paragraph(content=(text(step),)),) for step in INVESTIGATION_STEPS)
            ),
        )
    )
