"""Outbound sync (Keeptrusts -> Jira): the ``resolve_jira`` job, and the walk to a done status.

Workflows differ per project and the bot cannot read them, so each hop re-reads the transitions
available now (``expand=transitions.fields``) and lets ``sync.choose_step`` pick one, never
revisiting a status, for at most ``max_hops`` hops. A resolution is sent only when the
transition's screen has the field, and dropped once if Jira still says it cannot be set. The
origin is recorded before the first write, so the issue's webhooks are known as our echoes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from kt_jira import jobs
from kt_jira.errors import Deferred, PermanentError
from kt_jira.jira import JiraClient
from kt_jira.jira.models import Transition
from kt_jira.store import EscalationStatus, JiraStatus, Job, JobStatus, LinkRecord
from kt_jira.sync.context import SyncContext, upstream
from kt_jira.sync.decisions import (
    DONE,
    ORIGIN_JIRA,
    ORIGIN_KEEPTRUSTS,
    choose_step,
    resolution_for,
    wanted_jira_resolution,
)
from kt_jira.sync.text import UpstreamResolution, no_path_to_done, resolved_upstream

log = structlog.get_logger("kt_jira.sync")


@dataclass(frozen=True, kw_only=True)
class IssueStatus:
    id: str
    name: str
    category: str

    @property
    def done(self) -> bool:
        return self.category == DONE


@dataclass(frozen=True, kw_only=True)
class Walk:
    """Where the walk ended; ``reached_done`` False means no path (``hops`` may be > 0)."""

    status: IssueStatus
    hops: int
    reached_done: bool
    resolution: str | None = None


async def current_status(jira: JiraClient, issue_id: str) -> IssueStatus:
    """The issue's status now, read by id (never through search, which lags)."""
    data = await jira.get_issue(issue_id, fields=["status"])
    fields = data.get("fields") if isinstance(data, dict) else None
    status = fields.get("status") if isinstance(fields, dict) else None
    if not isinstance(status, dict):
        raise PermanentError(f"Jira returned issue {issue_id} without a status", status=None)
    category = status.get("statusCategory")
    return IssueStatus(
        id=str(status.get("id", "")),
        name=str(status.get("name", "")),
        category=str(category.get("key", "")) if isinstance(category, dict) else "",
    )


async def walk_to_done(
    jira: JiraClient,
    issue_id: str,
    *,
    start: IssueStatus,
    wanted: str | None,
    max_hops: int,
) -> Walk:
    """Walk ``issue_id`` toward a done-category status; stop at the first one reached."""
    visited = {start.id}
    status = start
    for hop in range(max_hops):
        steps = await jira.transitions(issue_id)
        step = choose_step(steps, visited=visited, wanted=wanted, hops_left=max_hops - hop)
        if step is None:
            break
        sent = await _take(jira, issue_id, step, wanted)
        log.info(
            "sync.transitioned",
            issue_id=issue_id,
            transition=step.name,
            to=step.to_name,
            resolution=sent,
        )
        status = IssueStatus(id=step.to_id, name=step.to_name, category=step.to_category)
        visited.add(step.to_id)
        if step.done:
            return Walk(status=status, hops=hop + 1, reached_done=True, resolution=sent)
    return Walk(status=status, hops=len(visited) - 1, reached_done=False)


async def _take(
    jira: JiraClient, issue_id: str, step: Transition, wanted: str | None
) -> str | None:
    """Send one transition; returns the resolution it set (``None``: none was sent)."""
    resolution = resolution_for(step, wanted)
    body: dict[str, Any] = {"transition": {"id": step.id}}
    if resolution is not None:
        body["fields"] = {"resolution": {"name": resolution}}
    try:
        await jira.transition(issue_id, body)
    except PermanentError as exc:
        # expand=transitions.fields can over-report the screen: believe only Jira's refusal.
        cannot_set = "resolution" in str(exc).casefold() and "cannot be set" in str(exc).casefold()
        if resolution is None or exc.status != 400 or not cannot_set:
            raise
        log.info("sync.resolution_not_on_screen", issue_id=issue_id, transition=step.name)
        await jira.transition(issue_id, {"transition": {"id": step.id}})
        return None
    return resolution


