"""Two-way status sync, the decisions: which side wins, the loop guard, resolution mapping, and
the next workflow step toward a done status.

Pure: facts in, decisions out; no store, network or clock (``now`` is passed in). Directions are
named as Sentry names them: ``outbound`` is Keeptrusts -> Jira, ``inbound`` is Jira -> Keeptrusts.
Job kinds and keys live here so the web intake, the handlers and reconcile agree on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kt_jira.events.jira import JiraEvent, JiraEventType
from kt_jira.jira.models import Transition

DONE = "done"
ORIGIN_JIRA = "jira"  #: the change began in Jira (the bridge carried it to Keeptrusts)
ORIGIN_KEEPTRUSTS = "keeptrusts"  #: the change began in Keeptrusts (carried to Jira)
# Resolutions tried, in order, when no mapping names one the transition screen offers.
FALLBACK_JIRA_RESOLUTIONS = ("Done", "Fixed", "Resolved", "Complete", "Completed")


# -- the loop guard and inbound decisions -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LinkFacts:
    """What inbound decisions need to know about one link and its escalation."""

    escalation_closed: bool
    first_response_at: datetime | None = None
    status_category: str | None = None  #: newest known Jira status category
    status_at: datetime | None = None  #: when that status was set (webhook time or our write)
    status_change: int | None = None  #: Jira's changelog id for it (orders same-ms changes)
    bridge_busy_until: datetime | None = None  #: our own Jira writes echo until then


@dataclass(frozen=True, kw_only=True)
class InboundPlan:
    """What to do with one Jira event. ``need_issue``: read the issue's status, then plan again."""

    echo: bool = False
    stale: bool = False
    need_issue: bool = False
    record_status: bool = False
    first_response_at: datetime | None = None
    deleted: bool = False
    resolve: bool = False
    resolve_members: bool = False  #: a group's ticket went done: resolve its open members too
    explain_reopen: bool = False


def is_echo(event: JiraEvent, *, bot_account_id: str, busy_until: datetime | None) -> bool:
    """The bridge's own change: by its account, or (no author given) inside its write window."""
    if event.actor_id:
        return bool(bot_account_id) and event.actor_id == bot_account_id
    moment = event.timestamp
    return busy_until is not None and moment is not None and moment <= busy_until


def plan_inbound(
    event: JiraEvent, link: LinkFacts, *, bot_account_id: str, inbound: bool
) -> InboundPlan:
    """Decide what a Jira event means for its escalation.

    Status changes older than the newest one applied are stale (delivery is unordered). A human
    moving the issue into a done category resolves an open escalation (once: the job key is
    unique); leaving done after that gets an explanation, since Keeptrusts resolves are final.
    """
    echo = is_echo(event, bot_account_id=bot_account_id, busy_until=link.bridge_busy_until)
    if event.type is JiraEventType.ISSUE_DELETED:
        return InboundPlan(echo=echo, deleted=True)
    if event.type is JiraEventType.COMMENT_CREATED:
        first = None
        if not echo and link.first_response_at is None:
            first = event.comment_created or event.timestamp
        return InboundPlan(echo=echo, first_response_at=first)
    if event.type is not JiraEventType.ISSUE_UPDATED or event.status_change is None:
        return InboundPlan(echo=echo)
    if not event.status_category:
        return InboundPlan(echo=echo, need_issue=True)
    stale = link.status_at is not None and (
        event.timestamp is None
        or (event.timestamp, change_number(event)) < (link.status_at, link.status_change or 0)
    )
    if stale:
        return InboundPlan(echo=echo, stale=True)
    done_now = event.status_category == DONE
    was_done = link.status_category == DONE
    return InboundPlan(
        echo=echo,
        record_status=True,
        resolve=not echo and inbound and done_now and not link.escalation_closed,
        resolve_members=not echo and inbound and done_now,
        explain_reopen=not echo and was_done and not done_now,
    )


def change_number(event: JiraEvent) -> int:
    """Jira's changelog ids grow with time: they order changes made within one millisecond."""
    return int(event.changelog_id) if event.changelog_id.isdigit() else 0


# -- resolution mapping -------------------------------------------------------------------------


def _lookup(mapping: Mapping[str, str], name: str) -> str | None:
    wanted = name.casefold()
    return next((value for key, value in mapping.items() if key.casefold() == wanted), None)


def keeptrusts_outcome(
    jira_resolution: str, mapping: Mapping[str, str], *, default_resolution: str
) -> str:
    """The Keeptrusts outcome for a Jira resolution name; unmapped names pass through."""
    name = jira_resolution.strip() or default_resolution
    return _lookup(mapping, name) or name


def wanted_jira_resolution(outcome: str, mapping: Mapping[str, str]) -> str | None:
    """The Jira resolution configured for a Keeptrusts outcome, if any."""
    return _lookup(mapping, outcome.strip()) if outcome.strip() else None


def keeptrusts_notes(*, issue_key: str, actor_name: str, resolution: str) -> str:
    """The resolve note: ``Resolved via Jira AIGOV-12 by Ada Reviewer: Done`` (without "by"
    when nobody is known, e.g. when reconcile found the issue done)."""
    who = f" by {actor_name.strip()}" if actor_name.strip() else ""
    return f"Resolved via Jira {issue_key}{who}: {resolution.strip() or 'Done'}"


def actor_for(account_id: str, actor_map: Mapping[str, str], *, default_actor_id: str) -> str:
    """The ``X-Actor-Id`` for a Jira user: mapped, else the bridge's service actor."""
    return actor_map.get(account_id, default_actor_id) if account_id else default_actor_id


# -- the path to done ---------------------------------------------------------------------------


def _mentions(step: Transition, word: str) -> bool:
    return any(word.casefold() in name for name in step.names())


def choose_step(
    steps: Sequence[Transition], *, visited: Iterable[str], wanted: str | None, hops_left: int
) -> Transition | None:
    """The next transition toward a done status, or ``None`` when there is no way forward.

    Prefers, in order: a done transition named like ``wanted``; any other done transition
    that is not named like a different resolution; a step to an unvisited status (in progress
    before to-do) while hops remain; then a done transition named like another resolution.
    """
    seen = set(visited)
    usable = [s for s in steps if s.id and s.to_id and s.to_id not in seen]
    known = {r.casefold() for s in steps for r in s.resolutions} | {
        r.casefold() for r in FALLBACK_JIRA_RESOLUTIONS
    }
    others = known - {wanted.casefold()} if wanted else set()

    def conflicting(step: Transition) -> bool:
        named_other = any(_mentions(step, other) for other in others)
        return named_other and not (wanted and _mentions(step, wanted))

    done = [s for s in usable if s.done]
    if wanted:
        matching = [s for s in done if _mentions(s, wanted)]
        if matching:
            return matching[0]
    neutral = [s for s in done if not conflicting(s)]
    if neutral:
        return max(neutral, key=lambda s: s.has_resolution)
    onward = [s for s in usable if not s.done]
    if onward and hops_left > 1:
        return min(onward, key=lambda s: s.to_category != "indeterminate")
    return done[0] if done else None


def resolution_for(step: Transition, wanted: str | None) -> str | None:
    """The resolution to send with ``step``, only when its screen has the field."""
    if not step.has_resolution:
        return None
    if not step.resolutions:
        return wanted or FALLBACK_JIRA_RESOLUTIONS[0]
    by_name = {r.casefold(): r for r in step.resolutions}
    for candidate in (wanted, *FALLBACK_JIRA_RESOLUTIONS):
        if candidate and candidate.casefold() in by_name:
            return by_name[candidate.casefold()]
    return step.resolutions[0] if step.resolution_required else None
