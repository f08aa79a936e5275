"""The JQL pack: ready-to-paste Jira searches for the bridge's tickets, made from the config.

``jql_pack(settings)`` gives the guide's four queries (open tickets by priority, recently created,
SLA breaches, false positives) and the bridge's own: every ticket (the dashboard gadgets' filter),
open critical tickets, breached and still open, at risk, created in the last day, and the
false-positive loop's Stories. Pure: it reads only the settings. Every project key, label, field
name and value is written by the ``render.sanitise`` helpers, so a hostile name stays one quoted
literal and every query stays on one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from kt_jira.config.models import Rule, Settings
from kt_jira.feedback.plan import SUMMARY_PREFIX
from kt_jira.render.sanitise import jql_field, jql_string, one_line, project_jql
from kt_jira.tickets.rules import DEFAULT_RULES, projects
from kt_jira.tickets.sla import parse_duration

# Status categories, not status names: workflows name their done statuses differently.
OPEN = "statusCategory != Done"
RECENT = "-30d"
LAST_DAY = "-1d"
# What the guide's mapping gives blocked escalations, and the top of Jira's default scheme.
TOP_PRIORITY = "Highest"
_BY_PRIORITY = "ORDER BY priority DESC, created DESC"
_WAITING_LONGEST = "ORDER BY priority DESC, created ASC"
_NEWEST = "ORDER BY created DESC"


@dataclass(frozen=True, kw_only=True)
class Query:
    """One search: a stable ``name`` for scripts, a title, one line on what it finds, the JQL."""

    name: str
    title: str
    explanation: str
    jql: str


def jql_pack(settings: Settings) -> list[Query]:
    """The pack for ``settings``, in the order ``kt-jira jql`` prints it."""
    base = tickets_clause(settings)
    found = [
        _open(base),
        _all(base),
        _recent(base),
        _critical(settings, base),
        *_sla(settings, base),
        _false_positives(settings, base),
        _last_day(base),
        _stories(settings),
    ]
    return [q for q in found if q is not None]


def tickets_clause(settings: Settings) -> str:
    """The bridge's tickets: every project rules route to, and the label each ticket carries."""
    label = jql_string(settings.reconcile.jira_label)
    return f"{project_jql(projects(settings.content))} AND labels = {label}"


def _query(name: str, title: str, explanation: str, jql: str) -> Query:
    # Config values reach the explanation: keep it one line, so it cannot pass for a query.
    return Query(name=name, title=title, explanation=one_line(explanation, 1000), jql=jql)


def _any_of(field: str, values: list[str]) -> str:
    """``field = "a"``, or ``field in ("a", "b")`` for several values (each quoted)."""
    quoted = [jql_string(v) for v in dict.fromkeys(values)]
    return f"{field} = {quoted[0]}" if len(quoted) == 1 else f"{field} in ({', '.join(quoted)})"


# -- the guide's queries and the dashboard's filter ----------------------------------------------


def _open(base: str) -> Query:
    return _query(
        "open",
        "Open tickets",
        "every ticket the bridge made that is not done, highest priority first (the guide's "
        "first query, by status category so that any workflow fits)",
        f"{base} AND {OPEN} {_WAITING_LONGEST}",
    )


def _all(base: str) -> Query:
    return _query(
        "all",
        "All tickets",
        "every ticket the bridge made, by priority: the filter for the dashboard's Pie chart "
        "(group by Priority) and Created vs. Resolved gadgets",
        f"{base} {_BY_PRIORITY}",
    )


def _recent(base: str) -> Query:
    return _query(
        "recent",
        "Recently created",
        "tickets created in the last 30 days, newest first (the guide's second query; the "
        "Recently Created gadget)",
        f"{base} AND created >= {RECENT} {_NEWEST}",
    )


def _critical(settings: Settings, base: str) -> Query:
    priorities = top_priorities(settings)
    return _query(
        "critical",
        "Open critical tickets",
        f"open tickets at {' or '.join(priorities)}, the priority the rules give critical and "
        "blocked escalations, longest waiting first",
        f"{base} AND {_any_of('priority', priorities)} AND {OPEN} ORDER BY created ASC",
    )


def top_priorities(settings: Settings) -> list[str]:
    """The priorities rules give critical or blocked escalations (the guide's: ``Highest``)."""
    found = [r.set.priority for r in settings.rules or DEFAULT_RULES if _is_critical(r)]
    return list(dict.fromkeys(p for p in found if p)) or [TOP_PRIORITY]


def _is_critical(rule: Rule) -> bool:
    severities = {s.casefold() for s in rule.match.severity or ()}
    actions = {a.casefold() for a in rule.match.action or ()}
    return "critical" in severities or "block" in actions


# -- SLA ------------------------------------------------------------------------------------------


