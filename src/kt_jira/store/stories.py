"""The false-positive loop's records (beside ``models``, which holds the rest: that module is at
its size budget) and the conn-level reads and member insert ``Feedback`` composes.

Each Story comes with its members, and each member with its ticket's facts (its link's issue id,
the escalation's model and gateway, when it was resolved). Nothing here opens a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.errors import KtJiraError
from kt_jira.store import audit
from kt_jira.store.models import LinkState
from kt_jira.store.tables import (
    UTCDateTime,
    escalations,
    feedback_members,
    feedback_stories,
    links,
)


@dataclass(frozen=True, kw_only=True)
class FalsePositiveRecord:
    """A ticket resolved as a false positive (``feedback.false_positives``), with its facts."""

    escalation_id: str
    issue_key: str
    policy_name: str
    model: str
    gateway_id: str
    resolved_at: datetime  #: Keeptrusts' resolution time, else when Jira reached done


@dataclass(frozen=True, kw_only=True)
class StoryMember:
    """A ticket counted in a policy's improvement Story, and whether it is linked yet."""

    escalation_id: str
    issue_key: str  #: as it was when the ticket joined
    issue_id: str | None  #: the ticket's durable id, from its link
    model: str
    gateway_id: str
    resolved_at: datetime | None
    added_at: datetime
    linked_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class StoryRecord:
    """A policy's improvement Story (``state`` as a link's: pending, attempting, created)."""

    id: int
    policy: str
    policy_key: str  #: sha256 hex digest of ``policy``
    sequence: int
    opened_at: datetime
    project: str
    marker: str  #: the label an uncertain create searches for
    state: LinkState
    attempt_started_at: datetime | None
    issue_id: str | None
    issue_key: str | None
    updated_at: datetime
    members: tuple[StoryMember, ...] = ()  #: oldest first


@dataclass(frozen=True, kw_only=True)
class StoryOpening:
    """Story ``sequence`` of a policy, as a scan opens it (``feedback.open_story``)."""

    policy: str
    policy_key: str
    sequence: int
    project: str
    marker: str


# A ticket is resolved when Keeptrusts says, else when Jira reached a done status.
ticket_resolved_at = func.coalesce(
    escalations.c.resolved_at, links.c.resolved_in_jira_at, type_=UTCDateTime()
)


async def add(
    conn: AsyncConnection,
    story_id: int,
    members: Sequence[FalsePositiveRecord],
    *,
    now: datetime,
) -> list[str]:
    """Insert the members not in the Story yet; returns their escalation ids, in order."""
    if not members:
        return []
    rows = [
        {
            "story_id": story_id,
            "escalation_id": member.escalation_id,
            "issue_key": member.issue_key,
            "added_at": now,
        }
        for member in members
    ]
    stmt = (
        audit.insert(conn, feedback_members)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["story_id", "escalation_id"])
        .returning(feedback_members.c.escalation_id)
    )
    added = set((await conn.execute(stmt)).scalars())
    return [member.escalation_id for member in members if member.escalation_id in added]


async def require(conn: AsyncConnection, story_id: int) -> StoryRecord:
    story = await one(conn, feedback_stories.c.id == story_id)
    if story is None:
        raise KtJiraError(f"feedback Story {story_id} does not exist")
    return story


async def one(conn: AsyncConnection, where: ColumnElement[bool]) -> StoryRecord | None:
    found = await load(conn, select(feedback_stories).where(where))
    return found[0] if found else None


async def load(conn: AsyncConnection, query: Select[Any]) -> list[StoryRecord]:
    """The Stories ``query`` selects, each with its members (one query for all members)."""
    rows = list((await conn.execute(query)).mappings())
    if not rows:
        return []
    members: dict[int, list[StoryMember]] = {row["id"]: [] for row in rows}
    member_query = (
        select(
            feedback_members,
            links.c.issue_id,
            escalations.c.model,
            escalations.c.gateway_id,
            ticket_resolved_at.label("resolved_at"),
        )
        .select_from(
            feedback_members.outerjoin(
                links, links.c.escalation_id == feedback_members.c.escalation_id
            ).outerjoin(escalations, escalations.c.escalation_id == links.c.escalation_id)
        )
        .where(feedback_members.c.story_id.in_(list(members)))
        .order_by(feedback_members.c.added_at, feedback_members.c.id)
    )
    for row in (await conn.execute(member_query)).mappings():
        members[row["story_id"]].append(_member(row))
    return [_record(row, tuple(members[row["id"]])) for row in rows]


def _member(row: RowMapping) -> StoryMember:
    return StoryMember(
        escalation_id=row["escalation_id"],
        issue_key=row["issue_key"],
        issue_id=row["issue_id"],
        model=row["model"] or "",
        gateway_id=row["gateway_id"] or "",
        resolved_at=row["resolved_at"],
        added_at=row["added_at"],
        linked_at=row["linked_at"],
    )


def _record(row: RowMapping, members: tuple[StoryMember, ...]) -> StoryRecord:
    return StoryRecord(
        id=row["id"],
        policy=row["policy"],
        policy_key=row["policy_key"],
        sequence=row["sequence"],
        opened_at=row["opened_at"],
        project=row["project"],
        marker=row["marker"],
        state=LinkState(row["state"]),
        attempt_started_at=row["attempt_started_at"],
        issue_id=row["issue_id"],
        issue_key=row["issue_key"],
        updated_at=row["updated_at"],
        members=members,
    )
