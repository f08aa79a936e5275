"""``Groups`` (``store.groups``): escalations that share one ticket, and their comments.

``join_or_open`` places an escalation in ONE transaction: the open group for its key is closed
when its window has passed or its ticket is done; a usable one takes the escalation as a member
(with its ``group_comment`` job); otherwise the escalation opens a new group and its ticket is
created by the unchanged create protocol. The partial unique index on the open groups' key
decides between two writers opening the same group: the loser gets ``Conflict`` and retries,
then joins. A member's comment goes ``pending`` -> ``attempting`` (committed before the POST)
-> ``posted``, so a retry after an unknown outcome looks for it before posting again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira import jobs
from kt_jira.errors import Conflict
from kt_jira.jobs import NewJob
from kt_jira.store import audit, group_steps, queue, sync
from kt_jira.store.database import Database
from kt_jira.store.group_records import (
    GroupOpening,
    GroupRecord,
    MemberRecord,
    Placement,
    find_group,
    find_member,
    placement,
)
from kt_jira.store.models import EscalationStatus, JobStatus, LinkState
from kt_jira.store.tables import escalations, group_members, links, ticket_groups

ENTITY = "group"


class Groups:
    """Grouping's reads and writes, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def placement(self, escalation_id: str) -> Placement | None:
        """The group the escalation opened or joined, if any."""
        async with self._db.read() as conn:
            return await placement(conn, escalation_id)

    async def join_or_open(
        self,
        escalation_id: str,
        opening: GroupOpening,
        *,
        now: datetime,
        may_open: bool = True,
    ) -> Placement | None:
        """Place the escalation in the open group for ``opening.key`` (a member, with its
        ``group_comment`` job) or open that group with it (the opener), atomically; an escalation
        placed before keeps its place. ``None`` when no group takes it and ``may_open`` is
        false. ``Conflict`` when another writer changed the group at the same moment."""
        try:
            async with self._db.write() as conn:
                return await place(conn, escalation_id, opening, now=now, may_open=may_open)
        except IntegrityError as exc:
            raise conflict(escalation_id) from exc

    async def open_group(self, key: str, *, now: datetime) -> GroupRecord | None:
        """The group an escalation with ``key`` would join now (``None``: it would open one)."""
        async with self._db.read() as conn:
            group = await find_group(conn, _open(key))
        return group if group is not None and group.takes_members(now) else None

    async def group(self, group_id: int) -> GroupRecord | None:
        async with self._db.read() as conn:
            return await find_group(conn, ticket_groups.c.id == group_id)

    async def by_issue(self, issue_id: str) -> GroupRecord | None:
        """The group whose ticket is ``issue_id``, if that ticket is a group's."""
        async with self._db.read() as conn:
            return await find_group(conn, links.c.issue_id == issue_id)

    async def member(self, escalation_id: str) -> tuple[MemberRecord, GroupRecord] | None:
        """The member row of ``escalation_id`` and its group, if it joined one."""
        async with self._db.read() as conn:
            found = await find_member(conn, escalation_id)
            group = await find_group(conn, ticket_groups.c.id == found.group_id) if found else None
        return None if found is None or group is None else (found, group)

    async def open_members(self, group_id: int) -> list[str]:
        """The members whose escalation is still open, oldest first."""
        query = (
            select(group_members.c.escalation_id)
            .join(escalations, escalations.c.escalation_id == group_members.c.escalation_id)
            .where(group_members.c.group_id == group_id)
            .where(escalations.c.status == EscalationStatus.OPEN.value)
            .order_by(group_members.c.joined_at, group_members.c.escalation_id)
        )
        async with self._db.read() as conn:
            return [str(eid) for eid in (await conn.execute(query)).scalars()]

    async def open_count(self, group_id: int) -> int:
        """Escalations of the group still open: its opener and its members."""
        opener = select(ticket_groups.c.opener_id).where(ticket_groups.c.id == group_id)
        members = select(group_members.c.escalation_id).where(group_members.c.group_id == group_id)
        query = (
            select(func.count())
            .select_from(escalations)
            .where(
                escalations.c.escalation_id.in_(opener.union_all(members)),
                escalations.c.status == EscalationStatus.OPEN.value,
            )
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def resolution_synced(
        self, escalation_id: str, *, then: NewJob | None, now: datetime
    ) -> None:
        """The escalation's Keeptrusts resolution reached its group's ticket (a member's row
        records it; the opener's resolution is the ticket's own); ``then`` (the group's walk to
        done, when it was the last open one) is enqueued with it."""
        async with self._db.write() as conn:
            await group_steps.mark_member(
                conn, escalation_id, last_origin="keeptrusts", synced_to_jira_at=now
            )
            if then is not None:
                await queue.insert(conn, then, now=now)

    async def tickets_since(self, policy_name: str, *, since: datetime) -> int:
        """Tickets of ``policy_name`` created, or being created, since ``since`` (the guard's
        count: an attempt under way is a ticket about to exist)."""
        query = (
            select(func.count())
            .select_from(
                links.join(escalations, escalations.c.escalation_id == links.c.escalation_id)
            )
            .where(escalations.c.policy_name == policy_name)
            .where(
                or_(
                    links.c.created_at >= since,
                    and_(
                        links.c.state == LinkState.ATTEMPTING.value,
                        links.c.attempt_started_at >= since,
                    ),
                )
            )
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    # -- a member's comment ---------------------------------------------------------------

    async def begin_comment(
        self, escalation_id: str, *, opener_id: str, now: datetime, busy_until: datetime
    ) -> None:
        """Commit ``attempting`` before posting the member's comment (a posted one stays
        posted), and open the echo window on the group ticket's link."""
        stmt = (
            update(group_members)
            .where(group_members.c.escalation_id == escalation_id)
            .where(group_members.c.comment_state != "posted")
            .values(comment_state="attempting")
        )
        async with self._db.write() as conn:
            await conn.execute(stmt)
            await sync.hold_echoes(conn, opener_id, until=busy_until)

    async def clear_comment(self, escalation_id: str) -> None:
        """The post certainly did not happen (a refusal): back to ``pending``."""
        stmt = (
            update(group_members)
            .where(group_members.c.escalation_id == escalation_id)
            .where(group_members.c.comment_state == "attempting")
            .values(comment_state="pending")
        )
        async with self._db.write() as conn:
            await conn.execute(stmt)

    async def comment_posted(
        self, escalation_id: str, *, comment_id: str, summary: NewJob, now: datetime
    ) -> bool:
        """Record the posted comment and, unless one is still waiting to start, enqueue the
        ``summary`` job (a copy under a fresh key once the first has run: a summary that is
        running may have read the count before this member). False if it was posted already."""
        stmt = (
            update(group_members)
            .where(group_members.c.escalation_id == escalation_id)
            .where(group_members.c.comment_state != "posted")
            .values(comment_state="posted", commented_at=now, comment_id=comment_id or None)
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            if not await queue.pending(conn, summary.job_key, statuses=[JobStatus.QUEUED.value]):
                await queue.insert_fresh(conn, summary, now=now)
            await audit.write(
                conn,
                at=now,
                entity=ENTITY,
                entity_id=escalation_id,
                action="commented",
                detail={"comment_id": comment_id},
            )
        return True


async def place(
    conn: AsyncConnection,
    escalation_id: str,
    opening: GroupOpening,
    *,
    now: datetime,
    may_open: bool = True,
) -> Placement | None:
    """Conn-level ``join_or_open`` (``storms.start`` places its opener with it)."""
    found = await placement(conn, escalation_id)
    if found is not None:
        return found
    group = await find_group(conn, _open(opening.key))
    if group is not None and not group.takes_members(now):
        await _close(conn, group.id, now=now)
        group = None
    if group is not None:
        return Placement(role="member", group=await _join(conn, group, escalation_id, now))
    if not may_open:
        return None
    return Placement(role="opener", group=await _start(conn, escalation_id, opening, now))


def conflict(escalation_id: str) -> Conflict:
    return Conflict(
        f"another worker placed escalation {escalation_id} or opened its group at the same "
        "moment; retrying joins it"
    )


def _open(key: str) -> ColumnElement[bool]:
    return and_(ticket_groups.c.group_key == key, ticket_groups.c.closed_at.is_(None))


async def _close(conn: AsyncConnection, group_id: int, *, now: datetime) -> None:
    stmt = (
        update(ticket_groups)
        .where(ticket_groups.c.id == group_id, ticket_groups.c.closed_at.is_(None))
        .values(closed_at=now)
    )
    if (await conn.execute(stmt)).rowcount:
        await audit.write(conn, at=now, entity=ENTITY, entity_id=group_id, action="closed")


async def _join(
    conn: AsyncConnection, group: GroupRecord, escalation_id: str, now: datetime
) -> GroupRecord:
    """The member row, the group's count and the member's comment job. The count goes up first:
    its row lock orders this join after a concurrent close, which then leaves nothing to bump."""
    bump = (
        update(ticket_groups)
        .where(ticket_groups.c.id == group.id, ticket_groups.c.closed_at.is_(None))
        .values(member_count=ticket_groups.c.member_count + 1)
        .returning(ticket_groups.c.member_count)
    )
    count = (await conn.execute(bump)).scalar_one_or_none()
    if count is None:
        raise Conflict(f"group {group.id} closed while escalation {escalation_id} joined it")
    await conn.execute(
        group_members.insert().values(
            escalation_id=escalation_id, group_id=group.id, joined_at=now, comment_state="pending"
        )
    )
    job = jobs.group_comment(escalation_id, run_at=now)
    await queue.insert(conn, job, now=now)
    await audit.write(
        conn,
        at=now,
        entity=ENTITY,
        entity_id=group.id,
        action="joined",
        detail={"escalation_id": escalation_id, "members": count},
    )
    return replace(group, member_count=count)


async def _start(
    conn: AsyncConnection, escalation_id: str, opening: GroupOpening, now: datetime
) -> GroupRecord:
    stmt = (
        ticket_groups.insert()
        .values(
            group_key=opening.key,
            rule=opening.rule,
            policy_name=opening.policy_name,
            reason=opening.reason,
            opener_id=escalation_id,
            summary=opening.summary,
            opened_at=now,
            window_ends_at=opening.window_ends_at,
            member_count=0,
        )
        .returning(ticket_groups.c.id)
    )
    group_id = int((await conn.execute(stmt)).scalar_one())
    await audit.write(
        conn,
        at=now,
        entity=ENTITY,
        entity_id=group_id,
        action="opened",
        detail={"opener": escalation_id, "reason": opening.reason, "rule": opening.rule},
    )
    found = await find_group(conn, ticket_groups.c.id == group_id)
    assert found is not None  # inserted in this transaction
    return found
