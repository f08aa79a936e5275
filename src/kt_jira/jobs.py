"""The job contract: every job kind, its unique key, its priority and its payload.

Pure. The factories here are the only way to build a ``NewJob``: web intake, handlers, sync and
reconcile all call them, so one piece of work always gets one key and enqueueing it twice is a
no-op. A key's format is part of the stored data: change it only with a migration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

# Lower runs first. Creates go before updates (DESIGN.md, "Exactly once").
PRIORITY_CREATE = 0
PRIORITY_UPDATE = 10


class Kind(StrEnum):
    """Every job kind the worker runs; the value is what the ``jobs.kind`` column holds."""

    CREATE_ISSUE = "create_issue"  #: Keeptrusts -> Jira: the escalation's ticket, exactly once
    JIRA_EVENT = "jira_event"  #: one verified Jira webhook delivery to apply
    RESOLVE_KEEPTRUSTS = "resolve_keeptrusts"  #: inbound: the ticket is done, resolve upstream
    RESOLVE_JIRA = "resolve_jira"  #: outbound: the escalation closed, walk the ticket to done
    EXPLAIN_REOPEN = "explain_reopen"  #: a ticket reopened after a final Keeptrusts resolve
    SLA_ACTION = "sla_action"  #: a breached (or at-risk) target: label and comment the ticket
    SLA_NOTIFY = "sla_notify"  #: tell a channel (signed webhook, Slack) about an SLA action
    FEEDBACK_STORY = "feedback_story"  #: a policy's improvement Story, exactly once, linked
    FEEDBACK_LINK = "feedback_link"  #: later false positives: link them to the Story, comment
    GROUP_COMMENT = "group_comment"  #: a further escalation of a group: one comment on its ticket
    GROUP_SUMMARY = "group_summary"  #: the group ticket's summary shows how many it holds
    RESOLVE_GROUP = "resolve_group"  #: outbound: a group's last escalation closed, ticket to done
    STORM_COMMENT = "storm_comment"  #: a storm started: say so on its group's ticket, once
    STORM_NOTE = "storm_note"  #: a storm started: note it on the policy's feedback Story, once


@dataclass(frozen=True, kw_only=True)
class NewJob:
    """A job to enqueue; ``job_key`` is unique, so enqueueing the same key twice is a no-op."""

    kind: str
    job_key: str
    payload: Mapping[str, Any]
    run_at: datetime
    priority: int = PRIORITY_UPDATE


class EscalationPayload(TypedDict):
    """``create_issue`` and ``resolve_jira``: the escalation; the rest is read from the store."""

    escalation_id: str


class JiraEventPayload(TypedDict):
    """``jira_event``: the parsed event (``JiraEvent.as_job()``); ``escalation_id`` is added
    when the store finds the issue linked (``linked_to``)."""

    event: dict[str, Any]
    escalation_id: NotRequired[str]


class ResolveKeeptrustsPayload(TypedDict):
    """``resolve_keeptrusts``: ``resolution`` is the Jira resolution name, mapped on use."""

    escalation_id: str
    issue_id: str
    issue_key: str
    resolution: str
    actor_name: str
    actor_account_id: str


class ExplainReopenPayload(TypedDict):
    escalation_id: str
    actor_name: str


class SlaActionPayload(TypedDict):
    """``sla_action``: what the scan found (``target``: ``first_response`` or ``resolution``;
    ``action``: ``breached`` or ``at_risk``), the label to add and the comment, in words."""

    escalation_id: str
    target: str
    action: str
    due: str
    label: str
    comment: str


class SlaNotifyPayload(TypedDict):
    """``sla_notify``: ``channel`` is ``webhook`` or ``slack``; ``event`` is the JSON the
    generic webhook receives (``sla.notification``), the Slack message is made from it."""

    channel: str
    event: dict[str, Any]


class FeedbackStoryPayload(TypedDict):
    """``feedback_story``: Story ``sequence`` of the policy whose name digests to ``policy_key``;
    its members and facts are read from the store."""

    policy_key: str
    sequence: int


class FeedbackLinkPayload(TypedDict):
    """``feedback_link``: the escalations that joined the Story in one scan (one comment)."""

    policy_key: str
    sequence: int
    escalation_ids: list[str]


class ResolveGroupPayload(TypedDict):
    """``resolve_group``: the group's opener (its key: one walk to done per group, ever) and the
    escalation whose resolution closed the group last (quoted in the comment)."""

    escalation_id: str
    last: str


class StormPayload(TypedDict):
    """``storm_comment`` and ``storm_note``: the storm (its facts are read from the store)."""

    storm_id: int


class GroupSummaryPayload(TypedDict):
    """``group_summary``: the group whose ticket's summary shows its count (read at run time)."""

    group_id: int


