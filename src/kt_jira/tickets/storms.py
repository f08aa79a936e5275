"""The runaway guard: a policy that opened more than ``storm.max_tickets_per_policy`` tickets
within ``storm.window`` is in a storm, and its escalations join one group per policy until the
storm ends (one window after it started); then it gets tickets again by itself.

The I/O around ``tickets.groups.storm_due``, called by ``Grouping.place`` before a NEW ticket
would be opened (never for a member). Starting a storm is one store transaction
(``store.storms.start``) with the jobs that say so; the caller that started it logs
``storm.started`` and counts ``kt_jira_storms_total`` (once, as the store decides).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from kt_jira import jobs
from kt_jira.config.models import Settings
from kt_jira.jobs import NewJob
from kt_jira.metrics import Metrics
from kt_jira.store import EscalationRecord, GroupOpening, Placement, Store
from kt_jira.tickets.groups import STORM_PREFIX, storm_due, storm_key
from kt_jira.tickets.rules import Decision

log = structlog.get_logger("kt_jira.groups")


def storm_policy_key(policy_name: str) -> str:
    """The storms table's key of a policy (the digest in its storm group's key)."""
    return storm_key(policy_name).removeprefix(STORM_PREFIX)


@dataclass(kw_only=True)
class StormGuard:
    settings: Settings
    store: Store
    metrics: Metrics
    clock: Callable[[], datetime]

    async def place(
        self, record: EscalationRecord, decision: Decision, now: datetime
    ) -> Placement | None:
        """The storm group the escalation joins (or opens, starting the storm); ``None``: the
        policy is not storming, and the escalation may open a ticket."""
        config = self.settings.storm
        if not config.enabled:
            return None
        policy = record.policy_name
        key = storm_policy_key(policy)
        running = await self.store.storms.active(key, now=now)
        tickets = 0
        if running is None:
            tickets = await self.store.groups.tickets_since(policy, since=now - config.span)
            if not storm_due(tickets, config):
                return None
        opening = GroupOpening(
            key=storm_key(policy),
            rule=decision.rule.name,
            policy_name=policy,
            reason="storm",
            summary=decision.draft.summary,
            window_ends_at=running.ends_at if running is not None else now + config.span,
        )
        if running is not None:
            return await self.store.groups.join_or_open(record.escalation_id, opening, now=now)
        storm, started, placed = await self.store.storms.start(
            record.escalation_id,
            policy_key=key,
            opening=opening,
            tickets=tickets,
            jobs=lambda storm_id: said(storm_id, now),
            now=now,
        )
        if started:
            self.metrics.storms.labels(policy=policy).inc()
            log.warning("storm.started", policy=policy, tickets=tickets,
                        until=storm.ends_at.isoformat(), group=placed.group.id)  # fmt: skip
        return placed


def said(storm_id: int, now: datetime) -> Sequence[NewJob]:
    """How a storm is said, once: on its group's ticket, and on the policy's Story."""
    return (jobs.storm_comment(storm_id, run_at=now), jobs.storm_note(storm_id, run_at=now))
