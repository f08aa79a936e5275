"""Where an escalation's ticket comes from, before it is created: its own, a new group's (it
opens the group), or an open group's (it joins as a comment). The I/O around
``tickets.groups``'s decisions, called by the ``create_issue`` handler.

Order: a place decided before is kept; an open group of the rule's ``group_by`` takes it; a
policy in a storm (or tripping the runaway guard now) groups by policy; a rule with
``group_by`` opens a group; anything else gets its own ticket. A race with another worker on the
same group (``Conflict``) defers the job a moment; the retry joins what the other opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from kt_jira.config.models import Settings
from kt_jira.errors import Conflict, Deferred
from kt_jira.metrics import Metrics
from kt_jira.store import EscalationRecord, GroupOpening, Placement, Store
from kt_jira.tickets.groups import GroupChoice, rule_choice
from kt_jira.tickets.rules import Decision
from kt_jira.tickets.storms import StormGuard

log = structlog.get_logger("kt_jira.groups")


@dataclass(kw_only=True)
class Grouping:
    settings: Settings
    store: Store
    metrics: Metrics
    clock: Callable[[], datetime]

    @property
    def guard(self) -> StormGuard:
        return StormGuard(
            settings=self.settings, store=self.store, metrics=self.metrics, clock=self.clock
        )

    async def place(self, record: EscalationRecord, decision: Decision) -> Placement | None:
        """The group the escalation opens or joins; ``None``: it gets a ticket of its own."""
        now = self.clock()
        try:
            placed = await self._place(record, decision, now)
        except Conflict as exc:
            raise Deferred(str(exc), run_at=now) from exc
        if placed is not None:
            log.info(
                "group.placed",
                escalation_id=record.escalation_id,
                role=placed.role,
                group=placed.group.id,
                reason=placed.group.reason,
                members=placed.group.member_count,
            )
        return placed

    async def _place(
        self, record: EscalationRecord, decision: Decision, now: datetime
    ) -> Placement | None:
        groups = self.store.groups
        found = await groups.placement(record.escalation_id)
        if found is not None:
            return found
        choice = rule_choice(record.escalation, decision)
        if choice is not None:
            opening = self.opening(choice, record, decision, now)
            joined = await groups.join_or_open(
                record.escalation_id, opening, now=now, may_open=False
            )
            if joined is not None:
                return joined
        storm = await self.guard.place(record, decision, now)
        if storm is not None or choice is None:
            return storm
        opening = self.opening(choice, record, decision, now)
        return await groups.join_or_open(record.escalation_id, opening, now=now)

    @staticmethod
    def opening(
        choice: GroupChoice, record: EscalationRecord, decision: Decision, now: datetime
    ) -> GroupOpening:
        return GroupOpening(
            key=choice.key,
            rule=choice.rule,
            policy_name=record.policy_name,
            reason="storm" if choice.reason == "storm" else "rule",
            summary=decision.draft.summary,
            window_ends_at=now + choice.window,
        )
