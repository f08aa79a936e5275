"""Grouping's records (beside ``models``, which is at its size budget) and the conn-level reads
``Groups`` composes: a group with its ticket's facts (the opener's link), a member, a storm.

A group's ticket is its opener's: the opener's link holds the issue, its Jira status and its
SLA clock. Nothing here opens a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.models import EscalationStatus
from kt_jira.store.tables import escalations, group_members, links, ticket_groups

Role = Literal["opener", "member"]
CommentState = Literal["pending", "attempting", "posted"]


@dataclass(frozen=True, kw_only=True)
class GroupOpening:
    """What a new group is opened with (``join_or_open``)."""

    key: str  #: ``tickets.groups`` key: a digest of the rule and the grouped values
    rule: str
    policy_name: str
    reason: Literal["rule", "storm"]
    summary: str  #: the opener's ticket summary, re-rendered with the count
    window_ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class GroupRecord:
    """A group and its ticket (the opener's link: ``None`` fields until it is created)."""

    id: int
    group_key: str
    rule: str
    policy_name: str
    reason: str
    opener_id: str
    summary: str
    opened_at: datetime
    window_ends_at: datetime
    member_count: int  #: members besides the opener
    closed_at: datetime | None
    issue_id: str | None = None
    issue_key: str | None = None
    status_category: str | None = None
    deleted_at: datetime | None = None

    @property
    def size(self) -> int:
        """Escalations in the group: the opener and its members."""
        return self.member_count + 1

    def takes_members(self, now: datetime) -> bool:
        """Open, inside its window, and its ticket neither done nor deleted."""
        return (
            self.closed_at is None
            and now < self.window_ends_at
            and self.status_category != "done"
            and self.deleted_at is None
        )


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where an escalation stands: the opener of ``group`` (it owns the ticket) or a member."""

    role: Role
    group: GroupRecord


@dataclass(frozen=True, kw_only=True)
class MemberRecord:
    """A further escalation of a group: its comment's state and its own resolution's sync."""

    escalation_id: str
    group_id: int
    joined_at: datetime
    comment_state: CommentState
    commented_at: datetime | None
    comment_id: str | None
    last_origin: str | None
    synced_to_keeptrusts_at: datetime | None
    synced_to_jira_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class StormRecord:
    """One storm of one policy: from ``started_at`` its new escalations join one group per
    policy until ``ends_at``; ``tickets`` is what the policy had opened when it was called."""

    id: int
    policy_name: str
    started_at: datetime
    ends_at: datetime
    group_id: int | None
    tickets: int
    grouped: int = 0  #: escalations its groups took as members


def groups_query() -> Select[Any]:
    """Groups with their ticket's facts, from the opener's link."""
    joined = ticket_groups.outerjoin(links, links.c.escalation_id == ticket_groups.c.opener_id)
    return select(
        ticket_groups,
        links.c.issue_id,
        links.c.issue_key,
        links.c.jira_status_category,
        links.c.deleted_at,
    ).select_from(joined)


async def find_group(conn: AsyncConnection, where: ColumnElement[bool]) -> GroupRecord | None:
    row = (await conn.execute(groups_query().where(where))).mappings().first()
    return None if row is None else to_group(row)


async def placement(conn: AsyncConnection, escalation_id: str) -> Placement | None:
    """The group ``escalation_id`` opened or joined, if any."""
    opened = await find_group(conn, ticket_groups.c.opener_id == escalation_id)
    if opened is not None:
        return Placement(role="opener", group=opened)
    member = select(group_members.c.group_id).where(group_members.c.escalation_id == escalation_id)
    joined = await find_group(conn, ticket_groups.c.id.in_(member.scalar_subquery()))
    return None if joined is None else Placement(role="member", group=joined)


async def find_member(conn: AsyncConnection, escalation_id: str) -> MemberRecord | None:
    query = select(group_members).where(group_members.c.escalation_id == escalation_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else to_member(row)


async def member_resolutions(
    conn: AsyncConnection, opener_ids: list[str]
) -> dict[str, tuple[bool, datetime | None]]:
    """For each of ``opener_ids`` that opened a group with members: whether a member is still
    open, and when the last member was resolved (the group's SLA ends with its last one)."""
    if not opener_ids:
        return {}
    still_open = func.sum(case((escalations.c.status == EscalationStatus.OPEN.value, 1), else_=0))
    query = (
        select(ticket_groups.c.opener_id, still_open, func.max(escalations.c.resolved_at))
        .select_from(ticket_groups.join(group_members))
        .join(escalations, escalations.c.escalation_id == group_members.c.escalation_id)
        .where(ticket_groups.c.opener_id.in_(opener_ids))
        .group_by(ticket_groups.c.opener_id)
    )
    return {str(opener): (bool(count), last) for opener, count, last in await conn.execute(query)}


def to_group(row: RowMapping) -> GroupRecord:
    return GroupRecord(
        id=row["id"],
        group_key=row["group_key"],
        rule=row["rule"],
        policy_name=row["policy_name"],
        reason=row["reason"],
        opener_id=row["opener_id"],
        summary=row["summary"],
        opened_at=row["opened_at"],
        window_ends_at=row["window_ends_at"],
        member_count=row["member_count"],
        closed_at=row["closed_at"],
        issue_id=row["issue_id"],
        issue_key=row["issue_key"],
        status_category=row["jira_status_category"],
        deleted_at=row["deleted_at"],
    )


def to_member(row: RowMapping) -> MemberRecord:
    return MemberRecord(
        escalation_id=row["escalation_id"],
        group_id=row["group_id"],
        joined_at=row["joined_at"],
        comment_state=row["comment_state"],
        commented_at=row["commented_at"],
        comment_id=row["comment_id"],
        last_origin=row["last_origin"],
        synced_to_keeptrusts_at=row["synced_to_keeptrusts_at"],
        synced_to_jira_at=row["synced_to_jira_at"],
    )


def to_storm(row: RowMapping, grouped: int = 0) -> StormRecord:
    return StormRecord(
        id=row["id"],
        policy_name=row["policy_name"],
        started_at=row["started_at"],
        ends_at=row["ends_at"],
        group_id=row["group_id"],
        tickets=row["tickets"],
        grouped=grouped,
    )
