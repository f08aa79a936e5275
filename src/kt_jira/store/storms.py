"""``Storms`` (``store.storms``): the runaway guard's storms, one row per storm of a policy.

``start`` is the guard's one transaction: it records the storm (unless one of the policy is
already running), enqueues the jobs that say so, and places the escalation in the policy's
storm group, all or nothing. Replicas are serialised per policy (a transaction-scoped advisory
lock on PostgreSQL; SQLite has one writer), and the unique ``(policy_key, started_at)`` keeps a
storm one row even so: the caller that gets ``started`` is the one that says so, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.jobs import NewJob
from kt_jira.store import audit, groups, queue
from kt_jira.store.database import Database
from kt_jira.store.group_records import GroupOpening, Placement, StormRecord, to_storm
from kt_jira.store.tables import group_members, storms, ticket_groups

ENTITY = "storm"
LOCK = "kt_jira.storm:"


class Storms:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def active(self, policy_key: str, *, now: datetime) -> StormRecord | None:
        """The policy's storm running at ``now``, if any."""
        async with self._db.read() as conn:
            return await _running(conn, policy_key, now)

    async def get(self, storm_id: int) -> StormRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(storms).where(storms.c.id == storm_id))).mappings()
            found = row.first()
        return None if found is None else to_storm(found)

    async def running(self, *, now: datetime) -> list[StormRecord]:
        """Every storm running at ``now``, newest first, with how many escalations its
        policy's storm groups took as members since it started."""
        grouped = (
            select(func.count())
            .select_from(group_members.join(ticket_groups))
            .where(
                ticket_groups.c.reason == "storm",
                ticket_groups.c.policy_name == storms.c.policy_name,
                group_members.c.joined_at >= storms.c.started_at,
                group_members.c.joined_at < storms.c.ends_at,
            )
            .scalar_subquery()
        )
        query = (
            select(storms, grouped.label("grouped"))
            .where(storms.c.started_at <= now, storms.c.ends_at > now)
            .order_by(storms.c.started_at.desc(), storms.c.id.desc())
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [to_storm(row, grouped=int(row["grouped"] or 0)) for row in rows]

    async def start(
        self,
        escalation_id: str,
        *,
        policy_key: str,
        opening: GroupOpening,
        tickets: int,
        jobs: Callable[[int], Sequence[NewJob]],
        now: datetime,
    ) -> tuple[StormRecord, bool, Placement]:
        """Start the policy's storm until ``opening.window_ends_at`` (or find the one running)
        and place the escalation in its group; ``jobs(storm_id)`` are enqueued with a new storm.
        Returns the storm, whether this call started it, and the placement."""
        try:
            async with self._db.write() as conn:
                if conn.dialect.name == "postgresql":  # held until commit: one policy at a time
                    lock = func.pg_advisory_xact_lock(func.hashtext(LOCK + policy_key))
                    await conn.execute(select(lock))
                storm = await _running(conn, policy_key, now)
                started = storm is None
                if storm is None:
                    storm = await _insert(conn, opening, policy_key, tickets, now)
                    for job in jobs(storm.id):
                        await queue.insert(conn, job, now=now)
                opening = replace(opening, window_ends_at=storm.ends_at)
                placed = await groups.place(conn, escalation_id, opening, now=now)
                assert placed is not None  # may_open: it opens the group when none takes it
                if started:
                    await conn.execute(
                        update(storms)
                        .where(storms.c.id == storm.id)
                        .values(group_id=placed.group.id)
                    )
                    storm = replace(storm, group_id=placed.group.id)
                return storm, started, placed
        except IntegrityError as exc:
            raise groups.conflict(escalation_id) from exc


async def _running(conn: AsyncConnection, policy_key: str, now: datetime) -> StormRecord | None:
    query = (
        select(storms)
        .where(storms.c.policy_key == policy_key)
        .where(storms.c.started_at <= now, storms.c.ends_at > now)
        .order_by(storms.c.started_at.desc())
    )
    row = (await conn.execute(query.limit(1))).mappings().first()
    return None if row is None else to_storm(row)


async def _insert(
    conn: AsyncConnection, opening: GroupOpening, policy_key: str, tickets: int, now: datetime
) -> StormRecord:
    stmt = (
        storms.insert()
        .values(
            policy_name=opening.policy_name,
            policy_key=policy_key,
            started_at=now,
            ends_at=opening.window_ends_at,
            tickets=tickets,
        )
        .returning(storms.c.id)
    )
    storm_id = int((await conn.execute(stmt)).scalar_one())
    detail = {"policy": opening.policy_name, "tickets": tickets}
    await audit.write(conn, at=now, entity=ENTITY, entity_id=storm_id, action="started",
                      detail={**detail, "until": opening.window_ends_at.isoformat()})  # fmt: skip
    return StormRecord(
        id=storm_id,
        policy_name=opening.policy_name,
        started_at=now,
        ends_at=opening.window_ends_at,
        group_id=None,
        tickets=tickets,
    )
