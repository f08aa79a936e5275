"""``kt-jira check-config --online``: check the config against the live Jira before the first
escalation does, and say which rule causes each problem and how to fix it.

It logs in (``GET /myself``), then builds the draft every rule (or the guide's default rules)
would make for a sample escalation and checks it against the target project's create screen
with ``JiraMetadata``, one aspect at a time (issue type, labels, priority, components, each
field...), so one run lists every problem instead of the first. Finally it runs the configured
correlation lookup once per project. It only reads: nothing is ever created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kt_jira.config.models import Rule, RuleMatch, Settings
from kt_jira.errors import DraftError, KtJiraError, PermanentError
from kt_jira.events.keeptrusts import Escalation
from kt_jira.jira import JiraClient, JiraMetadata, find_existing
from kt_jira.jira.correlation import check_marker
from kt_jira.render.sanitise import correlation_label
from kt_jira.tickets.draft import IssueDraft
from kt_jira.tickets.rules import DEFAULT_RULES, decide

__all__ = ["OnlineReport", "Problem", "check_online", "probe_draft"]

PROBE_ID = "kt-jira-check-config"
_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# What every draft needs; everything else is checked as its own aspect on top of it.
_CORE = frozenset({"project", "issue_type", "summary", "description", "rule"})


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing to fix; ``rule`` names the rule that causes it (None: the site or config).

    ``aspect`` says what part of the draft it is about: ``login``, ``project``, ``issue_type``
    (the base draft: issue type, summary, description), a draft field such as ``priority``,
    ``fields`` or ``labels``, ``marker`` (the correlation lookup) or ``template``."""

    message: str
    rule: str | None = None
    aspect: str = "rule"

    def __str__(self) -> str:
        return f"rule '{self.rule}': {self.message}" if self.rule else self.message


@dataclass(frozen=True, kw_only=True)
class OnlineReport:
    user: str
    rules: int
    projects: tuple[str, ...]
    problems: list[Problem]


async def check_online(settings: Settings, jira: JiraClient) -> OnlineReport:
    """Every problem the live Jira has with ``settings``; an empty list means ready to serve."""
    try:
        me = await jira.myself()
    except KtJiraError as exc:
        message = f"cannot use Jira at {settings.jira.url} as the bot account: {exc}"
        problem = Problem(message=message, aspect="login")
        return OnlineReport(user="", rules=0, projects=(), problems=[problem])
    # The marker is checked on its own below; probing aspects one by one must not trip it.
    probing = settings.jira.model_copy(update={"correlation": type(settings.jira.correlation)()})
    metadata = JiraMetadata(jira, probing)
    problems: list[Problem] = []
    projects: dict[str, str | None] = {}  # project -> why the bot cannot create there
    rules: Sequence[Rule] = settings.rules or DEFAULT_RULES
    for rule in rules:
        try:
            draft = probe_draft(rule, settings)
        except KtJiraError as exc:  # a template that fails to render: the offline check says more
            problems.append(Problem(rule=rule.name, message=str(exc), aspect="template"))
            continue
        if draft.project not in projects:
            projects[draft.project] = await _project_problem(jira, draft.project)
        if projects[draft.project] is not None:
            message = str(projects[draft.project])
            problems.append(Problem(rule=rule.name, message=message, aspect="project"))
            continue
        found = await _draft_problems(metadata, draft)
        try:
            check_marker(draft, settings.jira)
        except DraftError as exc:
            found.append(("marker", str(exc)))
        unique = dict.fromkeys(found)
        problems += [Problem(rule=rule.name, message=m, aspect=a) for a, m in unique]
    for project, unusable in projects.items():
        if unusable is None:
            problems += await _marker_problems(jira, JiraMetadata(jira), settings, project)
    return OnlineReport(
        user=me.display_name or me.account_id,
        rules=len(rules),
        projects=tuple(projects),
        problems=problems,
    )


def probe_draft(rule: Rule, settings: Settings) -> IssueDraft:
    """The draft ``rule`` makes of a sample escalation shaped after its ``match``.

    The rule is forced to match (its ``match`` is cleared), so rules that only a rare
    escalation reaches are checked too."""
    forced = rule.model_copy(update={"match": RuleMatch()})
    only = settings.model_copy(update={"rules": [forced]})
    return decide(_sample(rule.match), only.content, received_at=_NOW).draft