@dataclass(kw_only=True)
class OutboundSync(SyncContext):
    """``sync_status_outbound``: the ``resolve_jira`` job."""

    async def sync_status_outbound(self, job: Job) -> None:
        """Move the issue of a closed escalation to a done status, with a comment; when the
        workflow has no path, comment and label instead of failing."""
        escalation_id = str(job.payload["escalation_id"])
        record = await self.escalation(escalation_id)
        if record.status is EscalationStatus.OPEN or not self.settings.sync.status_outbound:
            return
        link = await self._created_link(escalation_id)
        if link is None or link.issue_id is None:
            return
        if link.deleted_at or link.synced_to_jira_at or link.last_origin == ORIGIN_JIRA:
            # Deleted; done before; or the resolution began in Jira (this is its echo).
            log.info("sync.outbound_skipped", escalation_id=escalation_id, origin=link.last_origin)
            return
        await self.to_done(escalation_id, link, upstream(record))

    async def to_done(
        self, escalation_id: str, link: LinkRecord, res: UpstreamResolution, *, group: int = 0
    ) -> None:
        """Walk the link's issue to a done status and say why (``group``: the escalations of
        the group the ticket holds, all resolved); comment and label when there is no path."""
        assert link.issue_id is not None
        issue_id = link.issue_id
        start = await current_status(self.jira, issue_id)
        if start.done and link.last_origin != ORIGIN_KEEPTRUSTS:
            await self._finish(escalation_id, start, "already_done")
            return
        sync = self.settings.sync
        await self.store.sync.begin_sync(
            escalation_id,
            origin=ORIGIN_KEEPTRUSTS,
            now=self.clock(),
            busy_until=self.later(sync.echo_window_seconds),
        )
        if start.done:  # an earlier attempt of ours moved it; the comment is still owed
            await self.comment(issue_id, resolved_upstream(res, status=start.name, group=group))
            await self._finish(escalation_id, start, "transitioned")
            return
        walk = await walk_to_done(
            self.jira,
            issue_id,
            start=start,
            wanted=wanted_jira_resolution(res.outcome, sync.resolution_to_jira),
            max_hops=sync.max_transition_hops,
        )
        if walk.reached_done:
            await self.comment(
                issue_id, resolved_upstream(res, status=walk.status.name, group=group)
            )
            await self._finish(escalation_id, walk.status, "transitioned")
            return
        label = sync.resolved_upstream_label
        doc = no_path_to_done(res, status=walk.status.name, label=label, group=group)
        await self.comment(issue_id, doc)
        await self.jira.edit_issue(issue_id, {"update": {"labels": [{"add": label}]}})
        await self._finish(escalation_id, walk.status, "no_path")

    async def _created_link(self, escalation_id: str) -> LinkRecord | None:
        """The link with its issue; ``Deferred`` while its create is still to run."""
        link = await self.store.links.get(escalation_id)
        if link is not None and link.issue_id is not None:
            return link
        create = await self.store.queue.by_key(jobs.key(jobs.Kind.CREATE_ISSUE, escalation_id))
        if create is not None and create.status is JobStatus.DEAD:
            raise PermanentError(
                f"escalation {escalation_id} has no issue: its create job is dead. Fix its "
                "error, then `kt-jira jobs replay` (this job with it)"
            )
        if link is None and (create is None or create.status is JobStatus.DONE):
            log.info("sync.outbound_no_issue", escalation_id=escalation_id)
            return None
        retry = self.later(self.settings.sync.pending_create_retry_seconds)
        raise Deferred("waiting for the issue to be created", run_at=retry)

    async def _finish(self, escalation_id: str, status: IssueStatus, how: str) -> None:
        now = self.clock()
        seen = JiraStatus(status_id=status.id, category=status.category, at=now)
        await self.store.sync.finish_outbound(escalation_id, status=seen, outcome=how, now=now)
        log.info("sync.resolved_jira", escalation_id=escalation_id, status=status.name, how=how)
