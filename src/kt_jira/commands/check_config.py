"""Offline checks of the ticket-content config for ``kt-jira check-config``: every template
compiles and renders, every rule reference is usable and every rule can match.

Each problem names the rule (or key) that causes it and says how to fix it. Pure: no network;
checks against the live Jira belong to the online part of ``check-config``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from kt_jira.config.models import Rule, Settings
from kt_jira.config.rules import PATTERN_KEYS, rule_problems, rule_templates
from kt_jira.errors import ConfigError
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.markdown import PANEL_KINDS
from kt_jira.tickets.matching import pattern_problem, pattern_warning
from kt_jira.tickets.rules import (
    CATEGORY_BY_ACTION,
    DEFAULT_CATEGORIES,
    DEFAULT_RULES,
    console_link,
)
from kt_jira.tickets.sla import deadlines
from kt_jira.tickets.templates import render_document, render_text, syntax_problem, template_context

__all__ = ["compile_templates", "offline_problems", "offline_warnings"]

ACTIONS = ("block", "escalate", "redact", "log")
SEVERITIES = ("critical", "high", "medium", "low")
# Fields the draft sets itself; a rule sets them through its own keys, not through `fields`.
_OWN_FIELDS = {
    "summary": "set.summary",
    "description": "set.description",
    "labels": "set.labels",
    "priority": "set.priority",
    "due date": "set.sla_resolution",
    "components": "set.components",
    "assignee": "set.assignee",
    "issue type": "set.issue_type",
    "project": "set.project",
}
_PANEL_LINE = re.compile(r"^[ \t]*:::[ \t]*([^\s:]+)", re.MULTILINE)
_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_SAMPLE_SLA = timedelta(hours=1)
SAMPLES = (
    Escalation(
        escalation_id="esc_check",
        policy_name="hipaa-compliance",
        action="block",
        model="gpt-4o",
        gateway_id="gw_check",
        user_id="user_check",
        org_id="org_check",
        severity="high",
        category="Compliance",
        occurred_at=_NOW,
    ),
    Escalation(escalation_id="esc_sparse"),  # every optional field empty
)


def _label(index: int | None, rule: Rule) -> str:
    return f"rules[{index}] ({rule.name})" if index is not None else f"default rule {rule.name}"


def _rules(settings: Settings) -> list[tuple[int | None, Rule]]:
    if settings.rules:
        return list(enumerate(settings.rules))
    return [(None, rule) for rule in DEFAULT_RULES]


def compile_templates(settings: Settings) -> list[str]:
    """Every template problem: syntax, unknown panel kinds, and failures when rendering the
    sample escalations (a full one and one with every optional field empty)."""
    problems: list[str] = []
    sources = [
        ("templates.summary", settings.templates.summary),
        ("templates.description", settings.templates.description),
    ]
    for index, rule in _rules(settings):
        sources += [(f"{_label(index, rule)}: {key}", src) for key, src in rule_templates(rule.set)]
    compiles = True
    for where, source in sources:
        problem = syntax_problem(source)
        if problem is not None:
            compiles = False
            problems.append(f"{where}: template {problem}; fix the Jinja syntax")
        for kind in _PANEL_LINE.findall(source):
            if kind.lower() not in PANEL_KINDS:
                problems.append(
                    f"{where}: ':::{kind}' is not a panel kind; use one of {', '.join(PANEL_KINDS)}"
                )
    if not compiles:
        return problems  # rendering would only repeat the syntax errors
    for index, rule in _rules(settings):
        for sample in SAMPLES:
            problems += _render_problems(settings, _label(index, rule), rule, sample)
    return list(dict.fromkeys(problems))


def _render_problems(settings: Settings, label: str, rule: Rule, sample: Escalation) -> list[str]:
    chosen = rule.set
    # Sample deadlines (none for the sparse sample); bad durations are rule_problems' to report.
    sla = _SAMPLE_SLA if sample.occurred_at else None
    clock = deadlines(started_at=_NOW, first_response=sla, resolution=sla)
    context = template_context(
        sample,
        category=sample.category or "Compliance",
        category_source="payload",
        rule=rule.name,
        console_url=console_link(settings.keeptrusts.console_url, sample.escalation_id),
        deadlines=clock,
        project=chosen.project or settings.jira.project,
        issue_type=chosen.issue_type or "Task",
        priority=chosen.priority,
    )
    problems: list[str] = []
    own_summary = chosen.summary is not None
    summary = chosen.summary if chosen.summary is not None else settings.templates.summary
    where = f"{label}: set.summary" if own_summary else "templates.summary"
    try:
        if not render_text(summary, context, where=where).strip():
            problems.append(f"{where}: renders empty for {sample.escalation_id}; Jira needs one")
    except ConfigError as exc:
        problems.append(str(exc))
    description = chosen.description
    where = f"{label}: set.description" if description is not None else "templates.description"
    try:
        render_document(description or settings.templates.description, context, where=where)
    except ConfigError as exc:
        problems.append(str(exc))
    for key, source in rule_templates(chosen):
        if key.startswith(("set.labels", "set.fields")):
            try:
                render_text(source, context, where=f"{label}: {key}")
            except ConfigError as exc:
                problems.append(str(exc))
    return problems


def offline_problems(settings: Settings) -> list[str]:
    """Everything that would make a ticket fail or a rule useless, found without Jira."""
    problems = compile_templates(settings)
    for pattern in settings.categories:
        problem = pattern_problem(pattern)
        if problem is not None:
            problems.append(f"categories: {problem}")
    seen: dict[str, str] = {}
    catch_all: str | None = None
    for index, rule in _rules(settings):
        label = _label(index, rule)
        problems += [f"{label}: {problem}" for problem in rule_problems(rule)]
        if rule.name in seen:
            problems.append(
                f"{label}: the name is also used by {seen[rule.name]}; give each rule its own "
                "name so errors and previews can point at it"
            )
        seen.setdefault(rule.name, label)
        if catch_all is not None:
            problems.append(
                f"{label} can never match: {catch_all} before it has no match keys and matches "
                "everything; move this rule above it or remove it"
            )
        elif not rule.match.given():
            catch_all = label
        for name in rule.set.fields:
            own = _OWN_FIELDS.get(name.strip().casefold())
            if own is not None:
                problems.append(f"{label}: set.fields[{name!r}] is set by the draft; use {own}")
    return problems


def offline_warnings(settings: Settings) -> list[str]:
    """Legal but probably unintended: values Keeptrusts never sends, odd patterns."""
    warnings: list[str] = []
    known = {*(settings.categories or DEFAULT_CATEGORIES).values(), *CATEGORY_BY_ACTION.values()}
    known_folded = {category.casefold() for category in known}
    vocabulary = {"action": ACTIONS, "severity": SEVERITIES}
    for index, rule in _rules(settings):
        label = _label(index, rule)
        for key, wanted in rule.match.given():
            for value in wanted:
                if key in vocabulary and value.strip().lower() not in vocabulary[key]:
                    listed = ", ".join(vocabulary[key])
                    warnings.append(
                        f"{label}: match.{key} {value!r} is not one Keeptrusts sends ({listed})"
                    )
                if key == "category" and value.strip().casefold() not in known_folded:
                    warnings.append(
                        f"{label}: match.category {value!r} comes from no categories entry or "
                        "action default; it matches only when the payload carries it"
                    )
                warning = pattern_warning(value) if key in PATTERN_KEYS else None
                if warning is not None:
                    warnings.append(f"{label}: match.{key}: {warning}")
    for pattern in settings.categories:
        warning = pattern_warning(pattern)
        if warning is not None:
            warnings.append(f"categories: {warning}")
    return warnings