def _sla(settings: Settings, base: str) -> list[Query | None]:
    sla = settings.sla
    if sla.mode == "jsm":
        first = jql_field(sla.jsm_fields.first_response)
        resolution = jql_field(sla.jsm_fields.resolution)
        either = " OR ".join(f"{f} = breached()" for f in dict.fromkeys([first, resolution]))
        names = f"{sla.jsm_fields.first_response} or {sla.jsm_fields.resolution}"
        breaches = _query(
            "sla-breaches",
            "SLA breaches",
            f"tickets whose {sla.jsm_fields.resolution} SLA is breached in Jira Service "
            "Management (the guide's third query)",
            f"{base} AND {resolution} = breached() {_BY_PRIORITY}",
        )
        still_open = _query(
            "breached-open",
            "Breached and still open",
            f"open tickets with a breached {names} SLA, longest waiting first",
            f"{base} AND ({either}) AND {OPEN} {_WAITING_LONGEST}",
        )
        return [breaches, still_open, _jsm_at_risk(settings, base)]
    breached = f"labels = {jql_string(sla.breach_label)}"
    breaches = _query(
        "sla-breaches",
        "SLA breaches",
        f"tickets that missed a first-response or resolution target (the bridge labels them "
        f"{sla.breach_label}; the guide's third query, without Service Management)",
        f"{base} AND {breached} {_BY_PRIORITY}",
    )
    still_open = _query(
        "breached-open",
        "Breached and still open",
        "open tickets past a first-response or resolution target, longest waiting first",
        f"{base} AND {breached} AND {OPEN} {_WAITING_LONGEST}",
    )
    at_risk = None
    if sla.at_risk is not None:
        at_risk = _query(
            "at-risk",
            "At risk",
            f"open tickets that used {sla.at_risk:.0%} of a target's time and are not breached "
            f"yet (label {sla.at_risk_label})",
            f"{base} AND labels = {jql_string(sla.at_risk_label)} AND labels != "
            f"{jql_string(sla.breach_label)} AND {OPEN} {_WAITING_LONGEST}",
        )
    return [breaches, still_open, at_risk]


def _jsm_at_risk(settings: Settings, base: str) -> Query | None:
    at_risk = settings.sla.at_risk
    if at_risk is None:
        return None
    name = settings.sla.jsm_fields.resolution
    field = jql_field(name)
    tightest = tightest_resolution(settings)
    left = jsm_duration(tightest * (1 - at_risk))
    return _query(
        "at-risk",
        "At risk",
        f"tickets with under {left} left on {name} and not breached yet: the last "
        f"{1 - at_risk:.0%} of the tightest rule's {jsm_duration(tightest)} target",
        f"{base} AND {field} = running() AND {field} != breached() AND {field} < "
        f"remaining({jql_string(left)}) {_WAITING_LONGEST}",
    )


def tightest_resolution(settings: Settings) -> timedelta:
    """The shortest resolution target any rule sets, the built-in default rule's included."""
    rules = [*(settings.rules or DEFAULT_RULES), DEFAULT_RULES[-1]]
    return min(parse_duration(r.set.sla_resolution) for r in rules if r.set.sla_resolution)


def jsm_duration(span: timedelta) -> str:
    """``span`` as Jira writes durations, whole minutes rounded up: ``15m``, ``2h``, ``1h 30m``."""
    hours, minutes = divmod(max(1, math.ceil(span.total_seconds() / 60)), 60)
    parts = ([f"{hours}h"] if hours else []) + ([f"{minutes}m"] if minutes else [])
    return " ".join(parts)


# -- the false-positive loop and the bridge's own health ------------------------------------------


def _false_positives(settings: Settings, base: str) -> Query:
    resolution = settings.feedback.false_positive.resolution
    policy = settings.jira.fields.policy_name
    order = (
        f"ORDER BY {jql_field(policy)} ASC, resolved DESC" if policy else "ORDER BY resolved DESC"
    )
    by = f"grouped by {policy}" if policy else "newest first"
    return _query(
        "false-positives",
        "False positives by policy",
        f"tickets resolved as {resolution} in the last 30 days, {by}, for policy tuning (the "
        "guide's fourth query)",
        f"{base} AND resolution = {jql_string(resolution)} AND resolved >= {RECENT} {order}",
    )


def _last_day(base: str) -> Query:
    return _query(
        "last-day",
        "Created in the last day",
        "tickets the bridge created in the last 24 hours, newest first: are escalations arriving?",
        f"{base} AND created >= {LAST_DAY} {_NEWEST}",
    )


def _stories(settings: Settings) -> Query:
    fp = settings.feedback.false_positive
    project = project_jql([fp.project or settings.jira.project])
    if fp.labels:
        marked = _any_of("labels", fp.labels)
        how = f"labels {', '.join(fp.labels)}"
    else:  # each Story's own kt-fp-… label cannot be searched by prefix: use the summary
        phrase = SUMMARY_PREFIX.rstrip(": ")
        quoted_phrase = '"' + phrase + '"'  # inside the string: a phrase, not loose words
        marked = f"summary ~ {jql_string(quoted_phrase)}"
        how = f"summary starting {phrase!r}"
    return _query(
        "stories",
        "Policy improvement Stories",
        f"the false-positive loop's {fp.issue_type} issues ({how}), newest first",
        f"{project} AND issuetype = {jql_string(fp.issue_type)} AND {marked} {_NEWEST}",
    )