#: Joins a job's key and a stamp for a repeat of finished work (see ``again``).
REPEAT_SEPARATOR = ":reconcile:"


def key(kind: Kind, *parts: str) -> str:
    """``kind:part:part``: the unique key of one piece of work."""
    return ":".join((kind.value, *parts))


def create_issue(escalation_id: str, *, run_at: datetime) -> NewJob:
    """Create the escalation's ticket; one per escalation, ever."""
    payload: EscalationPayload = {"escalation_id": escalation_id}
    return _job(Kind.CREATE_ISSUE, (escalation_id,), payload, run_at, priority=PRIORITY_CREATE)


def jira_event(event: Mapping[str, Any], *, delivery_id: str, run_at: datetime) -> NewJob:
    """Apply one Jira delivery (``event``: ``JiraEvent.as_job()``), once per delivery id."""
    payload: JiraEventPayload = {"event": dict(event)}
    return _job(Kind.JIRA_EVENT, (delivery_id,), payload, run_at)


def resolve_jira(escalation_id: str, *, run_at: datetime) -> NewJob:
    """Outbound: move the ticket of a closed escalation to done (the resolution is stored)."""
    payload: EscalationPayload = {"escalation_id": escalation_id}
    return _job(Kind.RESOLVE_JIRA, (escalation_id,), payload, run_at)


def resolve_keeptrusts(
    *,
    escalation_id: str,
    issue_id: str,
    issue_key: str,
    resolution: str,
    actor_name: str,
    actor_account_id: str,
    run_at: datetime,
) -> NewJob:
    """Inbound: resolve the escalation in Keeptrusts; ``resolution`` is the Jira name."""
    payload: ResolveKeeptrustsPayload = {
        "escalation_id": escalation_id,
        "issue_id": issue_id,
        "issue_key": issue_key,
        "resolution": resolution,
        "actor_name": actor_name,
        "actor_account_id": actor_account_id,
    }
    return _job(Kind.RESOLVE_KEEPTRUSTS, (escalation_id,), payload, run_at)


def resolve_member(job: NewJob, escalation_id: str) -> NewJob:
    """A ``resolve_keeptrusts`` job for the group's ticket, for one of its members: the same
    issue, resolution and actor, keyed by the member (each escalation resolved once)."""
    p = job.payload
    return resolve_keeptrusts(
        escalation_id=escalation_id,
        issue_id=str(p["issue_id"]),
        issue_key=str(p["issue_key"]),
        resolution=str(p["resolution"]),
        actor_name=str(p["actor_name"]),
        actor_account_id=str(p["actor_account_id"]),
        run_at=job.run_at,
    )


def explain_reopen(escalation_id: str, *, change: str, actor_name: str, run_at: datetime) -> NewJob:
    """One explanatory comment per reopen (``change``: its changelog id)."""
    payload: ExplainReopenPayload = {"escalation_id": escalation_id, "actor_name": actor_name}
    return _job(Kind.EXPLAIN_REOPEN, (escalation_id, change), payload, run_at)


def sla_action(payload: SlaActionPayload, *, run_at: datetime) -> NewJob:
    """Act on one breach (or at-risk warning) of one target: once per ticket, target, action."""
    parts = (payload["escalation_id"], payload["target"], payload["action"])
    return _job(Kind.SLA_ACTION, parts, payload, run_at)


