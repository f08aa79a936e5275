"""Escalation -> issue draft: project, type, priority, SLA, labels, components, assignee, fields,
summary and description, and why (which rule matched on which keys, where the category came from).

Pure and data-driven: rules are ordered, the first match wins, and the guide's mapping is the
default set, as data. Every payload value stays text: summary and description come from
sandboxed templates (``templates.py``) and labels are sanitised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from kt_jira.config.models import Content, JiraFieldNames, Rule, RuleMatch, RuleSet
from kt_jira.config.rules import PATTERN_KEYS
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.sanitise import correlation_label, label_safe, one_line
from kt_jira.tickets.calendar import ALWAYS
from kt_jira.tickets.draft import FieldValue, IssueDraft
from kt_jira.tickets.matching import matches
from kt_jira.tickets.sla import Deadlines, deadlines, parse_duration, sla_start
from kt_jira.tickets.templates import render_document, render_text, template_context

BASE_LABEL = "keeptrusts"  #: beside ``reconcile.jira_label``, the label every ticket carries
DEFAULT_ISSUE_TYPE = "Task"  #: a rule that sets no issue type makes a Task
CategorySource = Literal["payload", "categories", "action"]


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


def projects(content: Content) -> list[str]:
    """Every project a ticket can be in: the default one and those rules route to."""
    routed = [rule.set.project for rule in content.rules if rule.set.project]
    return list(dict.fromkeys([content.project, *routed]))


@dataclass(frozen=True, kw_only=True)
class CategoryChoice:
    """The policy category and where it came from, with a sentence saying why."""

    name: str
    source: CategorySource
    reason: str


@dataclass(frozen=True, kw_only=True)
class RuleChoice:
    """The rule that matched, the match keys that made it match, and why earlier rules did not."""

    rule: Rule
    reasons: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Which rule matched and why, the category used, the draft and the SLA deadlines."""

    rule: Rule
    category: str
    draft: IssueDraft
    deadlines: Deadlines
    category_source: CategorySource = "payload"
    category_reason: str = ""
    reasons: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()


def choose_category(escalation: Escalation, categories: dict[str, str]) -> CategoryChoice:
    """The payload's category, else the first policy-name pattern that matches, else by action.

    An empty ``categories`` map means the built-in one (``DEFAULT_CATEGORIES``)."""
    if escalation.category:
        return CategoryChoice(
            name=escalation.category, source="payload", reason="the payload carries it"
        )
    for pattern, category in (categories or DEFAULT_CATEGORIES).items():
        if matches(pattern, escalation.policy_name):
            reason = f"policy {escalation.policy_name!r} matches {pattern!r} in categories"
            return CategoryChoice(name=category, source="categories", reason=reason)
    name = CATEGORY_BY_ACTION.get(escalation.action, "Audit trail")
    reason = f"no category in the payload or categories map; action {escalation.action!r}"
    return CategoryChoice(name=name, source="action", reason=reason)


def _facts(escalation: Escalation, category: str) -> dict[str, str]:
    return {
        "action": escalation.action,
        "severity": escalation.severity,
        "category": category,
        "policy": escalation.policy_name,
        "model": escalation.model,
        "gateway_id": escalation.gateway_id,
        "org_id": escalation.org_id,
    }


def explain(match: RuleMatch, facts: dict[str, str]) -> tuple[bool, tuple[str, ...]]:
    """Whether ``match`` holds for ``facts``: every matching key's reason, or the failing one."""
    reasons: list[str] = []
    for key, wanted in match.given():
        value = facts[key]
        if key in PATTERN_KEYS:
            hit = next((p for p in wanted if matches(p, value)), None)
        else:
            hit = next((w for w in wanted if w.strip().casefold() == value.casefold()), None)
        listed = ", ".join(repr(w) for w in wanted)
        if hit is None:
            return False, (f"{key} {value!r} matches none of {listed}",)
        reasons.append(f"{key} {value!r} matches {hit!r}")
    return True, tuple(reasons) or ("the rule has no match keys, so it matches everything",)


def choose_rule(escalation: Escalation, category: str, rules: tuple[Rule, ...]) -> RuleChoice:
    facts = _facts(escalation, category)
    skipped: list[tuple[str, str]] = []
    for rule in rules:
        ok, reasons = explain(rule.match, facts)
        if ok:
            return RuleChoice(rule=rule, reasons=reasons, skipped=tuple(skipped))
        skipped.append((rule.name, reasons[0]))
    fallback = ("no configured rule matched: the built-in default applies",)
    return RuleChoice(rule=DEFAULT_RULES[-1], reasons=fallback, skipped=tuple(skipped))