def _sample(match: RuleMatch) -> Escalation:
    """An escalation with values the rule's match would accept, where they can be derived."""
    values: dict[str, str] = {
        "action": "block",
        "severity": "high",
        "category": "",
        "policy_name": "sample-policy",
        "model": "gpt-4o",
        "gateway_id": "gw-check",
        "org_id": "org-check",
    }
    keys = {"policy": "policy_name"}
    for key, alternatives in match.given():
        first = next((a for a in alternatives if not a.startswith("re:")), None)
        if first is not None:
            values[keys.get(key, key)] = _instance(first)
    return Escalation(escalation_id=PROBE_ID, user_id="user-check", occurred_at=_NOW, **values)


def _instance(pattern: str) -> str:
    """A value like the ones a glob matches (``*hipaa*`` -> ``sample-hipaa-sample``); only
    templates see it, as the rule is forced to match anyway."""
    filled = pattern.replace("*", "sample").replace("?", "x")
    return filled.replace("[", "").replace("]", "").replace("!", "")


async def _project_problem(jira: JiraClient, project: str) -> str | None:
    """Why the bot cannot create issues in ``project`` at all, or None."""
    try:
        types = await jira.create_issue_types(project)
    except PermanentError as exc:
        if exc.status != 404:
            return str(exc)
        return (
            f"project {project} does not exist or the bot account cannot see it; fix the "
            "rule's set.project (or jira.project), or grant the bot 'Browse projects' there"
        )
    if not types:
        return (
            f"the bot account may not create issues in project {project}; grant it 'Create "
            "issues' in the project's permission scheme"
        )
    return None


async def _draft_problems(metadata: JiraMetadata, draft: IssueDraft) -> list[tuple[str, str]]:
    """What the draft's project rejects, as ``(aspect, message)``: nothing, the base draft's
    problem (issue type, summary, description), or one per failing aspect on top of the base."""
    try:
        await metadata.build_create_body(draft)
        return []
    except DraftError:
        pass
    base, aspects = _aspects(draft)
    try:
        await metadata.build_create_body(base)
    except DraftError as exc:
        return [("issue_type", str(exc))]  # the aspects would only repeat it
    found: list[tuple[str, str]] = []
    for changes in aspects:
        try:
            await metadata.build_create_body(dataclasses.replace(base, **changes))
        except DraftError as exc:
            aspect = "labels" if "correlation_label" in changes else next(iter(changes))
            found.append((aspect, str(exc)))
    return found


def _aspects(draft: IssueDraft) -> tuple[IssueDraft, list[dict[str, Any]]]:
    """The draft with only its core, and each other part of it as its own set of changes."""
    defaults: dict[str, Any] = {}
    aspects: list[dict[str, Any]] = []
    for field in dataclasses.fields(draft):
        if field.name in _CORE:
            continue
        empty = field.default_factory() if callable(field.default_factory) else field.default
        defaults[field.name] = empty
        value = getattr(draft, field.name)
        if field.name == "fields":
            aspects += [{"fields": {name: v}} for name, v in value.items()]
        elif field.name != "correlation_label" and value != empty:
            aspects.append({field.name: value})
    if draft.correlation_label:  # sent as a label: checked with the labels
        labels = next((a for a in aspects if "labels" in a), None)
        if labels is None:
            aspects.append(labels := {})
        labels["correlation_label"] = draft.correlation_label
    return dataclasses.replace(draft, **defaults), aspects


async def _marker_problems(
    jira: JiraClient, metadata: JiraMetadata, settings: Settings, project: str
) -> list[Problem]:
    """Run the configured correlation lookup once, so a bad JQL or field fails here."""
    marker = settings.jira.correlation.marker
    try:
        await find_existing(
            jira,
            metadata,
            settings.jira,
            project=project,
            escalation_id=PROBE_ID,
            correlation_label=correlation_label(PROBE_ID),
        )
    except (DraftError, PermanentError) as exc:
        where = f"jira.correlation (marker: {marker}) in project {project}"
        return [Problem(message=f"{where}: {exc}", aspect="marker")]
    return []
