"""Inbound sync and Jira events: the ``jira_event``, ``resolve_keeptrusts`` and
``explain_reopen`` jobs, and ``SyncHandlers``, which also runs outbound's ``resolve_jira``.

``jira_event``          apply one Jira webhook: status (forward only), first response, deletion
``resolve_keeptrusts``  a done Jira issue resolves its escalation (``sync_status_inbound``)
``resolve_jira``        a closed escalation moves its issue to done (``sync_outbound``)
``explain_reopen``      one comment when an issue is reopened after its escalation closed

Every write records its origin on the link first, so its echo from the other side is known and
never synced back; decisions come from the pure ``sync`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from kt_jira import jobs as jobs_contract
from kt_jira.errors import Deferred, RetryableError
from kt_jira.events.jira import JiraEvent
from kt_jira.events.keeptrusts import Resolution
from kt_jira.jobs import Kind, NewJob
from kt_jira.keeptrusts import ResolveOutcome
from kt_jira.store import (
    EscalationStatus,
    InboundChange,
    JiraStatus,
    Job,
    JobStatus,
    LinkRecord,
    SlaSignal,
)
from kt_jira.sync.context import upstream
from kt_jira.sync.decisions import (
    ORIGIN_JIRA,
    LinkFacts,
    actor_for,
    change_number,
    keeptrusts_notes,
    keeptrusts_outcome,
    plan_inbound,
)
from kt_jira.sync.group_outbound import GroupSync
from kt_jira.sync.outbound import current_status
from kt_jira.sync.text import reopened_after_resolve
from kt_jira.tickets.sla_clock import RESPONSES
from kt_jira.tickets.sla_signals import signals_from_jira
from kt_jira.worker import Handler

__all__ = ["SyncHandlers"]
log = structlog.get_logger("kt_jira.sync")
PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(kw_only=True)
class SyncHandlers(GroupSync):
    """Every sync job kind; ``table()`` is what the worker runs."""

    _bot: str | None = field(default=None, init=False)

    def table(self) -> dict[str, Handler]:
        return {
            Kind.JIRA_EVENT: self.apply_jira_event,
            Kind.RESOLVE_KEEPTRUSTS: self.sync_status_inbound,
            Kind.RESOLVE_JIRA: self.sync_status_outbound,
            Kind.RESOLVE_GROUP: self.resolve_group,
            Kind.EXPLAIN_REOPEN: self.explain_reopen,
        }

    async def bot_account_id(self) -> str:
        """The bridge's own Jira account (``GET /myself``), read once per process."""
        if self._bot is None:
            self._bot = (await self.jira.myself()).account_id
        return self._bot

    # -- Jira events --------------------------------------------------------------------------

    async def apply_jira_event(self, job: Job) -> None:
        """Apply one Jira webhook: record status (forward only), first response, deletion, and
        enqueue an inbound resolve or a reopen explanation when a person caused it."""
        escalation_id = str(job.payload["escalation_id"])
        event = JiraEvent.from_job(job.payload["event"])
        bot = await self.bot_account_id()
        for _ in range(4):
            link = await self.store.links.get(escalation_id)
            record = await self.store.escalations.get(escalation_id)
            if link is None or record is None:
                log.warning("sync.event_unlinked", escalation_id=escalation_id)
                return
            if link.issue_id is not None and link.issue_id != event.issue_id:
                # A second ticket with this escalation's marker: reconcile folds it; it speaks
                # for nothing here.
                log.info("sync.event_duplicate_ticket", escalation_id=escalation_id,
                         issue_id=event.issue_id, linked=link.issue_id)  # fmt: skip
                return
            facts = LinkFacts(
                escalation_closed=record.status is not EscalationStatus.OPEN,
                first_response_at=link.first_response_at,
                status_category=link.jira_status_category,
                status_at=link.jira_status_at,
                status_change=link.jira_changelog_id,
                bridge_busy_until=link.bridge_busy_until,
            )
            inbound = self.settings.sync.status_inbound
            plan = plan_inbound(event, facts, bot_account_id=bot, inbound=inbound)
            if plan.need_issue:
                status = await current_status(self.jira, event.issue_id)
                event = replace(
                    event,
                    status_id=status.id,
                    status_name=status.name,
                    status_category=status.category or "unknown",
                )
                continue
            now = self.clock()
            jobs = self._jobs_for(plan.resolve, plan.explain_reopen, event, link, now)
            members = self._resolve(event, link, now) if plan.resolve_members else None
            moved = event.issue_key and link.issue_id == event.issue_id and not plan.stale
            change = InboundChange(
                seen_status_at=link.jira_status_at,
                seen_changelog_id=link.jira_changelog_id,
                status=_seen(event) if plan.record_status else None,
                issue_key=event.issue_key if moved and event.issue_key != link.issue_key else None,
                first_response_at=plan.first_response_at,
                deleted_at=(event.timestamp or now) if plan.deleted else None,
                resolution=event.resolution,
                signals=self._signals(event, link, bot=bot, echo=plan.echo),
                jobs=tuple(jobs),
                members_resolve=members,
                detail=_detail(event, plan.echo, plan.stale),
            )
            applied = await self.store.sync.apply_inbound(escalation_id, change, now=now)
            if applied:
                return
        raise RetryableError(f"concurrent Jira events for issue {event.issue_id}; retrying")

    def _signals(
        self, event: JiraEvent, link: LinkRecord, *, bot: str, echo: bool
    ) -> tuple[SlaSignal, ...]:
        """The SLA facts the event carries, for a tracked ticket; the bridge's own changes (and
        echoes without an author) never count as a response."""
        if link.sla_started_at is None:
            return ()
        found = signals_from_jira(
            event, bridge_account=bot, pause_statuses=self.settings.sla.pause_statuses
        )
        return tuple(
            SlaSignal(kind=signal.kind.value, at=signal.at)
            for signal in found
            if not (echo and signal.kind in RESPONSES)
        )

    def _jobs_for(
        self, resolve: bool, explain: bool, event: JiraEvent, link: LinkRecord, now: datetime
    ) -> list[NewJob]:
        jobs = [self._resolve(event, link, now)] if resolve else []
        if explain:
            change = event.changelog_id or str(int((event.timestamp or now).timestamp() * 1000))
            jobs.append(
                jobs_contract.explain_reopen(
                    link.escalation_id, change=change, actor_name=event.actor_name, run_at=now
                )
            )
        return jobs

    def _resolve(self, event: JiraEvent, link: LinkRecord, now: datetime) -> NewJob:
        """Resolve the link's escalation upstream (the store copies it for a group's members)."""
        return jobs_contract.resolve_keeptrusts(
            escalation_id=link.escalation_id,
            issue_id=event.issue_id,
            issue_key=event.issue_key or link.issue_key or "",
            resolution=event.resolution,
            actor_name=event.actor_name,
            actor_account_id=event.actor_id,
            run_at=now,
        )

    # -- inbound: Jira -> Keeptrusts --------------------------------------------------------

    async def sync_status_inbound(self, job: Job) -> None:
        """Resolve the escalation in Keeptrusts with the mapped resolution and a note naming the
        issue and who resolved it; "already resolved" there is success."""
        p = job.payload
        escalation_id = str(p["escalation_id"])
        record = await self.escalation(escalation_id)
        if not self.settings.sync.status_inbound or record.status is not EscalationStatus.OPEN:
            log.info("sync.inbound_skipped", escalation_id=escalation_id, status=record.status)
            return
        sync = self.settings.sync
        shown = str(p.get("resolution") or "") or sync.default_resolution
        outcome = keeptrusts_outcome(
            shown, sync.resolution_to_keeptrusts, default_resolution=sync.default_resolution
        )
        link = await self.store.links.get(escalation_id)
        key = str(p.get("issue_key") or (link.issue_key if link else "") or p.get("issue_id"))
        notes = keeptrusts_notes(
            issue_key=key, actor_name=str(p.get("actor_name") or ""), resolution=shown
        )
        actor = actor_for(
            str(p.get("actor_account_id") or ""),
            sync.actor_map,
            default_actor_id=sync.default_actor_id,
        )
        await self.store.sync.begin_sync(escalation_id, origin=ORIGIN_JIRA, now=self.clock())
        result = await self.keeptrusts.resolve(
            escalation_id, resolution=outcome, notes=notes, actor_id=actor
        )
        now = self.clock()
        resolution = Resolution(
            outcome=outcome, notes=notes, resolved_by=str(p.get("actor_name") or actor)
        )
        await self.store.sync.finish_inbound(
            escalation_id,
            resolution=resolution if result is ResolveOutcome.RESOLVED else None,
            outcome=result.value,
            now=now,
        )
        log.info("sync.resolved_keeptrusts", escalation_id=escalation_id, outcome=result.value,
                 resolution=outcome, actor=actor)  # fmt: skip

    # -- reopen -----------------------------------------------------------------------------

    async def explain_reopen(self, job: Job) -> None:
        """One comment: the escalation stays closed in Keeptrusts (resolves are final)."""
        escalation_id = str(job.payload["escalation_id"])
        record = await self.escalation(escalation_id)
        if record.status is EscalationStatus.OPEN:
            pending = await self.store.queue.by_key(
                jobs_contract.key(Kind.RESOLVE_KEEPTRUSTS, escalation_id)
            )
            if pending is not None and pending.status in PENDING:
                retry = self.later(self.settings.sync.pending_create_retry_seconds)
                raise Deferred("waiting for the Keeptrusts resolve", run_at=retry)
            return  # still open upstream: a reopen is ordinary Jira work
        link = await self.store.links.get(escalation_id)
        if link is None or link.issue_id is None or link.deleted_at is not None:
            return
        busy = self.later(self.settings.sync.echo_window_seconds)
        await self.store.sync.begin_sync(
            escalation_id, origin=None, now=self.clock(), busy_until=busy
        )
        actor = str(job.payload.get("actor_name") or "")
        await self.comment(link.issue_id, reopened_after_resolve(upstream(record), actor=actor))
        log.info("sync.reopen_explained", escalation_id=escalation_id, issue_id=link.issue_id)


def _seen(event: JiraEvent) -> JiraStatus:
    assert event.timestamp is not None  # parse_jira_event refuses events without one
    return JiraStatus(
        status_id=event.status_id,
        category=event.status_category,
        at=event.timestamp,
        changelog_id=change_number(event) or None,
    )


def _detail(event: JiraEvent, echo: bool, stale: bool) -> dict[str, Any]:
    detail: dict[str, Any] = {"event": event.raw_type, "actor": event.actor_id, "echo": echo}
    if stale:
        detail["stale"] = True
    for name in ("status_change", "resolution_change", "assignee_change"):
        change = getattr(event, name)
        if change is not None:
            detail[name.removesuffix("_change")] = [change.from_name, change.to_name]
    return detail
