"""``FeedbackLoop``: the false-positive scan and its two job handlers, the loop's I/O.

``scan(now)`` reads every policy's recent false positives and latest Story, lets the pure
``plan`` decide, and records what it decides (a Story opened, or tickets joining one) with its
job in one transaction. ``feedback_story`` creates the Story exactly once, like ``create_issue``
(attempt first; after an unknown outcome, search for the marker label and adopt before creating
again), then links its tickets; ``feedback_link`` links later tickets and comments once per
batch. Each ticket is linked once: linked members are recorded, and the Story's own links are
read before linking, so a retry never relies on Jira to drop a repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, NoReturn

import structlog

from kt_jira import jobs
from kt_jira.config.models import CorrelationSettings, Settings
from kt_jira.config.sla import FalsePositiveSettings
from kt_jira.errors import Deferred, PermanentError, RetryableError, UncertainOutcome
from kt_jira.feedback.jira_links import link_type_named, linked_to
from kt_jira.feedback.plan import (
    FalsePositive,
    OpenStory,
    Pattern,
    Story,
    horizon,
    marker,
    more_comment,
    plan,
    policy_key,
    story_draft,
)
from kt_jira.jira import JiraClient, JiraMetadata, find_by_label
from kt_jira.jira.comments import already_posted, comment_body, plain_text
from kt_jira.jobs import Kind
from kt_jira.metrics import Metrics
from kt_jira.render.nodes import Document
from kt_jira.store import (
    CreatedIssue,
    FalsePositiveRecord,
    Job,
    JobStatus,
    LinkState,
    Store,
    StoryMember,
    StoryOpening,
    StoryRecord,
)
from kt_jira.worker import Handler

__all__ = ["FeedbackLoop"]
log = structlog.get_logger("kt_jira.feedback")


@dataclass(kw_only=True)
class FeedbackLoop:
    """The scan (called by the periodic SLA scan, one replica at a time) and ``table()``."""

    settings: Settings
    store: Store
    jira: JiraClient
    metrics: Metrics
    clock: Callable[[], datetime]

    @property
    def config(self) -> FalsePositiveSettings:
        return self.settings.feedback.false_positive

    @cached_property
    def metadata(self) -> JiraMetadata:
        """Create metadata for Stories, whose marker is always their label: a Story carries no
        Escalation ID, whatever ``jira.correlation`` says for tickets."""
        jira = self.settings.jira.model_copy(update={"correlation": CorrelationSettings()})
        return JiraMetadata(self.jira, jira)

    def table(self) -> dict[str, Handler]:
        return {Kind.FEEDBACK_STORY: self.create_story, Kind.FEEDBACK_LINK: self.link_more}

    # -- the scan ---------------------------------------------------------------------------

    async def scan(self, now: datetime) -> int:
        """Open or extend each policy's Story as ``plan`` says; returns the jobs enqueued."""
        config = self.config
        if not config.enabled:
            return 0
        found = await self.store.feedback.false_positives(
            since=horizon(now, config.period),
            resolution=config.resolution,
            outcomes=config.outcomes,
        )
        by_policy: dict[str, list[FalsePositiveRecord]] = {}
        for record in found:
            by_policy.setdefault(record.policy_name, []).append(record)
        latest = await self.store.feedback.latest_stories([policy_key(p) for p in by_policy])
        enqueued = 0
        for policy, records in sorted(by_policy.items()):
            story = latest.get(policy_key(policy))
            enqueued += await self._scan_policy(policy, records, story, now)
        return enqueued

    async def _scan_policy(
        self,
        policy: str,
        records: list[FalsePositiveRecord],
        latest: StoryRecord | None,
        now: datetime,
    ) -> int:
        config = self.config
        step = plan(
            [_false_positive(r) for r in records],
            _story(latest),
            threshold=config.threshold,
            window=config.period,
            now=now,
        )
        if step is None:
            return 0
        by_id = {record.escalation_id: record for record in records}
        members = [by_id[fp.escalation_id] for fp in step.members]
        key = policy_key(policy)
        if isinstance(step, OpenStory):
            return await self._open(policy, key, step, members, now)
        assert latest is not None  # a LinkMore step only follows a Story
        ids = [m.escalation_id for m in members]
        job = jobs.feedback_link(key, step.sequence, ids, run_at=now)
        added = await self.store.feedback.add_members(latest.id, members, job=job, now=now)
        if not added:
            return 0
        log.info("feedback.members_added", policy=policy, sequence=step.sequence, members=added)
        return 1

    async def _open(
        self,
        policy: str,
        key: str,
        step: OpenStory,
        members: list[FalsePositiveRecord],
        now: datetime,
    ) -> int:
        opening = StoryOpening(
            policy=policy,
            policy_key=key,
            sequence=step.sequence,
            project=self.config.project or self.settings.jira.project,
            marker=marker(key, step.sequence),
        )
        job = jobs.feedback_story(key, step.sequence, run_at=now)
        opened = await self.store.feedback.open_story(opening, members, job=job, now=now)
        if opened is None:
            return 0  # another scanner opened it first
        self.metrics.feedback_stories.labels(how="opened").inc()
        log.info("feedback.story_opened", policy=policy, sequence=step.sequence,
                 members=len(members))  # fmt: skip
        return 1

    # -- feedback_story ---------------------------------------------------------------------

    async def create_story(self, job: Job) -> None:
        """Create the Story exactly once (adopting what an uncertain attempt made), then link
        every member not linked yet."""
        story = await self._story_of(job)
        if story.state is not LinkState.CREATED:
            story = await self._create(story)
        await self._link(story, story.members)

    async def _create(self, story: StoryRecord) -> StoryRecord:
        if story.state is LinkState.ATTEMPTING:
            found = await find_by_label(self.jira, project=story.project, label=story.marker)
            if found:
                return await self._adopt(story, found)
            # A crashed attempt may commit as late as its timeout; search lags that by the delay.
            jira = self.settings.jira
            settle = (story.attempt_started_at or self.clock()) + timedelta(
                seconds=jira.timeout_seconds + jira.search_consistency_delay_seconds
            )
            if self.clock() < settle:
                raise Deferred(
                    "waiting for Jira search to catch up before re-creating", run_at=settle
                )
        draft = story_draft(
            await self._pattern(story),
            settings=self.config,
            project=story.project,
            marker=story.marker,
        )
        body = await self.metadata.build_create_body(draft)
        await self.store.feedback.begin_attempt(story.id, now=self.clock())
        try:
            created = await self.jira.create_issue(body)
        except UncertainOutcome:
            # Stays "attempting": the next try searches first. Re-stamped, as Jira may still be
            # committing and search lags behind whenever that happens.
            await self.store.feedback.begin_attempt(story.id, now=self.clock())
            raise
        except (RetryableError, PermanentError):
            await self.store.feedback.clear_attempt(story.id, now=self.clock())
            raise
        issue = CreatedIssue(issue_id=created.issue_id, issue_key=created.key)
        saved = await self.store.feedback.save_created(story.id, issue, now=self.clock())
        self.metrics.feedback_stories.labels(how="created").inc()
        log.info("feedback.story_created", policy=story.policy, sequence=story.sequence,
                 key=created.key)  # fmt: skip
        return saved

    async def _adopt(self, story: StoryRecord, found: list[dict[str, Any]]) -> StoryRecord:
        oldest = min(
            found,
            key=lambda issue: (str(issue.get("fields", {}).get("created", "")), int(issue["id"])),
        )
        issue = CreatedIssue(issue_id=str(oldest["id"]), issue_key=str(oldest["key"]), adopted=True)
        saved = await self.store.feedback.save_created(story.id, issue, now=self.clock())
        self.metrics.feedback_stories.labels(how="adopted").inc()
        log.warning(
            "feedback.story_adopted",
            policy=story.policy,
            sequence=story.sequence,
            key=oldest["key"],
            duplicates=[i["key"] for i in found if i is not oldest],
        )
        return saved

    async def _pattern(self, story: StoryRecord) -> Pattern:
        """What the Story describes: the tickets that opened it, and the policy's resolutions
        over the same time."""
        opening = [m for m in story.members if m.added_at <= story.opened_at] or story.members
        fps = tuple(_member_fp(m) for m in opening)
        since = min(fp.resolved_at for fp in fps)
        until = max(fp.resolved_at for fp in fps)
        resolved = await self.store.feedback.resolved_count(story.policy, since=since, until=until)
        return Pattern(policy=story.policy, false_positives=fps, resolved=resolved)

    # -- feedback_link ----------------------------------------------------------------------

    async def link_more(self, job: Job) -> None:
        """Link one batch of later false positives to the Story, then one comment about them."""
        story = await self._story_of(job)
        if story.state is not LinkState.CREATED or story.issue_id is None:
            await self._wait_for_create(story)
        wanted = {str(e) for e in job.payload["escalation_ids"]}
        batch = [m for m in story.members if m.escalation_id in wanted]
        await self._link(story, batch)
        doc = more_comment(story.policy, [_member_fp(m) for m in batch], len(story.members))
        await self._comment(story.issue_id, doc, retried=job.attempts > 1)
        log.info("feedback.commented", policy=story.policy, sequence=story.sequence,
                 members=len(batch))  # fmt: skip

    async def _wait_for_create(self, story: StoryRecord) -> NoReturn:
        """``Deferred`` while the Story's create is still to run; permanent once it is dead."""
        create = await self.store.queue.by_key(
            jobs.key(Kind.FEEDBACK_STORY, story.policy_key, str(story.sequence))
        )
        if create is not None and create.status is JobStatus.DEAD:
            raise PermanentError(
                f"the Story for policy {story.policy!r} was never created: its feedback_story "
                "job is dead. Fix its error, then `kt-jira jobs replay` (this job with it)"
            )
        retry = self.clock() + timedelta(seconds=self.settings.sync.pending_create_retry_seconds)
        raise Deferred("waiting for the Story to be created", run_at=retry)

    # -- shared steps -----------------------------------------------------------------------

    async def _link(self, story: StoryRecord, members: Sequence[StoryMember]) -> None:
        """Link each member not yet recorded as linked; one Jira already shows is not sent."""
        pending = [m for m in members if m.linked_at is None]
        if not pending:
            return
        assert story.issue_id is not None
        link_type = await link_type_named(self.jira, self.config.link_type)
        present = await linked_to(self.jira, story.issue_id, link_type)
        for member in pending:
            ticket = member.issue_id or member.issue_key
            if not {ticket, member.issue_key} & present:
                await self.jira.link_issues(link_type, inward=ticket, outward=story.issue_id)
            await self.store.feedback.mark_linked(
                story.id, [member.escalation_id], now=self.clock()
            )
        log.info("feedback.members_linked", policy=story.policy, sequence=story.sequence,
                 members=[m.escalation_id for m in pending])  # fmt: skip

    async def _story_of(self, job: Job) -> StoryRecord:
        key, sequence = str(job.payload["policy_key"]), int(job.payload["sequence"])
        story = await self.store.feedback.story(key, sequence)
        if story is None:
            raise PermanentError(f"feedback Story {key}:{sequence} is not in the database")
        return story

    async def _comment(self, issue_id: str, doc: Document, *, retried: bool) -> None:
        """A comment in the site's format (ADF on Cloud, wiki markup on Data Center), once: a
        retry first looks for it (its opening words hold the batch's running total)."""
        body = comment_body(doc, self.settings.jira.flavor)
        if retried and await already_posted(self.jira, issue_id, plain_text(body)[:120]):
            return
        await self.jira.add_comment(issue_id, body)


def _false_positive(record: FalsePositiveRecord) -> FalsePositive:
    return FalsePositive(
        escalation_id=record.escalation_id,
        issue_key=record.issue_key,
        model=record.model,
        gateway_id=record.gateway_id,
        resolved_at=record.resolved_at,
    )


def _member_fp(member: StoryMember) -> FalsePositive:
    return FalsePositive(
        escalation_id=member.escalation_id,
        issue_key=member.issue_key,
        model=member.model,
        gateway_id=member.gateway_id,
        resolved_at=member.resolved_at or member.added_at,
    )


def _story(record: StoryRecord | None) -> Story | None:
    if record is None:
        return None
    members = frozenset(m.escalation_id for m in record.members)
    return Story(sequence=record.sequence, opened_at=record.opened_at, members=members)
