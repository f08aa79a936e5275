"""The content part of the config tree: ordered ``rules`` (match -> set), ``templates`` and the
policy-name -> category map. Re-exported by ``kt_jira.config.models``.

Checked when the file loads, so a bad rule stops ``serve`` with a message naming the rule:
durations parse, patterns compile, templates compile. Matching lives in ``rules.py``, rendering
in ``templates.py``; nothing here touches an escalation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from kt_jira.tickets.matching import pattern_problem
from kt_jira.tickets.sla import parse_duration
from kt_jira.tickets.templates import DEFAULT_DESCRIPTION, DEFAULT_SUMMARY, syntax_problem

MATCH_KEYS = ("action", "severity", "category", "policy", "model", "gateway_id", "org_id")
# Matched with globs or `re:` regexes; the other keys compare whole values, ignoring case.
PATTERN_KEYS = frozenset({"policy", "model", "gateway_id", "org_id"})
PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,254}")
# What ``set.group_by`` may name: an escalation's facts, and the category the rules decided.
GROUP_BY_KEYS = ("policy", "action", "severity", "category", "model", "gateway_id", "org_id",
                 "user_id")  # fmt: skip
DEFAULT_GROUP_WINDOW = "1h"


def _alternatives(value: Any) -> Any:
    """A single value is a list of one alternative (``action: block``)."""
    return [value] if isinstance(value, str) else value


Alternatives = Annotated[list[str], BeforeValidator(_alternatives)]
FieldTemplate = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleMatch(_Strict):
    """Every key given must match; each lists alternatives, any one of which may match."""

    action: Alternatives | None = None
    severity: Alternatives | None = None
    category: Alternatives | None = None
    policy: Alternatives | None = None
    model: Alternatives | None = None
    gateway_id: Alternatives | None = None
    org_id: Alternatives | None = None

    def given(self) -> list[tuple[str, list[str]]]:
        """The keys this rule matches on, in evaluation order, with their alternatives."""
        found = ((key, getattr(self, key)) for key in MATCH_KEYS)
        return [(key, values) for key, values in found if values is not None]


class RuleSet(_Strict):
    """What a matching rule decides; anything left out keeps its default."""

    project: str | None = None
    issue_type: str | None = None
    priority: str | None = None
    sla_first_response: str | None = None
    sla_resolution: str | None = None
    sla_calendar: str | None = None  # a name under sla.calendars; default: around the clock
    labels: list[str] = Field(default_factory=list)  # templates; sanitised into labels
    components: list[str] = Field(default_factory=list)  # component names
    assignee: str | None = None  # accountId on Cloud, user name on Data Center
    watchers: list[str] = Field(default_factory=list)
    fields: dict[str, FieldTemplate] = Field(default_factory=dict)  # Jira field NAME -> template
    summary: str | None = None  # overrides templates.summary for this rule
    description: str | None = None  # overrides templates.description for this rule
    # Grouping (off unless given): escalations with the same values share one ticket, as comments.
    group_by: list[str] | None = None  # any of GROUP_BY_KEYS
    group_window: str | None = None  # how long a group takes members (default DEFAULT_GROUP_WINDOW)

    @property
    def grouping_window(self) -> str:
        """The window of this rule's groups (``group_window``, else the default)."""
        return self.group_window or DEFAULT_GROUP_WINDOW


class Rule(_Strict):
    name: str = Field(min_length=1)
    match: RuleMatch = RuleMatch()
    set: RuleSet = RuleSet()

    @model_validator(mode="after")
    def _usable(self) -> Rule:
        problems = rule_problems(self)
        if problems:
            raise ValueError(f"rule '{self.name}': " + "; ".join(problems))
        return self


