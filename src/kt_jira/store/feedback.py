"""``Feedback`` (``store.feedback``): the false-positive loop's reads, its Stories and members.

A ticket is a false positive when its link is ``created`` and Keeptrusts' outcome equals the
configured Jira resolution name or one of the Keeptrusts outcomes, or the link's last Jira
resolution equals that name (case-insensitive, ``str.casefold``). Opening Story N of a policy is
one transaction with its members and its job, and the unique ``(policy_key, sequence)`` decides
between two scanners. The Story's create follows the links' protocol (``begin_attempt``,
``clear_attempt``, ``save_created``): ``attempting`` means search for the marker first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.jobs import NewJob
from kt_jira.store import audit, queue, stories
from kt_jira.store.database import Database
from kt_jira.store.models import CreatedIssue, LinkState
from kt_jira.store.stories import FalsePositiveRecord, StoryOpening, StoryRecord
from kt_jira.store.tables import (
    escalations,
    feedback_members,
    feedback_stories,
    links,
)

ENTITY = "feedback_story"
# A ticket is a created link with its escalation.
_tickets = links.join(escalations, links.c.escalation_id == escalations.c.escalation_id)
_created = links.c.state == LinkState.CREATED.value
_resolved_at = stories.ticket_resolved_at


class Feedback:
    """The false-positive loop's reads and writes, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def false_positives(
        self, *, since: datetime, resolution: str, outcomes: Sequence[str]
    ) -> list[FalsePositiveRecord]:
        """Every policy's false positives resolved at or after ``since``, oldest first."""
        resolved = and_(_created, _resolved_at >= since)
        async with self._db.read() as conn:
            ours = await _matching(conn, escalations.c.resolution, resolved, resolution, outcomes)
            theirs = await _matching(conn, links.c.jira_resolution, resolved, resolution, ())
            if not ours and not theirs:
                return []
            query = (
                select(
                    links.c.escalation_id,
                    links.c.issue_key,
                    escalations.c.policy_name,
                    escalations.c.model,
                    escalations.c.gateway_id,
                    _resolved_at.label("resolved_at"),
                )
                .select_from(_tickets)
                .where(resolved)
                .where(
                    or_(
                        escalations.c.resolution.in_(ours),
                        links.c.jira_resolution.in_(theirs),
                    )
                )
                .order_by(_resolved_at, links.c.escalation_id)
            )
            rows = (await conn.execute(query)).mappings()
            return [
                FalsePositiveRecord(**{**row, "issue_key": row["issue_key"] or ""}) for row in rows
            ]

    async def resolved_count(self, policy: str, *, since: datetime, until: datetime) -> int:
        """Tickets of ``policy`` resolved from ``since`` to ``until`` (inclusive), any outcome."""
        query = (
            select(func.count())
            .select_from(_tickets)
            .where(_created, escalations.c.policy_name == policy)
            .where(_resolved_at >= since, _resolved_at <= until)
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def latest_stories(self, policy_keys: Sequence[str]) -> dict[str, StoryRecord]:
        """Each named policy's newest Story (highest sequence) with its members, by policy key."""
        if not policy_keys:
            return {}
        newest = (
            select(
                feedback_stories.c.policy_key,
                func.max(feedback_stories.c.sequence).label("sequence"),
            )
            .where(feedback_stories.c.policy_key.in_(list(policy_keys)))
            .group_by(feedback_stories.c.policy_key)
            .subquery()
        )
        query = select(feedback_stories).join(
            newest,
            and_(
                feedback_stories.c.policy_key == newest.c.policy_key,
                feedback_stories.c.sequence == newest.c.sequence,
            ),
        )
        async with self._db.read() as conn:
            found = await stories.load(conn, query)
        return {story.policy_key: story for story in found}

    async def story(self, policy_key: str, sequence: int) -> StoryRecord | None:
        async with self._db.read() as conn:
            return await stories.one(conn, _where(policy_key, sequence))

    async def open_story(
        self,
        opening: StoryOpening,
        members: Sequence[FalsePositiveRecord],
        *,
        job: NewJob,
        now: datetime,
    ) -> StoryRecord | None:
        """Open the Story with its members and enqueue ``job``, in one transaction; ``None``
        (nothing written) when that Story of the policy exists already."""
        async with self._db.write() as conn:
            stmt = (
                audit.insert(conn, feedback_stories)
                .values(
                    policy=opening.policy,
                    policy_key=opening.policy_key,
                    sequence=opening.sequence,
                    opened_at=now,
                    project=opening.project,
                    marker=opening.marker,
                    state=LinkState.PENDING.value,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["policy_key", "sequence"])
                .returning(feedback_stories.c.id)
            )
            story_id: int | None = (await conn.execute(stmt)).scalar_one_or_none()
            if story_id is None:
                return None
            added = await stories.add(conn, story_id, members, now=now)
            await queue.insert(conn, job, now=now)
            detail = {"policy": opening.policy, "sequence": opening.sequence, "members": added}
            await _audit(conn, story_id, "opened", now, {**detail, "job_key": job.job_key})
            return await stories.require(conn, story_id)

    async def add_members(
        self,
        story_id: int,
        members: Sequence[FalsePositiveRecord],
        *,
        job: NewJob,
        now: datetime,
    ) -> list[str]:
        """Add ``members`` to the Story and enqueue ``job`` (its link job), in one transaction;
        returns the escalations that were new (none: nothing enqueued)."""
        async with self._db.write() as conn:
            added = await stories.add(conn, story_id, members, now=now)
            if added:
                await queue.insert(conn, job, now=now)
                detail = {"members": added, "job_key": job.job_key}
                await _audit(conn, story_id, "members_added", now, detail)
        return added

    async def begin_attempt(self, story_id: int, *, now: datetime) -> StoryRecord:
        """Commit ``attempting`` before calling Jira; a created Story comes back unchanged."""
        stmt = (
            update(feedback_stories)
            .where(feedback_stories.c.id == story_id)
            .where(feedback_stories.c.state != LinkState.CREATED.value)
            .values(state=LinkState.ATTEMPTING.value, attempt_started_at=now, updated_at=now)
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount:
                await _audit(conn, story_id, "attempt_started", now)
            return await stories.require(conn, story_id)

    async def clear_attempt(self, story_id: int, *, now: datetime) -> bool:
        """The attempt certainly created nothing: back to ``pending`` (no search next time)."""
        stmt = (
            update(feedback_stories)
            .where(feedback_stories.c.id == story_id)
            .where(feedback_stories.c.state == LinkState.ATTEMPTING.value)
            .values(state=LinkState.PENDING.value, updated_at=now)
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            await _audit(conn, story_id, "attempt_cleared", now)
        return True

    async def save_created(
        self, story_id: int, issue: CreatedIssue, *, now: datetime
    ) -> StoryRecord:
        """Record the created (or adopted) issue; a Story created with another issue is
        returned unchanged (compare its ``issue_id`` with yours)."""
        stmt = (
            update(feedback_stories)
            .where(feedback_stories.c.id == story_id)
            .where(
                (feedback_stories.c.state != LinkState.CREATED.value)
                | (feedback_stories.c.issue_id == issue.issue_id)
            )
            .values(
                state=LinkState.CREATED.value,
                issue_id=issue.issue_id,
                issue_key=issue.issue_key,
                updated_at=now,
            )
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount:
                action = "adopted" if issue.adopted else "created"
                detail = {"issue_id": issue.issue_id, "issue_key": issue.issue_key}
                await _audit(conn, story_id, action, now, detail)
            return await stories.require(conn, story_id)

    async def mark_linked(
        self, story_id: int, escalation_ids: Sequence[str], *, now: datetime
    ) -> int:
        """Members now linked to the Story in Jira (the first time is kept); returns how many
        were newly marked."""
        if not escalation_ids:
            return 0
        stmt = (
            update(feedback_members)
            .where(feedback_members.c.story_id == story_id)
            .where(feedback_members.c.escalation_id.in_(list(escalation_ids)))
            .where(feedback_members.c.linked_at.is_(None))
            .values(linked_at=now)
        )
        async with self._db.write() as conn:
            marked = (await conn.execute(stmt)).rowcount
            if marked:
                await _audit(conn, story_id, "linked", now, {"members": list(escalation_ids)})
        return marked


async def _matching(
    conn: AsyncConnection,
    column: ColumnElement[Any],
    where: ColumnElement[bool],
    resolution: str,
    outcomes: Sequence[str],
) -> list[str]:
    """The stored values of ``column`` that casefold-equal a wanted name: found in Python, so
    the comparison is ``str.casefold`` on every dialect (SQLite's ``lower`` is ASCII only)."""
    wanted = {name.casefold() for name in (resolution, *outcomes)}
    query = select(column).distinct().select_from(_tickets).where(where, column.is_not(None))
    values = (await conn.execute(query)).scalars()
    return [value for value in values if value and value.casefold() in wanted]


async def _audit(
    conn: AsyncConnection,
    story_id: int,
    action: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    await audit.write(conn, at=now, entity=ENTITY, entity_id=story_id, action=action, detail=detail)


def _where(policy_key: str, sequence: int) -> ColumnElement[bool]:
    return and_(
        feedback_stories.c.policy_key == policy_key, feedback_stories.c.sequence == sequence
    )
