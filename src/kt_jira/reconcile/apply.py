"""Carrying out reconcile's plan: store writes with their jobs, and folds in Jira.

Creates and resolves are jobs, enqueued the way webhooks enqueue them, so the handlers' rules
(exactly-once creates, loop guards) hold for repairs too. A store write and the job that follows
it commit in one transaction. Duplicates are folded here, directly, under reconcile's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kt_jira import jobs
from kt_jira.config.models import Settings
from kt_jira.errors import KtJiraError
from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jira import JiraClient
from kt_jira.reconcile.fold import fold_duplicate
from kt_jira.reconcile.plan import Action, ActionKind
from kt_jira.reconcile.source import escalation_from
from kt_jira.render.sanitise import correlation_label
from kt_jira.store import Attempt, Store
from kt_jira.tickets.rules import decide


@dataclass(kw_only=True)
class Repairs:
    """Applies planned actions; raises on failure (the caller records it and goes on)."""

    settings: Settings
    store: Store
    jira: JiraClient

    async def apply(self, pair: list[Action], now: datetime) -> tuple[list[str], bool]:
        """Carry out one action (and the job that follows it); returns what happened to each,
        and whether anything changed (False: the job was already queued)."""
        first, follow = pair[0], pair[1] if len(pair) > 1 else None
        eid = first.escalation_id
        if first.kind is ActionKind.FOLD:
            folded = await fold_duplicate(
                self.jira,
                issue_key=first.issue_key,
                keep_key=first.keep_key,
                escalation_id=eid,
                resolution=self.settings.reconcile.duplicate_resolution,
            )
            how = folded.resolution or "no resolution offered"
            return [f"{folded.issue_key} → {folded.status} ({how})"], True
        if first.kind is ActionKind.LEARN and first.remote is not None:
            escalation = escalation_from(first.remote)
            job = jobs.create_issue(eid, run_at=now) if follow is not None else None
            searching = follow is not None and follow.search_first
            attempt = self._attempt(escalation, now) if searching else None
            key = await self.store.escalations.learn(
                escalation,
                payload=dict(first.remote.payload),
                now=now,
                job=job,
                attempt=attempt,
            )
            return ["stored from the Keeptrusts API", _queued(key)], key is not None
        if first.kind is ActionKind.RECORD_RESOLUTION and first.remote is not None:
            remote = first.remote
            resolution = Resolution(
                outcome=remote.resolution or remote.status,
                notes=remote.notes,
                resolved_by=remote.resolved_by,
                resolved_at=remote.resolved_at,
            )
            job = jobs.resolve_jira(eid, run_at=now) if follow else None
            key = await self.store.escalations.record_resolution(
                eid, resolution, expired=remote.status == "expired", now=now, job=job
            )
            return [f"recorded {remote.status} in the database", _queued(key)], True
        if first.kind is ActionKind.CREATE:
            record = await self.store.escalations.get(eid) if first.search_first else None
            attempt = self._attempt(record.escalation, now) if record is not None else None
            key = await self.store.queue.enqueue_again(
                jobs.create_issue(eid, run_at=now), now=now, attempt=attempt
            )
            return [_queued(key)], key is not None
        if first.kind is ActionKind.RESOLVE_JIRA:
            key = await self.store.queue.enqueue_again(jobs.resolve_jira(eid, run_at=now), now=now)
            return [_queued(key)], key is not None
        if first.kind is ActionKind.RESOLVE_GROUP:  # eid opened the group; it is the last known
            job = jobs.resolve_group(eid, last=eid, run_at=now)
            key = await self.store.queue.enqueue_again(job, now=now)
            return [_queued(key)], key is not None
        if first.kind is ActionKind.RESOLVE_KEEPTRUSTS:
            job = jobs.resolve_keeptrusts(
                escalation_id=eid,
                issue_id=first.issue_id,
                issue_key=first.issue_key,
                resolution=first.resolution,
                # Search does not say who closed the issue; the handler names the issue instead.
                actor_name="",
                actor_account_id="",
                run_at=now,
            )
            key = await self.store.queue.enqueue_again(job, now=now)
            return [_queued(key)], key is not None
        raise ValueError(f"reconcile cannot carry out {first.kind.value!r}")

    def _attempt(self, escalation: Escalation, now: datetime) -> Attempt:
        """The project the create will use (rules may route elsewhere) and the marker."""
        try:
            project = decide(escalation, self.settings.content, received_at=now).draft.project
        except KtJiraError:  # a broken rule fails the create job itself, with its message
            project = self.settings.jira.project
        label = correlation_label(escalation.escalation_id)
        return Attempt(project=project, correlation_label=label)


def follow_up(actions: tuple[Action, ...], index: int) -> int | None:
    """The job that goes with a store write, enqueued in the same transaction."""
    pairs = {
        ActionKind.LEARN: ActionKind.CREATE,
        ActionKind.RECORD_RESOLUTION: ActionKind.RESOLVE_JIRA,
    }
    wanted = pairs.get(actions[index].kind)
    following = index + 1
    if wanted is None or following >= len(actions):
        return None
    candidate = actions[following]
    same = candidate.escalation_id == actions[index].escalation_id
    return following if same and candidate.kind is wanted else None


def _queued(key: str | None) -> str:
    return f"enqueued {key}" if key else "a job for it is already queued"