class Templates(_Strict):
    """The summary (one line) and description (the Markdown subset) of every ticket."""

    summary: str = DEFAULT_SUMMARY
    description: str = DEFAULT_DESCRIPTION

    @model_validator(mode="after")
    def _compiles(self) -> Templates:
        problems = [
            f"{key}: template {problem}; fix the Jinja syntax"
            for key, source in (("summary", self.summary), ("description", self.description))
            if (problem := syntax_problem(source)) is not None
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _categories(value: dict[str, str]) -> dict[str, str]:
    problems = [
        f"{pattern!r}: {problem}"
        for pattern in value
        if (problem := pattern_problem(pattern)) is not None
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return value


# Policy name pattern (case-insensitive glob, or `re:` regex) -> category, first match wins.
Categories = Annotated[dict[str, str], AfterValidator(_categories)]


def rule_templates(chosen: RuleSet) -> list[tuple[str, str]]:
    """Every template a rule's ``set`` holds, as (key path, source)."""
    found: list[tuple[str, str]] = []
    if chosen.summary is not None:
        found.append(("set.summary", chosen.summary))
    if chosen.description is not None:
        found.append(("set.description", chosen.description))
    found += [(f"set.labels[{i}]", label) for i, label in enumerate(chosen.labels)]
    for name, value in chosen.fields.items():
        if isinstance(value, str):
            found.append((f"set.fields[{name!r}]", value))
        else:
            found += [(f"set.fields[{name!r}][{i}]", item) for i, item in enumerate(value)]
    return found


def rule_problems(rule: Rule) -> list[str]:
    """What makes ``rule`` unusable, each with the key to fix; empty when it is fine."""
    problems: list[str] = []
    for key, wanted in rule.match.given():
        if not wanted:
            problems.append(f"match.{key} is an empty list, which never matches; list values")
        for value in wanted:
            problem = pattern_problem(value) if key in PATTERN_KEYS else None
            if key not in PATTERN_KEYS and not value.strip():
                problem = "an empty value never matches; remove it"
            if problem is not None:
                problems.append(f"match.{key}: {problem}")
    chosen = rule.set
    for key in ("sla_first_response", "sla_resolution"):
        value = getattr(chosen, key)
        if value is not None:
            try:
                parse_duration(value)
            except ValueError as exc:
                problems.append(f"set.{key}: {exc}")
    if chosen.project is not None and not PROJECT_KEY.fullmatch(chosen.project):
        problems.append(
            f"set.project {chosen.project!r} is not a Jira project key (upper-case letters, "
            "digits and _, starting with a letter)"
        )
    for key in ("issue_type", "priority", "assignee"):
        value = getattr(chosen, key)
        if value is not None and not value.strip():
            problems.append(f"set.{key} is empty; remove it or give a value")
    for key in ("components", "watchers"):
        if any(not item.strip() for item in getattr(chosen, key)):
            problems.append(f"set.{key} has an empty entry; remove it")
    problems += _grouping_problems(chosen)
    if any(not name.strip() for name in chosen.fields):
        problems.append("set.fields has an empty field name; use the Jira field's exact name")
    for where, source in rule_templates(chosen):
        problem = syntax_problem(source)
        if problem is not None:
            problems.append(f"{where}: template {problem}; fix the Jinja syntax")
    return problems


def _grouping_problems(chosen: RuleSet) -> list[str]:
    """``group_by`` names known keys, each once; ``group_window`` is a positive duration that
    goes with a ``group_by``."""
    problems: list[str] = []
    if chosen.group_by is not None:
        unknown = [key for key in chosen.group_by if key not in GROUP_BY_KEYS]
        if unknown or not chosen.group_by:
            problems.append(
                f"set.group_by takes a list of {', '.join(GROUP_BY_KEYS)}"
                + (f"; unknown: {', '.join(map(repr, unknown))}" if unknown else "")
            )
        if len(set(chosen.group_by)) != len(chosen.group_by):
            problems.append("set.group_by names a key twice; list each once")
    if chosen.group_window is not None:
        if chosen.group_by is None:
            problems.append("set.group_window needs set.group_by (what to group by)")
        try:
            if parse_duration(chosen.group_window).total_seconds() <= 0:
                problems.append("set.group_window must be longer than 0")
        except ValueError as exc:
            problems.append(f"set.group_window: {exc}")
    return problems