def console_link(console_url: str, escalation_id: str) -> str:
    # errors="replace": a lone surrogate (valid JSON, not UTF-8) must not crash the ticket.
    escaped = quote(escalation_id, safe="", errors="replace")
    return f"{console_url.rstrip('/')}/escalations/{escaped}"


def decide(escalation: Escalation, content: Content, *, received_at: datetime) -> Decision:
    """Map one escalation through the rules (the guide's by default) to a draft and deadlines.

    A template that fails to render raises ``ConfigError`` naming the rule and template line."""
    category = choose_category(escalation, content.categories)
    choice = choose_rule(escalation, category.name, content.rules or DEFAULT_RULES)
    rule, chosen = choice.rule, choice.rule.set
    clock = deadlines(
        started_at=sla_start(escalation.occurred_at, received_at),
        first_response=parse_duration(chosen.sla_first_response)
        if chosen.sla_first_response
        else None,
        resolution=parse_duration(chosen.sla_resolution) if chosen.sla_resolution else None,
        calendar=content.calendars.get(chosen.sla_calendar or "", ALWAYS),
        calendar_name=chosen.sla_calendar or "",
    )
    project = chosen.project or content.project
    issue_type = chosen.issue_type or DEFAULT_ISSUE_TYPE
    link = console_link(content.console_url, escalation.escalation_id)
    context = template_context(
        escalation,
        category=category.name,
        category_source=category.source,
        rule=rule.name,
        console_url=link,
        deadlines=clock,
        project=project,
        issue_type=issue_type,
        priority=chosen.priority,
    )
    summary_where, summary_source = _template(rule, "summary", content.templates.summary)
    description_where, description_source = _template(
        rule, "description", content.templates.description
    )
    rendered_labels = [
        render_text(label, context, where=f"rule '{rule.name}' set.labels[{i}]")
        for i, label in enumerate(chosen.labels)
    ]
    draft = IssueDraft(
        project=project,
        issue_type=issue_type,
        priority=chosen.priority,
        summary=one_line(render_text(summary_source, context, where=summary_where), 255),
        description=render_document(description_source, context, where=description_where),
        labels=labels(escalation, rendered_labels, bridge_label=content.bridge_label),
        due_date=clock.due_date,
        fields=_fields(escalation, content.fields, link, rule, context),
        correlation_label=correlation_label(escalation.escalation_id),
        components=tuple(chosen.components),
        assignee=chosen.assignee,
        watchers=tuple(chosen.watchers),
        rule=rule.name,
    )
    return Decision(
        rule=rule,
        category=category.name,
        draft=draft,
        deadlines=clock,
        category_source=category.source,
        category_reason=category.reason,
        reasons=choice.reasons,
        skipped=choice.skipped,
    )


def _template(rule: Rule, key: Literal["summary", "description"], default: str) -> tuple[str, str]:
    """Where a template comes from (for error messages) and its source."""
    own = getattr(rule.set, key)
    if own is not None:
        return f"rule '{rule.name}' set.{key}", own
    return f"templates.{key} (rule '{rule.name}')", default


def labels(escalation: Escalation, extra: list[str], *, bridge_label: str) -> tuple[str, ...]:
    """The bridge's label (``reconcile.jira_label``: what reconcile and ``kt-jira jql`` search
    for), ``keeptrusts``, the policy as a label, then the rule's (empty ones dropped)."""
    found = [label_safe(bridge_label), BASE_LABEL,
             label_safe(escalation.policy_name or "unknown-policy")]  # fmt: skip
    found += [label_safe(label) for label in extra if label.strip()]
    return tuple(dict.fromkeys(found))


def _fields(
    escalation: Escalation,
    names: JiraFieldNames,
    link: str,
    rule: Rule,
    context: dict[str, object],
) -> dict[str, FieldValue]:
    concepts: dict[str | None, FieldValue] = {
        names.escalation_id: escalation.escalation_id,
        names.policy_name: one_line(escalation.policy_name, 255),
        names.model: one_line(escalation.model, 255),
        names.gateway_id: one_line(escalation.gateway_id, 255),
        names.console_url: link,
    }
    fields = {name: value for name, value in concepts.items() if name and value}
    for name, template in rule.set.fields.items():
        where = f"rule '{rule.name}' set.fields[{name!r}]"
        sources = [template] if isinstance(template, str) else template
        values = [render_text(source, context, where=where).strip() for source in sources]
        kept = tuple(value for value in values if value)
        fields.pop(name, None)  # the rule's value wins, and an empty one leaves the field out
        if kept:
            fields[name] = kept[0] if isinstance(template, str) else kept
    return fields
