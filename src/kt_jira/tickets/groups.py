"""Grouping, the decisions: which group an escalation belongs to, what its comment on the group's
ticket says, the counted summary, and when the runaway guard calls a storm.

Pure: escalations and settings in, keys, documents and booleans out; no store, network or
clock. A group key is a digest of the rule's name and the escalation's values for the rule's
``group_by`` keys (normalised, so ``GPT-4o`` and ``gpt-4o `` group together; a missing value is
its own bucket, ``""``). A storm groups by policy alone, under a key of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kt_jira.config.storm import StormSettings
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.nodes import Document, Link, Mark, Text, paragraph, text
from kt_jira.render.sanitise import one_line
from kt_jira.tickets.rules import Decision, console_link
from kt_jira.tickets.sla import parse_duration

SUMMARY_LIMIT = 255  #: Jira's summary length
RULE_PREFIX = "rule:"
STORM_PREFIX = "storm:"


@dataclass(frozen=True, kw_only=True)
class GroupChoice:
    """The group an escalation belongs to: its key, the values it was made of, the window."""

    key: str
    rule: str
    values: tuple[tuple[str, str], ...]  #: (group_by key, normalised value), in rule order
    window: timedelta
    reason: str = "rule"  #: rule | storm


def normalise(value: str) -> str:
    """How values compare inside a group key: trimmed, case-folded, inner spaces collapsed."""
    return " ".join(value.split()).casefold()


def facts(escalation: Escalation, category: str) -> dict[str, str]:
    """Every value a rule may group by (``config.rules.GROUP_BY_KEYS``)."""
    return {
        "policy": escalation.policy_name,
        "action": escalation.action,
        "severity": escalation.severity,
        "category": category,
        "model": escalation.model,
        "gateway_id": escalation.gateway_id,
        "org_id": escalation.org_id,
        "user_id": escalation.user_id,
    }


def _digest(parts: object) -> str:
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "replace"
    )
    return hashlib.sha256(encoded).hexdigest()


def rule_group(
    escalation: Escalation,
    *,
    rule: str,
    category: str,
    group_by: Sequence[str],
    window: timedelta,
) -> GroupChoice:
    """The group of ``escalation`` under a rule's ``group_by`` (the values of those keys)."""
    known = facts(escalation, category)
    values = tuple((key, normalise(known.get(key, ""))) for key in group_by)
    key = RULE_PREFIX + _digest([rule, [list(pair) for pair in values]])
    return GroupChoice(key=key, rule=rule, values=values, window=window)


def rule_choice(escalation: Escalation, decision: Decision) -> GroupChoice | None:
    """The group the matched rule's ``group_by`` puts the escalation in (``None``: the rule
    does not group)."""
    chosen = decision.rule.set
    if not chosen.group_by:
        return None
    return rule_group(
        escalation,
        rule=decision.rule.name,
        category=decision.category,
        group_by=chosen.group_by,
        window=parse_duration(chosen.grouping_window),
    )


def storm_key(policy_name: str) -> str:
    """The key of a policy's storm group (one open at a time, whatever the rule)."""
    return STORM_PREFIX + _digest(["storm", normalise(policy_name)])


def storm_group(policy_name: str, *, rule: str, window: timedelta) -> GroupChoice:
    """The group a storm puts its policy's escalations in: by policy alone."""
    values = (("policy", normalise(policy_name)),)
    return GroupChoice(
        key=storm_key(policy_name), rule=rule, values=values, window=window, reason="storm"
    )


def storm_due(tickets_in_window: int, settings: StormSettings) -> bool:
    """Whether opening one more ticket would make the policy open more than
    ``max_tickets_per_policy`` within the window: then it is a storm (never when switched off)."""
    limit = settings.max_tickets_per_policy
    return bool(limit) and tickets_in_window >= (limit or 0)


def counted_summary(summary: str, count: int) -> str:
    """``[N escalations] <summary>``, on one line, cut to Jira's 255 characters."""
    noun = "escalation" if count == 1 else "escalations"
    return one_line(f"[{count} {noun}] {summary}", SUMMARY_LIMIT)


def member_headline(escalation_id: str) -> str:
    """The first words of a member's comment: unique per escalation on its group's ticket, so
    a retry after an unknown outcome finds the comment it may have posted."""
    return f"Escalation {escalation_id} joined this group"


def headline(escalation_id: str) -> Document:
    """The member comment's first paragraph alone: rendered for the site (``comment_body``), its
    plain text is what a retry looks for (wiki markup escapes some characters of an id)."""
    return Document(content=(paragraph(text(member_headline(escalation_id) + ".")),))


def _value(value: str) -> str:
    return value.strip() or "(not given)"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "(time not given)"


def member_comment(escalation: Escalation, *, console_url: str, joined_at: datetime) -> Document:
    """What a further escalation of a group says on its ticket: what happened, when, for which
    user, model and gateway, and where to see it in the Keeptrusts console. Every value enters
    as text, so a payload cannot add markup."""
    strong: frozenset[Mark] = frozenset({"strong"})
    what = escalation.action.strip() or "escalation"
    severity = f" ({escalation.severity.strip()})" if escalation.severity.strip() else ""
    return Document(
        content=(
            *headline(escalation.escalation_id).content,
            paragraph(
                text("Policy "),
                Text(text=_value(escalation.policy_name), marks=strong),
                text(f": {what}{severity} at {_when(escalation.occurred_at or joined_at)}."),
            ),
            paragraph(
                text(f"User {_value(escalation.user_id)}, model {_value(escalation.model)}, "),
                text(f"gateway {_value(escalation.gateway_id)}."),
            ),
            paragraph(
                Link(
                    text="Open it in the Keeptrusts console",
                    href=console_link(console_url, escalation.escalation_id),
                )
            ),
        )
    )


def span_words(span: timedelta) -> str:
    """``10 min``, ``2 h``, ``1 d``: a window as people read it."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 120:
        return f"{max(minutes, 1)} min"
    return f"{minutes // 60} h" if minutes < 2880 else f"{minutes // 1440} d"


def storm_announcement(
    policy_name: str, *, tickets: int, window: timedelta, until: datetime
) -> Document:
    """The storm's one comment on its group's ticket. Its first paragraph is the headline a
    retry looks for."""
    return Document(
        content=(
            paragraph(
                text(f"Storm control: policy {policy_name} opened {tickets} tickets in "),
                text(f"{span_words(window)}; further escalations are grouped here until "),
                text(f"{until.strftime('%H:%M')} UTC."),
            ),
            paragraph(
                text("Each one becomes a comment on this ticket instead of a ticket of its own, "),
                text("and the summary counts them. After that the policy gets tickets again."),
            ),
        )
    )


def storm_story_note(
    policy_name: str,
    *,
    tickets: int,
    window: timedelta,
    started_at: datetime,
    until: datetime,
    ticket: str,
) -> Document:
    """The note on the policy's improvement Story: the policy misfired badly enough to storm."""
    when = started_at.strftime("%Y-%m-%d %H:%M")
    return Document(
        content=(
            paragraph(
                text(f"Storm control: on {when} UTC policy {policy_name} opened {tickets} "),
                text(f"tickets in {span_words(window)}, so its escalations were grouped into "),
                text(f"{ticket} until {until.strftime('%H:%M')} UTC."),
            ),
            paragraph(text("A storm usually means the policy misfires: worth a look here.")),
        )
    )
