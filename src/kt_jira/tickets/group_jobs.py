"""The group ticket's jobs: ``group_comment`` (a further escalation becomes one comment on it,
exactly once), ``group_summary`` (its summary shows how many escalations it holds), and a storm's
``storm_comment`` (on its group's ticket) and ``storm_note`` (on the policy's feedback Story).

A comment is ``attempting`` in the store before it is posted; a retry of an attempt whose answer
was lost (timeout after Jira committed it, a crash, ``kill -9``) looks for the comment's headline
among the ticket's comments (read by id, never through search) before posting again. Both jobs
wait (``Deferred``) while the group's ticket is still being created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from kt_jira import jobs
from kt_jira.config.models import Settings
from kt_jira.errors import Deferred, PermanentError, RetryableError, UncertainOutcome
from kt_jira.feedback.plan import policy_key
from kt_jira.jira import JiraClient
from kt_jira.jira.comments import already_posted, comment_body, plain_text
from kt_jira.jobs import Kind
from kt_jira.render.nodes import Document
from kt_jira.store import GroupRecord, Job, JobStatus, LinkState, Store, StormRecord
from kt_jira.tickets.groups import (
    counted_summary,
    headline,
    member_comment,
    storm_announcement,
    storm_story_note,
)
from kt_jira.worker import Handler

log = structlog.get_logger("kt_jira.groups")
#: A member's comment asks for a summary edit this much later, so a burst costs one edit.
SUMMARY_DELAY = timedelta(seconds=3)


@dataclass(kw_only=True)
class GroupJobs:
    settings: Settings
    store: Store
    jira: JiraClient
    clock: Callable[[], datetime]

    def table(self) -> dict[str, Handler]:
        return {
            Kind.GROUP_COMMENT: self.comment,
            Kind.GROUP_SUMMARY: self.summary,
            Kind.STORM_COMMENT: self.storm_comment,
            Kind.STORM_NOTE: self.storm_note,
        }

    def later(self, seconds: float) -> datetime:
        return self.clock() + timedelta(seconds=seconds)

    async def comment(self, job: Job) -> None:
        """The member's comment on its group's ticket, once (see the module docstring)."""
        escalation_id = str(job.payload["escalation_id"])
        found = await self.store.groups.member(escalation_id)
        record = await self.store.escalations.get(escalation_id)
        if found is None or record is None:
            raise PermanentError(f"escalation {escalation_id} is not a member of any group")
        member, group = found
        if member.comment_state == "posted":
            return
        issue_id = await self.ticket(group)
        if issue_id is None:
            return
        flavor = self.settings.jira.flavor
        marker = plain_text(comment_body(headline(escalation_id), flavor)).strip()
        summary = jobs.group_summary(group.id, run_at=self.clock() + SUMMARY_DELAY)
        if member.comment_state == "attempting" and await already_posted(
            self.jira, issue_id, marker
        ):
            await self.store.groups.comment_posted(
                escalation_id, comment_id="", summary=summary, now=self.clock()
            )
            log.info("group.comment_found", escalation_id=escalation_id, issue_key=group.issue_key)
            return
        doc = member_comment(
            record.escalation,
            console_url=self.settings.keeptrusts.console_url,
            joined_at=member.joined_at,
        )
        await self.store.groups.begin_comment(
            escalation_id,
            opener_id=group.opener_id,
            now=self.clock(),
            busy_until=self.later(self.settings.sync.echo_window_seconds),
        )
        try:
            comment_id = await self.jira.add_comment(issue_id, comment_body(doc, flavor))
        except UncertainOutcome:
            raise  # stays "attempting": the retry looks for it first
        except (RetryableError, PermanentError):
            await self.store.groups.clear_comment(escalation_id)
            raise
        await self.store.groups.comment_posted(
            escalation_id, comment_id=comment_id, summary=summary, now=self.clock()
        )
        log.info("group.commented", escalation_id=escalation_id, issue_key=group.issue_key,
                 group=group.id)  # fmt: skip

    async def summary(self, job: Job) -> None:
        """Show the group's count in its ticket's summary (read now: the latest count)."""
        group = await self.store.groups.group(int(job.payload["group_id"]))
        if group is None or group.member_count == 0:
            return
        issue_id = await self.ticket(group)
        if issue_id is None:
            return
        now = self.clock()
        busy = self.later(self.settings.sync.echo_window_seconds)
        await self.store.sync.begin_sync(group.opener_id, origin=None, now=now, busy_until=busy)
        summary = counted_summary(group.summary, group.size)
        await self.jira.edit_issue(issue_id, {"fields": {"summary": summary}})
        log.info("group.summary", group=group.id, issue_key=group.issue_key, size=group.size)

    async def storm_comment(self, job: Job) -> None:
        """Say once, on the storm group's ticket, that the policy's escalations are grouped."""
        storm = await self._storm(job)
        group = await self.store.groups.group(storm.group_id) if storm.group_id else None
        if group is None:
            return
        issue_id = await self.ticket(group)
        if issue_id is None:
            return
        window = self.settings.storm.span
        doc = storm_announcement(
            storm.policy_name, tickets=storm.tickets, window=window, until=storm.ends_at
        )
        await self._once(issue_id, doc, retried=job.attempts > 1, opener_id=group.opener_id)
        log.info("storm.announced", policy=storm.policy_name, issue_key=group.issue_key)

    async def storm_note(self, job: Job) -> None:
        """Note the storm on the policy's improvement Story, once; nothing without a Story."""
        storm = await self._storm(job)
        story = (await self.store.feedback.latest_stories([policy_key(storm.policy_name)])).get(
            policy_key(storm.policy_name)
        )
        if story is None:
            log.info("storm.no_story", policy=storm.policy_name)
            return
        if story.state is not LinkState.CREATED or story.issue_id is None:
            create = await self.store.queue.by_key(
                jobs.key(Kind.FEEDBACK_STORY, story.policy_key, str(story.sequence))
            )
            if create is None or create.status in (JobStatus.DONE, JobStatus.DEAD):
                return  # a Story that will not be created: nothing to note it on
            retry = self.later(self.settings.sync.pending_create_retry_seconds)
            raise Deferred("waiting for the policy's Story to be created", run_at=retry)
        group = await self.store.groups.group(storm.group_id) if storm.group_id else None
        doc = storm_story_note(
            storm.policy_name,
            tickets=storm.tickets,
            window=self.settings.storm.span,
            started_at=storm.started_at,
            until=storm.ends_at,
            ticket=(group.issue_key if group else None) or "one ticket",
        )
        await self._once(story.issue_id, doc, retried=job.attempts > 1)
        log.info("storm.noted", policy=storm.policy_name, story=story.issue_key)

    async def _storm(self, job: Job) -> StormRecord:
        storm = await self.store.storms.get(int(job.payload["storm_id"]))
        if storm is None:
            raise PermanentError(f"storm {job.payload['storm_id']} is not in the database")
        return storm

    async def _once(
        self, issue_id: str, doc: Document, *, retried: bool, opener_id: str | None = None
    ) -> None:
        """Post ``doc`` unless a retry finds its first paragraph on the issue already."""
        body = comment_body(doc, self.settings.jira.flavor)
        first = comment_body(Document(content=doc.content[:1]), self.settings.jira.flavor)
        if retried and await already_posted(self.jira, issue_id, plain_text(first).strip()):
            return
        if opener_id is not None:
            busy = self.later(self.settings.sync.echo_window_seconds)
            await self.store.sync.begin_sync(
                opener_id, origin=None, now=self.clock(), busy_until=busy
            )
        await self.jira.add_comment(issue_id, body)

    async def ticket(self, group: GroupRecord) -> str | None:
        """The group's issue id; ``Deferred`` while its create is still to run, permanent once
        that create is dead, ``None`` when the ticket was deleted (nothing to write to)."""
        if group.deleted_at is not None:
            log.warning("group.ticket_deleted", group=group.id, issue_key=group.issue_key)
            return None
        if group.issue_id is not None:
            return group.issue_id
        create = await self.store.queue.by_key(jobs.key(Kind.CREATE_ISSUE, group.opener_id))
        if create is not None and create.status is JobStatus.DEAD:
            raise PermanentError(
                f"the ticket of group {group.id} was never created: the create_issue job of "
                f"escalation {group.opener_id} is dead. Fix its error, then `kt-jira jobs "
                "replay` (this job with it)"
            )
        retry = self.later(self.settings.sync.pending_create_retry_seconds)
        raise Deferred("waiting for the group's ticket to be created", run_at=retry)