def sla_notify(channel: str, event: Mapping[str, Any], *, run_at: datetime) -> NewJob:
    """Notify ``channel`` of one SLA action (``event`` names the ticket, target and action)."""
    payload: SlaNotifyPayload = {"channel": channel, "event": dict(event)}
    parts = (channel, str(event["escalation_id"]), str(event["target"]), str(event["action"]))
    return _job(Kind.SLA_NOTIFY, parts, payload, run_at)


def feedback_story(policy_key: str, sequence: int, *, run_at: datetime) -> NewJob:
    """Create the policy's Story number ``sequence`` and link its tickets; once per Story."""
    payload: FeedbackStoryPayload = {"policy_key": policy_key, "sequence": sequence}
    return _job(Kind.FEEDBACK_STORY, (policy_key, str(sequence)), payload, run_at)


def feedback_link(
    policy_key: str, sequence: int, escalation_ids: Sequence[str], *, run_at: datetime
) -> NewJob:
    """Link one batch of later false positives to the Story, with one comment. The key names
    the batch's first escalation: each escalation joins a Story once, so it names one batch."""
    if not escalation_ids:
        raise ValueError("a feedback_link job needs at least one escalation")
    payload: FeedbackLinkPayload = {
        "policy_key": policy_key,
        "sequence": sequence,
        "escalation_ids": list(escalation_ids),
    }
    parts = (policy_key, str(sequence), escalation_ids[0])
    return _job(Kind.FEEDBACK_LINK, parts, payload, run_at)


def group_comment(escalation_id: str, *, run_at: datetime) -> NewJob:
    """The comment a grouped escalation becomes on its group's ticket; once per escalation."""
    payload: EscalationPayload = {"escalation_id": escalation_id}
    return _job(Kind.GROUP_COMMENT, (escalation_id,), payload, run_at)


def group_summary(group_id: int, *, run_at: datetime) -> NewJob:
    """Show the group's count in its ticket's summary. One key per group: while one is queued,
    enqueueing it again is a no-op, so a burst of members costs one edit (see
    ``store.groups.comment_posted``, which enqueues a fresh copy once it has run)."""
    payload: GroupSummaryPayload = {"group_id": group_id}
    return _job(Kind.GROUP_SUMMARY, (str(group_id),), payload, run_at)


def resolve_group(opener_id: str, *, last: str, run_at: datetime) -> NewJob:
    """Outbound: every escalation of the group ``opener_id`` opened is closed; move its ticket
    to done. Keyed by the opener, as reconcile's job reads are."""
    payload: ResolveGroupPayload = {"escalation_id": opener_id, "last": last}
    return _job(Kind.RESOLVE_GROUP, (opener_id,), payload, run_at)


def storm_comment(storm_id: int, *, run_at: datetime) -> NewJob:
    """Say on the storm group's ticket that the policy's escalations are grouped there."""
    payload: StormPayload = {"storm_id": storm_id}
    return _job(Kind.STORM_COMMENT, (str(storm_id),), payload, run_at)


def storm_note(storm_id: int, *, run_at: datetime) -> NewJob:
    """Note the storm on the policy's false-positive Story, if it has one."""
    payload: StormPayload = {"storm_id": storm_id}
    return _job(Kind.STORM_NOTE, (str(storm_id),), payload, run_at)


def again(job: NewJob, *, now: datetime) -> NewJob:
    """The same work under a fresh key, for a repair after the first job finished.

    Its key starts with the original's and ``REPEAT_SEPARATOR``, so the original's key still
    finds every repeat of it.
    """
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    return replace(job, job_key=f"{job.job_key}{REPEAT_SEPARATOR}{stamp}")


def linked_to(job: NewJob, escalation_id: str) -> NewJob:
    """``job`` carrying the escalation its issue is linked to (known only inside the store)."""
    return replace(job, payload={**job.payload, "escalation_id": escalation_id})


def _job(
    kind: Kind,
    parts: tuple[str, ...],
    payload: Mapping[str, Any],
    run_at: datetime,
    *,
    priority: int = PRIORITY_UPDATE,
) -> NewJob:
    job_key = key(kind, *parts)
    return NewJob(
        kind=kind.value, job_key=job_key, payload=payload, run_at=run_at, priority=priority
    )
