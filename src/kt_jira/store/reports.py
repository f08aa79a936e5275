"""What ``kt-jira report`` and the dashboard read: tickets created or resolved in a date range,
the open backlog, and the dead letters. Read-only; the arithmetic is ``reports.aggregate``'s."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from kt_jira.store.database import Database
from kt_jira.store.models import EscalationStatus, JobStatus, SlaClockRow
from kt_jira.store.sla import clock_rows
from kt_jira.store.tables import (
    escalations,
    feedback_members,
    feedback_stories,
    group_members,
    jobs,
    links,
    ticket_groups,
)


class Reports:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def created(
        self, *, since: datetime, until: datetime, project: str | None = None
    ) -> list[SlaClockRow]:
        """Tickets created (or adopted) in ``[since, until]``, in ``project`` when given."""
        where = [*_linked(project), links.c.created_at >= since, links.c.created_at <= until]
        async with self._db.read() as conn:
            return await clock_rows(conn, where)

    async def resolved(
        self, *, since: datetime, until: datetime, project: str | None = None
    ) -> list[SlaClockRow]:
        """Tickets resolved in ``[since, until]``, in Keeptrusts or in Jira, whichever was first,
        whenever they were created."""
        when = func.coalesce(escalations.c.resolved_at, links.c.resolved_in_jira_at)
        where = [*_linked(project), when >= since, when <= until]
        async with self._db.read() as conn:
            return await clock_rows(conn, where)

    async def backlog(self, *, project: str | None = None) -> list[SlaClockRow]:
        """Tickets still open on both sides (the escalation open, the issue not done)."""
        where = [
            *_linked(project),
            escalations.c.status == EscalationStatus.OPEN.value,
            links.c.resolved_in_jira_at.is_(None),
            links.c.deleted_at.is_(None),
        ]
        async with self._db.read() as conn:
            return await clock_rows(conn, where)

    async def grouped(self, *, since: datetime, until: datetime, project: str | None = None) -> int:
        """Escalations that joined a group (a comment on its ticket, not a ticket of their own)
        in ``[since, until]``, in ``project`` (the group ticket's) when given."""
        opener = links.c.escalation_id == ticket_groups.c.opener_id
        query = (
            select(func.count())
            .select_from(group_members.join(ticket_groups).outerjoin(links, opener))
            .where(group_members.c.joined_at >= since, group_members.c.joined_at <= until)
        )
        if project is not None:
            query = query.where(func.upper(links.c.project) == project.upper())
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def oldest_queued(self) -> datetime | None:
        """When the longest-waiting queued job was enqueued (None: the queue is empty)."""
        query = select(func.min(jobs.c.created_at)).where(jobs.c.status == JobStatus.QUEUED.value)
        async with self._db.read() as conn:
            oldest: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return oldest  # min() keeps the column's type: an aware UTC datetime

    async def stories(self, *, limit: int = 20) -> list[tuple[str, int, str | None, datetime, int]]:
        """The feedback loop's Stories, newest first: policy, sequence, issue key, opened at and
        how many tickets they hold."""
        members = (
            select(feedback_members.c.story_id, func.count().label("n"))
            .group_by(feedback_members.c.story_id)
            .subquery()
        )
        query = (
            select(
                feedback_stories.c.policy,
                feedback_stories.c.sequence,
                feedback_stories.c.issue_key,
                feedback_stories.c.opened_at,
                func.coalesce(members.c.n, 0),
            )
            .outerjoin(members, members.c.story_id == feedback_stories.c.id)
            .order_by(feedback_stories.c.opened_at.desc(), feedback_stories.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [
                (str(p), int(n), key, opened, int(count))
                for p, n, key, opened, count in (await conn.execute(query)).all()
            ]

    async def dead_letters(self) -> dict[str, int]:
        """Dead jobs by kind."""
        query = (
            select(jobs.c.kind, func.count())
            .where(jobs.c.status == JobStatus.DEAD.value)
            .group_by(jobs.c.kind)
        )
        async with self._db.read() as conn:
            return {str(kind): int(n) for kind, n in (await conn.execute(query)).all()}


def _linked(project: str | None) -> list[ColumnElement[bool]]:
    where = [links.c.state == "created"]
    if project is not None:
        where.append(func.upper(links.c.project) == project.upper())
    return where
