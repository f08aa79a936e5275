"""Outbound sync for grouped escalations: one escalation of a group resolved in Keeptrusts is
a comment on the group's ticket; the last open one moves the ticket to done (``resolve_group``).

``GroupSync.sync_status_outbound`` is the ``resolve_jira`` job for every escalation: one with
no group (or the opener of a group nobody joined) takes the single-ticket path unchanged. A
resolution that began in Jira (the group ticket went done, and the bridge resolved the
escalation from there) is its echo and does nothing. The walk to done runs once per group, in
the ``resolve_group`` job keyed by the opener, whichever escalation closed the group last.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from kt_jira import jobs
from kt_jira.jira.comments import already_posted, comment_body, plain_text
from kt_jira.store import EscalationStatus, Job, LinkRecord, Placement
from kt_jira.sync.context import upstream
from kt_jira.sync.decisions import ORIGIN_JIRA, ORIGIN_KEEPTRUSTS
from kt_jira.sync.outbound import OutboundSync
from kt_jira.sync.text import resolved_headline, still_open

log = structlog.get_logger("kt_jira.sync")


@dataclass(kw_only=True)
class GroupSync(OutboundSync):
    """``resolve_jira`` for grouped escalations, and ``resolve_group``."""

    async def sync_status_outbound(self, job: Job) -> None:
        escalation_id = str(job.payload["escalation_id"])
        placed = await self.store.groups.placement(escalation_id)
        if placed is None or (placed.role == "opener" and placed.group.member_count == 0):
            await super().sync_status_outbound(job)
            return
        record = await self.escalation(escalation_id)
        if record.status is EscalationStatus.OPEN or not self.settings.sync.status_outbound:
            return
        link = await self._created_link(placed.group.opener_id)
        if link is None or link.issue_id is None or link.deleted_at is not None:
            return
        if await self._synced_before(escalation_id, placed, link):
            log.info("sync.outbound_skipped", escalation_id=escalation_id, group=placed.group.id)
            return
        group = placed.group
        open_count = await self.store.groups.open_count(group.id)
        if open_count == 0:
            then = jobs.resolve_group(group.opener_id, last=escalation_id, run_at=self.clock())
            await self.store.groups.resolution_synced(escalation_id, then=then, now=self.clock())
            log.info("sync.group_closed", escalation_id=escalation_id, group=group.id)
            return
        res = upstream(record)
        flavor = self.settings.jira.flavor
        marker = plain_text(comment_body(resolved_headline(res), flavor)).strip()
        if not (job.attempts > 1 and await already_posted(self.jira, link.issue_id, marker)):
            if placed.role == "member":
                await self.store.sync.begin_sync(
                    escalation_id, origin=ORIGIN_KEEPTRUSTS, now=self.clock()
                )
            busy = self.later(self.settings.sync.echo_window_seconds)
            await self.store.sync.begin_sync(
                group.opener_id, origin=None, now=self.clock(), busy_until=busy
            )
            await self.comment(link.issue_id, still_open(res, open_count=open_count))
        await self.store.groups.resolution_synced(escalation_id, then=None, now=self.clock())
        log.info("sync.group_noted", escalation_id=escalation_id, group=group.id,
                 still_open=open_count)  # fmt: skip

    async def _synced_before(self, escalation_id: str, placed: Placement, link: LinkRecord) -> bool:
        """Its resolution began in Jira (this is the echo), or reached the ticket already."""
        if placed.role == "opener":
            return link.last_origin == ORIGIN_JIRA or link.synced_to_jira_at is not None
        found = await self.store.groups.member(escalation_id)
        member = found[0] if found is not None else None
        return member is None or member.last_origin == ORIGIN_JIRA or bool(member.synced_to_jira_at)

    async def resolve_group(self, job: Job) -> None:
        """Every escalation of the group is closed: walk its ticket to done, once."""
        opener_id, last = str(job.payload["escalation_id"]), str(job.payload["last"])
        placed = await self.store.groups.placement(opener_id)
        link = await self._created_link(opener_id)
        if placed is None or link is None or link.issue_id is None:
            return
        if link.deleted_at or link.synced_to_jira_at or link.last_origin == ORIGIN_JIRA:
            log.info("sync.outbound_skipped", escalation_id=opener_id, origin=link.last_origin)
            return
        if await self.store.groups.open_count(placed.group.id):
            return  # not the last after all (it cannot reopen in Keeptrusts, but be sure)
        record = await self.escalation(last)
        await self.to_done(opener_id, link, upstream(record), group=placed.group.size)
